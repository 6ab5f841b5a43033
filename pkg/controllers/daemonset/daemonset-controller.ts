// DaemonSet controller: one pod on every eligible node (nodeSelector, required node
// affinity, tolerated taints), following nodes as they come and go, with rolling updates
// that replace at most maxUnavailable pods at a time. Daemon pods are placed by setting
// spec.nodeName (they tolerate not-ready and unreachable nodes, as upstream's do). Each
// template is a ControllerRevision (for `kubectl rollout history|undo`); pods carry its hash
// in `controller-revision-hash`.

import { isDeepStrictEqual } from 'node:util';
import { controllerOf, objectKey } from '../../api/meta.js';
import { RESOURCES } from '../../api/registry.js';
import type { ControllerRevision, DaemonSet, Node, Pod, Toleration } from '../../api/types/index.js';
import type { EventSink, Informer, RestClient } from '../../client/index.js';
import { isNotFound } from '../../errors/index.js';
import { matchesTerm, taintsOf, tolerates } from '../../api/node-matching.js';
import { resolveUnavailable } from '../rollout.js';
import { REVISION_HASH_LABEL, syncHistory } from '../history.js';
import { Expectations } from '../expectations.js';
import { isActive, isAvailable, isReady, ownedPods, podFromTemplate, PodControl, type PodView } from '../pods.js';
import { eventsFor, ReconcileLoop, type ControllerContext } from '../reconciler.js';
import { BURST_REPLICAS, settleAll, slowStartBatch } from '../slow-start.js';
import { countersChanged } from '../status.js';

const DAEMONSETS = RESOURCES.daemonsets;
const HASH = REVISION_HASH_LABEL;

const DAEMON_TOLERATIONS: Toleration[] = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
];

export class DaemonSetController {
  readonly loop: ReconcileLoop;
  private readonly expectations = new Expectations();
  private readonly client: RestClient;
  private readonly podControl: PodControl;
  private readonly events: EventSink;
  private readonly daemonsets: Informer<DaemonSet>;
  private readonly nodes: Informer<Node>;
  private readonly pods: Informer<Pod>;
  private readonly revisions: Informer<ControllerRevision>;

  constructor(
    deps: ControllerContext & {
      daemonsets: Informer<DaemonSet>;
      nodes: Informer<Node>;
      pods: Informer<Pod>;
      revisions: Informer<ControllerRevision>;
    },
  ) {
    const { client, daemonsets, nodes, pods, revisions, log } = deps;
    this.client = client;
    this.events = eventsFor(deps, 'daemonset-controller');
    this.podControl = new PodControl(client, this.events);
    this.daemonsets = daemonsets;
    this.nodes = nodes;
    this.pods = pods;
    this.revisions = revisions;
    this.loop = new ReconcileLoop('daemonset', (key) => this.reconcile(key), { log });
    daemonsets.addHandler({
      onAdd: (d) => this.loop.enqueue(objectKey(d)),
      onUpdate: (_o, d) => this.loop.enqueue(objectKey(d)),
    });
    const all = (): void => {
      for (const d of daemonsets.list()) this.loop.enqueue(objectKey(d));
    };
    nodes.addHandler({
      onAdd: all,
      onUpdate: (o, n) => {
        if (!isDeepStrictEqual(o.metadata.labels, n.metadata.labels) || !isDeepStrictEqual(o.spec, n.spec)) all();
      },
      onDelete: all,
    });
    const onPod = (p: PodView, added: boolean): void => {
      const ref = controllerOf(p);
      if (ref?.kind !== 'DaemonSet') return;
      const key = `${p.metadata.namespace ?? ''}/${ref.name}`;
      if (added) this.expectations.observeAdd(key);
      this.loop.enqueue(key);
    };
    pods.addHandler({
      onAdd: (p) => onPod(p, true),
      onUpdate: (_o, p) => onPod(p, false),
      onDelete: (p) => onPod(p, false),
    });
  }

