// The scheduler: takes pending pods from the queue, filters the nodes with the plugins,
// scores the ones that fit, assumes the pod on the best node in its cache and binds it
// through pods/binding in the background (a failed bind forgets the assumption and retries).
// A pod that fits nowhere gets a FailedScheduling event and a PodScheduled=False condition
// that say why, kubectl-style.

import { rfc3339 } from '../api/meta.js';
import { RESOURCES } from '../api/registry.js';
import type { Node, PersistentVolume, PersistentVolumeClaim, Pod, StorageClass } from '../api/types/index.js';
import { SELECTED_NODE_ANNOTATION } from '../api/volume-binding.js';
import { EventRecorder, Informer, type RestClient } from '../client/index.js';
import { errorMessage, isConflict, isNotFound } from '../errors/index.js';
import { SchedulerCache } from './cache.js';
import type { FilterPlugin, NodeInfo, PodView, ScorePlugin } from './framework.js';
import { interPodAffinity } from './plugins/inter-pod-affinity.js';
import { nodeAffinityPlugin } from './plugins/node-affinity.js';
import { nodePorts, nodeReady, nodeUnschedulable } from './plugins/node-basics.js';
import { balancedAllocation, leastAllocated, nodeResourcesFit } from './plugins/node-resources.js';
import { selectorSpread } from './plugins/spread.js';
import { taintToleration } from './plugins/taint-toleration.js';
import {
  constrainsNodes,
  filterVolumes,
  podVolumes,
  type PodVolumes,
  type VolumeLister,
} from './plugins/volume-binding.js';
import type { SchedulerMetrics } from './metrics.js';
import { SchedulingQueue } from './queue.js';
import { Preemptor } from './preemption.js';
import { until } from '../component/index.js';

const PODS = RESOURCES.pods;
const NODES = RESOURCES.nodes;
const TRIMMED = { stripManagedFields: true } as const;

export const FILTERS: FilterPlugin[] = [
  nodeReady,
  nodeUnschedulable,
  nodeAffinityPlugin,
  taintToleration,
  nodePorts,
  nodeResourcesFit,
  interPodAffinity,
];
export const SCORES: ScorePlugin[] = [
  leastAllocated,
  balancedAllocation,
  nodeAffinityPlugin,
  taintToleration,
  selectorSpread,
];

export const SCHEDULER_NAME = 'default-scheduler';

function pending(pod: PodView): boolean {
  const phase = pod.status?.phase;
  return (
    !pod.spec?.nodeName &&
    (pod.spec?.schedulerName ?? SCHEDULER_NAME) === SCHEDULER_NAME &&
    pod.metadata.deletionTimestamp === undefined &&
    phase !== 'Succeeded' &&
    phase !== 'Failed'
  );
}

/** `0/3 nodes are available: 1 Insufficient memory, 2 node(s) had untolerated taint {k: v}.` */
export function failureMessage(total: number, reasons: Map<string, number>): string {
  const parts = [...reasons.entries()].map(([r, n]) => `${n} ${r}`).sort();
  return `0/${total} nodes are available: ${parts.join(', ')}.${total > 0 ? ` preemption: 0/${total} nodes are available: ${total} Preemption is not helpful for scheduling.` : ''}`;
}

export interface ScheduleResult {
  node?: string;
  reasons: Map<string, number>;
}

/**
 * How many feasible nodes are enough to pick from, as kube-scheduler's
 * percentageOfNodesToScore: all of a small cluster, an adaptive share of a big one.
 */
export function feasibleNodesToFind(total: number): number {
  if (total <= 100) return total;
  const percent = Math.max(5, 50 - Math.floor(total / 125));
  return Math.max(100, Math.floor((total * percent) / 100));
}

/**
 * Filters and scores one pod over a snapshot (pure; exported for tests and benchmarks).
 * Filtering starts at `start` and wraps, so successive pods spread the search.
 */
