// The replica count one resource metric asks for, as Kubernetes' replica calculator computes it
// (pkg/controller/podautoscaler/replica_calculator.go): pods being deleted or failed are ignored;
// pending pods, and for CPU pods not ready yet while they start, count as unready; pods without
// a metric are missing. The ratio of usage to target (with a 10 % tolerance) scales the pods that
// reported; when some did not, the answer is checked again assuming the least favourable usage
// for them (100 % of request when scaling down, 0 when scaling up), and a change of direction
// means no change. Pure: the caller gathers pods, requests and metrics.

/** What the calculator needs to know of one pod. */
export interface PodInfo {
  name: string;
  phase: string;
  deleting: boolean;
  /** Ready condition True. */
  ready: boolean;
  /** When its containers started (status.startTime), ms. */
  startTimeMs: number | undefined;
  /** When the Ready condition last changed, ms. */
  readyTransitionMs: number | undefined;
  /** The sum of its containers' requests of the resource (millicores or bytes); undefined if a container has none. */
  request: number | undefined;
  /** The name of a container without a request, for the error. */
  containerWithoutRequest?: string;
}

export interface Sample {
  /** Usage in millicores or bytes. */
  value: number;
  timestampMs: number;
  windowMs: number;
}

export interface CalculationInput {
  currentReplicas: number;
  pods: PodInfo[];
  metrics: ReadonlyMap<string, Sample>;
  resource: string;
  /** Utilization in percent of request, or an average value per pod (millicores or bytes). */
  target: { utilization: number } | { averageValue: number };
  nowMs: number;
  tolerance?: number;
}

export interface Calculation {
  replicas: number;
  /** Percent of request (Utilization targets). */
  utilization?: number;
  /** The average usage per pod (millicores or bytes). */
  averageValue: number;
}

export const DEFAULT_TOLERANCE = 0.1;
/** kube-controller-manager's --horizontal-pod-autoscaler-cpu-initialization-period. */
export const CPU_INITIALIZATION_PERIOD_MS = 5 * 60_000;
/** --horizontal-pod-autoscaler-initial-readiness-delay. */
export const INITIAL_READINESS_DELAY_MS = 30_000;

export class CalculationError extends Error {
  override readonly name = 'CalculationError';
}

/** Whether a pod counts as unready for a resource metric (CPU: only while starting up). */
function unready(pod: PodInfo, input: CalculationInput, sample: Sample): boolean {
  if (input.resource !== 'cpu') return false;
  const start = pod.startTimeMs;
  if (start === undefined) return true;
  if (start + CPU_INITIALIZATION_PERIOD_MS > input.nowMs) {
    // Still initializing: unready, or its sample was taken before it became ready.
    return !pod.ready || sample.timestampMs < (pod.readyTransitionMs ?? 0) + sample.windowMs;
  }
  // Past initialization: unready only if it never became ready since its start.
  return !pod.ready && (pod.readyTransitionMs ?? 0) < start + INITIAL_READINESS_DELAY_MS;
}

interface Groups {
  ready: Map<string, number>;
  unready: string[];
  missing: string[];
}

function groupPods(input: CalculationInput): Groups {
  const groups: Groups = { ready: new Map(), unready: [], missing: [] };
  for (const pod of input.pods) {
    if (pod.deleting || pod.phase === 'Failed' || pod.phase === 'Succeeded') continue;
    if (pod.phase === 'Pending') {
      groups.unready.push(pod.name);
      continue;
    }
    const sample = input.metrics.get(pod.name);
    if (sample === undefined) groups.missing.push(pod.name);
    else if (unready(pod, input, sample)) groups.unready.push(pod.name);
    else groups.ready.set(pod.name, sample.value);
  }
  return groups;
}

/** Usage over target: utilization of requests, or average value. */
function usageRatio(
  usage: ReadonlyMap<string, number>,
  requests: ReadonlyMap<string, number>,
  target: CalculationInput['target'],
): { ratio: number; utilization?: number; averageValue: number } {
  let total = 0;
  for (const v of usage.values()) total += v;
  const averageValue = usage.size === 0 ? 0 : total / usage.size;
  if ('averageValue' in target) return { ratio: averageValue / target.averageValue, averageValue };
  let used = 0;
  let requested = 0;
  for (const [name, v] of usage) {
    const request = requests.get(name);
    if (request === undefined) continue;
    used += v;
    requested += request;
  }
  if (requested === 0) throw new CalculationError('no metrics returned matched known pods');
  const utilization = Math.trunc((used * 100) / requested);
  return { ratio: utilization / target.utilization, utilization, averageValue };
}

/** The replica count this metric asks for; throws a CalculationError when it cannot say. */
export function replicasFor(input: CalculationInput): Calculation {
  const tolerance = input.tolerance ?? DEFAULT_TOLERANCE;
  if (input.pods.length === 0)
    throw new CalculationError('no pods returned by selector while calculating replica count');
  const requests = new Map<string, number>();
  if ('utilization' in input.target) {
    for (const pod of input.pods) {
      if (pod.request === undefined)
        throw new CalculationError(
          `missing request for ${input.resource} in container ${pod.containerWithoutRequest ?? ''} of Pod ${pod.name}`,
        );
      requests.set(pod.name, pod.request);
    }
  }
  const { ready, unready: unreadyPods, missing } = groupPods(input);
  if (ready.size === 0) throw new CalculationError('did not receive metrics for targeted pods (pods might be unready)');
  const first = usageRatio(ready, requests, input.target);
  const scaleUpWithUnready = unreadyPods.length > 0 && first.ratio > 1;
  if (!scaleUpWithUnready && missing.length === 0) {
    if (Math.abs(1 - first.ratio) <= tolerance) return { ...first, replicas: input.currentReplicas };
    return { ...first, replicas: Math.ceil(first.ratio * ready.size) };
  }
  // Assume the least favourable usage for the pods that did not report.
  const assumed = new Map(ready);
  for (const name of missing) {
    const fallback = first.ratio < 1 ? ('utilization' in input.target ? (requests.get(name) ?? 0) : 0) : 0;
    assumed.set(name, first.ratio < 1 && 'averageValue' in input.target ? input.target.averageValue : fallback);
  }
  if (scaleUpWithUnready) for (const name of unreadyPods) assumed.set(name, 0);
  const second = usageRatio(assumed, requests, input.target);
  const flipped = (first.ratio < 1 && second.ratio > 1) || (first.ratio > 1 && second.ratio < 1);
  if (Math.abs(1 - second.ratio) <= tolerance || flipped) return { ...first, replicas: input.currentReplicas };
  const replicas = Math.ceil(second.ratio * assumed.size);
  const reversed =
    (second.ratio < 1 && replicas > input.currentReplicas) || (second.ratio > 1 && replicas < input.currentReplicas);
  return { ...first, replicas: reversed ? input.currentReplicas : replicas };
}