  private eligible(ds: Readonly<DaemonSet>, node: Readonly<Node>): boolean {
    const podSpec = ds.spec?.template.spec;
    const labels = node.metadata.labels ?? {};
    const selector = podSpec?.nodeSelector;
    if (selector !== undefined && !Object.entries(selector).every(([k, v]) => labels[k] === v)) return false;
    const required = podSpec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
    if (required !== undefined) {
      const info = { name: node.metadata.name ?? '', labels };
      if (!required.nodeSelectorTerms.some((t) => matchesTerm(t, info))) return false;
    }
    const probe: Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {},
      spec: { containers: [], tolerations: [...(podSpec?.tolerations ?? []), ...DAEMON_TOLERATIONS] },
    };
    return taintsOf(node).every((t) => (t.effect !== 'NoSchedule' && t.effect !== 'NoExecute') || tolerates(probe, t));
  }

  async reconcile(key: string): Promise<{ requeueAfterMs?: number } | undefined> {
    const ds = this.daemonsets.get(key);
    if (ds === undefined || ds.metadata.deletionTimestamp !== undefined) return;
    const spec = ds.spec;
    const all = ownedPods(this.pods, ds);
    // Revisions some pod still runs stay in the history, whatever the limit.
    const running = new Set(all.map((p) => `${ds.metadata.name ?? ''}-${p.metadata.labels?.[HASH] ?? ''}`));
    const history = await syncHistory(ds, { client: this.client, revisions: this.revisions, live: running });
    const hash = history.update.metadata.labels?.[HASH] ?? '';
    const minReady = spec?.minReadySeconds ?? 0;
    const nodes = this.nodes.list().filter((n) => this.eligible(ds, n));
    const names = new Set(nodes.map((n) => n.metadata.name ?? ''));
    const owned = all.filter(isActive);
    // A failed daemon pod goes (its node gets a new one), as Kubernetes says with FailedDaemonPod.
    const failedPods = all.filter((p) => p.status?.phase === 'Failed' && p.metadata.deletionTimestamp === undefined);
    const byNode = new Map<string, PodView[]>();
    for (const p of owned) {
      const n = p.spec?.nodeName ?? '';
      byNode.set(n, [...(byNode.get(n) ?? []), p]);
    }
    const now = Date.now();
    let requeue: number | undefined;
    if (this.expectations.satisfied(key)) {
      const toCreate = nodes.filter((n) => (byNode.get(n.metadata.name ?? '') ?? []).length === 0);
      const toDelete = owned.filter((p) => !names.has(p.spec?.nodeName ?? ''));
      for (const list of byNode.values()) toDelete.push(...list.slice(1));
      // Rolling update: replace outdated pods, at most maxUnavailable nodes short at once.
      if ((spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate') {
        const maxUnavailable = Math.max(
          1,
          resolveUnavailable(spec?.updateStrategy?.rollingUpdate?.maxUnavailable ?? '1', nodes.length),
        );
        const unavailable = nodes.filter(
          (n) => !(byNode.get(n.metadata.name ?? '') ?? []).some((p) => isAvailable(p, minReady, now)),
        ).length;
        let budget = maxUnavailable - unavailable;
        for (const n of nodes) {
          if (budget <= 0) break;
          const p = (byNode.get(n.metadata.name ?? '') ?? [])[0];
          if (p !== undefined && p.metadata.labels?.[HASH] !== hash && isAvailable(p, minReady, now)) {
            toDelete.push(p);
            budget--;
          }
        }
        if (owned.some((p) => p.metadata.labels?.[HASH] !== hash)) requeue = 1000;
      }
      const creates = toCreate.slice(0, BURST_REPLICAS);
      this.expectations.expect(key, creates.length);
      const result = await slowStartBatch(creates.length, (i) => {
        const pod = podFromTemplate(spec?.template ?? {}, ds, {
          labels: { [HASH]: hash },
          spec: { nodeName: creates[i]?.metadata.name },
        });
        const podSpec = pod.spec ?? { containers: [] };
        pod.spec = { ...podSpec, tolerations: [...(podSpec.tolerations ?? []), ...DAEMON_TOLERATIONS] };
        return this.podControl.create(ds, pod);
      });
      this.expectations.observeAdd(key, creates.length - result.succeeded);
      if (result.error !== undefined) throw result.error;
      for (const p of failedPods.slice(0, BURST_REPLICAS)) {
        const where = `${p.metadata.namespace ?? ''}/${p.metadata.name ?? ''} on node ${p.spec?.nodeName ?? ''}`;
        this.events.warning(ds, 'FailedDaemonPod', `Found failed daemon pod ${where}, will try to kill it`);
        toDelete.push(p);
      }
      const { failed, error } = await settleAll(toDelete.slice(0, BURST_REPLICAS), (p) =>
        this.podControl.delete(ds, p),
      );
      if (failed.length > 0) throw error;
      // More than one burst to do: come back for the rest.
      if (toCreate.length > creates.length || toDelete.length > BURST_REPLICAS) requeue = 0;
    }
    const current = owned.filter((p) => names.has(p.spec?.nodeName ?? ''));
    const status = {
      desiredNumberScheduled: nodes.length,
      currentNumberScheduled: new Set(current.map((p) => p.spec?.nodeName ?? '')).size,
      numberMisscheduled: owned.length - current.length,
      numberReady: current.filter(isReady).length,
      updatedNumberScheduled: current.filter((p) => p.metadata.labels?.[HASH] === hash).length,
      numberAvailable: current.filter((p) => isAvailable(p, minReady, now)).length,
      numberUnavailable: Math.max(0, nodes.length - current.filter((p) => isAvailable(p, minReady, now)).length),
      observedGeneration: ds.metadata.generation ?? 1,
    };
    if (countersChanged(ds.status, status)) {
      try {
        await this.client.updateStatus(
          DAEMONSETS,
          { ...ds, status: { ...ds.status, ...status } },
          { namespace: ds.metadata.namespace },
        );
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    return requeue !== undefined ? { requeueAfterMs: requeue } : undefined;
  }
}
