// Node lifecycle: a node whose Lease has not been renewed within the grace period becomes
// Ready=Unknown and gets the unreachable taints (NoSchedule and NoExecute); a node that
// reports NotReady gets the not-ready taints. Pods on a NoExecute-tainted node are evicted
// once they stop tolerating the taint (immediately, or after their tolerationSeconds), so
// their controllers replace them elsewhere. The taints go when the node is healthy again.

import { rfc3339 } from '../../api/meta.js';
import { RESOURCES } from '../../api/registry.js';
import type { Lease, Node, NodeCondition, Pod, Taint, TaintEffect } from '../../api/types/index.js';
import type { EventSink, Informer, RestClient } from '../../client/index.js';
import { isNotFound } from '../../errors/index.js';
import { deletePod, isActive } from '../pods.js';
import { eventsFor, periodicLoop, type ControllerContext, type ReconcileLoop } from '../reconciler.js';

const NODES = RESOURCES.nodes;
const PODS = RESOURCES.pods;
const UNREACHABLE = 'node.kubernetes.io/unreachable';
const NOT_READY = 'node.kubernetes.io/not-ready';

const MANAGED_EFFECTS: TaintEffect[] = ['NoSchedule', 'NoExecute'];

function taints(node: Readonly<Node>): Taint[] {
  return [...(node.spec?.taints ?? [])];
}

function readyCondition(node: Readonly<Node>): NodeCondition | undefined {
  return node.status?.conditions?.find((c) => c.type === 'Ready');
}

/** The toleration seconds a pod has for a NoExecute taint: undefined = forever, -1 = none. */
function tolerationSeconds(pod: Readonly<Pod>, taint: Taint): number | undefined {
  let best: number | undefined = -1;
  for (const t of pod.spec?.tolerations ?? []) {
    const effect: string | undefined = t.effect;
    if (effect !== undefined && effect !== '' && effect !== taint.effect) continue;
    const keyOk =
      t.operator === 'Exists'
        ? t.key === undefined || t.key === '' || t.key === taint.key
        : t.key === taint.key && (t.value ?? '') === (taint.value ?? '');
    if (!keyOk) continue;
    const secs = t.tolerationSeconds;
    if (secs === undefined) return undefined;
    best = best === -1 ? secs : Math.max(best ?? 0, secs);
  }
  return best;
}

export interface NodeLifecycleOptions {
  /** How long a node may go without renewing its Lease (Kubernetes 1.32: 50 s). */
  gracePeriodMs: number;
  monitorPeriodMs: number;
}

export class NodeLifecycleController {
  readonly loop: ReconcileLoop;
  private readonly client: RestClient;
  private readonly nodes: Informer<Node>;
  private readonly leases: Informer<Lease>;
  private readonly pods: Informer<Pod>;
  private readonly options: NodeLifecycleOptions;
  private readonly log: (m: string) => void;
  private readonly events: EventSink;
  private readonly evictionEvents: EventSink;

  constructor(
    deps: ControllerContext & {
      nodes: Informer<Node>;
      leases: Informer<Lease>;
      pods: Informer<Pod>;
      options: NodeLifecycleOptions;
    },
  ) {
    const { client, nodes, leases, pods, options, log } = deps;
    this.client = client;
    this.nodes = nodes;
    this.leases = leases;
    this.pods = pods;
    this.options = options;
    this.log = log;
    this.events = eventsFor(deps, 'node-controller');
    this.evictionEvents = eventsFor(deps, 'taint-eviction-controller');
    this.loop = periodicLoop('nodelifecycle', () => this.monitor(), { periodMs: options.monitorPeriodMs, log });
  }

  private lastHeartbeat(node: Readonly<Node>): number {
    const lease = this.leases.get(`kube-node-lease/${node.metadata.name ?? ''}`);
    const renew = Date.parse(lease?.spec?.renewTime ?? '');
    if (!Number.isNaN(renew)) return renew;
    const hb = Date.parse(readyCondition(node)?.lastHeartbeatTime ?? '');
    return Number.isNaN(hb) ? Date.parse(node.metadata.creationTimestamp ?? '') || Date.now() : hb;
  }

