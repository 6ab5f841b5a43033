// PodDisruptionBudget arithmetic shared by the disruption controller (status), the eviction
// subresource (the admission check and the compare-and-swap decrement) and the scheduler's
// preemption (which victims a budget protects), after Kubernetes' pkg/controller/disruption
// and registry/core/pod/storage/eviction.go.

import { ApiError, internal } from '../errors/index.js';
import { rfc3339 } from './meta.js';
import { selectorMatches } from './selectors.js';
import type {
  IntOrString,
  Pod,
  PodDisruptionBudget,
  PodDisruptionBudgetStatus,
  PolicyCondition,
} from './types/index.js';

/** How long an evicted pod stays out of the healthy count while it has not gone (Kubernetes' DeletionTimeout). */
export const DISRUPTION_DELETION_TIMEOUT_MS = 2 * 60_000;
/** At most this many evictions may wait for the controller to see them (Kubernetes' MaxDisruptedPodSize). */
export const MAX_DISRUPTED_PODS = 2000;
export const DISRUPTION_ALLOWED = 'DisruptionAllowed';
/** The cause type of a refused eviction (policy/v1 DisruptionBudgetCause). */
export const DISRUPTION_BUDGET_CAUSE = 'DisruptionBudget';
export const EVICTION_REFUSED = "Cannot evict pod as it would violate the pod's disruption budget.";

/** Ready as the kubelet reports it: the pod's Ready condition is True. */
export function podIsReady(pod: Pod): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/**
 * Whether a budget selects a pod: same namespace and its selector matches. A missing selector
 * selects nothing; an empty one (policy/v1) selects every pod of the namespace.
 */
export function budgetSelects(pdb: PodDisruptionBudget, pod: Pod): boolean {
  if ((pdb.metadata.namespace ?? '') !== (pod.metadata.namespace ?? '')) return false;
  try {
    return selectorMatches(pdb.spec?.selector, pod.metadata.labels);
  } catch {
    return false; // a selector that does not parse selects nothing
  }
}

/** A count or a percentage of `total`, rounded up (intstr.GetScaledValueFromIntOrPercent with roundUp). */
export function scaledValue(value: IntOrString, total: number): number {
  if (typeof value === 'number') return value;
  const percent = /^([0-9]+)%$/.exec(value);
  if (percent === null) throw new Error(`invalid value for IntOrString: invalid value "${value}"`);
  return Math.ceil((Number(percent[1]) * total) / 100);
}

/** Whether the budget's expected pod count comes from the owning controllers' scale. */
export function needsControllerScale(pdb: PodDisruptionBudget): boolean {
  const spec = pdb.spec ?? {};
  return spec.maxUnavailable !== undefined || typeof spec.minAvailable === 'string';
}

/** What the controller observed for one budget. */
export interface BudgetObservation {
  /** The pods the budget selects. */
  pods: readonly Pod[];
  /** The summed scale of their distinct controllers (only read when needsControllerScale). */
  controllerScale: number;
  now: Date;
}

/**
 * The evictions the controller still counts as pending: those of pods that still exist, are
 * not being deleted, and were evicted less than the deletion timeout ago. Also returns when
 * the next of them expires (to look again then) and the pods that outlived it.
 */
export function pendingDisruptions(
  pdb: PodDisruptionBudget,
  pods: readonly Pod[],
  now: Date,
): { pending: Record<string, string>; recheckAtMs: number | undefined; overdue: Pod[] } {
  const recorded = pdb.status?.disruptedPods ?? {};
  const pending: Record<string, string> = {};
  const overdue: Pod[] = [];
  let recheckAtMs: number | undefined;
  for (const pod of pods) {
    const name = pod.metadata.name ?? '';
    const at = Object.hasOwn(recorded, name) ? recorded[name] : undefined;
    if (pod.metadata.deletionTimestamp !== undefined || at === undefined) continue;
    const expires = Date.parse(at) + DISRUPTION_DELETION_TIMEOUT_MS;
    if (!(expires > now.getTime())) {
      overdue.push(pod);
      continue;
    }
    pending[name] = at;
    recheckAtMs = Math.min(recheckAtMs ?? expires, expires);
  }
  return { pending, recheckAtMs, overdue };
}

