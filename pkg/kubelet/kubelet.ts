// The node agent: registers the node, watches the pods bound to it, and keeps each pod's
// containers in line through serialized per-pod workers; a periodic relist of Docker
// (PLEG) notices containers that exited, and containers whose pod is gone are removed.

import { isDeepStrictEqual } from 'node:util';
import { objectKey } from '../api/meta.js';
import { RESOURCES } from '../api/registry.js';
import type { EndpointSlice, Node, Pod, Service } from '../api/types/index.js';
import { BY_SERVICE, serviceKeyOf, SliceEndpoints } from './proxy/slice-endpoints.js';
import { EventRecorder, Informer, type RestClient } from '../client/index.js';
import { systemClock, type Clock } from './backoff.js';
import type { KubeletConfig } from './config.js';
import { NodeStatusReporter } from './node-status.js';
import { PodSyncer } from './pod-sync.js';
import { PodWorkers } from './pod-workers.js';
import { ProbeManager } from './probes.js';
import type { ContainerRuntime, ContainerState } from './runtime/index.js';
import { KubeletServer } from './server.js';
import {
  DEFAULT_SAMPLE_CONCURRENCY,
  DEFAULT_SAMPLE_INTERVAL_MS,
  MetricsEndpoints,
  ResourceSampler,
} from './metrics/index.js';
import { podDirs, removePodDir } from './volumes.js';
import { localPathRoot, startLocalPathCleaner } from './local-path.js';
import { LOCAL_PATH_ROOT_ANNOTATION } from '../api/volume-binding.js';
import { startNodeNetwork } from './network/node-network.js';
import { ensureHairpin } from './network/host-gw.js';
import { ServiceProxy } from './proxy/proxier.js';
import { proxyChains } from './proxy/rules.js';
import { runNetworkPolicies } from './netpol/enforcer.js';
import { serviceEnv } from './service-env.js';
import { ClusterRecords } from './dns/records.js';
import { DnsServer, upstreamsFromResolvConf } from './dns/server.js';
import { errorMessage } from '../errors/index.js';
import { startIngress } from './ingress/index.js';

function onlyStatusChanged(a: Pod, b: Pod): boolean {
  const strip = (o: Pod): unknown => ({
    ...o,
    status: undefined,
    metadata: { ...o.metadata, resourceVersion: undefined, managedFields: undefined },
  });
  return isDeepStrictEqual(strip(a), strip(b));
}

export class Kubelet {
  readonly runtime: ContainerRuntime;
  private readonly log: (msg: string) => void;
  private readonly pods: Informer<Pod>;
  private readonly syncer: PodSyncer;
  private readonly workers: PodWorkers;
  private readonly byUid = new Map<string, string>();
  private lastRelist = new Map<string, string>();
  private server: KubeletServer | undefined;
  /** The Services cache (host-gw mode), for pods' service environment variables. */
  private serviceCache: Informer<Service> | undefined;

  constructor(
    private readonly config: KubeletConfig,
    private readonly client: RestClient,
    deps: { runtime: ContainerRuntime; log: (msg: string) => void; clock?: Clock },
  ) {
    this.runtime = deps.runtime;
    this.log = deps.log;
    const clock = deps.clock ?? systemClock;
    this.pods = new Informer(client, RESOURCES.pods, { fieldSelector: `spec.nodeName=${config.nodeName}` });
    const events = new EventRecorder(client, 'kubelet', config.nodeName);
    const probes = new ProbeManager(this.runtime, {
      onChange: (uid) => this.workers.update(uid),
      onFailure: (t, message) => {
        const pod = this.podByUid(t.podUid);
        const kind = t.kind.charAt(0).toUpperCase() + t.kind.slice(1);
        if (pod) events.warning(pod, 'Unhealthy', `${kind} probe failed: ${message}`);
      },
    });
    this.syncer = new PodSyncer(
      {
        nodeName: config.nodeName,
        nodeIP: config.nodeIP,
        rootDir: config.rootDir,
        sandboxImage: config.sandboxImage,
        podNetwork: config.podNetwork,
        serviceEnv: (ns, links) => this.serviceEnvFor(ns, links),
      },
      { client, runtime: this.runtime, probes, events, clock },
    );
    this.workers = new PodWorkers((uid) => this.syncPod(uid), this.log);
    this.pods.addHandler({
      onAdd: (p) => this.track(p),
      // The agent writes pod status itself: a status-only change needs no sync.
      onUpdate: (old, p) => {
        if (!onlyStatusChanged(old, p)) this.track(p);
      },
      onDelete: (p) => {
        // Deleted in the API: its containers go (a restarted agent also lands here via the relist).
        this.workers.update(p.metadata.uid ?? '');
      },
    });
  }

