// Validation of ResourceQuotas and LimitRanges with Kubernetes' field paths and messages
// (pkg/apis/core/validation: ValidateResourceQuota, ValidateLimitRange), and the defaults a
// LimitRange's Container items get (SetDefaults_LimitRangeItem).

import type { StatusCause } from '../errors/index.js';
import { isObject } from './meta.js';
import { canonicalQuantity, parseMilli } from './milli-quantity.js';
import { isCountResource, QUOTA_SCOPES, SCOPE_OPERATORS, scopeAllowsResource } from './quota-usage.js';

const LIMIT_TYPES = ['Container', 'PersistentVolumeClaim', 'Pod'];
const RESOURCE_NAME =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

const cause = (reason: string, field: string, message: string): StatusCause => ({ reason, field, message });
const invalid = (field: string, value: unknown, why: string): StatusCause =>
  cause('FieldValueInvalid', field, `Invalid value: ${JSON.stringify(value)}: ${why}`);

function objAt(o: unknown, key: string): Record<string, unknown> | undefined {
  return isObject(o) && isObject(o[key]) ? o[key] : undefined;
}

/** A quota resource name: `pods`, `requests.cpu`, `count/deployments.apps`, `gold.storageclass.storage.k8s.io/requests.storage`. */
function resourceNameCauses(field: string, name: string): StatusCause[] {
  const [first = '', ...rest] = name.split('/');
  const ok =
    name.length <= 253 &&
    (name.startsWith('count/') ? name.length > 'count/'.length : rest.length === 0 || RESOURCE_NAME.test(name)) &&
    (rest.length > 0 || /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(first));
  return ok ? [] : [invalid(field, name, 'must be a standard resource for quota')];
}

/** A ResourceList's entries: names valid, quantities non-negative, counts whole. */
function resourceListCauses(list: unknown, field: string, opts: { counts: boolean }): StatusCause[] {
  if (!isObject(list)) return [];
  const out: StatusCause[] = [];
  for (const [name, value] of Object.entries(list)) {
    const at = `${field}[${name}]`;
    out.push(...resourceNameCauses(at, name));
    const milli = parseMilli(value);
    if (milli === undefined) {
      out.push(invalid(at, value, 'must be a valid quantity'));
      continue;
    }
    if (milli < 0n) out.push(invalid(at, value, 'must be greater than or equal to 0'));
    else if (opts.counts && isCountResource(name) && milli % 1000n !== 0n)
      out.push(invalid(at, value, 'must be an integer'));
  }
  return out;
}

function scopeCauses(spec: Record<string, unknown>): StatusCause[] {
  const out: StatusCause[] = [];
  const hard = Object.keys(objAt(spec, 'hard') ?? {});
  const scopes = Array.isArray(spec['scopes']) ? spec['scopes'] : [];
  for (const scope of scopes) {
    if (!QUOTA_SCOPES.includes(String(scope))) out.push(invalid('spec.scopes', scopes, 'unsupported scope'));
    else if (hard.some((h) => !scopeAllowsResource(String(scope), h)))
      out.push(invalid('spec.scopes', scopes, 'unsupported scope applied to resource'));
  }
  const names = new Set(scopes.map(String));
  if (
    (names.has('BestEffort') && names.has('NotBestEffort')) ||
    (names.has('Terminating') && names.has('NotTerminating'))
  )
    out.push(invalid('spec.scopes', scopes, 'conflicting scopes'));
  const selector = objAt(spec, 'scopeSelector');
  const expressions = Array.isArray(selector?.['matchExpressions']) ? selector['matchExpressions'] : [];
  expressions.forEach((expr, i) => {
    const at = `spec.scopeSelector.matchExpressions[${i}]`;
    const e = isObject(expr) ? expr : {};
    const scope = e['scopeName'];
    if (!QUOTA_SCOPES.includes(String(scope))) out.push(invalid(`${at}.scopeName`, scope, 'unsupported scope'));
    const op = e['operator'];
    const values = Array.isArray(e['values']) ? e['values'] : [];
    if (!SCOPE_OPERATORS.includes(String(op)))
      out.push(
        cause(
          'FieldValueNotSupported',
          `${at}.operator`,
          `Unsupported value: ${JSON.stringify(op)}: supported values: ${SCOPE_OPERATORS.map((o) => JSON.stringify(o)).join(', ')}`,
        ),
      );
    else if ((op === 'In' || op === 'NotIn') && values.length === 0)
      out.push(
        cause(
          'FieldValueRequired',
          `${at}.values`,
          "Required value: must be at least one value when `operator` is 'In' or 'NotIn' for scope selector",
        ),
      );
    else if ((op === 'Exists' || op === 'DoesNotExist') && values.length > 0)
      out.push(
        invalid(
          `${at}.values`,
          values,
          "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector",
        ),
      );
  });
  return out;
}

export function resourceQuotaCauses(obj: Record<string, unknown>): StatusCause[] {
  const spec = objAt(obj, 'spec') ?? {};
  const status = objAt(obj, 'status') ?? {};
  return [
    ...resourceListCauses(spec['hard'], 'spec.hard', { counts: true }),
    ...scopeCauses(spec),
    ...resourceListCauses(status['hard'], 'status.hard', { counts: true }),
    ...resourceListCauses(status['used'], 'status.used', { counts: true }),
  ];
}