export function schedulePod(pod: PodView, nodes: readonly NodeInfo[], start = 0): ScheduleResult {
  const reasons = new Map<string, number>();
  const feasible: NodeInfo[] = [];
  const enough = feasibleNodesToFind(nodes.length);
  // One arguments object per plugin and pod, not per node: at 1,000 nodes the per-call
  // objects were most of the scheduler's garbage.
  const filterArgs = FILTERS.map((f) => ({ all: nodes, state: f.prepare?.(pod, nodes) }));
  for (let k = 0; k < nodes.length && feasible.length < enough; k++) {
    const n = nodes[(start + k) % nodes.length];
    if (n === undefined) continue;
    let ok = true;
    for (let i = 0; i < FILTERS.length; i++) {
      const f = FILTERS[i];
      const args = filterArgs[i];
      if (f === undefined || args === undefined) continue;
      const s = f.filter(pod, n, args);
      if (s.code !== 'Success') {
        for (const r of (s.reason ?? f.name).split(', ')) reasons.set(r, (reasons.get(r) ?? 0) + 1);
        ok = false;
        break;
      }
    }
    if (ok) feasible.push(n);
  }
  if (feasible.length === 0) return { reasons };
  let best: NodeInfo[] = [];
  let bestScore = -1;
  const scoreArgs = SCORES.map((s) => ({ all: feasible, state: s.prepare?.(pod, feasible) }));
  for (const n of feasible) {
    let total = 0;
    for (let i = 0; i < SCORES.length; i++) {
      const s = SCORES[i];
      const args = scoreArgs[i];
      if (s !== undefined && args !== undefined) total += s.weight * s.score(pod, n, args);
    }
    if (total > bestScore) {
      bestScore = total;
      best = [n];
    } else if (total === bestScore) best.push(n);
  }
  const chosen = best[Math.floor(Math.random() * best.length)];
  return chosen === undefined ? { reasons } : { node: chosen.name, reasons };
}

export class Scheduler {
  readonly cache = new SchedulerCache();
  readonly queue = new SchedulingQueue();
  private readonly pods: Informer<Pod>;
  private readonly nodes: Informer<Node>;
  private readonly events: EventRecorder;
  private readonly claims: Informer<PersistentVolumeClaim>;
  private readonly volumes: Informer<PersistentVolume>;
  private readonly classes: Informer<StorageClass>;
  private readonly volumeLister: VolumeLister;
  private readonly preemptor: Preemptor;

  constructor(
    private readonly client: RestClient,
    private readonly log: (m: string) => void,
    private readonly metrics?: SchedulerMetrics,
  ) {
    metrics?.observeQueue(() => this.queue.counts());
    // Informers drop managedFields, as kube-scheduler's do (see pkg/client/informer.ts).
    this.pods = new Informer(client, PODS, TRIMMED);
    this.nodes = new Informer(client, NODES, TRIMMED);
    this.events = new EventRecorder(client, SCHEDULER_NAME);
    this.preemptor = new Preemptor({ client, events: this.events, log, schedulerName: SCHEDULER_NAME });
    this.claims = new Informer(client, RESOURCES.persistentvolumeclaims, TRIMMED);
    this.volumes = new Informer(client, RESOURCES.persistentvolumes, TRIMMED);
    this.classes = new Informer(client, RESOURCES.storageclasses, TRIMMED);
    this.volumeLister = {
      claim: (ns, name) => this.claims.get(`${ns}/${name}`),
      volume: (name) => this.volumes.get(name),
      storageClass: (name) => this.classes.get(name),
      volumes: () => this.volumes.list(),
    };
    // A claim bound or a volume made may let a waiting pod fit.
    const retry = (): void => this.queue.moveAllToActive();
    for (const inf of [this.claims, this.volumes]) inf.addHandler({ onAdd: retry, onUpdate: retry });
    this.nodes.addHandler({
      onAdd: (n) => {
        this.cache.upsertNode(n);
        this.queue.moveAllToActive();
      },
      onUpdate: (_o, n) => {
        this.cache.upsertNode(n);
        this.queue.moveAllToActive();
      },
      onDelete: (n) => this.cache.removeNode(n.metadata.name ?? ''),
    });
    const onPod = (p: PodView): void => {
      this.cache.upsertPod(p);
      if (pending(p) && !this.cache.isAssumed(p.metadata.uid ?? '')) this.queue.add(p);
      else this.queue.remove(p.metadata.uid ?? '');
    };
    this.pods.addHandler({
      onAdd: onPod,
      onUpdate: (_o, p) => onPod(p),
      onDelete: (p) => {
        this.cache.removePod(p);
        this.preemptor.forget(p.metadata.uid ?? '');
        this.queue.remove(p.metadata.uid ?? '');
        this.queue.moveAllToActive();
      },
    });
  }

  /** Starts the informers (before leading, so the cache is warm). */
  startInformers(signal: AbortSignal): Promise<void> {
    const informers = [this.nodes, this.pods, this.claims, this.volumes, this.classes, ...this.preemptor.informers()];
    for (const inf of informers) inf.start(signal);
    return Promise.all(informers.map((inf) => inf.waitForSync(signal))).then(() => undefined);
  }

