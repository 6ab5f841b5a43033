// Server-side apply (PATCH with application/apply-patch+yaml), in a reduced form:
// - the object is created when absent (kubectl --server-side requires it);
// - each apply manager's fields are recorded in managedFields (FieldsV1 format: `f:<field>`,
//   `k:{"name":"c"}` for list items keyed by their merge key, `.` for the item itself);
// - fields a manager applied before and omits now are removed from the object;
// - a field another apply manager owns and this apply sets to a different value is a 409
//   Conflict (FieldManagerConflict) unless force=true, which moves the ownership.
// What is not modelled: ownership by Update operations (kubectl edit/scale/patch), so those
// never conflict with an apply.

import { isDeepStrictEqual } from 'node:util';
import { own } from '../api/decode/index.js';
import { deepCopy, isObject, type KubeObject, rfc3339 } from '../api/meta.js';
import { applyStrategicMergePatch, mergeKeyFor } from '../api/patch/index.js';
import type { ResourceInfo } from '../api/registry.js';
import { ApiError, badRequest, type StatusCause } from '../errors/index.js';
import { duplicateFields } from './body.js';
import { admitPatched, checkTypeMeta, isKubeObject } from './admit-body.js';
import type { RestStore } from './rest-store.js';
import type { ObjectRef, WriteOptions } from './rest-types.js';

type FieldTree = { [segment: string]: FieldTree };

interface ManagedFieldsEntry {
  manager: string;
  operation: string;
  apiVersion?: string;
  time?: string;
  fieldsType?: string;
  fieldsV1?: FieldTree;
  subresource?: string;
}

export interface ApplyOptions extends WriteOptions {
  fieldManager: string;
  force: boolean;
}

/** A server-side apply: the applied configuration, and how. */
export interface ApplyRequest extends ApplyOptions {
  body: unknown;
}

export interface ApplyResult {
  object: KubeObject;
  created: boolean;
  warnings: string[];
}

/** The fields an applied configuration sets, as a FieldsV1 tree. */
export function fieldTree(value: unknown, kind: { group: string; kind: string }, path: string[] = []): FieldTree {
  const tree: FieldTree = {};
  if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      if (path.length === 0 && (k === 'apiVersion' || k === 'kind')) continue;
      if (
        path.length === 1 &&
        path[0] === 'metadata' &&
        (k === 'name' || k === 'namespace' || k === 'managedFields' || k === 'resourceVersion')
      )
        continue;
      tree[`f:${k}`] = fieldTree(v, kind, [...path, k]);
    }
    return tree;
  }
  if (Array.isArray(value)) {
    const key = mergeKeyFor(kind, path);
    if (key === undefined) return tree; // atomic list: owned as a whole
    for (const item of value) {
      if (isObject(item) && item[key] !== undefined) {
        tree[`k:${JSON.stringify({ [key]: item[key] })}`] = { '.': {}, ...fieldTree(item, kind, [...path, '[]']) };
      } else if (!isObject(item)) {
        tree[`v:${JSON.stringify(item)}`] = {};
      }
    }
  }
  return tree;
}

/** A `k:`/`v:` segment's JSON; undefined when it is not JSON (managedFields a client wrote). */
function segmentValue(segment: string): unknown {
  try {
    const value: unknown = JSON.parse(segment.slice(2));
    return value;
  } catch {
    return undefined;
  }
}

function listItemIndex(list: unknown[], segment: string): number {
  if (segment.startsWith('k:')) {
    const key = segmentValue(segment);
    if (!isObject(key)) return -1;
    return list.findIndex(
      (item) => isObject(item) && Object.entries(key).every(([k, v]) => isDeepStrictEqual(own(item, k), v)),
    );
  }
  if (segment.startsWith('v:')) {
    const v = segmentValue(segment);
    return v === undefined ? -1 : list.findIndex((item) => isDeepStrictEqual(item, v));
  }
  return -1;
}