/** The item's value of `name` under `key`, in thousandths. */
function milliAt(item: Record<string, unknown>, key: string, name: string): bigint | undefined {
  return parseMilli(objAt(item, key)?.[name]);
}

/** One ordering rule between two of an item's lists: `lower` may not exceed `upper`. */
interface Order {
  lower: string;
  upper: string;
  /** Where the cause goes and what it says, given the two values. */
  field: string;
  message: (lower: string, upper: string) => string;
}

const ORDERS: Order[] = [
  { lower: 'min', upper: 'max', field: 'min', message: (l, u) => `min value ${l} is greater than max value ${u}` },
  {
    lower: 'defaultRequest',
    upper: 'max',
    field: 'defaultRequest',
    message: (l, u) => `default request value ${l} is greater than max value ${u}`,
  },
  {
    lower: 'min',
    upper: 'defaultRequest',
    field: 'defaultRequest',
    message: (l, u) => `min value ${l} is greater than default request value ${u}`,
  },
  {
    lower: 'default',
    upper: 'max',
    field: 'default',
    message: (l, u) => `default value ${l} is greater than max value ${u}`,
  },
  {
    lower: 'min',
    upper: 'default',
    field: 'default',
    message: (l, u) => `min value ${l} is greater than default value ${u}`,
  },
  {
    lower: 'defaultRequest',
    upper: 'default',
    field: 'defaultRequest',
    message: (l, u) => `default request value ${l} is greater than default limit value ${u}`,
  },
];

const LISTS = ['max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio'];

function limitItemCauses(item: Record<string, unknown>, field: string): StatusCause[] {
  const out: StatusCause[] = [];
  const type = item['type'];
  if (type === undefined || type === '') out.push(cause('FieldValueRequired', `${field}.type`, 'Required value'));
  else if (!LIMIT_TYPES.includes(String(type)))
    out.push(
      cause(
        'FieldValueNotSupported',
        `${field}.type`,
        `Unsupported value: ${JSON.stringify(type)}: supported values: ${LIMIT_TYPES.map((t) => JSON.stringify(t)).join(', ')}`,
      ),
    );
  for (const key of LISTS) out.push(...resourceListCauses(item[key], `${field}.${key}`, { counts: false }));
  if (type === 'Pod')
    for (const key of ['default', 'defaultRequest'])
      if (objAt(item, key) !== undefined)
        out.push(
          cause('FieldValueForbidden', `${field}.${key}`, "Forbidden: may not be specified when `type` is 'Pod'"),
        );
  if (type === 'PersistentVolumeClaim')
    for (const key of ['min', 'max'])
      for (const name of Object.keys(objAt(item, key) ?? {}))
        if (name !== 'storage')
          out.push(
            cause(
              'FieldValueNotSupported',
              `${field}.${key}[${name}]`,
              `Unsupported value: ${JSON.stringify(name)}: supported values: "storage"`,
            ),
          );
  const names = new Set(LISTS.flatMap((key) => Object.keys(objAt(item, key) ?? {})));
  for (const name of names) {
    for (const order of ORDERS) {
      const lower = milliAt(item, order.lower, name);
      const upper = milliAt(item, order.upper, name);
      if (lower === undefined || upper === undefined || lower <= upper) continue;
      const l = canonicalQuantity(objAt(item, order.lower)?.[name]);
      const u = canonicalQuantity(objAt(item, order.upper)?.[name]);
      out.push(invalid(`${field}.${order.field}[${name}]`, l, order.message(l, u)));
    }
    const ratio = milliAt(item, 'maxLimitRequestRatio', name);
    if (ratio !== undefined && ratio < 1000n) {
      const shown = canonicalQuantity(objAt(item, 'maxLimitRequestRatio')?.[name]);
      out.push(invalid(`${field}.maxLimitRequestRatio[${name}]`, shown, `ratio ${shown} is less than 1`));
    }
  }
  return out;
}

export function limitRangeCauses(obj: Record<string, unknown>): StatusCause[] {
  const limits = objAt(obj, 'spec')?.['limits'];
  if (!Array.isArray(limits)) return [];
  return limits.flatMap((item, i) => (isObject(item) ? limitItemCauses(item, `spec.limits[${i}]`) : []));
}

/**
 * A Container item's defaults as Kubernetes fills them: the default limit from max, the
 * default request from the default limit, then from min.
 */
export function defaultLimitRange(obj: Record<string, unknown>): void {
  const limits = objAt(obj, 'spec')?.['limits'];
  if (!Array.isArray(limits)) return;
  for (const item of limits) {
    if (!isObject(item) || item['type'] !== 'Container') continue;
    const fill = (target: string, source: string): void => {
      const from = objAt(item, source);
      if (from === undefined) return;
      const into = objAt(item, target) ?? {};
      for (const [k, v] of Object.entries(from)) if (!Object.hasOwn(into, k)) into[k] = v;
      if (Object.keys(into).length > 0) item[target] = into;
    };
    fill('default', 'max');
    fill('defaultRequest', 'default');
    fill('defaultRequest', 'min');
  }
}
