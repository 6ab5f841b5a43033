// StatefulSet controller: pods with stable names <set>-0 … <set>-(N-1) (hostname = name,
// subdomain = serviceName). OrderedReady creates them one at a time in order, each once
// the previous one is Running and Ready, and scales down from the highest ordinal; Parallel
// does all at once. Template changes roll from the highest ordinal down to the partition.

import { controllerOf, objectKey } from '../../api/meta.js';
import { RESOURCES } from '../../api/registry.js';
import type { Pod, StatefulSet, StatefulSetSpec } from '../../api/types/index.js';
import type { EventSink, Informer, RestClient } from '../../client/index.js';
import { errorMessage, isAlreadyExists, isNotFound } from '../../errors/index.js';
import {
  createPod,
  deletePod,
  isAvailable,
  isReady,
  isTerminal,
  ownedPods,
  podFromTemplate,
  type PodView,
} from '../pods.js';
import { eventsFor, ReconcileLoop, type ControllerContext } from '../reconciler.js';
import { templateHash } from '../rollout.js';
import { BURST_REPLICAS, settleAll, slowStartBatch } from '../slow-start.js';
import { fieldsChanged } from '../status.js';

const STATEFULSETS = RESOURCES.statefulsets;
const HASH = 'controller-revision-hash';

type SetView = Readonly<StatefulSet>;

function ordinalOf(set: SetView, pod: PodView): number {
  const m = (pod.metadata.name ?? '').match(/-(\d+)$/);
  return m !== null && (pod.metadata.name ?? '').startsWith(`${set.metadata.name ?? ''}-`) ? Number(m[1]) : -1;
}

function runningAndReady(p: PodView): boolean {
  return p.status?.phase === 'Running' && isReady(p) && p.metadata.deletionTimestamp === undefined;
}

export class StatefulSetController {
  readonly loop: ReconcileLoop;
  private readonly client: RestClient;
  private readonly events: EventSink;
  private readonly sets: Informer<StatefulSet>;
  private readonly pods: Informer<Pod>;

  constructor(deps: ControllerContext & { sets: Informer<StatefulSet>; pods: Informer<Pod> }) {
    const { client, sets, pods, log } = deps;
    this.client = client;
    this.events = eventsFor(deps, 'statefulset-controller');
    this.sets = sets;
    this.pods = pods;
    this.loop = new ReconcileLoop('statefulset', (key) => this.reconcile(key), { log });
    sets.addHandler({
      onAdd: (s) => this.loop.enqueue(objectKey(s)),
      onUpdate: (_o, s) => this.loop.enqueue(objectKey(s)),
    });
    const onPod = (p: PodView): void => {
      const ref = controllerOf(p);
      if (ref?.kind === 'StatefulSet') this.loop.enqueue(`${p.metadata.namespace ?? ''}/${ref.name}`);
    };
    pods.addHandler({ onAdd: onPod, onUpdate: (_o, p) => onPod(p), onDelete: onPod });
  }

