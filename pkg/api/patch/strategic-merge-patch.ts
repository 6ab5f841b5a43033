// Strategic merge patch (application/strategic-merge-patch+json): lists of known fields
// merge by their Kubernetes merge key (containers by name, ports by containerPort, …)
// instead of being replaced, with the directives kubectl sends ($patch, $setElementOrder,
// $retainKeys, $deleteFromPrimitiveList). Also the three-way patch kubectl's client-side
// apply computes. The merge-key table is shared with server-side apply.

//
// Safe by construction: the patch is checked as plain data, keys and directive targets
// naming a prototype are refused, only own properties are read, and unknown or malformed
// directives are a 400 as on Kubernetes.

import { isDeepStrictEqual } from 'node:util';
import { badRequest } from '../../errors/index.js';
import { checkPlainData, forbiddenKeyError, isForbiddenKey, own } from '../decode/index.js';
import { isObject } from '../meta.js';

export interface KindRef {
  group: string;
  kind: string;
}

export type ListStrategy = { type: 'merge'; key: string } | { type: 'set' };

/** Merge keys inside a pod spec, by path relative to it (`[]` steps omitted). */
const POD_SPEC_LISTS: Record<string, ListStrategy> = {
  containers: { type: 'merge', key: 'name' },
  initContainers: { type: 'merge', key: 'name' },
  ephemeralContainers: { type: 'merge', key: 'name' },
  'containers.env': { type: 'merge', key: 'name' },
  'initContainers.env': { type: 'merge', key: 'name' },
  'containers.ports': { type: 'merge', key: 'containerPort' },
  'initContainers.ports': { type: 'merge', key: 'containerPort' },
  'containers.volumeMounts': { type: 'merge', key: 'mountPath' },
  'initContainers.volumeMounts': { type: 'merge', key: 'mountPath' },
  'containers.volumeDevices': { type: 'merge', key: 'devicePath' },
  'initContainers.volumeDevices': { type: 'merge', key: 'devicePath' },
  volumes: { type: 'merge', key: 'name' },
  imagePullSecrets: { type: 'merge', key: 'name' },
  hostAliases: { type: 'merge', key: 'ip' },
  topologySpreadConstraints: { type: 'merge', key: 'topologyKey' },
};

/** Where the pod spec sits in each kind that carries one. */
function podSpecPrefix(kind: KindRef): string | undefined {
  if (kind.group === '' && kind.kind === 'Pod') return 'spec';
  if (
    kind.group === 'apps' ||
    (kind.group === 'batch' && kind.kind === 'Job') ||
    (kind.group === '' && (kind.kind === 'ReplicationController' || kind.kind === 'PodTemplate'))
  ) {
    return 'spec.template.spec';
  }
  if (kind.group === 'batch' && kind.kind === 'CronJob') return 'spec.jobTemplate.spec.template.spec';
  return undefined;
}

/** How the list at `path` (field names from the root; `[]` marks list items) merges. */
export function listStrategy(kind: KindRef, path: string[]): ListStrategy | undefined {
  const dotted = path.filter((p) => p !== '[]').join('.');
  // Object metadata merges the same way wherever it sits (the object, a pod or job template).
  if (dotted === 'metadata.ownerReferences' || dotted.endsWith('.metadata.ownerReferences')) {
    return { type: 'merge', key: 'uid' };
  }
  if (dotted === 'metadata.finalizers' || dotted.endsWith('.metadata.finalizers')) return { type: 'set' };
  if (dotted === 'status.conditions') return { type: 'merge', key: 'type' };
  if (kind.kind === 'Node' && dotted === 'status.addresses') return { type: 'merge', key: 'type' };
  if (kind.kind === 'Service' && dotted === 'spec.ports') return { type: 'merge', key: 'port' };
  const prefix = podSpecPrefix(kind);
  if (prefix !== undefined && dotted.startsWith(prefix + '.')) return POD_SPEC_LISTS[dotted.slice(prefix.length + 1)];
  return undefined;
}

