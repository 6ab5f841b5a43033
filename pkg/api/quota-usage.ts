// What a ResourceQuota counts (Kubernetes' quota evaluators, pkg/quota/v1/evaluator/core): the
// usage of one object by quota resource name, whether a quota's scopes select a pod, and which
// resources a pod must declare when a quota tracks them. Shared by the apiserver's admission
// (the charge of a new object) and the resource quota controller (the recount).

import { isObject, type KubeObject } from './meta.js';
import { formatMilli, parseMilli, type QuantityFormat } from './milli-quantity.js';
import type { ResourceQuota, ScopedResourceSelectorRequirement } from './types/index.js';

/** Usage by quota resource name, in thousandths (a count of 1 is 1000n). */
export type Usage = Map<string, bigint>;

export const ONE = 1000n;
const STORAGE_CLASS_SUFFIX = '.storageclass.storage.k8s.io/';

export const QUOTA_SCOPES = [
  'BestEffort',
  'CrossNamespacePodAffinity',
  'NotBestEffort',
  'NotTerminating',
  'PriorityClass',
  'Terminating',
];
export const SCOPE_OPERATORS = ['DoesNotExist', 'Exists', 'In', 'NotIn'];

/** Core resources whose quota name is their plural (`pods: 2`) as well as `count/<plural>`. */
const LEGACY_COUNTS: Record<string, string> = {
  pods: 'pods',
  services: 'services',
  configmaps: 'configmaps',
  secrets: 'secrets',
  persistentvolumeclaims: 'persistentvolumeclaims',
  replicationcontrollers: 'replicationcontrollers',
  resourcequotas: 'resourcequotas',
};

const POD_COMPUTE = [
  'cpu',
  'memory',
  'requests.cpu',
  'requests.memory',
  'limits.cpu',
  'limits.memory',
  'ephemeral-storage',
  'requests.ephemeral-storage',
  'limits.ephemeral-storage',
];
/** What a pod must declare for every container when a quota tracks it (a historic coupling Kubernetes keeps). */
const DECLARED = ['cpu', 'memory', 'requests.cpu', 'requests.memory', 'limits.cpu', 'limits.memory'];

/** `count/deployments.apps`, `count/pods`: the object-count name of a resource. */
export function countName(group: string, plural: string): string {
  return group === '' ? `count/${plural}` : `count/${plural}.${group}`;
}

/** Whether quota counts a resource as a whole number (object counts), not a quantity. */
export function isCountResource(name: string): boolean {
  return (
    name.startsWith('count/') ||
    Object.values(LEGACY_COUNTS).includes(name) ||
    name.startsWith('services.') ||
    name.endsWith(`${STORAGE_CLASS_SUFFIX.slice(0, -1)}/persistentvolumeclaims`)
  );
}

/** Memory-like resources print in binary units. */
function formatFor(name: string): QuantityFormat {
  return /memory|storage/.test(name) ? 'BinarySI' : 'DecimalSI';
}

/** One usage value as Kubernetes prints it. */
export function formatUsage(name: string, milli: bigint): string {
  return formatMilli(milli, formatFor(name));
}

/** A ResourceList as usage (entries that are no quantity are left out). */
export function usageOfList(list: Readonly<Record<string, unknown>> | undefined): Usage {
  const out: Usage = new Map();
  for (const [k, v] of Object.entries(list ?? {})) {
    const milli = parseMilli(v);
    if (milli !== undefined) out.set(k, milli);
  }
  return out;
}

/** Usage as a ResourceList, names sorted. */
export function usageToList(usage: Usage): Record<string, string> {
  return Object.fromEntries([...usage.keys()].sort().map((k) => [k, formatUsage(k, usage.get(k) ?? 0n)]));
}

function add(usage: Usage, name: string, milli: bigint): void {
  usage.set(name, (usage.get(name) ?? 0n) + milli);
}

export function addUsage(a: Usage, b: Usage): Usage {
  const out: Usage = new Map(a);
  for (const [k, v] of b) add(out, k, v);
  return out;
}

function listOf(o: unknown): Record<string, unknown> {
  return isObject(o) ? o : {};
}

function containersOf(spec: unknown, key: string): Record<string, unknown>[] {
  const list = isObject(spec) ? spec[key] : undefined;
  return Array.isArray(list) ? list.filter(isObject) : [];
}

function resourcesOf(container: Record<string, unknown>, kind: 'requests' | 'limits'): Record<string, unknown> {
  return listOf(listOf(container['resources'])[kind]);
}