  private track(pod: Pod): void {
    const uid = pod.metadata.uid ?? '';
    this.byUid.set(uid, objectKey(pod));
    this.workers.update(uid);
  }

  private podByUid(uid: string): Pod | undefined {
    const key = this.byUid.get(uid);
    const pod = key === undefined ? undefined : this.pods.get(key);
    return pod?.metadata.uid === uid ? pod : undefined;
  }

  private async syncPod(uid: string): Promise<number | undefined> {
    const pod = this.podByUid(uid);
    if (pod === undefined) {
      // No such pod bound here any more: remove whatever of it runs.
      await this.syncer.killPod(uid, 0);
      this.byUid.delete(uid);
      return undefined;
    }
    return (await this.syncer.sync(pod)).requeueAfterMs;
  }

  /** PLEG: notice container state changes and orphans by relisting Docker. */
  private async relist(): Promise<void> {
    const containers = await this.runtime.listManagedSummary();
    const now = new Map<string, string>();
    for (const c of containers) now.set(c.id, `${c.status}|${c.identity.uid}`);
    const changed = new Set<string>();
    for (const [id, sig] of now) if (this.lastRelist.get(id) !== sig) changed.add(sig.split('|')[1] ?? '');
    for (const [id, sig] of this.lastRelist) if (!now.has(id)) changed.add(sig.split('|')[1] ?? '');
    this.lastRelist = now;
    const known = new Set(this.pods.list().map((p) => p.metadata.uid ?? ''));
    for (const uid of changed) if (uid !== '') this.workers.update(uid);
    // Orphans: containers of pods this node no longer has.
    for (const sig of now.values()) {
      const uid = sig.split('|')[1] ?? '';
      if (uid !== '' && !known.has(uid) && !this.workers.isBusy(uid)) this.workers.update(uid);
    }
    const running = new Set([...now.values()].map((sig) => sig.split('|')[1] ?? ''));
    for (const dir of podDirs(this.config.rootDir))
      if (!known.has(dir) && !running.has(dir)) removePodDir(this.config.rootDir, dir);
  }

  async start(signal: AbortSignal): Promise<void> {
    const version = await this.runtime.version();
    // One resource sampler for the agent: it feeds /metrics/resource, /stats/summary and /metrics.
    const sampler = new ResourceSampler(this.runtime, {
      nodeName: this.config.nodeName,
      intervalMs: DEFAULT_SAMPLE_INTERVAL_MS,
      concurrency: DEFAULT_SAMPLE_CONCURRENCY,
      log: this.log,
    });
    sampler.start(signal);
    this.server = await KubeletServer.start(this.config, this.runtime, {
      lookup: (ns, name) => this.pods.get(`${ns}/${name}`),
      metrics: new MetricsEndpoints(sampler),
    });
    const reporter = new NodeStatusReporter(this.client, {
      agentId: this.config.agentId,
      nodeName: this.config.nodeName,
      nodeIP: this.config.nodeIP,
      kubeletPort: this.server.port,
      maxPods: this.config.maxPods,
      leaseDurationSeconds: this.config.leaseDurationSeconds,
      leaseRenewIntervalMs: this.config.leaseRenewIntervalMs,
      statusUpdateIntervalMs: this.config.statusUpdateIntervalMs,
      labels: this.config.labels,
      annotations: { [LOCAL_PATH_ROOT_ANNOTATION]: localPathRoot(this.config.rootDir) },
      containerRuntimeVersion: `docker://${version}`,
    });
    await reporter.run(signal, this.log);
    startLocalPathCleaner(this.client, { rootDir: this.config.rootDir, log: this.log }, signal);
    if (this.config.network === 'host-gw') await this.startNetwork(signal);
    this.pods.start(signal);
    await this.pods.waitForSync(signal);
    const every = (fn: () => Promise<void> | void, ms: number): void => {
      const tick = async (): Promise<void> => {
        if (signal.aborted) return;
        try {
          await fn();
        } catch (err) {
          this.log(`periodic task: ${errorMessage(err)}`);
        }
        if (!signal.aborted) setTimeout(() => void tick(), ms).unref();
      };
      void tick();
    };
    every(() => this.relist(), this.config.relistIntervalMs);
    every(() => {
      for (const p of this.pods.list()) this.workers.update(p.metadata.uid ?? '');
    }, this.config.resyncIntervalMs);
    this.log(
      `kubelet ready on node ${this.config.nodeName} (${this.config.nodeIP}), serving on port ${this.server.port}`,
    );
    signal.addEventListener(
      'abort',
      () => {
        this.workers.stop();
        this.syncer.probes.stopAll();
        void this.server?.close();
      },
      { once: true },
    );
  }

