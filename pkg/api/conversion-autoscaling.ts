// HorizontalPodAutoscaler autoscaling/v1 ↔ autoscaling/v2, as Kubernetes converts them: v2 is
// stored; v1 has only the CPU utilization target, so what it cannot hold (other metrics,
// behavior, conditions, current metrics) rides in the annotations Kubernetes uses for it
// (autoscaling.alpha.kubernetes.io/*) and comes back from them on the way in.

import { deepCopy, isObject, type KubeObject } from './meta.js';

const ANNOTATION = {
  metrics: 'autoscaling.alpha.kubernetes.io/metrics',
  behavior: 'autoscaling.alpha.kubernetes.io/behavior',
  conditions: 'autoscaling.alpha.kubernetes.io/conditions',
  currentMetrics: 'autoscaling.alpha.kubernetes.io/current-metrics',
} as const;

export const HPA_V1 = 'autoscaling/v1';
export const HPA_V2 = 'autoscaling/v2';

function isCpuUtilization(metric: unknown): boolean {
  if (!isObject(metric) || metric['type'] !== 'Resource' || !isObject(metric['resource'])) return false;
  const resource = metric['resource'];
  return resource['name'] === 'cpu' && isObject(resource['target']) && resource['target']['type'] === 'Utilization';
}

/** A JSON annotation's value, or undefined when it is absent or not JSON (a hostile one changes nothing). */
function parsedAnnotation(annotations: Record<string, string>, key: string): unknown {
  const text = annotations[key];
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The stored (v2) object as autoscaling/v1 serves it. */
export function hpaToV1(obj: KubeObject): KubeObject {
  const out = deepCopy(obj);
  out.apiVersion = HPA_V1;
  const annotations: Record<string, string> = { ...(obj.metadata.annotations ?? {}) };
  const spec = isObject(obj['spec']) ? obj['spec'] : {};
  const metrics = Array.isArray(spec['metrics']) ? spec['metrics'] : [];
  const cpu = metrics.find(isCpuUtilization);
  const others = metrics.filter((m) => !isCpuUtilization(m));
  const v1Spec: Record<string, unknown> = {
    scaleTargetRef: spec['scaleTargetRef'],
    ...(spec['minReplicas'] !== undefined && { minReplicas: spec['minReplicas'] }),
    maxReplicas: spec['maxReplicas'],
  };
  if (isObject(cpu) && isObject(cpu['resource']) && isObject(cpu['resource']['target']))
    v1Spec['targetCPUUtilizationPercentage'] = cpu['resource']['target']['averageUtilization'];
  if (others.length > 0) annotations[ANNOTATION.metrics] = JSON.stringify(others);
  if (spec['behavior'] !== undefined) annotations[ANNOTATION.behavior] = JSON.stringify(spec['behavior']);
  out['spec'] = v1Spec;
  const status = isObject(obj['status']) ? obj['status'] : undefined;
  if (status !== undefined) {
    const current = Array.isArray(status['currentMetrics']) ? status['currentMetrics'] : [];
    const cpuNow = current.find(
      (m: unknown) =>
        isObject(m) && m['type'] === 'Resource' && isObject(m['resource']) && m['resource']['name'] === 'cpu',
    );
    const v1Status: Record<string, unknown> = {};
    for (const key of ['observedGeneration', 'lastScaleTime', 'currentReplicas', 'desiredReplicas'])
      if (status[key] !== undefined) v1Status[key] = status[key];
    v1Status['currentReplicas'] ??= 0;
    v1Status['desiredReplicas'] ??= 0;
    if (isObject(cpuNow) && isObject(cpuNow['resource']) && isObject(cpuNow['resource']['current'])) {
      const u = cpuNow['resource']['current']['averageUtilization'];
      if (typeof u === 'number') v1Status['currentCPUUtilizationPercentage'] = u;
    }
    if (Array.isArray(status['conditions'])) annotations[ANNOTATION.conditions] = JSON.stringify(status['conditions']);
    if (current.length > 0) annotations[ANNOTATION.currentMetrics] = JSON.stringify(current);
    out['status'] = v1Status;
  }
  if (Object.keys(annotations).length > 0) out.metadata.annotations = annotations;
  return out;
}

/** An autoscaling/v1 body as the stored (v2) object; the carrier annotations are consumed. */
export function hpaFromV1(obj: KubeObject): KubeObject {
  const out = deepCopy(obj);
  out.apiVersion = HPA_V2;
  const given: Record<string, string> = obj.metadata.annotations ?? {};
  const carriers: readonly string[] = Object.values(ANNOTATION);
  const annotations = Object.fromEntries(Object.entries(given).filter(([k]) => !carriers.includes(k)));
  const spec = isObject(obj['spec']) ? obj['spec'] : {};
  const metrics: unknown[] = [];
  const cpu = spec['targetCPUUtilizationPercentage'];
  if (cpu !== undefined)
    metrics.push({
      type: 'Resource',
      resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: cpu } },
    });
  const extra = parsedAnnotation(given, ANNOTATION.metrics);
  if (Array.isArray(extra)) metrics.push(...extra);
  const behavior = parsedAnnotation(given, ANNOTATION.behavior);
  out['spec'] = {
    scaleTargetRef: spec['scaleTargetRef'],
    ...(spec['minReplicas'] !== undefined && { minReplicas: spec['minReplicas'] }),
    maxReplicas: spec['maxReplicas'],
    ...(metrics.length > 0 && { metrics }),
    ...(isObject(behavior) && { behavior }),
  };
  const status = isObject(obj['status']) ? obj['status'] : undefined;
  if (status !== undefined) {
    const v2Status: Record<string, unknown> = {};
    for (const key of ['observedGeneration', 'lastScaleTime', 'currentReplicas', 'desiredReplicas'])
      if (status[key] !== undefined) v2Status[key] = status[key];
    out['status'] = v2Status;
  }
  if (Object.keys(annotations).length > 0) out.metadata.annotations = annotations;
  else delete out.metadata.annotations;
  return out;
}

/** Converts an object of another served version into `apiVersion` when a conversion exists. */
export function convertVersion(obj: KubeObject, apiVersion: string): KubeObject | undefined {
  if (obj.kind !== 'HorizontalPodAutoscaler' || obj.apiVersion === apiVersion) return undefined;
  if (apiVersion === HPA_V1 && obj.apiVersion === HPA_V2) return hpaToV1(obj);
  if (apiVersion === HPA_V2 && obj.apiVersion === HPA_V1) return hpaFromV1(obj);
  return undefined;
}