/** Pods that count as healthy: ready, not being deleted, not just evicted. */
export function countHealthy(pods: readonly Pod[], pending: Readonly<Record<string, string>>): number {
  return pods.filter(
    (p) =>
      p.metadata.deletionTimestamp === undefined && !Object.hasOwn(pending, p.metadata.name ?? '') && podIsReady(p),
  ).length;
}

/** Sets the condition of `type`, moving its transition time only when its status changes (meta.SetStatusCondition). */
export function setCondition(conditions: readonly PolicyCondition[], next: PolicyCondition): PolicyCondition[] {
  const old = conditions.find((c) => c.type === next.type);
  const merged =
    old !== undefined && old.status === next.status ? { ...next, lastTransitionTime: old.lastTransitionTime } : next;
  return [...conditions.filter((c) => c.type !== next.type), merged];
}

/** DisruptionAllowed: True (SufficientPods) while a disruption is allowed, else False (InsufficientPods). */
export function withAllowedCondition(status: PodDisruptionBudgetStatus, now: Date): PodDisruptionBudgetStatus {
  const allowed = status.disruptionsAllowed > 0;
  const condition: PolicyCondition = {
    type: DISRUPTION_ALLOWED,
    status: allowed ? 'True' : 'False',
    reason: allowed ? 'SufficientPods' : 'InsufficientPods',
    message: '',
    lastTransitionTime: rfc3339(now),
    ...(status.observedGeneration !== undefined && { observedGeneration: status.observedGeneration }),
  };
  return { ...status, conditions: setCondition(status.conditions ?? [], condition) };
}

/** The status after a failed sync: nothing may be disrupted, and the condition says why. */
export function failSafeStatus(pdb: PodDisruptionBudget, why: string, now: Date): PodDisruptionBudgetStatus {
  const old = pdb.status;
  const condition: PolicyCondition = {
    type: DISRUPTION_ALLOWED,
    status: 'False',
    reason: 'SyncFailed',
    message: why,
    lastTransitionTime: rfc3339(now),
    ...(pdb.metadata.generation !== undefined && { observedGeneration: pdb.metadata.generation }),
  };
  return {
    currentHealthy: old?.currentHealthy ?? 0,
    desiredHealthy: old?.desiredHealthy ?? 0,
    expectedPods: old?.expectedPods ?? 0,
    disruptionsAllowed: 0,
    ...(old?.disruptedPods !== undefined && { disruptedPods: old.disruptedPods }),
    ...(pdb.metadata.generation !== undefined && { observedGeneration: pdb.metadata.generation }),
    conditions: setCondition(old?.conditions ?? [], condition),
  };
}

/**
 * The status the disruption controller writes: how many pods are expected (the pods, or the
 * owning controllers' scale for percentages and maxUnavailable), how many must stay healthy,
 * how many are, and so how many may be disrupted (none while nothing is expected).
 */
export function budgetStatus(pdb: PodDisruptionBudget, seen: BudgetObservation): PodDisruptionBudgetStatus {
  const spec = pdb.spec ?? {};
  let expectedPods = 0;
  let desiredHealthy = 0;
  if (spec.maxUnavailable !== undefined) {
    expectedPods = seen.controllerScale;
    desiredHealthy = Math.max(0, expectedPods - scaledValue(spec.maxUnavailable, expectedPods));
  } else if (typeof spec.minAvailable === 'number') {
    desiredHealthy = spec.minAvailable;
    expectedPods = seen.pods.length;
  } else if (typeof spec.minAvailable === 'string') {
    expectedPods = seen.controllerScale;
    desiredHealthy = scaledValue(spec.minAvailable, expectedPods);
  }
  const { pending } = pendingDisruptions(pdb, seen.pods, seen.now);
  const currentHealthy = countHealthy(seen.pods, pending);
  const allowed = currentHealthy - desiredHealthy;
  const status: PodDisruptionBudgetStatus = {
    ...(pdb.metadata.generation !== undefined && { observedGeneration: pdb.metadata.generation }),
    ...(Object.keys(pending).length > 0 && { disruptedPods: pending }),
    disruptionsAllowed: expectedPods <= 0 || allowed <= 0 ? 0 : allowed,
    currentHealthy,
    desiredHealthy,
    expectedPods,
    ...(pdb.status?.conditions !== undefined && { conditions: pdb.status.conditions }),
  };
  return withAllowedCondition(status, seen.now);
}

