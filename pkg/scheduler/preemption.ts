// Preemption, after kube-scheduler's DefaultPreemption: when a pod fits nowhere, find the node
// where removing pods of lower priority (only those) makes it fit, keeping back ("reprieving")
// as many of them as still lets it fit, most important first and those a PodDisruptionBudget
// protects before the others. Among such nodes pick, in order: the fewest budget violations,
// the lowest highest-victim priority, the lowest priority sum, the fewest victims. Then the
// victims get the DisruptionTarget condition and are deleted (event Preempted), and the pod
// is nominated to the node (status.nominatedNodeName) and waits for them to go.

import { hostPortsOf, podRequests } from './resources.js';
import { hasRequiredAntiAffinity } from './plugins/inter-pod-affinity.js';
import type { FilterPlugin, NodeInfo, PodView, Resources } from './framework.js';
import { rfc3339 } from '../api/meta.js';
import { RESOURCES } from '../api/registry.js';
import { selectorMatches } from '../api/selectors.js';
import type { PodDisruptionBudget } from '../api/types/index.js';
import { Informer, type EventRecorder, type RestClient } from '../client/index.js';
import { errorMessage, isNotFound } from '../errors/index.js';

export function priorityOf(pod: PodView): number {
  return pod.spec?.priority ?? 0;
}

/** Whether a pod may preempt at all: not with preemptionPolicy Never, nor while its last victims still terminate. */
export function mayPreempt(pod: PodView, nominatedNode: NodeInfo | undefined): boolean {
  if (pod.spec?.preemptionPolicy === 'Never') return false;
  if (nominatedNode === undefined) return true;
  const priority = priorityOf(pod);
  return !nominatedNode.pods.some((p) => priorityOf(p) < priority && p.metadata.deletionTimestamp !== undefined);
}

/** The more important of two pods comes first: higher priority, then started earlier. */
function byImportance(a: PodView, b: PodView): number {
  const byPriority = priorityOf(b) - priorityOf(a);
  if (byPriority !== 0) return byPriority;
  const started = (p: PodView): number => Date.parse(p.status?.startTime ?? p.metadata.creationTimestamp ?? '') || 0;
  return started(a) - started(b);
}

/** A NodeInfo holding only `pods` (what the node would look like with the others gone). */
export function nodeWithPods(info: NodeInfo, pods: readonly PodView[]): NodeInfo {
  const requested: Resources = { milliCpu: 0, memory: 0, pods: 0 };
  for (const p of pods) {
    const r = podRequests(p);
    requested.milliCpu += r.milliCpu;
    requested.memory += r.memory;
    requested.pods += r.pods;
  }
  return {
    ...info,
    pods: [...pods],
    requested,
    usedHostPorts: new Set(pods.flatMap(hostPortsOf)),
    antiAffinityPods: pods.filter(hasRequiredAntiAffinity),
  };
}

function fits(
  pod: PodView,
  node: NodeInfo,
  ctx: { all: readonly NodeInfo[]; filters: readonly FilterPlugin[] },
): boolean {
  const all = ctx.all.map((n) => (n.name === node.name ? node : n));
  return ctx.filters.every((f) => f.filter(pod, node, { all, state: f.prepare?.(pod, all) }).code === 'Success');
}

/**
 * Splits pods (in importance order) into those whose eviction would break a budget and those
 * it would not, spending each budget's disruptionsAllowed as it goes; pods already recorded as
 * disrupted do not spend it again. A budget with an empty selector protects nothing here, as
 * in kube-scheduler.
 */
export function splitByBudget(
  pods: readonly PodView[],
  pdbs: readonly PodDisruptionBudget[],
): { violating: PodView[]; safe: PodView[] } {
  const allowed = pdbs.map((pdb) => pdb.status?.disruptionsAllowed ?? 0);
  const violating: PodView[] = [];
  const safe: PodView[] = [];
  for (const pod of pods) {
    let violated = false;
    pdbs.forEach((pdb, i) => {
      const selector = pdb.spec?.selector;
      const empty =
        selector === undefined ||
        (Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0);
      if (empty || pdb.metadata.namespace !== pod.metadata.namespace) return;
      if (!selectorMatches(selector, pod.metadata.labels)) return;
      if (Object.hasOwn(pdb.status?.disruptedPods ?? {}, pod.metadata.name ?? '')) return;
      allowed[i] = (allowed[i] ?? 0) - 1;
      if ((allowed[i] ?? 0) < 0) violated = true;
    });
    (violated ? violating : safe).push(pod);
  }
  return { violating, safe };
}

export interface Candidate {
  node: string;
  victims: PodView[];
  /** How many victims' eviction breaks a budget. */
  violations: number;
}

/** The fewest and least important victims on one node that let the pod fit; undefined when none do. */
export function victimsOnNode(
  pod: PodView,
  node: NodeInfo,
  ctx: { all: readonly NodeInfo[]; filters: readonly FilterPlugin[]; pdbs: readonly PodDisruptionBudget[] },
): Candidate | undefined {
  const priority = priorityOf(pod);
  const lower = node.pods.filter((p) => priorityOf(p) < priority).sort(byImportance);
  if (lower.length === 0) return undefined;
  const kept = node.pods.filter((p) => priorityOf(p) >= priority);
  if (!fits(pod, nodeWithPods(node, kept), ctx)) return undefined;
  const { violating, safe } = splitByBudget(lower, ctx.pdbs);
  const victims: PodView[] = [];
  let violations = 0;
  const reprieve = (p: PodView, breaksBudget: boolean): void => {
    if (fits(pod, nodeWithPods(node, [...kept, p]), ctx)) kept.push(p);
    else {
      victims.push(p);
      if (breaksBudget) violations++;
    }
  };
  for (const p of violating) reprieve(p, true);
  for (const p of safe) reprieve(p, false);
  return { node: node.name, victims, violations };
}