/**
 * A pod's effective requests or limits by resource: the larger of the containers' sum and
 * the largest init container (init containers run one at a time), plus the pod's overhead.
 */
export function podResources(pod: KubeObject, kind: 'requests' | 'limits'): Usage {
  const spec = pod['spec'];
  const sum: Usage = new Map();
  for (const c of containersOf(spec, 'containers'))
    for (const [k, v] of usageOfList(resourcesOf(c, kind))) add(sum, k, v);
  for (const c of containersOf(spec, 'initContainers'))
    for (const [k, v] of usageOfList(resourcesOf(c, kind))) if (v > (sum.get(k) ?? 0n)) sum.set(k, v);
  if (sum.size > 0) for (const [k, v] of usageOfList(listOf(listOf(spec)['overhead']))) add(sum, k, v);
  return sum;
}

/** A pod that finished (or whose grace is over) holds no quota, as in Kubernetes. */
export function podHoldsQuota(pod: KubeObject, now: Date): boolean {
  const phase = listOf(pod['status'])['phase'];
  if (phase === 'Succeeded' || phase === 'Failed') return false;
  const deletion = pod.metadata.deletionTimestamp;
  if (deletion === undefined) return true;
  const grace = pod.metadata.deletionGracePeriodSeconds ?? 0;
  return Date.parse(deletion) + grace * 1000 > now.getTime();
}

function podUsage(pod: KubeObject): Usage {
  const usage: Usage = new Map([
    ['pods', ONE],
    ['count/pods', ONE],
  ]);
  for (const [k, v] of podResources(pod, 'requests')) {
    usage.set(`requests.${k}`, v);
    // The bare names are requests too (Kubernetes' older spelling).
    if (k === 'cpu' || k === 'memory' || k === 'ephemeral-storage') usage.set(k, v);
  }
  for (const [k, v] of podResources(pod, 'limits')) usage.set(`limits.${k}`, v);
  return usage;
}

function serviceUsage(svc: KubeObject): Usage {
  const spec = listOf(svc['spec']);
  const usage: Usage = new Map([
    ['services', ONE],
    ['count/services', ONE],
  ]);
  const type = spec['type'];
  const ports = Array.isArray(spec['ports']) ? spec['ports'].length : 0;
  if (type === 'LoadBalancer') usage.set('services.loadbalancers', ONE);
  if (type === 'NodePort' || type === 'LoadBalancer') usage.set('services.nodeports', BigInt(ports) * ONE);
  else usage.set('services.nodeports', 0n);
  return usage;
}

function claimUsage(claim: KubeObject): Usage {
  const spec = listOf(claim['spec']);
  const usage: Usage = new Map([
    ['persistentvolumeclaims', ONE],
    ['count/persistentvolumeclaims', ONE],
  ]);
  const storage = parseMilli(listOf(listOf(spec['resources'])['requests'])['storage']);
  const className = spec['storageClassName'];
  const prefix = typeof className === 'string' && className !== '' ? `${className}${STORAGE_CLASS_SUFFIX}` : undefined;
  if (prefix !== undefined) usage.set(`${prefix}persistentvolumeclaims`, ONE);
  if (storage !== undefined) {
    usage.set('requests.storage', storage);
    if (prefix !== undefined) usage.set(`${prefix}requests.storage`, storage);
  }
  return usage;
}

/** What one object of a resource counts for in quota. */
export function usageOf(resource: { group: string; plural: string }, obj: KubeObject): Usage {
  const { group, plural } = resource;
  if (group === '' && plural === 'pods') return podUsage(obj);
  if (group === '' && plural === 'services') return serviceUsage(obj);
  if (group === '' && plural === 'persistentvolumeclaims') return claimUsage(obj);
  const usage: Usage = new Map([[countName(group, plural), ONE]]);
  const legacy = group === '' ? LEGACY_COUNTS[plural] : undefined;
  if (legacy !== undefined) usage.set(legacy, ONE);
  return usage;
}

/** Whether a quota resource name is one the resource's objects are counted under. */
export function tracksResource(resource: { group: string; plural: string }, name: string): boolean {
  const { group, plural } = resource;
  if (name === countName(group, plural)) return true;
  if (group !== '') return false;
  if (LEGACY_COUNTS[plural] === name) return true;
  if (plural === 'pods')
    return POD_COMPUTE.includes(name) || name.startsWith('requests.') || name.startsWith('limits.');
  if (plural === 'services') return name.startsWith('services.');
  if (plural === 'persistentvolumeclaims') return name === 'requests.storage' || name.includes(STORAGE_CLASS_SUFFIX);
  return false;
}

