// StatefulSet controller: pods with stable names <set>-0 … <set>-(N-1) (hostname = name,
// subdomain = serviceName). OrderedReady creates them one at a time in order, each once
// the previous one is Running and Ready, and scales down from the highest ordinal; Parallel
// does all at once. Template changes roll from the highest ordinal down to the partition,
// one pod at a time (RollingUpdate), or wait for the user to delete pods (OnDelete). Each
// template is a ControllerRevision; pods carry its name in `controller-revision-hash`, and a
// pod below the partition is recreated from the current revision, not the update one.

import { controllerOf, objectKey } from '../../api/meta.js';
import { RESOURCES } from '../../api/registry.js';
import type { ControllerRevision, Pod, StatefulSet, StatefulSetSpec } from '../../api/types/index.js';
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
import { REVISION_HASH_LABEL, syncHistory, templateOf } from '../history.js';
import { BURST_REPLICAS, settleAll, slowStartBatch } from '../slow-start.js';
import { fieldsChanged } from '../status.js';
import { ensureClaims, podVolumesWithClaims, releaseClaimsOnScaleDown } from './claims.js';

const STATEFULSETS = RESOURCES.statefulsets;
const HASH = REVISION_HASH_LABEL;

/** The revisions a reconcile works with: what pods below the partition run, and what the rest move to. */
interface Revisions {
  current: ControllerRevision;
  update: ControllerRevision;
}

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
  private readonly revisions: Informer<ControllerRevision>;

  constructor(
    deps: ControllerContext & {
      sets: Informer<StatefulSet>;
      pods: Informer<Pod>;
      revisions: Informer<ControllerRevision>;
    },
  ) {
    const { client, sets, pods, revisions, log } = deps;
    this.client = client;
    this.events = eventsFor(deps, 'statefulset-controller');
    this.sets = sets;
    this.pods = pods;
    this.revisions = revisions;
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
    const revisions = await this.revisionsOf(set);
    const hash = revisions.update.metadata.name ?? '';
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
      const result = await slowStartBatch(missing.length, (k) => this.createOrdinal(set, revisions, missing[k] ?? 0));
      if (result.error !== undefined) throw result.error;
      return this.finish(set, pods, revisions);
    }
    // Scale down from the highest ordinal.
    const surplus = [...byOrdinal.entries()]
      .filter(([i, p]) => i >= replicas && p.metadata.deletionTimestamp === undefined)
      .sort((a, b) => b[0] - a[0]);
    if (surplus.length > 0) {
      if (ordered) {
        if ([...byOrdinal.values()].some((p) => p.metadata.deletionTimestamp !== undefined))
          return this.finish(set, pods, revisions);
        const first = surplus[0];
        if (first !== undefined) await this.condemn(set, first[1]);
      } else {
        const { failed, error } = await settleAll(surplus.slice(0, BURST_REPLICAS), ([, p]) => this.condemn(set, p));
        if (failed.length > 0) throw error;
      }
      return this.finish(set, pods, revisions);
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
    return this.finish(set, pods, revisions);
  }

  /** The update revision (the template now) and the current one (status.currentRevision while it exists). */
  private async revisionsOf(set: SetView): Promise<Revisions> {
    const current = set.status?.currentRevision;
    const live = new Set(current === undefined ? [] : [current]);
    for (const p of ownedPods(this.pods, set)) {
      const label = p.metadata.labels?.[HASH];
      if (label !== undefined) live.add(label);
    }
    const history = await syncHistory(set, { client: this.client, revisions: this.revisions, live });
    return { update: history.update, current: history.all.find((r) => r.metadata.name === current) ?? history.update };
  }

  private async createOrdinal(set: SetView, revisions: Revisions, i: number): Promise<void> {
    const spec: Partial<StatefulSetSpec> = set.spec ?? {};
    const name = `${set.metadata.name ?? ''}-${i}`;
    // Below the partition a pod keeps the current revision, as Kubernetes' newVersionedStatefulSetPod.
    const partition = spec.updateStrategy?.rollingUpdate?.partition ?? 0;
    const rolling = (spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
    const revision = rolling && i < partition ? revisions.current : revisions.update;
    const template = templateOf(revision) ?? spec.template ?? {};
    // The claims exist before the pod that mounts them (the scheduler looks them up).
    await ensureClaims(this.client, set, i);
    const volumes = podVolumesWithClaims(set, i, template.spec?.volumes ?? []);
    const pod = podFromTemplate(template, set, {
      name,
      labels: {
        [HASH]: revision.metadata.name ?? '',
        'statefulset.kubernetes.io/pod-name': name,
        'apps.kubernetes.io/pod-index': String(i),
      },
      spec: {
        hostname: name,
        ...(spec.serviceName ? { subdomain: spec.serviceName } : {}),
        ...(volumes.length > 0 ? { volumes } : {}),
      },
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

  /** A pod removed by a scale down: its claims follow the whenScaled policy. */
  private async condemn(set: SetView, pod: PodView): Promise<void> {
    await releaseClaimsOnScaleDown(this.client, set, pod);
    await this.deletePod(set, pod);
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

  private async finish(
    set: SetView,
    pods: PodView[],
    revisions: Revisions,
  ): Promise<{ requeueAfterMs?: number } | undefined> {
    const spec: Partial<StatefulSetSpec> = set.spec ?? {};
    const live = pods.filter((p) => p.metadata.deletionTimestamp === undefined && !isTerminal(p));
    const now = Date.now();
    const updateName = revisions.update.metadata.name ?? '';
    const updated = live.filter((p) => p.metadata.labels?.[HASH] === updateName);
    const readyReplicas = live.filter(isReady).length;
    // A finished rolling update makes the update revision the current one (completeRollingUpdate).
    const rolledOut =
      (spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate' &&
      updated.length === live.length &&
      readyReplicas === live.length &&
      live.length === (spec.replicas ?? 1);
    const currentName = rolledOut ? updateName : (revisions.current.metadata.name ?? '');
    const status = {
      observedGeneration: set.metadata.generation ?? 1,
      replicas: live.length,
      readyReplicas,
      currentReplicas: live.filter((p) => p.metadata.labels?.[HASH] === currentName).length,
      updatedReplicas: updated.length,
      availableReplicas: live.filter((p) => isAvailable(p, spec.minReadySeconds ?? 0, now)).length,
      currentRevision: currentName,
      updateRevision: updateName,
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