  /**
   * The cluster network on this node: pod network and routes (network/), then the service
   * proxy and the DNS server, all fed by shared informers; pods start only after this.
   */
  private async startNetwork(signal: AbortSignal): Promise<void> {
    const nodes: Informer<Node> = new Informer(this.client, RESOURCES.nodes);
    const services: Informer<Service> = new Informer(this.client, RESOURCES.services);
    // Service backends come from EndpointSlices, as kube-proxy reads them.
    const slices: Informer<EndpointSlice> = new Informer(this.client, RESOURCES.endpointslices, {
      indexers: { [BY_SERVICE]: serviceKeyOf },
    });
    const endpoints = new SliceEndpoints(slices);
    for (const inf of [nodes, services, slices]) inf.start(signal);
    await Promise.all([nodes, services, slices].map((inf) => inf.waitForSync(signal)));
    const net = await startNodeNetwork(
      { runtime: this.runtime, nodes },
      {
        cluster: this.config.cluster,
        nodeName: this.config.nodeName,
        clusterCIDR: this.config.clusterCIDR,
        podCidrTimeoutMs: this.config.podCidrTimeoutMs,
        log: this.log,
      },
      signal,
    );
    const proxy = new ServiceProxy(
      { services, endpoints },
      {
        chains: proxyChains(this.config.cluster.chainPrefix),
        clusterCIDR: this.config.clusterCIDR,
        podCIDR: net.subnet,
        nodeIPs: [this.config.nodeIP],
        log: this.log,
      },
    );
    void proxy.start(signal);
    const ingress = this.config.ingress;
    if (ingress !== undefined)
      await startIngress(
        { client: this.client, nodes, services, endpoints },
        { nodeName: this.config.nodeName, address: this.config.nodeIP, ...ingress, log: this.log },
        signal,
      );
    const policies = {
      chainPrefix: this.config.cluster.chainPrefix,
      nodeName: this.config.nodeName,
      podInterface: net.bridge,
      log: this.log,
    };
    runNetworkPolicies(this.client, policies, signal).catch((err: unknown) => {
      if (!signal.aborted) this.log(`network policies stopped: ${errorMessage(err)}`);
    });
    // Cluster DNS for this node's pods, on the pod network's gateway.
    const dns = await DnsServer.start({
      address: net.gateway,
      port: 53,
      records: new ClusterRecords({ services, endpoints }, this.config.clusterDomain),
      upstream: upstreamsFromResolvConf('/etc/resolv.conf', { exclude: [net.gateway] }),
      log: this.log,
    });
    signal.addEventListener('abort', () => void dns.close(), { once: true });
    this.log(`dns: serving ${this.config.clusterDomain} on ${net.gateway}:53`);
    this.serviceCache = services;
    this.syncer.setNetwork(
      net.name,
      {
        nameservers: this.config.clusterDNS.length > 0 ? this.config.clusterDNS : [net.gateway],
        domain: this.config.clusterDomain,
      },
      () => ensureHairpin(net.bridge).catch((err: unknown) => this.log(`hairpin: ${errorMessage(err)}`)),
    );
  }

  /** Service variables for a pod (enableServiceLinks; the `kubernetes` Service always). */
  private serviceEnvFor(namespace: string, links: boolean): Record<string, string> {
    const all = this.serviceCache?.list() ?? [];
    const visible = links
      ? all
      : all.filter((s) => s.metadata.namespace === 'default' && s.metadata.name === 'kubernetes');
    return Object.fromEntries(serviceEnv(visible, namespace).map((v) => [v.name, v.value]));
  }

  reloadServingCertificate(): void {
    this.server?.reloadCertificate(this.config);
  }

  /** Current runtime view (for tests and debugging). */
  async containers(): Promise<ContainerState[]> {
    return this.runtime.listManaged();
  }
}
