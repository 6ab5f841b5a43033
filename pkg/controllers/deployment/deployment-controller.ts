// Deployment controller: owns ReplicaSets, one per pod template (named by the template's
// hash, labelled pod-template-hash). It rolls from old to new as the strategy says —
// RollingUpdate within maxSurge/maxUnavailable counted on available pods, or Recreate —
// keeps revisions (deployment.kubernetes.io/revision) and at most revisionHistoryLimit old
// ReplicaSets, honours pause, and reports the status and conditions `kubectl rollout
// status` reads.

import { isDeepStrictEqual } from 'node:util';
import { controllerOf, objectKey, rfc3339 } from '../../api/meta.js';
import { RESOURCES } from '../../api/registry.js';
import type {
  ConditionStatus,
  Deployment,
  DeploymentSpec,
  DeploymentStatus,
  Pod,
  PodTemplateSpec,
  ReplicaSet,
  WorkloadCondition,
} from '../../api/types/index.js';
import type { EventSink, Informer, RestClient } from '../../client/index.js';
import { isAlreadyExists, isNotFound } from '../../errors/index.js';
import { isActive, isAvailable, ownerRef } from '../pods.js';
import { eventsFor, ReconcileLoop, type ControllerContext } from '../reconciler.js';
import { normalizedTemplate, resolveSurge, resolveUnavailable, templateHash } from '../rollout.js';
import { REPLICASETS } from '../replicaset/replicaset-controller.js';

export const DEPLOYMENTS = RESOURCES.deployments;
export const REVISION = 'deployment.kubernetes.io/revision';
const HASH_LABEL = 'pod-template-hash';

/** ReplicaSets and Deployments as the informer caches hand them out: read-only. */
type RsView = Readonly<ReplicaSet>;
type DeploymentView = Readonly<Deployment>;

/** A Deployment's spec, with the fields the apiserver requires allowed missing (read defensively). */
function specOf(d: DeploymentView): Partial<DeploymentSpec> {
  return d.spec ?? {};
}

function withoutHash(template: Readonly<PodTemplateSpec> | undefined): PodTemplateSpec | undefined {
  const t = structuredClone(normalizedTemplate(template));
  if (t?.metadata?.labels) Reflect.deleteProperty(t.metadata.labels, HASH_LABEL);
  return t;
}

function replicasOf(rs: RsView): number {
  return rs.spec?.replicas ?? 0;
}

function statusOf(rs: RsView): { replicas: number; readyReplicas: number; availableReplicas: number } {
  const s = rs.status;
  return {
    replicas: s?.replicas ?? 0,
    readyReplicas: s?.readyReplicas ?? 0,
    availableReplicas: s?.availableReplicas ?? 0,
  };
}

function revisionOf(rs: RsView): number {
  return Number(rs.metadata.annotations?.[REVISION] ?? '0') || 0;
}

/** A condition as it is now: its old times are kept while its status (and reason) stay the same. */
function nextCondition(
  oldConditions: WorkloadCondition[],
  next: { type: string; status: ConditionStatus; reason: string; message: string },
  now: string,
): WorkloadCondition {
  const { type, status, reason, message } = next;
  const prev = oldConditions.find((c) => c.type === type);
  const same = prev !== undefined && prev.status === status;
  const sameReason = same && prev.reason === reason;
  return {
    type,
    status,
    reason,
    message,
    lastUpdateTime: sameReason ? prev.lastUpdateTime : now,
    lastTransitionTime: same ? prev.lastTransitionTime : now,
  };
}

export class DeploymentController {
  readonly loop: ReconcileLoop;
  private readonly client: RestClient;
  private readonly deployments: Informer<Deployment>;
  private readonly replicasets: Informer<ReplicaSet>;
  private readonly pods: Informer<Pod>;
  private readonly events: EventSink;

  constructor(
    deps: ControllerContext & {
      deployments: Informer<Deployment>;
      replicasets: Informer<ReplicaSet>;
      pods: Informer<Pod>;
    },
  ) {
    const { client, deployments, replicasets, pods, log } = deps;
    this.client = client;
    this.deployments = deployments;
    this.replicasets = replicasets;
    this.pods = pods;
    this.events = eventsFor(deps, 'deployment-controller');
    this.loop = new ReconcileLoop('deployment', (key) => this.reconcile(key), { log });
    deployments.addHandler({
      onAdd: (d) => this.loop.enqueue(objectKey(d)),
      onUpdate: (_o, d) => this.loop.enqueue(objectKey(d)),
    });
    const onRs = (rs: RsView): void => {
      const ref = controllerOf(rs);
      if (ref?.kind === 'Deployment') this.loop.enqueue(`${rs.metadata.namespace ?? ''}/${ref.name}`);
    };
    replicasets.addHandler({ onAdd: onRs, onUpdate: (_o, rs) => onRs(rs), onDelete: onRs });
  }

