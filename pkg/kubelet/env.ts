// A container's environment, as the kubelet builds it: envFrom, then env (later entries
// win), with valueFrom configMapKeyRef, secretKeyRef, fieldRef and resourceFieldRef, and
// $(VAR) references to earlier variables expanded.

import { isObject, type KubeObject } from '../api/meta.js';
import { RESOURCES } from '../api/registry.js';
import type { ConfigMap, Secret } from '../api/types/index.js';
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

function fieldRef(pod: KubeObject, path: string): string {
  const spec = (pod['spec'] ?? {}) as Record<string, unknown>;
  const status = (pod['status'] ?? {}) as Record<string, unknown>;
  switch (path) {
    case 'metadata.name':
      return pod.metadata.name ?? '';
    case 'metadata.namespace':
      return pod.metadata.namespace ?? '';
    case 'metadata.uid':
      return pod.metadata.uid ?? '';
    case 'spec.nodeName':
      return String(spec['nodeName'] ?? '');
    case 'spec.serviceAccountName':
      return String(spec['serviceAccountName'] ?? '');
    case 'status.podIP':
      return String(status['podIP'] ?? '');
    case 'status.hostIP':
      return String(status['hostIP'] ?? '');
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

export async function resolveEnv(
  pod: KubeObject,
  container: Record<string, unknown>,
  lookup: ObjectLookup,
  extra: Record<string, string>,
): Promise<string[]> {
  const vars = new Map<string, string>(Object.entries(extra));
  for (const src of (Array.isArray(container['envFrom']) ? container['envFrom'] : []).filter(isObject)) {
    const prefix = typeof src['prefix'] === 'string' ? src['prefix'] : '';
    const cmRef = isObject(src['configMapRef']) ? src['configMapRef'] : undefined;
    const secretRef = isObject(src['secretRef']) ? src['secretRef'] : undefined;
    const ref = cmRef ?? secretRef;
    if (ref === undefined) continue;
    const obj = await lookup.get(cmRef ? 'configmaps' : 'secrets', String(ref['name'] ?? ''));
    if (obj === undefined) {
      if (ref['optional'] === true) continue;
      throw new EnvError(`${cmRef ? 'configmap' : 'secret'} "${String(ref['name'] ?? '')}" not found`);
    }
    for (const [k, v] of Object.entries(obj.data ?? {})) {
      vars.set(prefix + k, cmRef ? v : Buffer.from(v, 'base64').toString('utf8'));
    }
  }
  for (const e of (Array.isArray(container['env']) ? container['env'] : []).filter(isObject)) {
    const name = String(e['name'] ?? '');
    if (typeof e['value'] === 'string') {
      vars.set(name, expand(e['value'], vars));
      continue;
    }
    const from = isObject(e['valueFrom']) ? e['valueFrom'] : undefined;
    if (from === undefined) {
      vars.set(name, '');
      continue;
    }
    for (const kind of ['configMapKeyRef', 'secretKeyRef'] as const) {
      const ref = from[kind];
      if (!isObject(ref)) continue;
      const objName = String(ref['name'] ?? '');
      const key = String(ref['key'] ?? '');
      const obj = await lookup.get(kind === 'configMapKeyRef' ? 'configmaps' : 'secrets', objName);
      const raw = obj?.data?.[key];
      if (raw === undefined) {
        if (ref['optional'] === true) continue;
        throw new EnvError(
          obj === undefined
            ? `${kind === 'configMapKeyRef' ? 'configmap' : 'secret'} "${objName}" not found`
            : `couldn't find key ${key} in ${kind === 'configMapKeyRef' ? 'ConfigMap' : 'Secret'} ${pod.metadata.namespace ?? ''}/${objName}`,
        );
      }
      vars.set(name, kind === 'configMapKeyRef' ? raw : Buffer.from(raw, 'base64').toString('utf8'));
    }
    if (isObject(from['fieldRef'])) vars.set(name, fieldRef(pod, String(from['fieldRef']['fieldPath'] ?? '')));
    if (isObject(from['resourceFieldRef'])) {
      const res = String(from['resourceFieldRef']['resource'] ?? '');
      const [kind, which] = res.split('.') as [string, string];
      const resources = (container['resources'] ?? {}) as Record<string, Record<string, string | number> | undefined>;
      const v = resources[kind]?.[which];
      const divisor = parseQuantity(from['resourceFieldRef']['divisor'] ?? 1);
      vars.set(name, v === undefined ? '0' : String(Math.ceil(parseQuantity(v) / divisor)));
    }
  }
  return [...vars.entries()].map(([k, v]) => `${k}=${v}`);
}