/** Removes from `live` what `previous` owned and `next` no longer sets. */
function removeStale(live: unknown, previous: FieldTree, next: FieldTree): void {
  for (const [segment, sub] of Object.entries(previous)) {
    if (segment === '.') continue;
    const kept = Object.hasOwn(next, segment) ? next[segment] : undefined;
    if (isObject(live) && segment.startsWith('f:')) {
      const field = segment.slice(2);
      if (kept === undefined) Reflect.deleteProperty(live, field);
      else removeStale(own(live, field), sub, kept);
    } else if (Array.isArray(live)) {
      const i = listItemIndex(live, segment);
      if (i < 0) continue;
      if (kept === undefined) live.splice(i, 1);
      else removeStale(live[i], sub, kept);
    }
  }
}

/** Leaf paths of a tree (for conflict reporting), e.g. `.spec.replicas`. */
function leaves(tree: FieldTree, prefix = ''): string[] {
  const out: string[] = [];
  for (const [segment, sub] of Object.entries(tree)) {
    if (segment === '.') continue;
    const name = segment.startsWith('f:') ? `.${segment.slice(2)}` : `[${segment.slice(2)}]`;
    const children = Object.keys(sub).filter((k) => k !== '.');
    if (children.length === 0) out.push(prefix + name);
    else out.push(...leaves(sub, prefix + name));
  }
  return out;
}

function valueAt(obj: unknown, tree: FieldTree, leaf: string[]): unknown {
  let cur: unknown = obj;
  for (const segment of leaf) {
    if (segment.startsWith('f:') && isObject(cur)) cur = own(cur, segment.slice(2));
    else if (Array.isArray(cur)) {
      const i = listItemIndex(cur, segment);
      cur = i < 0 ? undefined : cur[i];
    } else return undefined;
  }
  void tree;
  return cur;
}

function leafSegments(tree: FieldTree, prefix: string[] = []): string[][] {
  const out: string[][] = [];
  for (const [segment, sub] of Object.entries(tree)) {
    if (segment === '.') continue;
    const children = Object.keys(sub).filter((k) => k !== '.');
    if (children.length === 0) out.push([...prefix, segment]);
    else out.push(...leafSegments(sub, [...prefix, segment]));
  }
  return out;
}

function hasPath(tree: FieldTree, segments: string[]): boolean {
  let cur: FieldTree | undefined = tree;
  for (const s of segments) {
    cur = cur !== undefined && Object.hasOwn(cur, s) ? cur[s] : undefined;
    if (cur === undefined) return false;
  }
  return true;
}

function removePath(tree: FieldTree, segments: string[]): void {
  const [head, ...rest] = segments;
  if (head === undefined || !Object.hasOwn(tree, head)) return;
  const sub = tree[head];
  if (sub === undefined) return;
  if (rest.length === 0) Reflect.deleteProperty(tree, head);
  else {
    removePath(sub, rest);
    if (Object.keys(sub).filter((k) => k !== '.').length === 0) Reflect.deleteProperty(tree, head);
  }
}

/** A FieldsV1 tree: objects of objects (managedFields are client-writable, so check). */
function isFieldTree(value: unknown): value is FieldTree {
  return isObject(value) && Object.values(value).every(isFieldTree);
}

function entriesOf(obj: KubeObject): ManagedFieldsEntry[] {
  return (obj.metadata.managedFields ?? []).filter(
    (e): e is ManagedFieldsEntry =>
      isObject(e) && typeof e['manager'] === 'string' && (e['fieldsV1'] === undefined || isFieldTree(e['fieldsV1'])),
  );
}

export class ApplyManager {
  private readonly store: RestStore;
  private readonly now: () => Date;

  constructor(store: RestStore, now: () => Date) {
    this.store = store;
    this.now = now;
  }