  private owned(d: DeploymentView): RsView[] {
    return this.replicasets
      .byIndex('namespace', d.metadata.namespace ?? '')
      .filter((rs) => controllerOf(rs)?.uid === d.metadata.uid);
  }

  private async scale(rs: RsView, replicas: number, annotations?: Record<string, string>): Promise<void> {
    const from = replicasOf(rs);
    if (from === replicas && annotations === undefined) return;
    await this.client.patch(REPLICASETS, rs.metadata.name ?? '', {
      type: 'merge',
      body: {
        spec: { replicas },
        ...(annotations ? { metadata: { annotations } } : {}),
      },
      namespace: rs.metadata.namespace,
    });
    const owner = controllerOf(rs);
    const d = owner && this.deployments.get(`${rs.metadata.namespace ?? ''}/${owner.name}`);
    if (d !== undefined && from !== replicas) this.recordScaling(d, { rs, from, to: replicas });
  }

  /** Kubernetes' `ScalingReplicaSet` Event on the Deployment ("Scaled up replica set X from 1 to 3"). */
  private recordScaling(d: DeploymentView, change: { rs: RsView; from: number; to: number }): void {
    const { rs, from, to } = change;
    const direction = to > from ? 'up' : 'down';
    this.events.normal(
      d,
      'ScalingReplicaSet',
      `Scaled ${direction} replica set ${rs.metadata.name ?? ''} from ${from} to ${to}`,
    );
  }

  async reconcile(key: string): Promise<{ requeueAfterMs?: number } | undefined> {
    const d = this.deployments.get(key);
    if (d === undefined || d.metadata.deletionTimestamp !== undefined) return;
    const spec = specOf(d);
    const replicas = spec.replicas ?? 1;
    const all = this.owned(d);
    const hash = templateHash(withoutHash(spec.template));
    let newRs =
      all.find((rs) => rs.metadata.labels?.[HASH_LABEL] === hash) ??
      all.find((rs) => isDeepStrictEqual(withoutHash(rs.spec?.template), withoutHash(spec.template)));
    const olds = all.filter((rs) => rs !== newRs);
    const maxRevision = Math.max(0, ...olds.map(revisionOf));

    if (spec.paused) {
      // Paused: only proportional scaling of what exists; no new template is rolled out.
      await this.syncStatus(d, all, newRs);
      return;
    }

    if (newRs === undefined) {
      const template: PodTemplateSpec = structuredClone(spec.template ?? {});
      template.metadata = {
        ...(template.metadata ?? {}),
        labels: { ...(template.metadata?.labels ?? {}), [HASH_LABEL]: hash },
      };
      const strategy = spec.strategy?.type ?? 'RollingUpdate';
      const surge = resolveSurge(spec.strategy?.rollingUpdate?.maxSurge ?? '25%', replicas);
      const current = olds.reduce((n, rs) => n + replicasOf(rs), 0);
      const initial =
        strategy === 'Recreate'
          ? 0
          : olds.length === 0
            ? replicas
            : Math.max(0, Math.min(replicas, replicas + surge - current));
      const rs: ReplicaSet = {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: {
          name: `${d.metadata.name ?? ''}-${hash}`,
          namespace: d.metadata.namespace,
          labels: { ...(template.metadata.labels ?? {}) },
          annotations: {
            [REVISION]: String(maxRevision + 1),
            'deployment.kubernetes.io/desired-replicas': String(replicas),
          },
          ownerReferences: [ownerRef(d)],
        },
        spec: {
          replicas: initial,
          minReadySeconds: spec.minReadySeconds ?? 0,
          selector: { ...spec.selector, matchLabels: { ...(spec.selector?.matchLabels ?? {}), [HASH_LABEL]: hash } },
          template,
        },
      };
      try {
        newRs = await this.client.create(REPLICASETS, rs, { namespace: d.metadata.namespace });
        if (initial > 0) this.recordScaling(d, { rs: newRs, from: 0, to: initial });
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
        return { requeueAfterMs: 100 };
      }
    } else if (revisionOf(newRs) <= maxRevision) {
      // A rollback to an older template: it becomes the newest revision again.
      await this.scale(newRs, replicasOf(newRs), { [REVISION]: String(maxRevision + 1) });
    }

    const result =
      (spec.strategy?.type ?? 'RollingUpdate') === 'Recreate'
        ? await this.recreate(newRs, olds, replicas)
        : await this.rollingUpdate(d, newRs, olds);
    await this.cleanup(d, olds);
    await this.syncStatus(d, this.owned(d), newRs);
    return result;
  }

