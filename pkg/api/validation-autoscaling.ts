// HorizontalPodAutoscaler (autoscaling/v2) defaults and validation with Kubernetes' rules and
// messages: a target kind and name, 1 <= minReplicas <= maxReplicas, metrics of a known type
// with a target of a known type and a positive value, and behavior policies within Kubernetes'
// bounds (period 1..1800 s, stabilization window 0..3600 s, at least one policy).

import type { StatusCause } from '../errors/index.js';
import { isObject, type KubeObject } from './meta.js';
import { parseQuantity } from './quantity.js';

const METRIC_TYPES = ['ContainerResource', 'External', 'Object', 'Pods', 'Resource'];
const TARGET_TYPES = ['AverageValue', 'Utilization', 'Value'];
const POLICY_TYPES = ['Percent', 'Pods'];
const SELECT_POLICIES = ['Disabled', 'Max', 'Min'];
const MAX_PERIOD_SECONDS = 1800;
const MAX_STABILIZATION_SECONDS = 3600;
/** kube-controller-manager's default target when an HPA names no metric. */
export const DEFAULT_CPU_UTILIZATION = 80;

function invalid(field: string, value: unknown, why: string): StatusCause {
  return { reason: 'FieldValueInvalid', field, message: `Invalid value: ${JSON.stringify(value)}: ${why}` };
}

function required(field: string): StatusCause {
  return { reason: 'FieldValueRequired', field, message: 'Required value' };
}