  async reconcile(key: string): Promise<{ requeueAfterMs?: number } | undefined> {
    const set = this.sets.get(key);
    if (set === undefined || set.metadata.deletionTimestamp !== undefined) return;
    const spec: Partial<StatefulSetSpec> = set.spec ?? {};
    const replicas = spec.replicas ?? 1;
    const ordered = (spec.podManagementPolicy ?? 'OrderedReady') === 'OrderedReady';
    const hash = templateHash(spec.template);
    const pods = ownedPods(this.pods, set);
    const byOrdinal = new Map<number, PodView>();
    for (const p of pods) byOrdinal.set(ordinalOf(set, p), p);

    // Create or replace missing and failed pods, in order. The ordinals looked at are the
    // pods that exist plus at most one burst of missing ones, whatever spec.replicas says.
    const missing: number[] = [];
    const failedPods: PodView[] = [];
    for (let i = 0; i < replicas && missing.length + failedPods.length < BURST_REPLICAS; i++) {
      const pod = byOrdinal.get(i);
      if (pod !== undefined && isTerminal(pod)) failedPods.push(pod);
      else if (pod === undefined) missing.push(i);
      else if (ordered && !runningAndReady(pod)) break;
      if (ordered && (pod === undefined || isTerminal(pod))) break;
    }
    if (missing.length > 0 || failedPods.length > 0) {
      const { failed, error } = await settleAll(failedPods, (p) => this.deletePod(set, p));
      if (failed.length > 0) throw error;
      const result = await slowStartBatch(missing.length, (k) => this.createOrdinal(set, hash, missing[k] ?? 0));
      if (result.error !== undefined) throw result.error;
      return this.finish(set, pods, hash);
    }
    // Scale down from the highest ordinal.
    const surplus = [...byOrdinal.entries()]
      .filter(([i, p]) => i >= replicas && p.metadata.deletionTimestamp === undefined)
      .sort((a, b) => b[0] - a[0]);
    if (surplus.length > 0) {
      if (ordered) {
        if ([...byOrdinal.values()].some((p) => p.metadata.deletionTimestamp !== undefined))
          return this.finish(set, pods, hash);
        const first = surplus[0];
        if (first !== undefined) await this.deletePod(set, first[1]);
      } else {
        const { failed, error } = await settleAll(surplus.slice(0, BURST_REPLICAS), ([, p]) => this.deletePod(set, p));
        if (failed.length > 0) throw error;
      }
      return this.finish(set, pods, hash);
    }
    // Rolling update: highest ordinal first, down to the partition, one at a time (over the
    // pods that exist, not a count from the spec).
    if ((spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate') {
      const partition = spec.updateStrategy?.rollingUpdate?.partition ?? 0;
      const candidates = [...byOrdinal.entries()]
        .filter(([i]) => i >= partition && i < replicas)
        .sort((a, b) => b[0] - a[0]);
      for (const [, pod] of candidates) {
        if (pod.metadata.labels?.[HASH] !== hash) {
          if ([...byOrdinal.values()].every(runningAndReady)) await this.deletePod(set, pod);
          break;
        }
        if (!runningAndReady(pod)) break;
      }
    }
    return this.finish(set, pods, hash);
  }

  private async createOrdinal(set: SetView, hash: string, i: number): Promise<void> {
    const spec: Partial<StatefulSetSpec> = set.spec ?? {};
    const name = `${set.metadata.name ?? ''}-${i}`;
    const pod = podFromTemplate(spec.template ?? {}, set, {
      name,
      labels: { [HASH]: hash, 'statefulset.kubernetes.io/pod-name': name, 'apps.kubernetes.io/pod-index': String(i) },
      spec: { hostname: name, ...(spec.serviceName ? { subdomain: spec.serviceName } : {}) },
    });
    try {
      await createPod(this.client, pod);
      this.record(set, { verb: 'create', pod: name });
    } catch (err) {
      if (isAlreadyExists(err)) return;
      this.record(set, { verb: 'create', pod: name, error: err });
      throw err;
    }
  }

  private async deletePod(set: SetView, pod: PodView): Promise<void> {
    const name = pod.metadata.name ?? '';
    try {
      if (await deletePod(this.client, pod)) this.record(set, { verb: 'delete', pod: name });
    } catch (err) {
      this.record(set, { verb: 'delete', pod: name, error: err });
      throw err;
    }
  }

  /** Kubernetes' StatefulSet pod Events: "create Pod web-0 in StatefulSet web successful" (or "failed error: …"). */
  private record(set: SetView, what: { verb: 'create' | 'delete'; pod: string; error?: unknown }): void {
    const { verb, pod, error } = what;
    const title = verb === 'create' ? 'Create' : 'Delete';
    const subject = `${verb} Pod ${pod} in StatefulSet ${set.metadata.name ?? ''}`;
    if (error === undefined) this.events.normal(set, `Successful${title}`, `${subject} successful`);
    else this.events.warning(set, `Failed${title}`, `${subject} failed error: ${errorMessage(error)}`);
  }

  private async finish(set: SetView, pods: PodView[], hash: string): Promise<{ requeueAfterMs?: number } | undefined> {
    const spec: Partial<StatefulSetSpec> = set.spec ?? {};
    const live = pods.filter((p) => p.metadata.deletionTimestamp === undefined && !isTerminal(p));
    const now = Date.now();
    const status = {
      observedGeneration: set.metadata.generation ?? 1,
      replicas: live.length,
      readyReplicas: live.filter(isReady).length,
      currentReplicas: live.filter((p) => p.metadata.labels?.[HASH] === hash).length,
      updatedReplicas: live.filter((p) => p.metadata.labels?.[HASH] === hash).length,
      availableReplicas: live.filter((p) => isAvailable(p, spec.minReadySeconds ?? 0, now)).length,
      currentRevision: `${set.metadata.name ?? ''}-${hash}`,
      updateRevision: `${set.metadata.name ?? ''}-${hash}`,
    };
    if (fieldsChanged(set.status, status)) {
      try {
        await this.client.updateStatus(
          STATEFULSETS,
          { ...set, status: { ...set.status, ...status } },
          { namespace: set.metadata.namespace },
        );
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    return status.readyReplicas < (spec.replicas ?? 1) ? { requeueAfterMs: 2000 } : undefined;
  }
}
