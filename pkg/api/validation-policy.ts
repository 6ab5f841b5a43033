// Validation of PodDisruptionBudgets (policy/v1) and PriorityClasses (scheduling.k8s.io/v1)
// with Kubernetes' field paths and messages (pkg/apis/policy/validation and
// pkg/apis/scheduling/validation).

import { isDeepStrictEqual } from 'node:util';
import type { StatusCause } from '../errors/index.js';
import { isObject, type KubeObject } from './meta.js';

const PERCENT = /^[0-9]+%$/;
const PERCENT_MSG =
  "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')";
const EVICTION_POLICIES = ['AlwaysAllow', 'IfHealthyBudget'];
const PREEMPTION_POLICIES = ['Never', 'PreemptLowerPriority'];
const SELECTOR_OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

/** The highest value a user's PriorityClass may have; the system classes sit above it. */
export const HIGHEST_USER_PRIORITY = 1_000_000_000;
/** The system classes every cluster has, with their fixed values (Kubernetes' SystemPriorityClasses). */
export const SYSTEM_PRIORITY_CLASSES: ReadonlyMap<string, number> = new Map([
  ['system-node-critical', 2_000_001_000],
  ['system-cluster-critical', 2_000_000_000],
]);

function invalid(field: string, value: unknown, why: string): StatusCause {
  return { reason: 'FieldValueInvalid', field, message: `Invalid value: ${JSON.stringify(value)}: ${why}` };
}

function forbidden(field: string, why: string): StatusCause {
  return { reason: 'FieldValueForbidden', field, message: `Forbidden: ${why}` };
}

function notSupported(field: string, value: unknown, supported: string[]): StatusCause {
  const list = supported.map((s) => `"${s}"`).join(', ');
  return {
    reason: 'FieldValueNotSupported',
    field,
    message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${list}`,
  };
}

/** A non-negative integer or a percentage of at most 100 (apps' ValidatePositiveIntOrPercent). */
function intOrPercentCauses(field: string, value: unknown): StatusCause[] {
  if (typeof value === 'number') return value < 0 ? [invalid(field, value, 'must be greater than or equal to 0')] : [];
  if (typeof value !== 'string') return [invalid(field, value, "must be an integer or percentage (e.g '5%')")];
  if (!PERCENT.test(value)) return [invalid(field, value, PERCENT_MSG)];
  return Number.parseInt(value, 10) > 100 ? [invalid(field, value, 'must not be greater than 100%')] : [];
}

/** A label selector's expressions: known operators, values exactly when the operator needs them. */
export function labelSelectorCauses(field: string, selector: unknown): StatusCause[] {
  if (!isObject(selector)) return [];
  const causes: StatusCause[] = [];
  const expressions = selector['matchExpressions'];
  (Array.isArray(expressions) ? expressions : []).forEach((e: unknown, i) => {
    const at = `${field}.matchExpressions[${i}]`;
    if (!isObject(e)) return;
    const op = e['operator'];
    const values = Array.isArray(e['values']) ? e['values'] : [];
    if (typeof op !== 'string' || !SELECTOR_OPERATORS.includes(op))
      causes.push(invalid(`${at}.operator`, op, 'not a valid selector operator'));
    else if ((op === 'In' || op === 'NotIn') && values.length === 0)
      causes.push({
        reason: 'FieldValueRequired',
        field: `${at}.values`,
        message: "Required value: must be specified when `operator` is 'In' or 'NotIn'",
      });
    else if ((op === 'Exists' || op === 'DoesNotExist') && values.length > 0)
      causes.push(forbidden(`${at}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
  });
  return causes;
}

export function podDisruptionBudgetCauses(obj: KubeObject): StatusCause[] {
  const spec = isObject(obj['spec']) ? obj['spec'] : {};
  const causes: StatusCause[] = [];
  const min = spec['minAvailable'];
  const max = spec['maxUnavailable'];
  if (min !== undefined && max !== undefined)
    causes.push(invalid('spec', spec, 'minAvailable and maxUnavailable cannot be both set'));
  if (min !== undefined) causes.push(...intOrPercentCauses('spec.minAvailable', min));
  if (max !== undefined) causes.push(...intOrPercentCauses('spec.maxUnavailable', max));
  causes.push(...labelSelectorCauses('spec.selector', spec['selector']));
  const policy = spec['unhealthyPodEvictionPolicy'];
  if (policy !== undefined && (typeof policy !== 'string' || !EVICTION_POLICIES.includes(policy)))
    causes.push(notSupported('spec.unhealthyPodEvictionPolicy', policy, EVICTION_POLICIES));
  return causes;
}

/** Why a system-prefixed class is not one of the known system classes, if it is not. */
function systemClassProblem(name: string, value: unknown, globalDefault: unknown): string | undefined {
  const known = SYSTEM_PRIORITY_CLASSES.get(name);
  if (known === undefined) return `${name} is not a known system priority class`;
  if (value !== known) return `value of ${name} PriorityClass must be ${known}`;
  if (globalDefault === true) return `globalDefault of ${name} PriorityClass must be false`;
  return undefined;
}

export function priorityClassCauses(obj: KubeObject): StatusCause[] {
  const causes: StatusCause[] = [];
  const name = obj.metadata.name ?? '';
  const value = obj['value'];
  if (typeof value !== 'number')
    causes.push({ reason: 'FieldValueRequired', field: 'value', message: 'Required value' });
  if (name.startsWith('system-')) {
    const problem = systemClassProblem(name, value, obj['globalDefault']);
    if (problem !== undefined)
      causes.push(
        forbidden(
          'metadata.name',
          `priority class names with 'system-' prefix are reserved for system use only. error: ${problem}`,
        ),
      );
  } else if (typeof value === 'number' && value > HIGHEST_USER_PRIORITY) {
    causes.push(forbidden('value', `maximum allowed value of a user defined priority is ${HIGHEST_USER_PRIORITY}`));
  }
  const policy = obj['preemptionPolicy'];
  if (policy !== undefined && (typeof policy !== 'string' || !PREEMPTION_POLICIES.includes(policy)))
    causes.push(notSupported('preemptionPolicy', policy, PREEMPTION_POLICIES));
  return causes;
}

export function priorityClassUpdateCauses(next: KubeObject, prev: KubeObject): StatusCause[] {
  const causes: StatusCause[] = [];
  if (next['value'] !== prev['value']) causes.push(forbidden('value', 'may not be changed in an update.'));
  if (!isDeepStrictEqual(next['preemptionPolicy'], prev['preemptionPolicy']))
    causes.push(invalid('preemptionPolicy', next['preemptionPolicy'], 'field is immutable'));
  return causes;
}