// ---- scopes ---------------------------------------------------------------------------------

/** BestEffort: no container requests or limits cpu or memory. */
export function isBestEffort(pod: KubeObject): boolean {
  const spec = pod['spec'];
  const all = [...containersOf(spec, 'initContainers'), ...containersOf(spec, 'containers')];
  return all.every((c) =>
    (['requests', 'limits'] as const).every((kind) => {
      const list = resourcesOf(c, kind);
      return list['cpu'] === undefined && list['memory'] === undefined;
    }),
  );
}

/** The requirements a quota's scopes and scopeSelector put on a pod, all of which must hold. */
export function scopeRequirements(quota: ResourceQuota): ScopedResourceSelectorRequirement[] {
  const out: ScopedResourceSelectorRequirement[] = (quota.spec?.scopes ?? []).map((scopeName) => ({
    scopeName,
    operator: 'Exists',
  }));
  out.push(...(quota.spec?.scopeSelector?.matchExpressions ?? []));
  return out;
}

function podMatchesScope(pod: KubeObject, req: ScopedResourceSelectorRequirement): boolean {
  const spec = listOf(pod['spec']);
  const deadline = spec['activeDeadlineSeconds'];
  switch (req.scopeName) {
    case 'Terminating':
      return typeof deadline === 'number' && deadline >= 0;
    case 'NotTerminating':
      return typeof deadline !== 'number' || deadline < 0;
    case 'BestEffort':
      return isBestEffort(pod);
    case 'NotBestEffort':
      return !isBestEffort(pod);
    case 'PriorityClass': {
      const className = spec['priorityClassName'];
      const name = typeof className === 'string' ? className : undefined;
      const values = req.values ?? [];
      switch (req.operator) {
        case 'Exists':
          return name !== undefined && name !== '';
        case 'DoesNotExist':
          return name === undefined || name === '';
        case 'In':
          return name !== undefined && values.includes(name);
        case 'NotIn':
          return name === undefined || !values.includes(name);
      }
      return false;
    }
    case 'CrossNamespacePodAffinity':
      // Coxswain's scheduler has no cross-namespace affinity terms to count.
      return false;
  }
  return false;
}

/**
 * Whether a quota's scopes select an object: a quota without scopes selects every object; a
 * scoped quota selects only pods its scopes match (other kinds have no scopes, as in Kubernetes).
 */
export function quotaSelects(
  quota: ResourceQuota,
  resource: { group: string; plural: string },
  obj: KubeObject,
): boolean {
  const reqs = scopeRequirements(quota);
  if (reqs.length === 0) return true;
  if (resource.group !== '' || resource.plural !== 'pods') return false;
  return reqs.every((req) => podMatchesScope(obj, req));
}

/** Which resources each scope may limit (Kubernetes refuses a scope on a resource it cannot count). */
export function scopeAllowsResource(scope: string, name: string): boolean {
  if (scope === 'BestEffort') return name === 'pods' || name === 'count/pods';
  return name === 'pods' || name === 'count/pods' || POD_COMPUTE.includes(name);
}

// ---- constraints ----------------------------------------------------------------------------

/**
 * Kubernetes' "must specify" rule: when a quota tracks cpu or memory requests or limits, every
 * container must declare them. Returns the message part (`limits.cpu for: a,b; …`) or undefined.
 */
export function missingDeclarations(pod: KubeObject, tracked: readonly string[]): string | undefined {
  const required = DECLARED.filter((r) => tracked.includes(r));
  if (required.length === 0) return undefined;
  const missing = new Map<string, Set<string>>();
  const spec = pod['spec'];
  for (const c of [...containersOf(spec, 'containers'), ...containersOf(spec, 'initContainers')]) {
    const requests = resourcesOf(c, 'requests');
    const limits = resourcesOf(c, 'limits');
    const has = (r: string): boolean => {
      if (r.startsWith('limits.')) return limits[r.slice('limits.'.length)] !== undefined;
      const base = r.startsWith('requests.') ? r.slice('requests.'.length) : r;
      return requests[base] !== undefined;
    };
    for (const r of required) {
      if (has(r)) continue;
      const names = missing.get(r) ?? new Set<string>();
      names.add(typeof c['name'] === 'string' ? c['name'] : '');
      missing.set(r, names);
    }
  }
  if (missing.size === 0) return undefined;
  return [...missing.keys()]
    .sort()
    .map((r) => `${r} for: ${[...(missing.get(r) ?? [])].sort().join(',')}`)
    .join('; ');
}
