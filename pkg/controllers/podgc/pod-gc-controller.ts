// Pod garbage collector (Kubernetes' PodGC): every period it force-deletes (grace 0)
// - terminated pods (Succeeded/Failed) beyond the threshold, evicted first, then oldest;
// - pods bound to a Node that no longer exists: a node missing from the informer is a
//   suspect for a quarantine, then asked for by name; only a NotFound then condemns its
//   pods (a Node being re-created, or an informer behind, is not raced). Such a pod is
//   marked Failed (DisruptionTarget, DeletionByPodGC) before it goes, as upstream does;
// - terminating pods that were never scheduled (no agent will ever finish their delete).
// Each pass deletes at most BURST_REPLICAS pods, a batch at a time.

import { rfc3339 } from '../../api/meta.js';
import type { Node, Pod } from '../../api/types/index.js';
import type { Informer, RestClient } from '../../client/index.js';
import { errorMessage, isNotFound } from '../../errors/index.js';
import { isTerminal, PODS, type PodView } from '../pods.js';
import { periodicLoop, type ControllerContext, type ReconcileLoop } from '../reconciler.js';
import { BURST_REPLICAS, settleAll } from '../slow-start.js';

/** How many deletes one pass runs at once. */
const PARALLEL_DELETES = 50;

export interface PodGcOptions {
  /** Terminated pods kept before the oldest are deleted; 0 turns that part off (Kubernetes: --terminated-pod-gc-threshold, 12500). */
  terminatedPodThreshold: number;
  /** How long a Node must be missing before it is checked and its pods deleted (Kubernetes: 40 s). */
  quarantineMs: number;
  /** Time between passes (Kubernetes: 20 s). */
  periodMs: number;
}

function nodeNameOf(pod: PodView): string {
  return pod.spec?.nodeName ?? '';
}

function evicted(pod: PodView): boolean {
  return pod.status?.reason === 'Evicted';
}

/** Evicted pods first, then by creation (oldest first), then by name so ties are stable. */
function gcOrder(a: PodView, b: PodView): number {
  if (evicted(a) !== evicted(b)) return evicted(a) ? -1 : 1;
  const ca = Date.parse(a.metadata.creationTimestamp ?? '') || 0;
  const cb = Date.parse(b.metadata.creationTimestamp ?? '') || 0;
  if (ca !== cb) return ca - cb;
  return `${a.metadata.namespace ?? ''}/${a.metadata.name ?? ''}` <
    `${b.metadata.namespace ?? ''}/${b.metadata.name ?? ''}`
    ? -1
    : 1;
}

export class PodGcController {
  readonly loop: ReconcileLoop;
  /** Node name → when a pass first found pods bound to it and no such Node. */
  private readonly suspects = new Map<string, number>();
  private readonly client: RestClient;
  private readonly pods: Informer<Pod>;
  private readonly nodes: Informer<Node>;
  private readonly options: PodGcOptions;
  private readonly log: (m: string) => void;

  constructor(deps: ControllerContext & { pods: Informer<Pod>; nodes: Informer<Node>; options: PodGcOptions }) {
    const { client, pods, nodes, options, log } = deps;
    this.client = client;
    this.pods = pods;
    this.nodes = nodes;
    this.options = options;
    this.log = log;
    this.loop = periodicLoop('podgc', () => this.pass(Date.now()), { periodMs: options.periodMs, log });
  }

  /** One pass over the caches; deletes at most BURST_REPLICAS pods. */
  async pass(now: number): Promise<void> {
    if (!this.pods.hasSynced() || !this.nodes.hasSynced()) return;
    const pods = this.pods.list();
    let budget = BURST_REPLICAS;
    budget -= await this.deleteAll(
      this.terminatedBeyondThreshold(pods).slice(0, budget),
      'terminated pods over the threshold',
      false,
    );
    budget -= await this.deleteAll((await this.orphaned(pods, now)).slice(0, budget), 'node no longer exists', true);
    await this.deleteAll(
      pods.filter((p) => p.metadata.deletionTimestamp !== undefined && nodeNameOf(p) === '').slice(0, budget),
      'terminating and never scheduled',
      false,
    );
  }

  private terminatedBeyondThreshold(pods: PodView[]): PodView[] {
    const threshold = this.options.terminatedPodThreshold;
    if (threshold <= 0) return [];
    const terminated = pods.filter((p) => isTerminal(p) && p.metadata.deletionTimestamp === undefined);
    if (terminated.length <= threshold) return [];
    return terminated.sort(gcOrder).slice(0, terminated.length - threshold);
  }

  /** Pods bound to Nodes that have been missing for the quarantine and the API says are gone. */
  private async orphaned(pods: PodView[], now: number): Promise<PodView[]> {
    const existing = new Set(this.nodes.list().map((n) => n.metadata.name ?? ''));
    const missing = new Set(pods.map(nodeNameOf).filter((n) => n !== '' && !existing.has(n)));
    for (const name of [...this.suspects.keys()]) if (!missing.has(name)) this.suspects.delete(name);
    const gone = new Set<string>();
    for (const name of missing) {
      const since = this.suspects.get(name);
      if (since === undefined) {
        this.suspects.set(name, now);
        this.log(
          `pod gc: node ${name} not found; its pods go after ${Math.round(this.options.quarantineMs / 1000)}s unless it is back`,
        );
        continue;
      }
      if (now - since < this.options.quarantineMs) continue;
      try {
        await this.client.get(this.nodes.resource, name);
        this.suspects.delete(name); // it exists after all: the informer is behind
      } catch (err) {
        if (!isNotFound(err)) throw err;
        gone.add(name);
      }
    }
    return pods.filter((p) => gone.has(nodeNameOf(p)));
  }

  /** Deletes the pods a batch at a time; returns how many it tried. */
  private async deleteAll(pods: PodView[], why: string, markFailed: boolean): Promise<number> {
    for (let i = 0; i < pods.length; i += PARALLEL_DELETES) {
      const batch = pods.slice(i, i + PARALLEL_DELETES);
      const { failed, error } = await settleAll(batch, (p) => this.forceDelete(p, why, markFailed));
      if (failed.length > 0)
        this.log(`pod gc: ${failed.length} of ${batch.length} deletes failed (${why}): ${errorMessage(error)}`);
    }
    return pods.length;
  }

  private async forceDelete(pod: PodView, why: string, markFailed: boolean): Promise<void> {
    const name = pod.metadata.name ?? '';
    const namespace = pod.metadata.namespace ?? '';
    this.log(`pod gc: deleting pod ${namespace}/${name} (${why})`);
    try {
      if (markFailed && !isTerminal(pod)) {
        const now = rfc3339(new Date());
        const conditions = (pod.status?.conditions ?? []).filter((c) => c.type !== 'DisruptionTarget');
        await this.client.patch(PODS, name, {
          type: 'merge',
          body: {
            metadata: { uid: pod.metadata.uid },
            status: {
              phase: 'Failed',
              conditions: [
                ...conditions,
                {
                  type: 'DisruptionTarget',
                  status: 'True',
                  reason: 'DeletionByPodGC',
                  message: 'PodGC: node no longer exists',
                  lastTransitionTime: now,
                },
              ],
            },
          },
          namespace,
          subresource: 'status',
        });
      }
      await this.client.delete(PODS, name, {
        namespace,
        gracePeriodSeconds: 0,
        preconditions: { uid: pod.metadata.uid ?? '' },
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
