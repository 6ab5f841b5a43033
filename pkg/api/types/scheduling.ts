// scheduling.k8s.io/v1 PriorityClass: a named priority pods refer to by priorityClassName.

import type { KubeObject } from '../meta.js';

export interface PriorityClass extends KubeObject {
  value: number;
  globalDefault?: boolean;
  description?: string;
  preemptionPolicy?: 'PreemptLowerPriority' | 'Never';
}