  async monitor(): Promise<void> {
    const now = Date.now();
    for (const node of this.nodes.list()) {
      const name = node.metadata.name ?? '';
      const stale = now - this.lastHeartbeat(node) > this.options.gracePeriodMs;
      const ready = readyCondition(node);
      if (stale && ready?.status !== 'Unknown') {
        this.log(
          `node ${name}: no heartbeat for ${Math.round((now - this.lastHeartbeat(node)) / 1000)}s, marking Ready=Unknown`,
        );
        const conditions = (node.status?.conditions ?? []).map((c) => ({
          ...c,
          status: 'Unknown',
          reason: 'NodeStatusUnknown',
          message: 'Kubelet stopped posting node status.',
          lastTransitionTime: rfc3339(now),
        }));
        await this.tolerate(
          this.client.patch(NODES, name, {
            type: 'strategic',
            body: { status: { conditions } },
            subresource: 'status',
          }),
        );
        if (ready?.status === 'True')
          this.events.normal(node, 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
      }
      // Taints follow the Ready condition.
      const status = stale ? 'Unknown' : (ready?.status ?? 'Unknown');
      const wantKey = status === 'True' ? undefined : status === 'False' ? NOT_READY : UNREACHABLE;
      const current = taints(node);
      const managed = current.filter((t) => t.key === UNREACHABLE || t.key === NOT_READY);
      const others = current.filter((t) => t.key !== UNREACHABLE && t.key !== NOT_READY);
      const desired: Taint[] =
        wantKey === undefined
          ? []
          : MANAGED_EFFECTS.map(
              (effect) =>
                managed.find((t) => t.key === wantKey && t.effect === effect) ?? {
                  key: wantKey,
                  effect,
                  timeAdded: rfc3339(now),
                },
            );
      const same =
        desired.length === managed.length &&
        desired.every((d) => managed.some((m) => m.key === d.key && m.effect === d.effect));
      if (!same) {
        await this.tolerate(
          this.client.patch(NODES, name, {
            type: 'merge',
            body: {
              spec: { taints: [...others, ...desired].length > 0 ? [...others, ...desired] : null },
            },
          }),
        );
      }
      if (status !== 'True') await this.markPodsNotReady(name, now);
      await this.evict(node, [...others, ...desired], now);
    }
  }

  /**
   * Pods on a node that is not Ready are not Ready either (Kubernetes' MarkPodsNotReady):
   * their agent can no longer vouch for them, and Services must stop sending them traffic.
   */
  private async markPodsNotReady(nodeName: string, now: number): Promise<void> {
    for (const pod of this.pods.list()) {
      if (pod.spec?.nodeName !== nodeName || !isActive(pod)) continue;
      const conditions = pod.status?.conditions ?? [];
      if (!conditions.some((c) => c.type === 'Ready' && c.status === 'True')) continue;
      const next = conditions.map((c) =>
        c.type === 'Ready'
          ? {
              ...c,
              status: 'False',
              reason: 'NodeNotReady',
              message: `node ${nodeName} is not ready`,
              lastTransitionTime: rfc3339(now),
            }
          : c,
      );
      this.log(
        `node ${nodeName} not ready: marking pod ${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''} not ready`,
      );
      await this.tolerate(
        this.client.patch(PODS, pod.metadata.name ?? '', {
          type: 'strategic',
          body: { status: { conditions: next } },
          namespace: pod.metadata.namespace ?? '',
          subresource: 'status',
        }),
      );
    }
  }

  /** Evicts the pods that no longer tolerate the node's NoExecute taints. */
  private async evict(node: Readonly<Node>, nodeTaints: Taint[], now: number): Promise<void> {
    const noExecute = nodeTaints.filter((t) => t.effect === 'NoExecute');
    if (noExecute.length === 0) return;
    const name = node.metadata.name ?? '';
    for (const pod of this.pods.list()) {
      if (pod.spec?.nodeName !== name || !isActive(pod)) continue;
      let evictAt = Number.POSITIVE_INFINITY;
      for (const t of noExecute) {
        const secs = tolerationSeconds(pod, t);
        if (secs === undefined) continue;
        const added = Date.parse(t.timeAdded ?? '') || now;
        evictAt = Math.min(evictAt, secs < 0 ? now : added + secs * 1000);
      }
      if (evictAt <= now) {
        this.log(`evicting pod ${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''} from node ${name}`);
        const podName = `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`;
        if (await deletePod(this.client, pod))
          this.evictionEvents.normal(pod, 'TaintManagerEviction', `Marking for deletion Pod ${podName}`);
      }
    }
  }

  private async tolerate(p: Promise<unknown>): Promise<void> {
    try {
      await p;
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