function notSupported(field: string, value: unknown, supported: string[]): StatusCause {
  const list = supported.map((s) => `"${s}"`).join(', ');
  return {
    reason: 'FieldValueNotSupported',
    field,
    message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${list}`,
  };
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v);
}

/** minReplicas 1 and a CPU target of 80 % when none is named (autoscaling/v2 defaults). */
export function defaultHorizontalPodAutoscaler(obj: KubeObject): void {
  const spec = obj['spec'];
  if (!isObject(spec)) return;
  if (spec['minReplicas'] === undefined) spec['minReplicas'] = 1;
  const metrics = spec['metrics'];
  if (metrics === undefined || (Array.isArray(metrics) && metrics.length === 0))
    spec['metrics'] = [
      {
        type: 'Resource',
        resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: DEFAULT_CPU_UTILIZATION } },
      },
    ];
  const behavior = spec['behavior'];
  if (!isObject(behavior)) return;
  for (const direction of ['scaleUp', 'scaleDown']) {
    const rules = behavior[direction];
    if (isObject(rules) && rules['selectPolicy'] === undefined) rules['selectPolicy'] = 'Max';
  }
}

function targetCauses(field: string, target: unknown): StatusCause[] {
  if (!isObject(target)) return [required(field)];
  const type = target['type'];
  if (type === undefined) return [required(`${field}.type`)];
  if (typeof type !== 'string' || !TARGET_TYPES.includes(type))
    return [notSupported(`${field}.type`, type, TARGET_TYPES)];
  const out: StatusCause[] = [];
  const checkQuantity = (key: string): void => {
    const v = target[key];
    if (v === undefined) return void out.push(required(`${field}.${key}`));
    let amount = Number.NaN;
    try {
      amount = parseQuantity(v);
    } catch {
      // reported below
    }
    if (!(amount > 0)) out.push(invalid(`${field}.${key}`, v, 'must be positive'));
  };
  if (type === 'Utilization') {
    const u = target['averageUtilization'];
    if (u === undefined) out.push(required(`${field}.averageUtilization`));
    else if (!isInt(u) || u <= 0) out.push(invalid(`${field}.averageUtilization`, u, 'must be greater than 0'));
  } else if (type === 'AverageValue') checkQuantity('averageValue');
  else checkQuantity('value');
  return out;
}

function metricCauses(field: string, metric: unknown): StatusCause[] {
  if (!isObject(metric)) return [invalid(field, metric, 'must be an object')];
  const type = metric['type'];
  if (typeof type !== 'string' || !METRIC_TYPES.includes(type))
    return [notSupported(`${field}.type`, type, METRIC_TYPES)];
  if (type !== 'Resource' && type !== 'ContainerResource') return [];
  const key = type === 'Resource' ? 'resource' : 'containerResource';
  const source = metric[key];
  if (!isObject(source)) return [required(`${field}.${key}`)];
  const out: StatusCause[] = [];
  if (typeof source['name'] !== 'string' || source['name'] === '') out.push(required(`${field}.${key}.name`));
  if (type === 'ContainerResource' && (typeof source['container'] !== 'string' || source['container'] === ''))
    out.push(required(`${field}.${key}.container`));
  const target = source['target'];
  if (isObject(target) && target['type'] === 'Value')
    out.push(notSupported(`${field}.${key}.target.type`, 'Value', ['Utilization', 'AverageValue']));
  else out.push(...targetCauses(`${field}.${key}.target`, target));
  return out;
}

function rulesCauses(field: string, rules: unknown): StatusCause[] {
  if (rules === undefined) return [];
  if (!isObject(rules)) return [invalid(field, rules, 'must be an object')];
  const out: StatusCause[] = [];
  const window = rules['stabilizationWindowSeconds'];
  if (window !== undefined) {
    if (!isInt(window) || window < 0)
      out.push(invalid(`${field}.stabilizationWindowSeconds`, window, 'must be greater than or equal to zero'));
    else if (window > MAX_STABILIZATION_SECONDS)
      out.push(
        invalid(
          `${field}.stabilizationWindowSeconds`,
          window,
          `must be less than or equal to ${MAX_STABILIZATION_SECONDS}`,
        ),
      );
  }
  const select = rules['selectPolicy'];
  if (select !== undefined && (typeof select !== 'string' || !SELECT_POLICIES.includes(select)))
    out.push(notSupported(`${field}.selectPolicy`, select, SELECT_POLICIES));
  const policies = rules['policies'];
  if (policies === undefined) return out;
  if (!Array.isArray(policies) || policies.length === 0) {
    out.push({ ...required(`${field}.policies`), message: 'Required value: must specify at least one Policy' });
    return out;
  }
  policies.forEach((p: unknown, i) => {
    const at = `${field}.policies[${i}]`;
    if (!isObject(p)) return void out.push(invalid(at, p, 'must be an object'));
    if (typeof p['type'] !== 'string' || !POLICY_TYPES.includes(p['type']))
      out.push(notSupported(`${at}.type`, p['type'], POLICY_TYPES));
    const value = p['value'];
    if (!isInt(value) || value <= 0) out.push(invalid(`${at}.value`, value, 'must be greater than zero'));
    const period = p['periodSeconds'];
    if (!isInt(period) || period <= 0) out.push(invalid(`${at}.periodSeconds`, period, 'must be greater than zero'));
    else if (period > MAX_PERIOD_SECONDS)
      out.push(invalid(`${at}.periodSeconds`, period, `must be less than or equal to ${MAX_PERIOD_SECONDS}`));
  });
  return out;
}

export function horizontalPodAutoscalerCauses(obj: KubeObject): StatusCause[] {
  const spec = obj['spec'];
  if (!isObject(spec)) return [required('spec')];
  const out: StatusCause[] = [];
  const ref = spec['scaleTargetRef'];
  if (!isObject(ref)) out.push(required('spec.scaleTargetRef'));
  else {
    if (typeof ref['kind'] !== 'string' || ref['kind'] === '') out.push(required('spec.scaleTargetRef.kind'));
    if (typeof ref['name'] !== 'string' || ref['name'] === '') out.push(required('spec.scaleTargetRef.name'));
  }
  const min = spec['minReplicas'];
  const max = spec['maxReplicas'];
  if (min !== undefined && (!isInt(min) || min < 1))
    out.push(invalid('spec.minReplicas', min, 'must be greater than or equal to 1'));
  if (!isInt(max) || max < 1) out.push(invalid('spec.maxReplicas', max, 'must be greater than 0'));
  else if (isInt(min) && max < min)
    out.push(invalid('spec.maxReplicas', max, 'must be greater than or equal to `minReplicas`'));
  const metrics = spec['metrics'];
  if (metrics !== undefined) {
    if (!Array.isArray(metrics)) out.push(invalid('spec.metrics', metrics, 'must be a list'));
    else metrics.forEach((m: unknown, i) => out.push(...metricCauses(`spec.metrics[${i}]`, m)));
  }
  const behavior = spec['behavior'];
  if (behavior !== undefined) {
    if (!isObject(behavior)) out.push(invalid('spec.behavior', behavior, 'must be an object'));
    else {
      out.push(...rulesCauses('spec.behavior.scaleUp', behavior['scaleUp']));
      out.push(...rulesCauses('spec.behavior.scaleDown', behavior['scaleDown']));
    }
  }
  return out;
}
