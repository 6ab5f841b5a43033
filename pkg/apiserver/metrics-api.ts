// metrics.k8s.io/v1beta1 (NodeMetrics, PodMetrics) served inside the apiserver, the way
// metrics-server serves it as an aggregated API, but without a second process: the apiserver
// already holds the kubelet-client certificate and knows every node's agent address, so it reads
// each agent's `/stats/summary` itself. Why not a separate metrics-server: one fewer component to
// deploy, secure and keep running, no APIService/aggregation proxy to build, and the same
// answer. Nothing is stored: each answer is built from the agents' last samples.
//
// A short per-node cache (one scrape in flight per node, kept CACHE_MS) because readers come in
// bursts (`kubectl top pod -A`, the HPA controller syncing every HPA) and the agents sample only
// every ~10 s anyway: asking them more often would cost them without giving fresher figures.

import https from 'node:https';
import { isObject, rfc3339, type KubeList } from '../api/meta.js';
import { RESOURCES } from '../api/registry.js';
import { matchesLabels, parseLabelSelector } from '../api/selectors.js';
import type { ContainerMetrics, Node, NodeMetrics, Pod, PodMetrics } from '../api/types/index.js';
import { ApiError, errorMessage, notFound } from '../errors/index.js';
import type { KubeletClientTls } from './kubelet-proxy.js';
import type { ResourceRequest } from './request-info.js';
import type { RestStore } from './rest-store.js';

const CACHE_MS = 5_000;
const SCRAPE_TIMEOUT_MS = 5_000;
/** An agent's summary larger than this is refused (a node holds a few hundred pods at most). */
const MAX_SUMMARY_BYTES = 16 * 1024 * 1024;
/** The agents' sampling interval, over which their CPU rates are averaged. */
const WINDOW = '10s';

/** CPU and memory of one container, pod or node as an agent reported it. */
export interface Usage {
  time: string;
  nanoCores: number | undefined;
  workingSetBytes: number | undefined;
}

export interface PodUsage {
  namespace: string;
  name: string;
  containers: { name: string; usage: Usage }[];
}

export interface NodeSummary {
  node: Usage | undefined;
  pods: PodUsage[];
}

function finite(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;
}

function usageOf(cpu: unknown, memory: unknown): Usage | undefined {
  if (!isObject(cpu) || !isObject(memory)) return undefined;
  const time = typeof cpu['time'] === 'string' && !Number.isNaN(Date.parse(cpu['time'])) ? cpu['time'] : undefined;
  if (time === undefined) return undefined;
  return { time, nanoCores: finite(cpu['usageNanoCores']), workingSetBytes: finite(memory['workingSetBytes']) };
}

/** The parts of a kubelet Summary this API reads; anything malformed is left out, never trusted. */
export function parseSummary(body: unknown): NodeSummary {
  if (!isObject(body)) return { node: undefined, pods: [] };
  const node = isObject(body['node']) ? usageOf(body['node']['cpu'], body['node']['memory']) : undefined;
  const pods: PodUsage[] = [];
  for (const p of Array.isArray(body['pods']) ? body['pods'] : []) {
    if (!isObject(p) || !isObject(p['podRef'])) continue;
    const { name, namespace } = p['podRef'];
    if (typeof name !== 'string' || typeof namespace !== 'string') continue;
    const containers: PodUsage['containers'] = [];
    for (const c of Array.isArray(p['containers']) ? p['containers'] : []) {
      if (!isObject(c) || typeof c['name'] !== 'string') continue;
      const usage = usageOf(c['cpu'], c['memory']);
      if (usage !== undefined) containers.push({ name: c['name'], usage });
    }
    pods.push({ namespace, name, containers });
  }
  return { node, pods };
}

/** A CPU rate as metrics-server writes it (nanocores) and memory in Ki. */
export function cpuQuantity(nanoCores: number): string {
  return `${Math.round(nanoCores)}n`;
}

export function memoryQuantity(bytes: number): string {
  return `${Math.round(bytes / 1024)}Ki`;
}

/** A pod's metrics, or undefined while any of its containers has no CPU rate yet (as metrics-server skips it). */
export function podMetricsOf(pod: Pod, usage: PodUsage): PodMetrics | undefined {
  const containers: ContainerMetrics[] = [];
  let time = '';
  for (const c of usage.containers) {
    if (c.usage.nanoCores === undefined || c.usage.workingSetBytes === undefined) return undefined;
    containers.push({
      name: c.name,
      usage: { cpu: cpuQuantity(c.usage.nanoCores), memory: memoryQuantity(c.usage.workingSetBytes) },
    });
    if (c.usage.time > time) time = c.usage.time;
  }
  if (containers.length === 0) return undefined;
  return {
    apiVersion: 'metrics.k8s.io/v1beta1',
    kind: 'PodMetrics',
    metadata: {
      name: pod.metadata.name ?? usage.name,
      namespace: pod.metadata.namespace ?? usage.namespace,
      creationTimestamp: rfc3339(new Date()),
      ...(pod.metadata.labels !== undefined && { labels: pod.metadata.labels }),
    },
    timestamp: time,
    window: WINDOW,
    containers,
  };
}

function nodeMetricsOf(node: Node, usage: Usage | undefined): NodeMetrics | undefined {
  if (usage?.nanoCores === undefined || usage.workingSetBytes === undefined) return undefined;
  return {
    apiVersion: 'metrics.k8s.io/v1beta1',
    kind: 'NodeMetrics',
    metadata: {
      name: node.metadata.name ?? '',
      creationTimestamp: rfc3339(new Date()),
      ...(node.metadata.labels !== undefined && { labels: node.metadata.labels }),
    },
    timestamp: usage.time,
    window: WINDOW,
    usage: { cpu: cpuQuantity(usage.nanoCores), memory: memoryQuantity(usage.workingSetBytes) },
  };
}