/** The merge key of the list at `path`, if it merges by key. */
export function mergeKeyFor(kind: KindRef, path: string[]): string | undefined {
  const s = listStrategy(kind, path);
  return s?.type === 'merge' ? s.key : undefined;
}

const DIRECTIVE = '$patch';
const RETAIN = '$retainKeys';
const ORDER = '$setElementOrder/';
const DELETE_PRIMITIVE = '$deleteFromPrimitiveList/';

function stripListDirectives(list: unknown[]): unknown[] {
  return list
    .filter((v) => !(isObject(v) && own(v, DIRECTIVE) !== undefined && Object.keys(v).length === 1))
    .map(stripDirectives);
}

function stripDirectives(value: unknown): unknown {
  if (Array.isArray(value)) return stripListDirectives(value);
  if (!isObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (isForbiddenKey(k)) throw forbiddenKeyError(k, '');
    if (isDirectiveKey(k)) continue;
    if (v === null) continue;
    out[k] = stripDirectives(v);
  }
  return out;
}

function sameKey(a: unknown, b: unknown, key: string): boolean {
  return isObject(a) && isObject(b) && own(a, key) !== undefined && isDeepStrictEqual(own(a, key), own(b, key));
}

/** The `$patch` directive of a patch map: merge (also when absent), replace or delete. */
function directiveOf(patch: Record<string, unknown>): 'merge' | 'replace' | 'delete' {
  const d = own(patch, DIRECTIVE);
  if (d === undefined || d === 'merge') return 'merge';
  if (d === 'replace' || d === 'delete') return d;
  throw badRequest(`unknown patch type: ${JSON.stringify(d)} in map: ${JSON.stringify(patch).slice(0, 200)}`);
}

/** The field a `$setElementOrder/…` or `$deleteFromPrimitiveList/…` key refers to. */
function directiveField(key: string, prefix: string): string {
  const field = key.slice(prefix.length);
  if (isForbiddenKey(field)) throw forbiddenKeyError(field, key);
  return field;
}

/** Where in an object of which kind a recursive merge or diff step is. */
interface At {
  kind: KindRef;
  path: string[];
}

function under(at: At, ...keys: string[]): At {
  return { kind: at.kind, path: [...at.path, ...keys] };
}

function mergeList(original: unknown, patch: unknown[], at: At): unknown[] {
  const { kind, path } = at;
  for (const item of patch) if (isObject(item)) directiveOf(item);
  const strategy = listStrategy(kind, path);
  if (strategy === undefined) return stripListDirectives(patch);
  const base = Array.isArray(original) ? [...original] : [];
  if (strategy.type === 'set') {
    for (const v of patch) if (!base.some((b) => isDeepStrictEqual(b, v))) base.push(structuredClone(v));
    return base;
  }
  const key = strategy.key;
  if (patch.some((p) => isObject(p) && directiveOf(p) === 'replace')) {
    return patch.filter((p) => !(isObject(p) && directiveOf(p) === 'replace')).map(stripDirectives);
  }
  let result = base;
  for (const item of patch) {
    if (!isObject(item)) continue;
    if (directiveOf(item) === 'delete') {
      result = result.filter((r) => !sameKey(r, item, key));
      continue;
    }
    const i = result.findIndex((r) => sameKey(r, item, key));
    if (i >= 0) result[i] = mergeValue(result[i], item, under(at, '[]'));
    else result.push(mergeValue({}, item, under(at, '[]')));
  }
  return result;
}

function reorder(list: unknown[], order: unknown[], key: string | undefined): unknown[] {
  const position = (item: unknown): number =>
    order.findIndex((o) => (key !== undefined ? sameKey(o, item, key) : isDeepStrictEqual(o, item)));
  const listed = list.filter((i) => position(i) >= 0).sort((a, b) => position(a) - position(b));
  const others = list.filter((i) => position(i) < 0);
  return [...listed, ...others];
}

