// A container's environment, as the kubelet builds it: envFrom, then env (later entries
// win), with valueFrom configMapKeyRef, secretKeyRef, fieldRef and resourceFieldRef, and
// $(VAR) references to earlier variables expanded.

import { RESOURCES } from '../api/registry.js';
import type { ConfigMap, Container, Pod, ResourceList, Secret } from '../api/types/index.js';
import { parseQuantity } from '../api/quantity.js';
import type { ObjectReader } from './pod-api.js';
import { isNotFound } from '../errors/index.js';

export class EnvError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EnvError';
  }
}

/** What env reads keys from: both carry `data` (a Secret's base64). */
type KeySource = ConfigMap | Secret;

/** Fetches ConfigMaps and Secrets once per sync. */
export class ObjectLookup {
  private readonly cache = new Map<string, KeySource | undefined>();
  constructor(
    private readonly client: ObjectReader,
    private readonly namespace: string,
  ) {}

  async get(kind: 'configmaps' | 'secrets', name: string): Promise<KeySource | undefined> {
    const key = `${kind}/${name}`;
    if (this.cache.has(key)) return this.cache.get(key);
    let obj: KeySource | undefined;
    try {
      obj = await this.client.get<KeySource>(RESOURCES[kind], name, { namespace: this.namespace });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    this.cache.set(key, obj);
    return obj;
  }
}

function fieldRef(pod: Pod, path: string): string {
  switch (path) {
    case 'metadata.name':
      return pod.metadata.name ?? '';
    case 'metadata.namespace':
      return pod.metadata.namespace ?? '';
    case 'metadata.uid':
      return pod.metadata.uid ?? '';
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.podIP':
      return pod.status?.podIP ?? '';
    case 'status.hostIP':
      return pod.status?.hostIP ?? '';
    default: {
      const m = path.match(/^metadata\.(labels|annotations)\['(.+)'\]$/);
      if (m) return (m[1] === 'labels' ? pod.metadata.labels : pod.metadata.annotations)?.[m[2] ?? ''] ?? '';
      throw new EnvError(`unsupported fieldRef "${path}"`);
    }
  }
}

function expand(value: string, vars: Map<string, string>): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name: string | undefined) => {
    if (m === '$$') return '$';
    return name !== undefined && vars.has(name) ? (vars.get(name) ?? '') : m;
  });
}

/** A container's resource limit or request (`limits.memory`, `requests.cpu`), if set. */
function resourceValue(container: Container, resource: string): ResourceList[string] | undefined {
  const [kind, which = ''] = resource.split('.');
  const resources = container.resources ?? {};
  const list = kind === 'limits' ? resources.limits : kind === 'requests' ? resources.requests : undefined;
  return list?.[which];
}

/** A container's limit or request in units of the divisor, rounded up (as the kubelet's env and downward API files show it). */
export function resourceFieldValue(
  container: Container,
  ref: { resource: string; divisor?: ResourceList[string] },
): string {
  const v = resourceValue(container, ref.resource);
  const divisor = parseQuantity(ref.divisor ?? 1);
  return v === undefined || !(divisor > 0) ? '0' : String(Math.ceil(parseQuantity(v) / divisor));
}

/** Where env values come from besides the pod: its ConfigMaps and Secrets, and the service variables. */
export interface EnvSources {
  lookup: ObjectLookup;
  /** Service variables (enableServiceLinks); the container's own env overrides them. */
  services: Record<string, string>;
}

export async function resolveEnv(pod: Pod, container: Container, sources: EnvSources): Promise<string[]> {
  const { lookup } = sources;
  const vars = new Map<string, string>(Object.entries(sources.services));
  for (const src of container.envFrom ?? []) {
    const prefix = src.prefix ?? '';
    const cmRef = src.configMapRef;
    const ref = cmRef ?? src.secretRef;
    if (!ref) continue;
    const obj = await lookup.get(cmRef ? 'configmaps' : 'secrets', ref.name ?? '');
    if (obj === undefined) {
      if (ref.optional === true) continue;
      throw new EnvError(`${cmRef ? 'configmap' : 'secret'} "${ref.name ?? ''}" not found`);
    }
    for (const [k, v] of Object.entries(obj.data ?? {})) {
      vars.set(prefix + k, cmRef ? v : Buffer.from(v, 'base64').toString('utf8'));
    }
  }
  for (const e of container.env ?? []) {
    const name = e.name;
    if (typeof e.value === 'string') {
      vars.set(name, expand(e.value, vars));
      continue;
    }
    const from = e.valueFrom;
    if (!from) {
      vars.set(name, '');
      continue;
    }
    for (const kind of ['configMapKeyRef', 'secretKeyRef'] as const) {
      const ref = from[kind];
      if (!ref) continue;
      const objName = ref.name ?? '';
      const key = ref.key;
      const obj = await lookup.get(kind === 'configMapKeyRef' ? 'configmaps' : 'secrets', objName);
      const raw = obj?.data?.[key];
      if (raw === undefined) {
        if (ref.optional === true) continue;
        throw new EnvError(
          obj === undefined
            ? `${kind === 'configMapKeyRef' ? 'configmap' : 'secret'} "${objName}" not found`
            : `couldn't find key ${key} in ${kind === 'configMapKeyRef' ? 'ConfigMap' : 'Secret'} ${pod.metadata.namespace ?? ''}/${objName}`,
        );
      }
      vars.set(name, kind === 'configMapKeyRef' ? raw : Buffer.from(raw, 'base64').toString('utf8'));
    }
    if (from.fieldRef) vars.set(name, fieldRef(pod, from.fieldRef.fieldPath));
    if (from.resourceFieldRef) vars.set(name, resourceFieldValue(container, from.resourceFieldRef));
  }
  return [...vars.entries()].map(([k, v]) => `${k}=${v}`);
}