// ---- eviction ---------------------------------------------------------------------------------

function budgetRefusal(why: string): ApiError {
  return new ApiError('TooManyRequests', EVICTION_REFUSED, {
    details: { causes: [{ reason: DISRUPTION_BUDGET_CAUSE, message: why }] },
  });
}

function budgetForbidden(pdbName: string, why: string): ApiError {
  return new ApiError('Forbidden', `poddisruptionbudget.policy "${pdbName}" is forbidden: ${why}`, {
    details: { name: pdbName, group: 'policy', kind: 'poddisruptionbudget' },
  });
}

/** Pods whose eviction no budget guards: not yet running, finished, or already being deleted. */
export function evictsFreely(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return (
    phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending' || pod.metadata.deletionTimestamp !== undefined
  );
}

/**
 * The one budget that guards a pod's eviction, undefined when none does; more than one is a
 * 500, as Kubernetes answers.
 */
export function guardingBudget(pod: Pod, pdbs: readonly PodDisruptionBudget[]): PodDisruptionBudget | undefined {
  const matching = pdbs.filter((pdb) => budgetSelects(pdb, pod));
  if (matching.length > 1)
    throw internal('This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
  return matching[0];
}

/**
 * Whether an unready pod may go without spending the budget: always under AlwaysAllow, and
 * under IfHealthyBudget (the default) while the budget is met.
 */
export function unhealthyPodBypassesBudget(pod: Pod, pdb: PodDisruptionBudget): boolean {
  if (podIsReady(pod)) return false;
  if (pdb.spec?.unhealthyPodEvictionPolicy === 'AlwaysAllow') return true;
  const status = pdb.status;
  return status !== undefined && status.desiredHealthy > 0 && status.currentHealthy >= status.desiredHealthy;
}

/**
 * The budget after one more eviction of `podName`, or the refusal: 429 while the controller has
 * not seen the budget's spec or no disruption is allowed, 403 for a broken status. A dry run
 * decrements without recording the pod.
 */
export function decrementBudget(
  pdb: PodDisruptionBudget,
  eviction: { podName: string; now: Date; dryRun: boolean },
): PodDisruptionBudget {
  const name = pdb.metadata.name ?? '';
  const status = pdb.status;
  if (status === undefined || (status.observedGeneration ?? 0) < (pdb.metadata.generation ?? 0))
    throw budgetRefusal(`The disruption budget ${name} is still being processed by the server.`);
  if (status.disruptionsAllowed < 0) throw budgetForbidden(name, 'pdb disruptions allowed is negative');
  if (Object.keys(status.disruptedPods ?? {}).length > MAX_DISRUPTED_PODS)
    throw budgetForbidden(name, 'DisruptedPods map too big - too many evictions not confirmed by PDB controller');
  if (status.disruptionsAllowed === 0)
    throw budgetRefusal(
      `The disruption budget ${name} needs ${status.desiredHealthy} healthy pods and has ${status.currentHealthy} currently`,
    );
  let next: PodDisruptionBudgetStatus = { ...status, disruptionsAllowed: status.disruptionsAllowed - 1 };
  if (next.disruptionsAllowed === 0) next = withAllowedCondition(next, eviction.now);
  if (!eviction.dryRun)
    next = { ...next, disruptedPods: { ...(status.disruptedPods ?? {}), [eviction.podName]: rfc3339(eviction.now) } };
  return { ...pdb, status: next };
}