function isDirectiveKey(k: string): boolean {
  return k === DIRECTIVE || k === RETAIN || k.startsWith(ORDER) || k.startsWith(DELETE_PRIMITIVE);
}

function mergeValue(original: unknown, patch: unknown, at: At): unknown {
  const { kind, path } = at;
  if (Array.isArray(patch)) return mergeList(original, patch, at);
  if (!isObject(patch)) return structuredClone(patch);
  const directive = directiveOf(patch);
  if (directive === 'replace') return stripDirectives(patch);
  if (directive === 'delete') return undefined;
  const result: Record<string, unknown> = isObject(original) ? { ...original } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (isForbiddenKey(k)) throw forbiddenKeyError(k, path.join('.'));
    if (isDirectiveKey(k)) continue;
    if (v === null) {
      Reflect.deleteProperty(result, k);
      continue;
    }
    const merged = mergeValue(own(result, k), v, under(at, k));
    if (merged === undefined) Reflect.deleteProperty(result, k);
    else result[k] = merged;
  }
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith(DELETE_PRIMITIVE)) {
      const field = directiveField(k, DELETE_PRIMITIVE);
      if (!Array.isArray(v)) throw badRequest(`Invalid patch format of primitive list: ${k} must be a list`);
      const cur = own(result, field);
      if (Array.isArray(cur)) result[field] = cur.filter((x) => !v.some((d) => isDeepStrictEqual(d, x)));
    }
    if (k.startsWith(ORDER)) {
      const field = directiveField(k, ORDER);
      if (!Array.isArray(v)) throw badRequest(`invalid patch format of setElementOrder list: ${k} must be a list`);
      const cur = own(result, field);
      if (Array.isArray(cur)) result[field] = reorder(cur, v, mergeKeyFor(kind, [...path, field]));
    }
  }
  const retain = own(patch, RETAIN);
  if (retain !== undefined) {
    if (!Array.isArray(retain) || !retain.every((x) => typeof x === 'string'))
      throw badRequest('invalid patch format of retainKeys: $retainKeys must be a list of strings');
    for (const k of Object.keys(result)) if (!retain.includes(k)) Reflect.deleteProperty(result, k);
  }
  return result;
}

export function applyStrategicMergePatch(original: unknown, patch: unknown, kind: KindRef): unknown {
  checkPlainData(patch);
  return mergeValue(structuredClone(original), patch, { kind, path: [] });
}

// ---- computing patches (client-side apply) -------------------------------------------------

interface DiffOptions {
  /** Leave out keys present only in the old side (three-way: current's extra fields). */
  ignoreDeletions: boolean;
  /** Keep only deletions (three-way: what was dropped from last-applied). */
  onlyDeletions: boolean;
}

function diff(a: unknown, b: unknown, at: At & { opts: DiffOptions }): Record<string, unknown> | undefined {
  const { path, opts } = at;
  if (!isObject(a) || !isObject(b)) return undefined;
  const patch: Record<string, unknown> = {};
  for (const [k, bv] of Object.entries(b)) {
    if (isForbiddenKey(k)) throw forbiddenKeyError(k, path.join('.'));
    const av = own(a, k);
    if (av === undefined) {
      if (!opts.onlyDeletions) patch[k] = structuredClone(bv);
      continue;
    }
    if (isObject(av) && isObject(bv)) {
      const sub = diff(av, bv, { ...under(at, k), opts });
      if (sub !== undefined) patch[k] = sub;
    } else if (Array.isArray(av) && Array.isArray(bv)) {
      diffList({ a: av, b: bv }, { ...under(at, k), opts }, { patch, field: k });
    } else if (!isDeepStrictEqual(av, bv) && !opts.onlyDeletions) {
      patch[k] = structuredClone(bv);
    }
  }
  if (!opts.ignoreDeletions) for (const k of Object.keys(a)) if (!Object.hasOwn(b, k)) patch[k] = null;
  return Object.keys(patch).length > 0 ? patch : undefined;
}

