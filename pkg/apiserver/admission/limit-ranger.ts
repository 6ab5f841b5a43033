// LimitRanger (Kubernetes' admission plugin of that name), pure: a new pod's containers and
// init containers get the namespace's LimitRange defaults (`default` as limits,
// `defaultRequest` as requests, where the container names none) with the
// `kubernetes.io/limit-ranger` annotation saying what was set; then the pod's containers, the
// pod as a whole and a new claim are held to the ranges' min, max and maxLimitRequestRatio.
// A breach is 403 Forbidden with Kubernetes' messages.

import { isObject, type KubeObject, type LimitRange, type LimitRangeItem } from '../../api/index.js';
import { canonicalQuantity, parseMilli } from '../../api/milli-quantity.js';
import { formatUsage, podResources, type Usage } from '../../api/quota-usage.js';
import { ApiError } from '../../errors/index.js';

export const LIMIT_RANGER_ANNOTATION = 'kubernetes.io/limit-ranger';

type Lists = Record<string, unknown>;

function record(o: unknown): Record<string, unknown> | undefined {
  return isObject(o) ? o : undefined;
}

function containerList(spec: Record<string, unknown>, key: string): Record<string, unknown>[] {
  const list = spec[key];
  return Array.isArray(list) ? list.filter(isObject) : [];
}

/** The defaults a pod's containers get: every Container item's, the later ones' winning per resource. */
function containerDefaults(ranges: readonly LimitRange[]): { limits: Lists; requests: Lists } {
  const limits: Lists = {};
  const requests: Lists = {};
  for (const range of ranges)
    for (const item of range.spec?.limits ?? []) {
      if (item.type !== 'Container') continue;
      Object.assign(limits, item.default ?? {});
      Object.assign(requests, item.defaultRequest ?? {});
    }
  return { limits, requests };
}

/** Fills what a container leaves out; returns the names it set, sorted. */
function fill(container: Record<string, unknown>, kind: 'limits' | 'requests', defaults: Lists): string[] {
  const resources = record(container['resources']) ?? {};
  const current = record(resources[kind]) ?? {};
  const set = Object.keys(defaults)
    .filter((k) => !Object.hasOwn(current, k))
    .sort();
  if (set.length === 0) return [];
  container['resources'] = {
    ...resources,
    [kind]: { ...current, ...Object.fromEntries(set.map((k) => [k, defaults[k]])) },
  };
  return set;
}

/** Mutating half: the ranges' defaults into a new pod (in place), annotated as Kubernetes does. */
export function applyLimitRangeDefaults(pod: KubeObject, ranges: readonly LimitRange[]): void {
  const spec = record(pod['spec']);
  if (spec === undefined) return;
  const defaults = containerDefaults(ranges);
  if (Object.keys(defaults.limits).length === 0 && Object.keys(defaults.requests).length === 0) return;
  const notes: string[] = [];
  const each = (containers: Record<string, unknown>[], what: string): void => {
    for (const c of containers) {
      const requests = fill(c, 'requests', defaults.requests);
      const limits = fill(c, 'limits', defaults.limits);
      const name = typeof c['name'] === 'string' ? c['name'] : '';
      if (requests.length > 0) notes.push(`${requests.join(', ')} request for ${what} ${name}`);
      if (limits.length > 0) notes.push(`${limits.join(', ')} limit for ${what} ${name}`);
    }
  };
  each(containerList(spec, 'containers'), 'container');
  each(containerList(spec, 'initContainers'), 'init container');
  if (notes.length > 0)
    pod.metadata.annotations = {
      ...pod.metadata.annotations,
      [LIMIT_RANGER_ANNOTATION]: `LimitRanger plugin set: ${notes.join('; ')}`,
    };
}

/** What one item enforces on one subject (a container, the pod, a claim): its requests and limits. */
interface Subject {
  type: string;
  requests: Usage;
  limits: Usage;
  /** A value of the subject as Kubernetes prints it. */
  show: (name: string, milli: bigint) => string;
}

function usage(list: unknown): Usage {
  const out: Usage = new Map();
  for (const [k, v] of Object.entries(record(list) ?? {})) {
    const milli = parseMilli(v);
    if (milli !== undefined) out.set(k, milli);
  }
  return out;
}

/** A container's or claim's own values print as written (canonically); computed totals by their unit. */
function showWritten(resources: Record<string, unknown> | undefined): Subject['show'] {
  return (name, milli) => {
    for (const kind of ['limits', 'requests']) {
      const value = record(resources?.[kind])?.[name];
      if (value !== undefined && parseMilli(value) === milli) return canonicalQuantity(value);
    }
    return formatUsage(name, milli);
  };
}