  private async recreate(
    newRs: RsView,
    olds: RsView[],
    replicas: number,
  ): Promise<{ requeueAfterMs?: number } | undefined> {
    for (const rs of olds) await this.scale(rs, 0);
    const oldPodsLeft = olds.some((rs) => statusOf(rs).replicas > 0);
    const oldPods = this.pods
      .byIndex('namespace', newRs.metadata.namespace ?? '')
      .filter((p) => olds.some((rs) => controllerOf(p)?.uid === rs.metadata.uid) && isActive(p));
    if (oldPodsLeft || oldPods.length > 0) return { requeueAfterMs: 500 };
    await this.scale(newRs, replicas);
  }

  /** Available pods of a ReplicaSet, counted from the pods themselves (fresher than its status). */
  private availableOf(rs: RsView, minReadySeconds: number): number {
    const now = Date.now();
    return this.pods
      .byIndex('namespace', rs.metadata.namespace ?? '')
      .filter((p) => controllerOf(p)?.uid === rs.metadata.uid && isActive(p) && isAvailable(p, minReadySeconds, now))
      .length;
  }

  private async rollingUpdate(
    d: DeploymentView,
    newRs: RsView,
    olds: RsView[],
  ): Promise<{ requeueAfterMs?: number } | undefined> {
    const spec = specOf(d);
    const replicas = spec.replicas ?? 1;
    const minReady = spec.minReadySeconds ?? 0;
    let surge = resolveSurge(spec.strategy?.rollingUpdate?.maxSurge ?? '25%', replicas);
    let unavailable = resolveUnavailable(spec.strategy?.rollingUpdate?.maxUnavailable ?? '25%', replicas);
    if (surge === 0 && unavailable === 0) unavailable = 1;
    if (replicas === 0) surge = 0;
    const oldTotal = olds.reduce((n, rs) => n + replicasOf(rs), 0);
    // Scale up the new ReplicaSet within the surge.
    const allowed = replicas + surge - (oldTotal + replicasOf(newRs));
    const newTarget = oldTotal === 0 ? replicas : Math.min(replicas, replicasOf(newRs) + Math.max(0, allowed));
    if (newTarget !== replicasOf(newRs)) await this.scale(newRs, newTarget);
    if (oldTotal === 0) return;
    // Scale down old ReplicaSets, never below minAvailable available pods.
    const minAvailable = replicas - unavailable;
    const newUnavailable = Math.max(0, newTarget - this.availableOf(newRs, minReady));
    let maxScaledDown = oldTotal + newTarget - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return { requeueAfterMs: 1000 };
    const sorted = [...olds].sort((a, b) => revisionOf(a) - revisionOf(b));
    const target = new Map(sorted.map((rs) => [rs.metadata.uid ?? '', replicasOf(rs)]));
    // Unhealthy old replicas go first: removing them costs no availability.
    for (const rs of sorted) {
      if (maxScaledDown <= 0) break;
      const cur = target.get(rs.metadata.uid ?? '') ?? 0;
      const unhealthy = Math.max(0, cur - this.availableOf(rs, minReady));
      const n = Math.min(unhealthy, maxScaledDown);
      if (n > 0) {
        target.set(rs.metadata.uid ?? '', cur - n);
        maxScaledDown -= n;
      }
    }
    let available =
      this.availableOf(newRs, minReady) +
      sorted.reduce((n, rs) => n + Math.min(this.availableOf(rs, minReady), target.get(rs.metadata.uid ?? '') ?? 0), 0);
    for (const rs of sorted) {
      if (available <= minAvailable) break;
      const cur = target.get(rs.metadata.uid ?? '') ?? 0;
      const n = Math.min(cur, available - minAvailable);
      if (n > 0) {
        target.set(rs.metadata.uid ?? '', cur - n);
        available -= n;
      }
    }
    for (const rs of sorted) {
      const want = target.get(rs.metadata.uid ?? '') ?? replicasOf(rs);
      if (want !== replicasOf(rs)) await this.scale(rs, want);
    }
    return { requeueAfterMs: 1000 };
  }