function agentAddress(node: Node): { host: string; port: number } | undefined {
  const host = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
  const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port;
  return host === undefined || port === undefined ? undefined : { host, port };
}

export class MetricsApi {
  private readonly cache = new Map<string, { at: number; summary: Promise<NodeSummary> }>();

  constructor(
    private readonly store: RestStore,
    private readonly tls: KubeletClientTls | undefined,
  ) {}

  /** Whether a request is this API's; only get and list are (as metrics-server serves them). */
  static claims(info: ResourceRequest): boolean {
    if (info.resource.group !== 'metrics.k8s.io') return false;
    if (info.verb !== 'get' && info.verb !== 'list')
      throw new ApiError('MethodNotAllowed', `${info.verb} is not supported on ${info.resource.plural}.metrics.k8s.io`);
    return true;
  }

  /** Answers a get or list of nodes or pods in metrics.k8s.io. */
  async serve(
    info: ResourceRequest,
    query: URLSearchParams,
  ): Promise<NodeMetrics | PodMetrics | KubeList<NodeMetrics | PodMetrics>> {
    const selector = query.get('labelSelector');
    const requirements = selector === null || selector === '' ? [] : parseLabelSelector(selector);
    const selected = (labels: Record<string, string> | undefined): boolean => matchesLabels(requirements, labels);
    const r = info.resource;
    if (r.plural === 'nodes') {
      if (info.name !== undefined) {
        const node = await this.store.get(RESOURCES.nodes, undefined, info.name);
        const metrics = nodeMetricsOf(node, (await this.summaryOf(node)).node);
        if (metrics === undefined) throw notFound(r.plural, r.group, info.name);
        return metrics;
      }
      const nodes = (await this.store.list(RESOURCES.nodes, undefined, {})).items.filter((n) =>
        selected(n.metadata.labels),
      );
      const items = await Promise.all(nodes.map(async (n) => nodeMetricsOf(n, (await this.summaryOf(n)).node)));
      return this.list('NodeMetricsList', items);
    }
    const pods =
      info.name !== undefined
        ? [await this.store.get(RESOURCES.pods, info.namespace, info.name)]
        : (await this.store.list(RESOURCES.pods, info.namespace, {})).items.filter((p) => selected(p.metadata.labels));
    const nodeNames = new Set(
      pods.map((p) => p.spec?.nodeName).filter((n): n is string => n !== undefined && n !== ''),
    );
    const byPod = new Map<string, PodUsage>();
    await Promise.all(
      [...nodeNames].map(async (name) => {
        const node = await this.store.find(RESOURCES.nodes, undefined, name);
        if (node === undefined) return;
        for (const p of (await this.summaryOf(node)).pods) byPod.set(`${p.namespace}/${p.name}`, p);
      }),
    );
    const items = pods.map((p) => {
      const usage = byPod.get(`${p.metadata.namespace ?? ''}/${p.metadata.name ?? ''}`);
      return usage === undefined || p.status?.phase !== 'Running' ? undefined : podMetricsOf(p, usage);
    });
    if (info.name !== undefined) {
      const one = items[0];
      if (one === undefined) throw notFound(r.plural, r.group, info.name);
      return one;
    }
    return this.list('PodMetricsList', items);
  }

  private list<T extends NodeMetrics | PodMetrics>(kind: string, items: (T | undefined)[]): KubeList<T> {
    return {
      apiVersion: 'metrics.k8s.io/v1beta1',
      kind,
      metadata: {},
      items: items.filter((i): i is T => i !== undefined),
    };
  }

  /** The node's agent summary, from the cache while fresh; an agent that cannot be read counts as empty. */
  private summaryOf(node: Node): Promise<NodeSummary> {
    const name = node.metadata.name ?? '';
    const cached = this.cache.get(name);
    const now = Date.now();
    if (cached !== undefined && now - cached.at < CACHE_MS) return cached.summary;
    const summary = this.scrape(node).catch((err: unknown) => {
      process.stderr.write(`apiserver: metrics of node ${name}: ${errorMessage(err)}\n`);
      return { node: undefined, pods: [] };
    });
    this.cache.set(name, { at: now, summary });
    // Nodes that went away leave the cache with the next scrape of any node.
    for (const [key, entry] of this.cache) if (now - entry.at > 10 * CACHE_MS) this.cache.delete(key);
    return summary;
  }

  private scrape(node: Node): Promise<NodeSummary> {
    const tls = this.tls;
    const address = agentAddress(node);
    if (tls === undefined) return Promise.reject(new ApiError('ServiceUnavailable', 'no kubelet client certificate'));
    if (address === undefined) return Promise.reject(new Error("the node has not reported its agent's address"));
    return new Promise((resolve, reject) => {
      const req = https.request(
        { ...address, path: '/stats/summary', method: 'GET', ...tls, agent: false, timeout: SCRAPE_TIMEOUT_MS },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_SUMMARY_BYTES) {
              req.destroy(new Error(`the summary is larger than ${MAX_SUMMARY_BYTES} bytes`));
              return;
            }
            chunks.push(chunk);
          });
          res.on('end', () => {
            if (res.statusCode !== 200) return reject(new Error(`the node agent answered ${res.statusCode ?? 0}`));
            try {
              resolve(parseSummary(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
            } catch (err) {
              reject(err instanceof Error ? err : new Error(String(err)));
            }
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${SCRAPE_TIMEOUT_MS} ms`)));
      req.on('error', reject);
      req.end();
    });
  }
}
