// policy/v1: Eviction (the body of `pods/eviction`) and PodDisruptionBudget.

import type { DeleteOptions, KubeObject } from '../meta.js';
import type { ConditionStatus, IntOrString, LabelSelector, Time } from './core.js';

export interface Eviction extends KubeObject {
  deleteOptions?: DeleteOptions;
}

/** Whether running-but-not-ready pods may be evicted while the budget is not met. */
export type UnhealthyPodEvictionPolicy = 'IfHealthyBudget' | 'AlwaysAllow';

export interface PodDisruptionBudgetSpec {
  /** One of minAvailable and maxUnavailable: a count or a percentage of the expected pods. */
  minAvailable?: IntOrString;
  maxUnavailable?: IntOrString;
  selector?: LabelSelector;
  unhealthyPodEvictionPolicy?: UnhealthyPodEvictionPolicy;
}

/** metav1.Condition, as PodDisruptionBudgets carry it. */
export interface PolicyCondition {
  type: string;
  status: ConditionStatus;
  observedGeneration?: number;
  lastTransitionTime: Time;
  reason: string;
  message: string;
}

export interface PodDisruptionBudgetStatus {
  observedGeneration?: number;
  /** Pods evicted (by name) and when; the controller forgets them once they are gone or stale. */
  disruptedPods?: Record<string, Time>;
  disruptionsAllowed: number;
  currentHealthy: number;
  desiredHealthy: number;
  expectedPods: number;
  conditions?: PolicyCondition[];
}

export interface PodDisruptionBudget extends KubeObject {
  spec?: PodDisruptionBudgetSpec;
  status?: PodDisruptionBudgetStatus;
}