/** kube-scheduler's pickOneNodeForPreemption, by its first four criteria. */
export function pickCandidate(candidates: readonly Candidate[]): Candidate | undefined {
  const highest = (c: Candidate): number => Math.max(...c.victims.map(priorityOf));
  // Priorities may be negative: offset them as kube-scheduler does, so a sum grows with each victim.
  const sum = (c: Candidate): number => c.victims.reduce((s, p) => s + priorityOf(p) + 2 ** 31, 0);
  const criteria: ((c: Candidate) => number)[] = [(c) => c.violations, highest, sum, (c) => c.victims.length];
  let best = [...candidates];
  for (const measure of criteria) {
    if (best.length <= 1) break;
    const min = Math.min(...best.map(measure));
    best = best.filter((c) => measure(c) === min);
  }
  return best[0];
}

/** Where to preempt for `pod` over `nodes`, and whom; undefined when preemption cannot help. */
export function selectPreemption(
  pod: PodView,
  ctx: { nodes: readonly NodeInfo[]; filters: readonly FilterPlugin[]; pdbs: readonly PodDisruptionBudget[] },
): Candidate | undefined {
  const candidates: Candidate[] = [];
  for (const node of ctx.nodes) {
    const found = victimsOnNode(pod, node, { all: ctx.nodes, filters: ctx.filters, pdbs: ctx.pdbs });
    if (found !== undefined && found.victims.length > 0) candidates.push(found);
  }
  return pickCandidate(candidates);
}

/** Carries out preemption for the scheduler: reads budgets, deletes victims, nominates the preemptor. */
export class Preemptor {
  private readonly budgets: Informer<PodDisruptionBudget>;
  /** uid → the node a pod was nominated to, until its informer copy says so too. */
  private readonly nominated = new Map<string, string>();

  constructor(
    private readonly deps: {
      client: RestClient;
      events: EventRecorder;
      log: (m: string) => void;
      schedulerName: string;
    },
  ) {
    this.budgets = new Informer(deps.client, RESOURCES.poddisruptionbudgets, { stripManagedFields: true });
  }

  informers(): Informer<PodDisruptionBudget>[] {
    return [this.budgets];
  }

  /** Forgets a pod that was scheduled or went away. */
  forget(uid: string): void {
    this.nominated.delete(uid);
  }

  /**
   * Tries to make room for a pod that fits nowhere among `nodes`; returns the nominated node
   * when victims were chosen (their deletion runs in the background).
   */
  preempt(pod: PodView, ctx: { nodes: readonly NodeInfo[]; filters: readonly FilterPlugin[] }): string | undefined {
    const uid = pod.metadata.uid ?? '';
    const nominatedName = pod.status?.nominatedNodeName ?? this.nominated.get(uid);
    const nominatedNode = ctx.nodes.find((n) => n.name === nominatedName);
    if (!mayPreempt(pod, nominatedNode)) return undefined;
    const chosen = selectPreemption(pod, { ...ctx, pdbs: this.budgets.list() });
    if (chosen === undefined) return undefined;
    this.nominated.set(uid, chosen.node);
    void this.carryOut(pod, chosen);
    return chosen.node;
  }

  private async carryOut(pod: PodView, chosen: Candidate): Promise<void> {
    const { client, events, schedulerName } = this.deps;
    for (const victim of chosen.victims) {
      const name = victim.metadata.name ?? '';
      const namespace = victim.metadata.namespace;
      try {
        await client.patch(RESOURCES.pods, name, {
          type: 'strategic',
          namespace,
          subresource: 'status',
          body: {
            status: {
              conditions: [
                {
                  type: 'DisruptionTarget',
                  status: 'True',
                  reason: 'PreemptionByScheduler',
                  message: `${schedulerName}: preempting to accommodate a higher priority pod`,
                  lastTransitionTime: rfc3339(new Date()),
                },
              ],
            },
          },
        });
        await client.delete(RESOURCES.pods, name, { namespace, preconditions: { uid: victim.metadata.uid } });
        events.normal(victim, 'Preempted', `Preempted by pod ${pod.metadata.uid ?? ''} on node ${chosen.node}`);
      } catch (err) {
        if (!isNotFound(err)) this.deps.log(`preempting ${namespace ?? ''}/${name} failed: ${errorMessage(err)}`);
      }
    }
    try {
      await client.patch(RESOURCES.pods, pod.metadata.name ?? '', {
        type: 'merge',
        namespace: pod.metadata.namespace,
        subresource: 'status',
        body: { status: { nominatedNodeName: chosen.node } },
      });
    } catch (err) {
      if (!isNotFound(err)) this.deps.log(`nominating ${pod.metadata.name ?? ''}: ${errorMessage(err)}`);
    }
  }
}
