// Disruption controller: keeps each PodDisruptionBudget's status (expected, desired and
// current healthy pods, disruptions allowed, the evictions not yet seen through, the
// DisruptionAllowed condition) from the pods it selects and, for percentages and
// maxUnavailable, the scale of their owning controllers (Deployment through its ReplicaSets,
// ReplicaSet, StatefulSet, ReplicationController), after Kubernetes' pkg/controller/disruption.
// A budget whose controllers cannot be found gets the fail-safe status (nothing allowed,
// condition SyncFailed). The eviction API decrements disruptionsAllowed between syncs.

import { isDeepStrictEqual } from 'node:util';
import {
  budgetSelects,
  budgetStatus,
  failSafeStatus,
  labelSelectorToString,
  needsControllerScale,
  pendingDisruptions,
} from '../../api/index.js';
import { controllerOf, objectKey, type OwnerReference } from '../../api/meta.js';
import { RESOURCES } from '../../api/registry.js';
import type {
  Deployment,
  Pod,
  PodDisruptionBudget,
  ReplicaSet,
  ReplicationController,
  StatefulSet,
} from '../../api/types/index.js';
import type { EventSink, Informer, RestClient } from '../../client/index.js';
import { errorMessage, isConflict, isNotFound } from '../../errors/index.js';
import { eventsFor, ReconcileLoop, type ControllerContext, type ReconcileResult } from '../reconciler.js';

export interface DisruptionControllerDeps extends ControllerContext {
  budgets: Informer<PodDisruptionBudget>;
  pods: Informer<Pod>;
  deployments: Informer<Deployment>;
  replicasets: Informer<ReplicaSet>;
  statefulsets: Informer<StatefulSet>;
  replicationcontrollers: Informer<ReplicationController>;
  /** Time (tests). */
  now?: () => Date;
}

/** A controller that was asked about a pod and could not be found: the budget's status is unknown. */
class MissingController extends Error {}

export class DisruptionController {
  readonly loop: ReconcileLoop;
  private readonly client: RestClient;
  private readonly deps: DisruptionControllerDeps;
  private readonly events: EventSink;
  private readonly now: () => Date;

  constructor(deps: DisruptionControllerDeps) {
    this.deps = deps;
    this.client = deps.client;
    this.events = eventsFor(deps, 'controllermanager');
    this.now = deps.now ?? (() => new Date());
    this.loop = new ReconcileLoop('disruption', (key) => this.reconcile(key), { log: deps.log });
    deps.budgets.addHandler({
      onAdd: (b) => this.loop.enqueue(objectKey(b)),
      onUpdate: (_o, b) => this.loop.enqueue(objectKey(b)),
    });
    deps.pods.addHandler({
      onAdd: (p) => this.enqueueBudgetsOf(p),
      onUpdate: (old, p) => {
        this.enqueueBudgetsOf(old);
        this.enqueueBudgetsOf(p);
      },
      onDelete: (p) => this.enqueueBudgetsOf(p),
    });
    // A controller's scale is a budget's expected count: every budget of its namespace looks again.
    for (const owners of [deps.deployments, deps.replicasets, deps.statefulsets, deps.replicationcontrollers]) {
      owners.addHandler({
        onAdd: (o) => this.enqueueNamespace(o.metadata.namespace ?? ''),
        onUpdate: (_o, o) => this.enqueueNamespace(o.metadata.namespace ?? ''),
        onDelete: (o) => this.enqueueNamespace(o.metadata.namespace ?? ''),
      });
    }
  }

  private enqueueBudgetsOf(pod: Readonly<Pod>): void {
    for (const pdb of this.deps.budgets.byIndex('namespace', pod.metadata.namespace ?? ''))
      if (budgetSelects(pdb, pod)) this.loop.enqueue(objectKey(pdb));
  }

  private enqueueNamespace(namespace: string): void {
    for (const pdb of this.deps.budgets.byIndex('namespace', namespace)) this.loop.enqueue(objectKey(pdb));
  }