/** Diffs list `a` against list `b`, writing into `out.patch` under `out.field`. */
function diffList(
  lists: { a: unknown[]; b: unknown[] },
  at: At & { opts: DiffOptions },
  out: { patch: Record<string, unknown>; field: string },
): void {
  const { a, b } = lists;
  const { kind, path, opts } = at;
  const { patch, field } = out;
  const strategy = listStrategy(kind, path);
  if (strategy === undefined) {
    if (!isDeepStrictEqual(a, b) && !opts.onlyDeletions) patch[field] = structuredClone(b);
    return;
  }
  if (strategy.type === 'set') {
    const added = b.filter((x) => !a.some((y) => isDeepStrictEqual(x, y)));
    const removed = a.filter((x) => !b.some((y) => isDeepStrictEqual(x, y)));
    if (added.length > 0 && !opts.onlyDeletions) patch[field] = added;
    if (removed.length > 0 && !opts.ignoreDeletions) patch[DELETE_PRIMITIVE + field] = removed;
    return;
  }
  const key = strategy.key;
  const items: unknown[] = [];
  for (const bi of b) {
    if (!isObject(bi)) continue;
    const ai = a.find((x) => sameKey(x, bi, key));
    if (ai === undefined) {
      if (!opts.onlyDeletions) items.push(structuredClone(bi));
      continue;
    }
    const sub = diff(ai, bi, { ...under(at, '[]'), opts });
    if (sub !== undefined) items.push({ [key]: bi[key], ...sub });
  }
  if (!opts.ignoreDeletions) {
    for (const ai of a)
      if (isObject(ai) && !b.some((x) => sameKey(x, ai, key))) items.push({ [DIRECTIVE]: 'delete', [key]: ai[key] });
  }
  if (items.length > 0) {
    patch[field] = items;
    if (!opts.onlyDeletions) patch[ORDER + field] = b.filter(isObject).map((x) => ({ [key]: x[key] }));
  }
}

/** Deep-merges two patches (the deletions and the changes of a three-way patch). */
function combine(
  x: Record<string, unknown> | undefined,
  y: Record<string, unknown> | undefined,
  at: At,
): Record<string, unknown> | undefined {
  const { kind, path } = at;
  if (x === undefined) return y;
  if (y === undefined) return x;
  const out: Record<string, unknown> = { ...x };
  for (const [k, v] of Object.entries(y)) {
    const cur = own(out, k);
    if (isObject(cur) && isObject(v)) out[k] = combine(cur, v, under(at, k));
    else if (Array.isArray(cur) && Array.isArray(v)) {
      const key = mergeKeyFor(kind, [...path, k]);
      const merged = [...cur];
      for (const item of v) {
        const i = key === undefined ? -1 : merged.findIndex((m) => sameKey(m, item, key));
        const same = merged[i];
        if (i >= 0 && isObject(same) && isObject(item)) merged[i] = combine(same, item, under(at, k, '[]'));
        else merged.push(item);
      }
      out[k] = merged;
    } else out[k] = v;
  }
  return out;
}

/** The three objects of a three-way patch. */
export interface ThreeWayObjects {
  /** The last-applied configuration. */
  original: unknown;
  /** The new manifest. */
  modified: unknown;
  /** The live object. */
  current: unknown;
}

/**
 * The patch client-side apply sends: changes from the live object to the new manifest
 * (fields only the live object has are left alone) plus the deletions of fields that were
 * in the last-applied configuration and are no longer in the manifest. `{}` when nothing
 * changes.
 */
export function createThreeWayStrategicMergePatch(objects: ThreeWayObjects, kind: KindRef): Record<string, unknown> {
  const { original, modified, current } = objects;
  const root = { kind, path: [] };
  const changes = diff(current, modified, { ...root, opts: { ignoreDeletions: true, onlyDeletions: false } });
  const deletions = diff(original, modified, { ...root, opts: { ignoreDeletions: false, onlyDeletions: true } });
  return combine(deletions, changes, root) ?? {};
}
