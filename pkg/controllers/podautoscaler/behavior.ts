// What becomes of a metric's recommendation before it is applied, as Kubernetes' HPA controller
// decides it (horizontal.go): stabilization (the highest recommendation of the scale-down window,
// the lowest of the scale-up window, so a brief dip or spike does not flap the target) and the
// rate limits of the behavior's policies over the scale events of each policy's period, then
// the min/max bounds. The reason and message become the ScalingLimited condition. Pure: the
// controller keeps one History per HPA.

import type { HorizontalPodAutoscalerBehavior, HPAScalingPolicy, HPAScalingRules } from '../../api/types/index.js';

/** kube-controller-manager's --horizontal-pod-autoscaler-downscale-stabilization default. */
export const DEFAULT_DOWNSCALE_STABILIZATION_SECONDS = 300;

export function defaultScaleUp(): Required<HPAScalingRules> {
  return {
    stabilizationWindowSeconds: 0,
    selectPolicy: 'Max',
    policies: [
      { type: 'Percent', value: 100, periodSeconds: 15 },
      { type: 'Pods', value: 4, periodSeconds: 15 },
    ],
  };
}

export function defaultScaleDown(stabilizationWindowSeconds: number): Required<HPAScalingRules> {
  return {
    stabilizationWindowSeconds,
    selectPolicy: 'Max',
    policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
  };
}

/** The behavior with Kubernetes' defaults filled in where a field is left out. */
export function withDefaults(
  behavior: HorizontalPodAutoscalerBehavior | undefined,
  downscaleStabilizationSeconds: number,
): { scaleUp: Required<HPAScalingRules>; scaleDown: Required<HPAScalingRules> } {
  const up = defaultScaleUp();
  const down = defaultScaleDown(downscaleStabilizationSeconds);
  const fill = (given: HPAScalingRules | undefined, d: Required<HPAScalingRules>): Required<HPAScalingRules> => ({
    stabilizationWindowSeconds: given?.stabilizationWindowSeconds ?? d.stabilizationWindowSeconds,
    selectPolicy: given?.selectPolicy ?? d.selectPolicy,
    policies: given?.policies ?? d.policies,
  });
  return { scaleUp: fill(behavior?.scaleUp, up), scaleDown: fill(behavior?.scaleDown, down) };
}

interface Recommendation {
  atMs: number;
  replicas: number;
}

interface ScaleEvent {
  atMs: number;
  change: number;
}

/** One HPA's past recommendations and scale events, kept only as long as a window or period needs them. */
export class History {
  recommendations: Recommendation[] = [];
  scaleUps: ScaleEvent[] = [];
  scaleDowns: ScaleEvent[] = [];

  /** Records a rescale from one size to another (the rate limits count these). */
  recordScale(from: number, to: number, atMs: number): void {
    if (to > from) this.scaleUps.push({ atMs, change: to - from });
    else if (to < from) this.scaleDowns.push({ atMs, change: from - to });
  }

  /** Forgets what is older than the longest window or period in use. */
  trim(keepMs: number, nowMs: number): void {
    const recent = <T extends { atMs: number }>(list: T[]): T[] => list.filter((e) => e.atMs > nowMs - keepMs);
    this.recommendations = recent(this.recommendations);
    this.scaleUps = recent(this.scaleUps);
    this.scaleDowns = recent(this.scaleDowns);
  }
}

export interface Limited {
  replicas: number;
  /** The ScalingLimited reason: DesiredWithinRange, TooManyReplicas, TooFewReplicas, ScaleUpLimit, ScaleDownLimit. */
  reason: string;
  message: string;
}

export interface NormalizeInput {
  currentReplicas: number;
  desiredReplicas: number;
  minReplicas: number;
  maxReplicas: number;
  behavior: ReturnType<typeof withDefaults>;
  nowMs: number;
}

/** The replicas changed within a policy's period (scale ups or downs). */
function changedWithin(periodSeconds: number, events: readonly ScaleEvent[], nowMs: number): number {
  const cutoff = nowMs - periodSeconds * 1000;
  return events.filter((e) => e.atMs > cutoff).reduce((sum, e) => sum + e.change, 0);
}

/** The scale events so far and the time now, against which the policies' periods count. */
export interface RateContext {
  history: History;
  nowMs: number;
}