  /** The replicas a pod's controller wants; undefined for a pod no controller owns. */
  private scaleOf(namespace: string, ref: OwnerReference): number {
    const key = `${namespace}/${ref.name}`;
    const sameUid = <T extends { metadata: { uid?: string } }>(o: T | undefined, uid = ref.uid): T | undefined =>
      o !== undefined && o.metadata.uid === uid ? o : undefined;
    switch (ref.kind) {
      case 'ReplicaSet': {
        const rs = sameUid(this.deps.replicasets.get(key));
        if (rs === undefined) break;
        // A Deployment's ReplicaSets share its scale: the Deployment answers for them.
        const owner = controllerOf(rs);
        if (owner?.kind === 'Deployment') {
          const deployment = sameUid(this.deps.deployments.get(`${namespace}/${owner.name}`), owner.uid);
          if (deployment === undefined) break;
          return deployment.spec?.replicas ?? 1;
        }
        return rs.spec?.replicas ?? 1;
      }
      case 'StatefulSet': {
        const set = sameUid(this.deps.statefulsets.get(key));
        if (set !== undefined) return set.spec?.replicas ?? 1;
        break;
      }
      case 'ReplicationController': {
        const rc = sameUid(this.deps.replicationcontrollers.get(key));
        if (rc !== undefined) return rc.spec?.replicas ?? 1;
        break;
      }
      default:
        break;
    }
    throw new MissingController(`found no controllers for pod ${JSON.stringify(ref.name)}`);
  }

  /**
   * The summed scale of the pods' distinct controllers (a Deployment counted once across its
   * ReplicaSets), and how many pods no controller owns.
   */
  private controllerScale(namespace: string, pods: readonly Pod[]): { scale: number; unmanaged: number } {
    const counted = new Set<string>();
    let scale = 0;
    let unmanaged = 0;
    for (const pod of pods) {
      const ref = controllerOf(pod);
      if (ref === undefined) {
        unmanaged++;
        continue;
      }
      const rs = ref.kind === 'ReplicaSet' ? this.deps.replicasets.get(`${namespace}/${ref.name}`) : undefined;
      const deployment = rs !== undefined ? controllerOf(rs) : undefined;
      const identity = deployment?.kind === 'Deployment' ? deployment.uid : ref.uid;
      if (counted.has(identity)) continue;
      counted.add(identity);
      scale += this.scaleOf(namespace, ref);
    }
    return { scale, unmanaged };
  }

  async reconcile(key: string): Promise<ReconcileResult | undefined> {
    const pdb = this.deps.budgets.get(key);
    if (pdb === undefined) return undefined;
    const namespace = pdb.metadata.namespace ?? '';
    const now = this.now();
    const pods = this.deps.pods.byIndex('namespace', namespace).filter((p) => budgetSelects(pdb, p));
    let status;
    try {
      let controllerScale = 0;
      if (needsControllerScale(pdb)) {
        const found = this.controllerScale(namespace, pods);
        controllerScale = found.scale;
        if (found.unmanaged > 0)
          this.events.warning(
            pdb,
            'UnmanagedPods',
            `Pods selected by this PodDisruptionBudget (selector: ${labelSelectorToString(pdb.spec?.selector)}) were found to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. To account for these pods please set ".spec.minAvailable" field of the PDB to an integer value.`,
          );
      }
      status = budgetStatus(pdb, { pods, controllerScale, now });
    } catch (err) {
      // A controller not found, or a value that does not parse: nothing may be disrupted.
      this.events.warning(
        pdb,
        'CalculateExpectedPodCountFailed',
        `Failed to calculate the number of expected pods: ${errorMessage(err)}`,
      );
      status = failSafeStatus(pdb, errorMessage(err), now);
    }
    const { recheckAtMs, overdue } = pendingDisruptions(pdb, pods, now);
    for (const pod of overdue)
      this.events.warning(
        pod,
        'NotDeleted',
        `Pod was expected by PDB ${namespace}/${pdb.metadata.name ?? ''} to be deleted but it wasn't`,
      );
    if (!isDeepStrictEqual(status, pdb.status)) {
      try {
        await this.client.updateStatus(RESOURCES.poddisruptionbudgets, { ...pdb, status }, { namespace });
      } catch (err) {
        // A newer budget (an eviction's decrement) is synced again by its own event.
        if (isConflict(err) || isNotFound(err)) return undefined;
        throw err;
      }
    }
    return recheckAtMs === undefined ? undefined : { requeueAfterMs: Math.max(0, recheckAtMs - now.getTime()) };
  }
}
