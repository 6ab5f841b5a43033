// ReplicaSet controller: keeps spec.replicas pods matching the template alive, creating
// missing ones (at most 500 a sync, in growing batches) and deleting surplus ones (least useful first:
// unscheduled, then pending, then not ready, then newest), and reports replicas,
// readyReplicas and availableReplicas. The same code path reconciles core/v1
// ReplicationControllers (as Kubernetes' replication controller wraps the ReplicaSet one);
// both record SuccessfulCreate/SuccessfulDelete Events on the owner.

import { controllerOf, objectKey } from '../../api/meta.js';
import { RESOURCES, type Resource } from '../../api/registry.js';
import type { Pod, ReplicaSet, ReplicationController } from '../../api/types/index.js';
import type { Informer, RestClient } from '../../client/index.js';
import { isNotFound } from '../../errors/index.js';
import { Expectations } from '../expectations.js';
import {
  isActive,
  isAvailable,
  isReady,
  ownedPods,
  podFromTemplate,
  PodControl,
  readySince,
  type PodView,
} from '../pods.js';
import { eventsFor, ReconcileLoop, type ControllerContext } from '../reconciler.js';
import { burst, settleAll, slowStartBatch } from '../slow-start.js';
import { countersChanged } from '../status.js';

export const REPLICASETS = RESOURCES.replicasets;

/** A replicated set of pods: an apps/v1 ReplicaSet or a core/v1 ReplicationController. */
type Replicated = ReplicaSet | ReplicationController;

/** What differs between the two kinds: the resource and the controller's name in logs and Events. */
interface ReplicatedKind<T extends Replicated> {
  resource: Resource<T>;
  /** Kubernetes' component name: `replicaset-controller` or `replication-controller`. */
  component: string;
}

export const REPLICASET_KIND: ReplicatedKind<ReplicaSet> = {
  resource: REPLICASETS,
  component: 'replicaset-controller',
};
export const REPLICATIONCONTROLLER_KIND: ReplicatedKind<ReplicationController> = {
  resource: RESOURCES.replicationcontrollers,
  component: 'replication-controller',
};

/** Deletion order: the pods whose loss hurts least come first. */
function deletionRank(p: PodView): number[] {
  const phase = p.status?.phase;
  return [
    p.spec?.nodeName ? 1 : 0,
    phase === 'Pending' ? 0 : phase === 'Unknown' ? 1 : 2,
    isReady(p) ? 1 : 0,
    -(readySince(p) ?? 0),
    -(Date.parse(p.metadata.creationTimestamp ?? '') || 0),
  ];
}

function compareRank(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
}

export class ReplicaSetController<T extends Replicated> {
  readonly loop: ReconcileLoop;
  private readonly expectations = new Expectations();
  private readonly client: RestClient;
  private readonly replicasets: Informer<T>;
  private readonly pods: Informer<Pod>;
  private readonly podControl: PodControl;
  private readonly resource: Resource<T>;

  constructor(deps: ControllerContext & { replicasets: Informer<T>; pods: Informer<Pod>; kind: ReplicatedKind<T> }) {
    const { client, replicasets, pods, log, kind } = deps;
    this.client = client;
    this.replicasets = replicasets;
    this.pods = pods;
    this.resource = kind.resource;
    this.podControl = new PodControl(client, eventsFor(deps, kind.component));
    this.loop = new ReconcileLoop(kind.component.replace(/-controller$/, ''), (key) => this.reconcile(key), { log });
    replicasets.addHandler({
      onAdd: (rs) => this.loop.enqueue(objectKey(rs)),
      onUpdate: (_o, rs) => this.loop.enqueue(objectKey(rs)),
    });
    const ownerKind = kind.resource.kind;
    const keyOf = (pod: PodView): string | undefined => {
      const ref = controllerOf(pod);
      return ref?.kind === ownerKind ? `${pod.metadata.namespace ?? ''}/${ref.name}` : undefined;
    };
    pods.addHandler({
      onAdd: (p) => {
        const key = keyOf(p);
        if (key === undefined) return;
        this.expectations.observeAdd(key);
        this.loop.enqueue(key);
      },
      onUpdate: (_o, p) => {
        const key = keyOf(p);
        if (key === undefined) return;
        if (p.metadata.deletionTimestamp !== undefined) this.expectations.observeDelete(key, p.metadata.uid ?? '');
        this.loop.enqueue(key);
      },
      onDelete: (p) => {
        const key = keyOf(p);
        if (key === undefined) return;
        this.expectations.observeDelete(key, p.metadata.uid ?? '');
        this.loop.enqueue(key);
      },
    });
  }

  async reconcile(key: string): Promise<{ requeueAfterMs?: number } | undefined> {
    const rs = this.replicasets.get(key);
    if (rs === undefined) {
      this.expectations.forget(key);
      return;
    }
    const spec = rs.spec;
    const wanted = spec?.replicas ?? 1;
    const owned = ownedPods(this.pods, rs);
    const active = owned.filter(isActive);
    if (rs.metadata.deletionTimestamp === undefined && this.expectations.satisfied(key)) {
      const diff = wanted - active.length;
      if (diff > 0) {
        // At most BURST_REPLICAS per sync; the informer's adds bring the next sync.
        const n = burst(diff);
        this.expectations.expect(key, n);
        const result = await slowStartBatch(n, () =>
          this.podControl.create(rs, podFromTemplate(spec?.template ?? {}, rs)),
        );
        // Creates that failed or never ran will not be observed: stop expecting them.
        this.expectations.observeAdd(key, n - result.succeeded);
        if (result.error !== undefined) throw result.error;
      } else if (diff < 0) {
        const victims = [...active]
          .sort((a, b) => compareRank(deletionRank(a), deletionRank(b)))
          .slice(0, burst(-diff));
        this.expectations.expect(
          key,
          0,
          victims.map((p) => p.metadata.uid ?? ''),
        );
        const { failed, error } = await settleAll(victims, (p) => this.podControl.delete(rs, p));
        for (const p of failed) this.expectations.observeDelete(key, p.metadata.uid ?? '');
        if (failed.length > 0) throw error;
      }
    }
    const now = Date.now();
    const minReady = spec?.minReadySeconds ?? 0;
    const status = {
      replicas: active.length,
      fullyLabeledReplicas: active.length,
      readyReplicas: active.filter(isReady).length,
      availableReplicas: active.filter((p) => isAvailable(p, minReady, now)).length,
      observedGeneration: rs.metadata.generation ?? 1,
    };
    if (countersChanged(rs.status, status)) {
      try {
        await this.client.updateStatus(
          this.resource,
          { ...rs, status: { ...rs.status, ...status } },
          { namespace: rs.metadata.namespace },
        );
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    // Pods ready but not yet available long enough: look again when they will be.
    if (minReady > 0 && status.readyReplicas > status.availableReplicas) return { requeueAfterMs: minReady * 1000 };
  }
}
