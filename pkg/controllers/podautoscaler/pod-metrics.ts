// What the HPA controller reads of pods and PodMetrics for one resource metric: each pod's
// requests and readiness, each pod's usage (summed over its containers, or of one container),
// in the calculator's units (millicores for CPU, bytes otherwise).

import { parseDurationSeconds } from '../../api/duration.js';
import { parseQuantity } from '../../api/quantity.js';
import type { MetricSpec, Pod, PodMetrics } from '../../api/types/index.js';
import type { PodInfo, Sample } from './replicas.js';

/** A metric's name as Kubernetes writes it in reasons and conditions. */
export function metricName(spec: MetricSpec): string {
  const source = spec.type === 'ContainerResource' ? spec.containerResource : spec.resource;
  const name = source?.name ?? '';
  const kind = spec.type === 'ContainerResource' ? 'container resource' : 'resource';
  return source?.target.type === 'Utilization'
    ? `${name} ${kind} utilization (percentage of request)`
    : `${name} ${kind}`;
}

/** A resource amount in the calculator's units: millicores for CPU, bytes otherwise. */
export function amount(resource: string, quantity: unknown): number {
  const v = parseQuantity(quantity);
  return resource === 'cpu' ? v * 1000 : v;
}

export function formatAmount(resource: string, value: number): string {
  return resource === 'cpu' ? `${Math.round(value)}m` : `${Math.round(value)}`;
}

/** What the calculator needs of a pod for one resource, optionally one container of it. */
export function podInfo(pod: Readonly<Pod>, resource: string, container?: string): PodInfo {
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
  let request: number | undefined = 0;
  let without: string | undefined;
  for (const c of pod.spec?.containers ?? []) {
    if (container !== undefined && c.name !== container) continue;
    const r = c.resources?.requests?.[resource];
    if (r === undefined) {
      request = undefined;
      without ??= c.name;
    } else if (request !== undefined) request += amount(resource, r);
  }
  const start = pod.status?.startTime;
  return {
    name: pod.metadata.name ?? '',
    phase: pod.status?.phase ?? 'Pending',
    deleting: pod.metadata.deletionTimestamp !== undefined,
    ready: ready?.status === 'True',
    startTimeMs: start === undefined ? undefined : Date.parse(start),
    readyTransitionMs: ready?.lastTransitionTime === undefined ? undefined : Date.parse(ready.lastTransitionTime),
    request,
    ...(without !== undefined && { containerWithoutRequest: without }),
  };
}

/** Per pod, the usage of a resource (summed over containers, or of one container). */
export function samplesOf(list: readonly PodMetrics[], resource: string, container?: string): Map<string, Sample> {
  const out = new Map<string, Sample>();
  for (const m of list) {
    let value = 0;
    let found = false;
    for (const c of m.containers) {
      if (container !== undefined && c.name !== container) continue;
      const q = c.usage[resource];
      if (q === undefined) continue;
      try {
        value += amount(resource, q);
        found = true;
      } catch {
        found = false;
        break;
      }
    }
    if (!found) continue;
    const windowMs = (parseDurationSeconds(m.window) ?? 0) * 1000;
    out.set(m.metadata.name ?? '', { value, timestampMs: Date.parse(m.timestamp) || 0, windowMs });
  }
  return out;
}