  async apply(r: ResourceInfo, ref: ObjectRef, req: ApplyRequest): Promise<ApplyResult> {
    const { namespace, name } = ref;
    const { body, ...opts } = req;
    if (!isObject(body)) throw badRequest('the applied configuration must be an object');
    checkTypeMeta(r, body);
    const copy = deepCopy(body);
    const applied: KubeObject = { ...copy, metadata: isObject(copy['metadata']) ? copy['metadata'] : {} };
    if (applied.metadata.name !== undefined && applied.metadata.name !== name) {
      throw badRequest(
        `the name of the object (${String(applied.metadata.name)}) does not match the name on the URL (${name})`,
      );
    }
    applied.metadata.name = name;
    const duplicates = duplicateFields(body);
    const kind = { group: r.group, kind: r.kind };
    const tree = fieldTree(applied, kind);
    const entry = (): ManagedFieldsEntry => ({
      manager: opts.fieldManager,
      operation: 'Apply',
      apiVersion: applied.apiVersion,
      time: rfc3339(this.now()),
      fieldsType: 'FieldsV1',
      fieldsV1: tree,
    });

    if ((await this.store.find(r, namespace, name)) === undefined) {
      const toCreate = deepCopy(applied);
      toCreate.metadata.managedFields = [entry()];
      const writeOpts: WriteOptions = { ...opts, duplicateFields: duplicates };
      delete writeOpts.fieldManager;
      try {
        const result = await this.store.create(r, { namespace, body: toCreate }, writeOpts);
        return { ...result, created: true };
      } catch (err) {
        if (!(err instanceof ApiError && err.reason === 'AlreadyExists')) throw err;
        // Lost a race with another creator: fall through to an update.
      }
    }

    const warnings: string[] = [];
    const writeOpts: WriteOptions = { ...opts };
    delete writeOpts.fieldManager;
    const object = await this.store.guaranteedUpdate(r, ref, {
      ...writeOpts,
      warnings,
      mutate: (current) => {
        const entries = entriesOf(current);
        const mine = entries.find((e) => e.manager === opts.fieldManager && e.operation === 'Apply');
        const others = entries.filter((e) => e !== mine && e.operation === 'Apply');
        const causes: StatusCause[] = [];
        for (const leaf of leafSegments(tree)) {
          const wanted = valueAt(applied, tree, leaf);
          const live = valueAt(current, tree, leaf);
          if (isDeepStrictEqual(wanted, live)) continue;
          for (const other of others) {
            if (other.fieldsV1 === undefined || !hasPath(other.fieldsV1, leaf)) continue;
            if (opts.force) removePath(other.fieldsV1, leaf);
            else {
              const field = leaves(leaf.reduceRight<FieldTree>((acc, s) => ({ [s]: acc }), {}))[0] ?? '';
              causes.push({ reason: 'FieldManagerConflict', message: `conflict with "${other.manager}"`, field });
            }
          }
        }
        if (causes.length > 0) {
          const list = causes.map((c) => `- ${c.message ?? ''}: ${c.field ?? ''}`).join('\n');
          throw new ApiError(
            'Conflict',
            `Apply failed with ${causes.length} conflict${causes.length > 1 ? 's' : ''}: ${list}`,
            {
              details: {
                name,
                group: r.group,
                kind: r.plural,
                causes,
              },
            },
          );
        }
        const next = deepCopy(current);
        if (mine?.fieldsV1 !== undefined) removeStale(next, mine.fieldsV1, tree);
        const merged = applyStrategicMergePatch(next, applied, kind);
        if (!isKubeObject(merged)) throw new ApiError('InternalError', 'the applied configuration lost its metadata');
        admitPatched({ r, next: merged, current }, { mode: opts.fieldValidation, duplicates, warnings });
        merged.metadata.managedFields = [
          ...others.filter((e) => e.fieldsV1 === undefined || Object.keys(e.fieldsV1).length > 0),
          ...entries.filter((e) => e.operation !== 'Apply'),
          entry(),
        ];
        return merged;
      },
    });
    return { object, created: false, warnings };
  }
}
