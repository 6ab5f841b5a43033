// Small readers of typed pods for tests: a container's status, readiness, phase.

import type { KubeObject } from '../../pkg/api/meta.js';
import type { ContainerStatus, Pod } from '../../pkg/api/index.js';

/** The status of the pod's container `name`, if the agent has reported one. */
export function containerStatus(pod: Pod, name: string): ContainerStatus | undefined {
  return pod.status?.containerStatuses?.find((c) => c.name === name);
}

/** The pod's Ready condition is True. */
export function hasReadyCondition(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

export function isRunning(pod: Pod): boolean {
  return pod.status?.phase === 'Running';
}

/** Not being deleted (no deletionTimestamp yet). */
export function isLive(obj: KubeObject): boolean {
  return obj.metadata.deletionTimestamp === undefined;
}
