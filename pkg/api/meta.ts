// Generic object shapes shared by every kind (apimachinery's ObjectMeta, TypeMeta, lists).
// Kind-specific spec/status types live in their own files; the apiserver and the store
// handle every object through these generic shapes.

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: unknown[];
}

export interface TypeMeta {
  apiVersion: string;
  kind: string;
}

/** Any API object. `spec`, `status` and other top-level fields are kind-specific. */
export interface KubeObject extends TypeMeta {
  metadata: ObjectMeta;
  [field: string]: unknown;
}

export interface ListMeta {
  resourceVersion?: string;
  continue?: string;
  remainingItemCount?: number;
}

export interface KubeList<T extends KubeObject = KubeObject> extends TypeMeta {
  metadata: ListMeta;
  items: T[];
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent<T = KubeObject> {
  type: WatchEventType;
  object: T;
}

export interface DeleteOptions {
  kind?: 'DeleteOptions';
  apiVersion?: string;
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: string[];
}

/** `namespace/name` (or `name` for cluster-scoped objects): the key informers and queues use. */
export function objectKey(obj: { metadata: ObjectMeta }): string {
  const ns = obj.metadata.namespace;
  return ns ? `${ns}/${obj.metadata.name ?? ''}` : (obj.metadata.name ?? '');
}

export function splitObjectKey(key: string): { namespace: string | undefined; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { namespace: undefined, name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.indexOf('/');
  return i < 0
    ? { group: '', version: apiVersion }
    : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

export function joinApiVersion(group: string, version: string): string {
  return group === '' ? version : `${group}/${version}`;
}

/** Deep copy of a JSON-shaped value: objects from caches are read-only, clone before changing. */
export function deepCopy<T>(value: Readonly<T>): T {
  return structuredClone(value);
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** JSON with keys sorted, as Go encodes maps: equal data gives equal text whatever order its keys came in. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isObject(value))
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`)
      .join(',')}}`;
  return JSON.stringify(value) ?? 'null';
}

export function controllerOf(obj: { metadata: ObjectMeta }): OwnerReference | undefined {
  return obj.metadata.ownerReferences?.find((r) => r.controller === true);
}

/** A Kubernetes `Time`: RFC 3339 in UTC, whole seconds (`2026-01-02T03:04:05Z`). */
export function rfc3339(t: Date | number | string): string {
  const ms = typeof t === 'number' ? t : typeof t === 'string' ? Date.parse(t) : t.getTime();
  // Every write stamps the current second, often several times: format each second once.
  const second = Math.floor(ms / 1000);
  if (second === lastSecond && Number.isFinite(ms)) return lastFormatted;
  const formatted = new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');
  lastSecond = second;
  lastFormatted = formatted;
  return formatted;
}
let lastSecond = Number.NaN;
let lastFormatted = '';

/** A Kubernetes `MicroTime` (Leases, Events): RFC 3339 with microseconds. */
export function microTime(t: Date | number): string {
  return new Date(t).toISOString().replace(/Z$/, '000Z');
}