  /** Schedules until aborted. */
  async run(signal: AbortSignal): Promise<void> {
    signal.addEventListener('abort', () => this.queue.close(), { once: true });
    // Pods marked unschedulable get another chance every second (the cluster may have changed).
    const stopFlush = new AbortController();
    const flushing = until(stopFlush.signal, () => this.queue.moveAllToActive(), 1000);
    try {
      for (;;) {
        const pod = await this.queue.pop();
        if (pod === undefined || signal.aborted) return;
        this.scheduleOne(pod);
      }
    } finally {
      stopFlush.abort();
      await flushing;
    }
  }

  private nextStart = 0;

  private scheduleOne(pod: PodView): void {
    const started = performance.now();
    const snapshot = this.cache.snapshot();
    // Volume binding first: it may rule out nodes no other plugin looks at.
    const volumes = podVolumes(pod, this.volumeLister);
    const volumeReasons = new Map<string, number>();
    // Most pods claim nothing: no pass over every node for them.
    const candidates = !constrainsNodes(volumes)
      ? snapshot
      : snapshot.filter((n) => {
          const s = filterVolumes(volumes, n, { all: snapshot, lister: this.volumeLister });
          if (s.code === 'Success') return true;
          const reason = s.reason ?? 'VolumeBinding';
          volumeReasons.set(reason, (volumeReasons.get(reason) ?? 0) + 1);
          return false;
        });
    const result = schedulePod(pod, candidates, this.nextStart);
    for (const [r, n] of volumeReasons) result.reasons.set(r, (result.reasons.get(r) ?? 0) + n);
    this.nextStart = snapshot.length > 0 ? (this.nextStart + 1) % snapshot.length : 0;
    if (result.node === undefined) {
      // Fits nowhere: lower-priority pods may make room (their deletion runs in the background).
      this.preemptor.preempt(pod, { nodes: candidates, filters: FILTERS });
      this.metrics?.preemptionAttempt();
      this.metrics?.attempt('unschedulable', started);
      const message = failureMessage(this.cache.nodeCount(), result.reasons);
      this.queue.markUnschedulable(pod);
      this.events.warning(pod, 'FailedScheduling', message);
      void this.client
        .patch(PODS, pod.metadata.name ?? '', {
          type: 'strategic',
          body: {
            status: {
              conditions: [
                {
                  type: 'PodScheduled',
                  status: 'False',
                  reason: 'Unschedulable',
                  message,
                  lastTransitionTime: rfc3339(new Date()),
                  lastProbeTime: null,
                },
              ],
            },
          },
          namespace: pod.metadata.namespace,
          subresource: 'status',
        })
        .catch(() => undefined);
      return;
    }
    const node = result.node;
    this.cache.assume(pod, node);
    void this.bind(pod, { node, volumes, started });
  }

  /** Records the chosen node on the pod's waiting claims (the PV controller binds or provisions there). */
  private async selectNode(volumes: PodVolumes, node: string): Promise<void> {
    for (const claim of volumes.waiting) {
      if (claim.metadata.annotations?.[SELECTED_NODE_ANNOTATION] === node) continue;
      await this.client.patch(RESOURCES.persistentvolumeclaims, claim.metadata.name ?? '', {
        type: 'merge',
        namespace: claim.metadata.namespace,
        body: {
          metadata: {
            resourceVersion: claim.metadata.resourceVersion,
            annotations: { [SELECTED_NODE_ANNOTATION]: node },
          },
        },
      });
    }
  }

  private async bind(pod: PodView, placement: { node: string; volumes: PodVolumes; started: number }): Promise<void> {
    const { node } = placement;
    try {
      await this.selectNode(placement.volumes, node);
      await this.client.createSubresource(PODS, pod.metadata.name ?? '', {
        subresource: 'binding',
        body: {
          apiVersion: 'v1',
          kind: 'Binding',
          metadata: { name: pod.metadata.name, namespace: pod.metadata.namespace, uid: pod.metadata.uid },
          target: { apiVersion: 'v1', kind: 'Node', name: node },
        },
        namespace: pod.metadata.namespace,
      });
      this.metrics?.attempt('scheduled', placement.started);
      this.events.normal(
        pod,
        'Scheduled',
        `Successfully assigned ${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''} to ${node}`,
      );
    } catch (err) {
      this.cache.forget(pod);
      if (isNotFound(err)) return;
      this.metrics?.attempt('error', placement.started);
      if (!isConflict(err)) this.log(`binding ${pod.metadata.name ?? ''} to ${node} failed: ${errorMessage(err)}`);
      const current = this.pods.get(`${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`);
      if (current !== undefined && pending(current)) {
        this.queue.markUnschedulable(current);
      }
    }
  }
}