  /** Keeps at most revisionHistoryLimit old ReplicaSets (those scaled to zero). */
  private async cleanup(d: DeploymentView, olds: RsView[]): Promise<void> {
    const limit = specOf(d).revisionHistoryLimit ?? 10;
    const idle = olds
      .filter((rs) => replicasOf(rs) === 0 && statusOf(rs).replicas === 0)
      .sort((a, b) => revisionOf(a) - revisionOf(b));
    for (const rs of idle.slice(0, Math.max(0, idle.length - limit))) {
      try {
        await this.client.delete(REPLICASETS, rs.metadata.name ?? '', {
          namespace: rs.metadata.namespace,
          propagationPolicy: 'Background',
        });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }

  private async syncStatus(d: DeploymentView, all: RsView[], newRs: RsView | undefined): Promise<void> {
    const spec = specOf(d);
    const replicas = spec.replicas ?? 1;
    const sum = (f: (rs: RsView) => number): number => all.reduce((n, rs) => n + f(rs), 0);
    const total = sum((rs) => statusOf(rs).replicas);
    const updated = newRs ? statusOf(this.replicasets.get(objectKey(newRs)) ?? newRs).replicas : 0;
    const ready = sum((rs) => statusOf(rs).readyReplicas);
    const available = sum((rs) => statusOf(rs).availableReplicas);
    const unavailableAllowed =
      (spec.strategy?.type ?? 'RollingUpdate') === 'Recreate'
        ? 0
        : resolveUnavailable(spec.strategy?.rollingUpdate?.maxUnavailable ?? '25%', replicas);
    const old: DeploymentStatus = d.status ?? {};
    const oldConditions = old.conditions ?? [];
    const now = rfc3339(new Date());
    const availableAs = (status: ConditionStatus, reason: string, message: string): WorkloadCondition =>
      nextCondition(oldConditions, { type: 'Available', status, reason, message }, now);
    const progressingAs = (status: ConditionStatus, reason: string, message: string): WorkloadCondition =>
      nextCondition(oldConditions, { type: 'Progressing', status, reason, message }, now);
    const complete = updated === replicas && total === replicas && available >= replicas && newRs !== undefined;
    const availableCond =
      available >= replicas - unavailableAllowed
        ? availableAs('True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.')
        : availableAs('False', 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.');
    let progressing: WorkloadCondition;
    const rsName = newRs?.metadata.name ?? '';
    if (spec.paused) progressing = progressingAs('Unknown', 'DeploymentPaused', 'Deployment is paused');
    else if (complete)
      progressing = progressingAs(
        'True',
        'NewReplicaSetAvailable',
        `ReplicaSet "${rsName}" has successfully progressed.`,
      );
    else {
      const prev = oldConditions.find((c) => c.type === 'Progressing');
      const since = Date.parse(prev?.lastUpdateTime ?? now) || Date.now();
      const deadline = (spec.progressDeadlineSeconds ?? 600) * 1000;
      const changed = old.updatedReplicas !== updated || old.availableReplicas !== available || old.replicas !== total;
      if (!changed && Date.now() - since > deadline)
        progressing = progressingAs(
          'False',
          'ProgressDeadlineExceeded',
          `ReplicaSet "${rsName}" has timed out progressing.`,
        );
      else
        progressing = {
          ...progressingAs('True', 'ReplicaSetUpdated', `ReplicaSet "${rsName}" is progressing.`),
          ...(changed ? { lastUpdateTime: now } : {}),
        };
    }
    const status: DeploymentStatus = {
      observedGeneration: d.metadata.generation ?? 1,
      replicas: total,
      updatedReplicas: updated,
      readyReplicas: ready,
      availableReplicas: available,
      unavailableReplicas: Math.max(0, replicas - available),
      conditions: [availableCond, progressing],
    };
    if (isDeepStrictEqual(status, old)) return;
    const annotations = newRs
      ? { [REVISION]: String(revisionOf(this.replicasets.get(objectKey(newRs)) ?? newRs)) }
      : undefined;
    try {
      if (annotations && d.metadata.annotations?.[REVISION] !== annotations[REVISION]) {
        await this.client.patch(DEPLOYMENTS, d.metadata.name ?? '', {
          type: 'merge',
          body: { metadata: { annotations } },
          namespace: d.metadata.namespace,
        });
      }
      await this.client.patch(DEPLOYMENTS, d.metadata.name ?? '', {
        type: 'merge',
        body: { status },
        namespace: d.metadata.namespace,
        subresource: 'status',
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