function sortedEntries(list: Lists | undefined): [string, string, bigint][] {
  return Object.entries(list ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .flatMap(([k, v]) => {
      const milli = parseMilli(v);
      return milli === undefined ? [] : [[k, canonicalQuantity(v), milli] as [string, string, bigint]];
    });
}

function minViolations(item: LimitRangeItem, s: Subject): string[] {
  const out: string[] = [];
  for (const [name, shown, min] of sortedEntries(item.min)) {
    const req = s.requests.get(name);
    const lim = s.limits.get(name);
    if (req === undefined) out.push(`minimum ${name} usage per ${s.type} is ${shown}.  No request is specified`);
    else if (req < min)
      out.push(`minimum ${name} usage per ${s.type} is ${shown}, but request is ${s.show(name, req)}`);
    else if (lim !== undefined && lim < min)
      out.push(`minimum ${name} usage per ${s.type} is ${shown}, but limit is ${s.show(name, lim)}`);
  }
  return out;
}

function maxViolations(item: LimitRangeItem, s: Subject): string[] {
  const out: string[] = [];
  for (const [name, shown, max] of sortedEntries(item.max)) {
    const req = s.requests.get(name);
    const lim = s.limits.get(name);
    if (s.type === 'PersistentVolumeClaim') {
      // A claim's request is what it asks of storage: the max holds against it.
      if (req === undefined) out.push(`maximum ${name} usage per ${s.type} is ${shown}.  No request is specified`);
      else if (req > max)
        out.push(`maximum ${name} usage per ${s.type} is ${shown}, but request is ${s.show(name, req)}`);
      continue;
    }
    if (lim === undefined) out.push(`maximum ${name} usage per ${s.type} is ${shown}.  No limit is specified`);
    else if (lim > max) out.push(`maximum ${name} usage per ${s.type} is ${shown}, but limit is ${s.show(name, lim)}`);
    else if (req !== undefined && req > max)
      out.push(`maximum ${name} usage per ${s.type} is ${shown}, but request is ${s.show(name, req)}`);
  }
  return out;
}

function ratioViolations(item: LimitRangeItem, s: Subject): string[] {
  const out: string[] = [];
  for (const [name, shown, ratio] of sortedEntries(item.maxLimitRequestRatio)) {
    const req = s.requests.get(name) ?? 0n;
    const lim = s.limits.get(name) ?? 0n;
    const prefix = `${name} max limit to request ratio per ${s.type} is ${shown}`;
    if (req === 0n) out.push(`${prefix}, but no request is specified or request is 0`);
    else if (lim === 0n) out.push(`${prefix}, but no limit is specified or limit is 0`);
    // lim/req > ratio/1000, in integers.
    else if (lim * 1000n > ratio * req)
      out.push(`${prefix}, but provided ratio is ${(Number(lim) / Number(req)).toFixed(6)}`);
  }
  return out;
}

function itemViolations(item: LimitRangeItem, s: Subject): string[] {
  return [...minViolations(item, s), ...maxViolations(item, s), ...ratioViolations(item, s)];
}

/** Validating half for a pod: every Container item on each container, every Pod item on the pod's totals. */
export function podLimitViolations(pod: KubeObject, ranges: readonly LimitRange[]): string[] {
  const spec = record(pod['spec']) ?? {};
  const containers = [...containerList(spec, 'containers'), ...containerList(spec, 'initContainers')];
  const out: string[] = [];
  for (const range of ranges)
    for (const item of range.spec?.limits ?? []) {
      if (item.type === 'Container')
        for (const c of containers) {
          const resources = record(c['resources']);
          out.push(
            ...itemViolations(item, {
              type: 'Container',
              requests: usage(resources?.['requests']),
              limits: usage(resources?.['limits']),
              show: showWritten(resources),
            }),
          );
        }
      if (item.type === 'Pod')
        out.push(
          ...itemViolations(item, {
            type: 'Pod',
            requests: podResources(pod, 'requests'),
            limits: podResources(pod, 'limits'),
            show: formatUsage,
          }),
        );
    }
  return out;
}

/** Validating half for a claim: PersistentVolumeClaim items' min and max on its storage request. */
export function claimLimitViolations(claim: KubeObject, ranges: readonly LimitRange[]): string[] {
  const resources = record(record(claim['spec'])?.['resources']);
  const requests = usage(resources?.['requests']);
  const out: string[] = [];
  for (const range of ranges)
    for (const item of range.spec?.limits ?? [])
      if (item.type === 'PersistentVolumeClaim') {
        const subject = {
          type: 'PersistentVolumeClaim',
          requests,
          limits: new Map<string, bigint>(),
          show: showWritten(resources),
        };
        out.push(...minViolations(item, subject), ...maxViolations(item, subject));
      }
  return out;
}

/** `pods "web" is forbidden: …`, the message of an admission refusal. */
export function admissionForbidden(resource: { group: string; plural: string }, name: string, why: string): ApiError {
  // Kubernetes names the group-qualified resource (`deployments.apps "web" is forbidden`).
  const qualified = resource.group === '' ? resource.plural : `${resource.plural}.${resource.group}`;
  return new ApiError('Forbidden', `${qualified} ${JSON.stringify(name)} is forbidden: ${why}`, {
    details: { name, ...(resource.group === '' ? {} : { group: resource.group }), kind: resource.plural },
  });
}

/** Several errors read as Kubernetes' aggregate: one alone, or `[a, b]`. */
export function aggregate(messages: readonly string[]): string {
  return messages.length === 1 ? (messages[0] ?? '') : `[${messages.join(', ')}]`;
}

/** LimitRanger's mutating half on a create: the defaults into a pod. */
export function defaultFromLimitRanges(
  resource: { group: string; plural: string },
  obj: KubeObject,
  ranges: readonly LimitRange[],
): void {
  if (resource.group === '' && resource.plural === 'pods') applyLimitRangeDefaults(obj, ranges);
}

/** LimitRanger's validating half on a create: the bounds on pods and claims; a 403 naming every breach. */
export function enforceLimitRanges(
  resource: { group: string; plural: string },
  obj: KubeObject,
  ranges: readonly LimitRange[],
): void {
  if (resource.group !== '' || ranges.length === 0) return;
  const violations =
    resource.plural === 'pods'
      ? podLimitViolations(obj, ranges)
      : resource.plural === 'persistentvolumeclaims'
        ? claimLimitViolations(obj, ranges)
        : [];
  if (violations.length > 0) throw admissionForbidden(resource, obj.metadata.name ?? '', aggregate(violations));
}