function periodStart(policy: HPAScalingPolicy, current: number, { history, nowMs }: RateContext): number {
  return (
    current -
    changedWithin(policy.periodSeconds, history.scaleUps, nowMs) +
    changedWithin(policy.periodSeconds, history.scaleDowns, nowMs)
  );
}

/** The most replicas the scale-up policies allow now. */
export function scaleUpLimit(current: number, rules: Required<HPAScalingRules>, at: RateContext): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const proposals = rules.policies.map((p) => {
    const start = periodStart(p, current, at);
    return p.type === 'Pods' ? start + p.value : Math.ceil(start * (1 + p.value / 100));
  });
  if (proposals.length === 0) return current;
  return rules.selectPolicy === 'Min' ? Math.min(...proposals) : Math.max(...proposals);
}

/** The fewest replicas the scale-down policies allow now. */
export function scaleDownLimit(current: number, rules: Required<HPAScalingRules>, at: RateContext): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const proposals = rules.policies.map((p) => {
    const start = periodStart(p, current, at);
    return p.type === 'Pods' ? start - p.value : Math.trunc(start * (1 - p.value / 100));
  });
  if (proposals.length === 0) return current;
  return rules.selectPolicy === 'Min' ? Math.max(...proposals) : Math.min(...proposals);
}

/** Stabilizes the recommendation over both windows and records it. */
export function stabilize(input: NormalizeInput, history: History): number {
  const { scaleUp, scaleDown } = input.behavior;
  const upCutoff = input.nowMs - scaleUp.stabilizationWindowSeconds * 1000;
  const downCutoff = input.nowMs - scaleDown.stabilizationWindowSeconds * 1000;
  let up = input.desiredReplicas;
  let down = input.desiredReplicas;
  for (const r of history.recommendations) {
    if (r.atMs > upCutoff) up = Math.min(up, r.replicas);
    if (r.atMs > downCutoff) down = Math.max(down, r.replicas);
  }
  let recommendation = input.currentReplicas;
  if (recommendation < up) recommendation = up;
  if (recommendation > down) recommendation = down;
  history.recommendations.push({ atMs: input.nowMs, replicas: input.desiredReplicas });
  return recommendation;
}

/** Applies the rate limits and the min/max bounds to a stabilized recommendation. */
export function limitRate(input: NormalizeInput, desired: number, history: History): Limited {
  const { currentReplicas: current, minReplicas, maxReplicas, nowMs } = input;
  if (desired > current) {
    const limit = Math.max(current, scaleUpLimit(current, input.behavior.scaleUp, { history, nowMs }));
    const byRate = limit < maxReplicas;
    const allowed = byRate ? limit : maxReplicas;
    if (desired > allowed)
      return byRate
        ? {
            replicas: allowed,
            reason: 'ScaleUpLimit',
            message: 'the desired replica count is increasing faster than the maximum scale rate',
          }
        : {
            replicas: allowed,
            reason: 'TooManyReplicas',
            message: 'the desired replica count is more than the maximum replica count',
          };
  } else if (desired < current) {
    const limit = Math.min(current, scaleDownLimit(current, input.behavior.scaleDown, { history, nowMs }));
    const byRate = limit > minReplicas;
    const allowed = byRate ? limit : minReplicas;
    if (desired < allowed)
      return byRate
        ? {
            replicas: allowed,
            reason: 'ScaleDownLimit',
            message: 'the desired replica count is decreasing faster than the maximum scale rate',
          }
        : {
            replicas: allowed,
            reason: 'TooFewReplicas',
            message: 'the desired replica count is less than the minimum replica count',
          };
  }
  return {
    replicas: desired,
    reason: 'DesiredWithinRange',
    message: 'the desired count is within the acceptable range',
  };
}

/** Stabilization, then rate limits and bounds; trims the history to what the next call needs. */
export function normalize(input: NormalizeInput, history: History): Limited {
  const stabilized = stabilize(input, history);
  const limited = limitRate(input, stabilized, history);
  const { scaleUp, scaleDown } = input.behavior;
  const longest = Math.max(
    scaleUp.stabilizationWindowSeconds,
    scaleDown.stabilizationWindowSeconds,
    ...scaleUp.policies.map((p) => p.periodSeconds),
    ...scaleDown.policies.map((p) => p.periodSeconds),
  );
  history.trim(longest * 1000 + 1, input.nowMs);
  return limited;
}
