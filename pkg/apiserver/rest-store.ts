// The generic REST layer: every verb on every resource, independent of HTTP. It turns
// requests into store operations with Kubernetes' semantics: defaulting, type checks,
// field validation, validation, optimistic concurrency (resourceVersion), generation,
// status vs main resource, namespace lifecycle, graceful and finalizer-staged deletion,
// and the subresources binding, scale, eviction and finalize.

import { randomUUID, randomInt } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { applyDefaults } from '../api/defaults.js';
import { deepCopy, isObject, type DeleteOptions, type KubeList, type KubeObject, rfc3339 } from '../api/meta.js';
import { applyPatch } from '../api/patch/index.js';
import { apiVersionOf, findByPlural, storageKey, type ResourceInfo } from '../api/registry.js';
import { checkTypes, pruneUnknownFields } from '../api/schema.js';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from '../api/selectors.js';
import { validateObject, validateUpdate } from '../api/validation.js';
import {
  alreadyExists,
  ApiError,
  badRequest,
  conflict,
  expired,
  invalid,
  notFound,
  type StatusCause,
} from '../errors/index.js';
import { isStorageError, type Store, type StoreEvent, type WatchHandle } from '../storage/store.js';
import { duplicateFields } from './body.js';
import { dryRunWrites, type StoreWrites } from './dry-run.js';
import { isDryRun, parseResourceVersion } from './request-options.js';
import { awaitRevision } from './freshness.js';
import {
  FOREGROUND_FINALIZER,
  NAMESPACE_FINALIZER,
  normalize,
  ORPHAN_FINALIZER,
  podGracePeriod,
  prepareForCreate,
  prepareForStatusUpdate,
  prepareForUpdate,
} from './strategy.js';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export interface WriteOptions {
  fieldManager?: string;
  fieldValidation?: FieldValidation;
  dryRun?: boolean;
  /** Duplicate keys of the decoded body, when the body given is a copy of it (apply). */
  duplicateFields?: string[];
}

export interface WriteResult {
  object: KubeObject;
  warnings: string[];
}

export interface Selectors {
  labelSelector?: string;
  fieldSelector?: string;
}

export interface WatchRequest extends Selectors {
  /** Start after this revision; undefined or '0' → first replay the current state as ADDED. */
  resourceVersion?: string;
}

export type WatchListener = (event: { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: KubeObject }) => void;

const NAMESPACES = findByPlural('', 'v1', 'namespaces');
const PODS = findByPlural('', 'v1', 'pods');

function requireResource(r: ResourceInfo | undefined, what: string): ResourceInfo {
  if (r === undefined) throw new Error(`registry lacks ${what}`);
  return r;
}

const GENERATE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';


function objectKind(r: ResourceInfo): string {
  return r.kind;
}

/** A filter built from label and field selectors (both optional). */
export function buildFilter(sel: Selectors): (obj: KubeObject) => boolean {
  const labels = sel.labelSelector ? parseLabelSelector(sel.labelSelector) : undefined;
  const fields = sel.fieldSelector ? parseFieldSelector(sel.fieldSelector) : undefined;
  return (obj) =>
    (labels === undefined || matchesLabels(labels, obj.metadata.labels)) && (fields === undefined || matchesFields(fields, obj));
}

/** Resource-specific side effects around writes (e.g. Service IP and port allocation). */
export interface WriteHooks {
  /** Before a create is stored; returns an undo for when the write fails. */
  beforeCreate?(r: ResourceInfo, obj: KubeObject): (() => void) | void;
  /** Before an update is validated: may carry fields over from the stored object. */
  beforeUpdate?(r: ResourceInfo, next: KubeObject, prev: KubeObject): void;
  /** After an object is gone from the store. */
  afterDelete?(r: ResourceInfo, obj: KubeObject): void;
}

export class RestStore {
  private readonly store: Store;
  private readonly now: () => Date;
  private readonly hooks: WriteHooks;

  constructor(store: Store, options: { now?: () => Date; hooks?: WriteHooks } = {}) {
    this.store = store;
    this.now = options.now ?? (() => new Date());
    this.hooks = options.hooks ?? {};
  }

  // ---- reads ---------------------------------------------------------------------------

  async get(r: ResourceInfo, namespace: string | undefined, name: string): Promise<KubeObject> {
    const item = await this.store.get(storageKey(r, namespace, name));
    if (item === undefined) throw notFound(r.plural, r.group, name);
    return withType(r, item.object);
  }

  /** Like get, but undefined when there is no such object (for the server's own lookups). */
  async find(r: ResourceInfo, namespace: string | undefined, name: string): Promise<KubeObject | undefined> {
    const item = await this.store.get(storageKey(r, namespace, name));
    return item === undefined ? undefined : withType(r, item.object);
  }

  async list(r: ResourceInfo, namespace: string | undefined, sel: Selectors): Promise<KubeList> {
    const filter = buildFilter(sel);
    const result = await this.store.list(storageKey(r, namespace));
    const items = result.items.map((i) => withType(r, i.object)).filter(filter);
    return { kind: r.listKind, apiVersion: apiVersionOf(r), metadata: { resourceVersion: String(result.revision) }, items };
  }

  /**
   * Streams changes. Objects entering the selection arrive as ADDED, leaving it as DELETED,
   * as Kubernetes' watch filtering does. Returns a handle; errors (e.g. Expired) are reported
   * through onError.
   */
  async watch(
    r: ResourceInfo,
    namespace: string | undefined,
    req: WatchRequest,
    listener: WatchListener,
    onError: (err: ApiError) => void,
  ): Promise<WatchHandle> {
    const filter = buildFilter(req);
    const prefix = storageKey(r, namespace);
    let from: number;
    if (req.resourceVersion === undefined || req.resourceVersion === '' || req.resourceVersion === '0') {
      const current = await this.store.list(prefix);
      for (const item of current.items) {
        const obj = withType(r, item.object);
        if (filter(obj)) listener({ type: 'ADDED', object: obj });
      }
      from = current.revision;
    } else {
      from = parseResourceVersion(req.resourceVersion);
      await this.awaitRevision(from);
    }
    const onEvent = (ev: StoreEvent): void => {
      const now = filter(ev.object);
      const before = ev.prevObject !== undefined && filter(ev.prevObject);
      const obj = withType(r, ev.object);
      if (ev.type === 'ADDED') {
        if (now) listener({ type: 'ADDED', object: obj });
      } else if (ev.type === 'DELETED') {
        if (before || now) listener({ type: 'DELETED', object: obj });
      } else if (now && before) listener({ type: 'MODIFIED', object: obj });
      else if (now) listener({ type: 'ADDED', object: obj });
      else if (before) listener({ type: 'DELETED', object: obj });
    };
    try {
      return this.store.watch(prefix, from, {
        onEvent,
        onError: (err) => onError(storageToApiError(err, r, '')),
      });
    } catch (err) {
      if (isStorageError(err, 'Compacted')) throw expired(from, err.revision ?? 0);
      throw storageToApiError(err, r, '');
    }
  }

  /** Waits (briefly) until the store has reached a requested resourceVersion; 504 if it does not. */
  async awaitRevision(revision: number | undefined): Promise<void> {
    if (revision !== undefined && revision > 0) await awaitRevision(this.store, revision);
  }

  // ---- create ---------------------------------------------------------------------------

  async create(r: ResourceInfo, namespace: string | undefined, body: unknown, opts: WriteOptions = {}): Promise<WriteResult> {
    const obj = this.decode(r, namespace, body);
    const warnings = this.checkFields(r, obj, opts.fieldValidation, opts.duplicateFields ?? duplicateFields(body));
    applyDefaults(obj);
    normalize(obj);
    if (!obj.metadata.name && obj.metadata.generateName) {
      obj.metadata.name = obj.metadata.generateName + randomSuffix();
    }
    const name = obj.metadata.name ?? '';
    const causes = validateObject(obj, r);
    if (causes.length > 0) throw invalid(objectKind(r), r.group, name, causes);
    if (r.namespaced) await this.requireActiveNamespace(obj.metadata.namespace ?? '');
    prepareForCreate(r, obj);
    const meta = obj.metadata;
    meta.uid = randomUUID();
    meta.creationTimestamp = rfc3339(this.now());
    delete meta.resourceVersion;
    if (opts.fieldManager !== undefined) recordManager(obj, opts.fieldManager, 'Update', this.now());
    // An existing name is AlreadyExists, before any allocation could complain about it.
    if ((await this.store.get(storageKey(r, meta.namespace, name))) !== undefined) throw alreadyExists(r.plural, r.group, name);
    const undo = this.hooks.beforeCreate?.(r, obj);
    try {
      const item = await this.writes(opts).create(storageKey(r, meta.namespace, name), obj);
      // A dry run shows what would be allocated, then gives it back.
      if (opts.dryRun && undo) undo();
      return { object: withType(r, item.object), warnings };
    } catch (err) {
      if (undo) undo();
      throw storageToApiError(err, r, name);
    }
  }

  // ---- update / patch -------------------------------------------------------------------

  /** PUT: replaces the object (or only its status with subresource 'status'). */
  async update(
    r: ResourceInfo,
    namespace: string | undefined,
    name: string,
    body: unknown,
    opts: WriteOptions & { subresource?: 'status' } = {},
  ): Promise<WriteResult> {
    const incoming = this.decode(r, namespace, body);
    if (incoming.metadata.name !== undefined && incoming.metadata.name !== name) {
      throw badRequest(`the name of the object (${incoming.metadata.name}) does not match the name on the URL (${name})`);
    }
    incoming.metadata.name = name;
    const warnings = this.checkFields(r, incoming, opts.fieldValidation, duplicateFields(body));
    const expected = incoming.metadata.resourceVersion;
    const object = await this.guaranteedUpdate(r, namespace, name, opts, expected, (current) => {
      // A uid in the body is a precondition, as Kubernetes' update takes it.
      const uid = incoming.metadata.uid;
      if (uid !== undefined && uid !== '' && uid !== current.metadata.uid) {
        throw conflict(r.plural, r.group, name, `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${current.metadata.uid ?? ''}`);
      }
      const next = deepCopy(incoming);
      applyDefaults(next);
      return opts.subresource === 'status' ? prepareForStatusUpdate(next, current) : next;
    }, opts.subresource);
    return { object, warnings };
  }

  /** PATCH with a JSON, merge or strategic-merge patch (server-side apply: see apply()). */
  async patch(
    r: ResourceInfo,
    namespace: string | undefined,
    name: string,
    contentType: string,
    patchBody: unknown,
    opts: WriteOptions & { subresource?: 'status' } = {},
  ): Promise<WriteResult> {
    const warnings: string[] = [];
    const object = await this.guaranteedUpdate(r, namespace, name, opts, undefined, (current) => {
      const patched = applyPatch(contentType, deepCopy(current), patchBody, { group: r.group, kind: r.kind });
      if (!isObject(patched) || !isObject(patched['metadata'])) throw badRequest('the patch produced something that is not an object');
      const next = patched as KubeObject;
      this.admitPatched(r, next, current, { mode: opts.fieldValidation, duplicates: duplicateFields(patchBody), warnings });
      applyDefaults(next);
      return opts.subresource === 'status' ? prepareForStatusUpdate(next, current) : next;
    }, opts.subresource);
    return { object, warnings };
  }

  /**
   * The retry loop behind every update: read the live object, compute the next state,
   * validate, compare-and-swap on the read revision. A caller-supplied resourceVersion makes
   * a mismatch a 409 Conflict; without one, conflicts are retried.
   */
  async guaranteedUpdate(
    r: ResourceInfo,
    namespace: string | undefined,
    name: string,
    opts: WriteOptions,
    expectedResourceVersion: string | undefined,
    mutate: (current: KubeObject) => KubeObject,
    subresource?: string,
  ): Promise<KubeObject> {
    const key = storageKey(r, namespace, name);
    if (expectedResourceVersion !== undefined && expectedResourceVersion !== '') checkResourceVersion(expectedResourceVersion);
    for (let attempt = 0; ; attempt++) {
      const item = await this.store.get(key);
      if (item === undefined) throw notFound(r.plural, r.group, name);
      if (expectedResourceVersion !== undefined && expectedResourceVersion !== '' && expectedResourceVersion !== String(item.revision)) {
        throw conflict(r.plural, r.group, name);
      }
      const current = item.object;
      const next = mutate(deepCopy(current));
      normalize(next);
      this.hooks.beforeUpdate?.(r, next, current);
      if (subresource !== 'status') prepareForUpdate(r, next, current);
      next.metadata.resourceVersion = current.metadata.resourceVersion;
      if (next.apiVersion === undefined || next.kind === undefined) Object.assign(next, { apiVersion: apiVersionOf(r), kind: r.kind });
      const causes = [...validateObject(next, r), ...validateUpdate(next, current, r)];
      if (causes.length > 0) throw invalid(objectKind(r), r.group, name, causes);
      if (isDeepStrictEqual(stripVolatile(next), stripVolatile(current))) return withType(r, current);
      if (opts.fieldManager !== undefined) recordManager(next, opts.fieldManager, 'Update', this.now(), subresource);
      const writes = this.writes(opts);
      try {
        // An object waiting only for its finalizers goes once the last one is removed.
        if (next.metadata.deletionTimestamp !== undefined && (next.metadata.finalizers ?? []).length === 0 && !awaitsAgent(r, next)) {
          const deleted = await writes.delete(key, item.revision);
          if (!opts.dryRun) this.hooks.afterDelete?.(r, deleted.object);
          return withType(r, deleted.object);
        }
        const stored = await writes.update(key, next, item.revision);
        return withType(r, stored.object);
      } catch (err) {
        if (isStorageError(err, 'Conflict') && (expectedResourceVersion === undefined || expectedResourceVersion === '') && attempt < 20) continue;
        throw storageToApiError(err, r, name);
      }
    }
  }

  // ---- delete ---------------------------------------------------------------------------

  /**
   * Deletes, staged as Kubernetes does: a scheduled pod first gets a deletionTimestamp and
   * waits for its node agent; an object with finalizers (or a propagation policy that needs
   * the garbage collector) waits for them; a namespace waits for the namespace controller.
   * Returns the object and whether it is gone from the store.
   */
  async delete(r: ResourceInfo, namespace: string | undefined, name: string, opts: DeleteOptions = {}): Promise<{ object: KubeObject; deleted: boolean }> {
    const key = storageKey(r, namespace, name);
    for (let attempt = 0; ; attempt++) {
      const item = await this.store.get(key);
      if (item === undefined) throw notFound(r.plural, r.group, name);
      const current = item.object;
      const pre = opts.preconditions;
      if (pre?.uid !== undefined && pre.uid !== current.metadata.uid) {
        throw conflict(r.plural, r.group, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.metadata.uid ?? ''}`);
      }
      if (pre?.resourceVersion !== undefined && pre.resourceVersion !== String(item.revision)) {
        throw conflict(r.plural, r.group, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${item.revision}`);
      }
      const next = deepCopy(current);
      const staged = this.stageDeletion(r, next, opts);
      const dryRun = isDryRun(opts);
      const writes = this.writes({ dryRun });
      try {
        if (staged) {
          if (isDeepStrictEqual(next, current)) return { object: withType(r, current), deleted: false };
          const stored = await writes.update(key, next, item.revision);
          return { object: withType(r, stored.object), deleted: false };
        }
        const deleted = await writes.delete(key, item.revision);
        if (!dryRun) this.hooks.afterDelete?.(r, deleted.object);
        return { object: withType(r, deleted.object), deleted: true };
      } catch (err) {
        if ((isStorageError(err, 'Conflict') || isStorageError(err, 'KeyNotFound')) && attempt < 20) {
          if (isStorageError(err, 'KeyNotFound')) throw notFound(r.plural, r.group, name);
          continue;
        }
        throw storageToApiError(err, r, name);
      }
    }
  }

  /** Mutates obj into its "deleting" state; returns false when it can be removed right away. */
  private stageDeletion(r: ResourceInfo, obj: KubeObject, opts: DeleteOptions): boolean {
    const meta = obj.metadata;
    const now = this.now();
    if (r.kind === 'Namespace') {
      meta.deletionTimestamp ??= rfc3339(now);
      obj['status'] = { ...(isObject(obj['status']) ? obj['status'] : {}), phase: 'Terminating' };
      const spec = isObject(obj['spec']) ? obj['spec'] : {};
      const finalizers = Array.isArray(spec['finalizers']) ? (spec['finalizers'] as string[]) : [];
      if (finalizers.length === 0 && (meta.finalizers ?? []).length === 0) return false;
      return true;
    }
    const finalizers = [...(meta.finalizers ?? [])];
    if (meta.deletionTimestamp === undefined) {
      const policy = opts.propagationPolicy;
      if (policy === 'Orphan' && !finalizers.includes(ORPHAN_FINALIZER)) finalizers.push(ORPHAN_FINALIZER);
      if (policy === 'Foreground' && !finalizers.includes(FOREGROUND_FINALIZER)) finalizers.push(FOREGROUND_FINALIZER);
    }
    if (finalizers.length > 0) meta.finalizers = finalizers;
    if (r.kind === 'Pod') {
      const grace = podGracePeriod(obj, opts.gracePeriodSeconds);
      if (meta.deletionTimestamp !== undefined) {
        // Already terminating: a shorter grace period (e.g. the agent's final 0) takes effect.
        const old = meta.deletionGracePeriodSeconds ?? 0;
        if (grace < old) {
          meta.deletionGracePeriodSeconds = grace;
          meta.deletionTimestamp = rfc3339(new Date(now.getTime() + grace * 1000));
        }
        if (grace === 0 && finalizers.length === 0) return false;
        return true;
      }
      if (grace > 0) {
        meta.deletionGracePeriodSeconds = grace;
        meta.deletionTimestamp = rfc3339(new Date(now.getTime() + grace * 1000));
        return true;
      }
      if (finalizers.length > 0) {
        meta.deletionGracePeriodSeconds = 0;
        meta.deletionTimestamp = rfc3339(now);
        return true;
      }
      return false;
    }
    if (finalizers.length > 0) {
      meta.deletionTimestamp ??= rfc3339(now);
      meta.deletionGracePeriodSeconds ??= 0;
      return true;
    }
    return false;
  }

  async deleteCollection(r: ResourceInfo, namespace: string | undefined, sel: Selectors, opts: DeleteOptions = {}): Promise<KubeList> {
    const list = await this.list(r, namespace, sel);
    const items: KubeObject[] = [];
    for (const obj of list.items) {
      try {
        const res = await this.delete(r, obj.metadata.namespace, obj.metadata.name ?? '', opts);
        items.push(res.object);
      } catch (err) {
        if (!(err instanceof ApiError && err.reason === 'NotFound')) throw err;
      }
    }
    return { ...list, items };
  }

  // ---- subresources ---------------------------------------------------------------------

  /** pods/binding: assigns a pending pod to a node, once. */
  async bind(namespace: string, podName: string, body: unknown, opts: WriteOptions = {}): Promise<void> {
    if (!isObject(body) || !isObject(body['target']) || typeof body['target']['name'] !== 'string' || body['target']['name'] === '') {
      throw invalid('Binding', '', podName, [{ reason: 'FieldValueRequired', field: 'target.name', message: 'Required value' }]);
    }
    const nodeName = body['target']['name'];
    const pods = requireResource(PODS, 'pods');
    await this.guaranteedUpdate(pods, namespace, podName, opts, undefined, (pod) => {
      const spec = (pod['spec'] ?? {}) as Record<string, unknown>;
      if (pod.metadata.deletionTimestamp !== undefined) throw conflict('pods', '', podName, 'pod is being deleted, cannot be assigned to a host');
      if (typeof spec['nodeName'] === 'string' && spec['nodeName'] !== '') {
        throw conflict('pods', '', podName, `pod ${podName} is already assigned to node "${spec['nodeName']}"`);
      }
      spec['nodeName'] = nodeName;
      pod['spec'] = spec;
      const status = (pod['status'] ?? {}) as { conditions?: { type: string; status: string; lastTransitionTime?: string }[] };
      const conditions = (status.conditions ?? []).filter((c) => c.type !== 'PodScheduled');
      conditions.push({ type: 'PodScheduled', status: 'True', lastTransitionTime: rfc3339(this.now()) });
      pod['status'] = { ...status, conditions };
      return pod;
    }, 'binding');
  }

  /** The autoscaling/v1 Scale view of a workload. */
  async getScale(r: ResourceInfo, namespace: string, name: string): Promise<KubeObject> {
    return scaleOf(await this.get(r, namespace, name));
  }

  /** Writes spec.replicas from a Scale (PUT) or a patch of the Scale (PATCH). */
  async updateScale(
    r: ResourceInfo,
    namespace: string,
    name: string,
    change: { scale: unknown } | { contentType: string; patch: unknown },
    opts: WriteOptions,
  ): Promise<KubeObject> {
    const updated = await this.guaranteedUpdate(r, namespace, name, opts, 'scale' in change ? scaleResourceVersion(change.scale) : undefined, (obj) => {
      const current = scaleOf(obj);
      const wanted = 'scale' in change ? change.scale : applyPatch(change.contentType, deepCopy(current), change.patch, { group: 'autoscaling', kind: 'Scale' });
      const replicas = isObject(wanted) && isObject(wanted['spec']) ? wanted['spec']['replicas'] : undefined;
      if (typeof replicas === 'number' && !(Number.isInteger(replicas) && replicas <= 2 ** 31 - 1 && replicas >= -(2 ** 31))) {
        throw badRequest(`Scale in version "v1" cannot be handled as a Scale: cannot unmarshal number ${String(replicas)} into Go struct field spec.replicas of type int32`);
      }
      if (typeof replicas !== 'number' || replicas < 0) {
        throw invalid('Scale', 'autoscaling', name, [{ reason: 'FieldValueInvalid', field: 'spec.replicas', message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0` }]);
      }
      const spec = (obj['spec'] ?? {}) as Record<string, unknown>;
      spec['replicas'] = replicas;
      obj['spec'] = spec;
      return obj;
    });
    return scaleOf(updated);
  }

  /** namespaces/finalize: the namespace controller removes spec.finalizers; the namespace then goes. */
  async finalizeNamespace(name: string, body: unknown, opts: WriteOptions = {}): Promise<KubeObject> {
    const ns = requireResource(NAMESPACES, 'namespaces');
    const incoming = isObject(body) && isObject(body['spec']) ? body['spec']['finalizers'] : undefined;
    const finalizers = Array.isArray(incoming) ? incoming.filter((f): f is string => typeof f === 'string') : [];
    const key = storageKey(ns, undefined, name);
    const writes = this.writes(opts);
    for (let attempt = 0; attempt < 20; attempt++) {
      const item = await this.store.get(key);
      if (item === undefined) throw notFound('namespaces', '', name);
      const next = deepCopy(item.object);
      next['spec'] = { ...(isObject(next['spec']) ? next['spec'] : {}), finalizers };
      try {
        if (next.metadata.deletionTimestamp !== undefined && finalizers.length === 0 && (next.metadata.finalizers ?? []).length === 0) {
          return withType(ns, (await writes.delete(key, item.revision)).object);
        }
        return withType(ns, (await writes.update(key, next, item.revision)).object);
      } catch (err) {
        if (isStorageError(err, 'Conflict')) continue;
        throw storageToApiError(err, ns, name);
      }
    }
    throw conflict('namespaces', '', name);
  }

  async ensureNamespace(name: string): Promise<void> {
    const ns = requireResource(NAMESPACES, 'namespaces');
    const existing = await this.store.get(storageKey(ns, undefined, name));
    if (existing !== undefined) return;
    try {
      await this.create(ns, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    } catch (err) {
      if (!(err instanceof ApiError && err.reason === 'AlreadyExists')) throw err;
    }
  }

  // ---- helpers --------------------------------------------------------------------------

  /** Where a request's writes go: the store, or for a dry run nowhere (see dry-run.ts). */
  private writes(opts: { dryRun?: boolean }): StoreWrites {
    return opts.dryRun ? dryRunWrites(this.store) : this.store;
  }

  /** Checks a request body's shape and fills namespace/type from the path. */
  private decode(r: ResourceInfo, namespace: string | undefined, body: unknown): KubeObject {
    if (!isObject(body)) throw badRequest(`the body of the request was not a JSON object`);
    const obj = deepCopy(body) as Record<string, unknown>;
    if (obj['metadata'] === undefined) obj['metadata'] = {};
    if (!isObject(obj['metadata'])) throw badRequest(`${r.kind} in version "${r.version}" cannot be handled as a ${r.kind}: metadata must be an object`);
    checkTypeMeta(r, obj);
    obj['apiVersion'] = apiVersionOf(r);
    obj['kind'] = r.kind;
    const typed = obj as KubeObject;
    const meta = typed.metadata;
    if (r.namespaced) {
      if (meta.namespace !== undefined && meta.namespace !== '' && namespace !== undefined && meta.namespace !== namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      meta.namespace = namespace ?? meta.namespace;
      if (meta.namespace === undefined || meta.namespace === '') throw badRequest('a namespace must be given for a namespaced resource');
    } else {
      delete meta.namespace;
    }
    const typeCauses = checkTypes(typed);
    if (typeCauses.length > 0) {
      throw new ApiError('BadRequest', `${r.kind} in version "${r.version}" cannot be handled as a ${r.kind}: ${describeCauses(typeCauses)}`, {
        kind: r.kind,
        group: r.group,
        causes: typeCauses,
      });
    }
    return typed;
  }

  /**
   * Unknown fields are dropped from the object, as Kubernetes' decoder drops them; they and
   * duplicate keys of the body are an error (Strict), warnings (Warn, the default) or
   * nothing (Ignore).
   */
  private checkFields(r: ResourceInfo, obj: KubeObject, mode: FieldValidation | undefined, duplicates: string[]): string[] {
    const problems = [...pruneUnknownFields(obj).map((f) => `unknown field "${f}"`), ...duplicates.map((f) => `duplicate field "${f}"`)];
    if (mode === 'Ignore' || problems.length === 0) return [];
    if (mode === 'Strict') {
      throw new ApiError('BadRequest', `${r.kind} in version "${r.version}" cannot be handled as a ${r.kind}: strict decoding error: ${problems.join(', ')}`);
    }
    return problems;
  }

  /**
   * Checks the result of a patch or an apply before it goes on as an update: types and
   * integer ranges (400), unknown and duplicate fields per fieldValidation (pruned), and
   * what it may not change (checkPatchedIdentity).
   */
  admitPatched(r: ResourceInfo, next: KubeObject, current: KubeObject, fields: { mode: FieldValidation | undefined; duplicates: string[]; warnings: string[] }): void {
    const causes = checkTypes(next);
    if (causes.length > 0) throw badRequest(`${r.kind} in version "${r.version}" cannot be handled as a ${r.kind}: ${describeCauses(causes)}`);
    fields.warnings.push(...this.checkFields(r, next, fields.mode, fields.duplicates));
    checkPatchedIdentity(r, next, current);
  }

  private async requireActiveNamespace(name: string): Promise<void> {
    const ns = requireResource(NAMESPACES, 'namespaces');
    const item = await this.store.get(storageKey(ns, undefined, name));
    if (item === undefined) throw notFound('namespaces', '', name);
    if (item.object.metadata.deletionTimestamp !== undefined) {
      throw new ApiError('Forbidden', `unable to create new content in namespace ${name} because it is being terminated`, {
        name,
        kind: 'namespaces',
        causes: [{ reason: 'NamespaceTerminating', message: `namespace ${name} is being terminated`, field: 'metadata.namespace' }],
      });
    }
  }
}

/** A pod with a deletionTimestamp and a grace period waits for its node agent to finish the delete. */
function awaitsAgent(r: ResourceInfo, obj: KubeObject): boolean {
  return r.kind === 'Pod' && (obj.metadata.deletionGracePeriodSeconds ?? 0) > 0;
}

/**
 * What a patch may not change, checked on its result as Kubernetes' patch handler does:
 * name and namespace must stay those of the URL (400), a resourceVersion it carries is a
 * precondition (409 when stale, 400 when not a resourceVersion), the uid is immutable (422).
 */
function checkPatchedIdentity(r: ResourceInfo, next: KubeObject, current: KubeObject): void {
  const m = next.metadata;
  const name = current.metadata.name ?? '';
  if (m.name !== name) throw badRequest(`the name of the object (${m.name ?? ''}) does not match the name on the URL (${name})`);
  // An empty namespace is the URL's; a cluster-scoped object has none.
  if (r.namespaced && m.namespace !== undefined && m.namespace !== '' && m.namespace !== current.metadata.namespace) {
    throw badRequest(`the namespace of the object (${m.namespace}) does not match the namespace on the URL (${current.metadata.namespace ?? ''})`);
  }
  if (!r.namespaced) delete m.namespace;
  const rv = m.resourceVersion;
  if (rv !== undefined && rv !== '' && rv !== current.metadata.resourceVersion) {
    checkResourceVersion(rv);
    throw conflict(r.plural, r.group, name);
  }
  const uid = m.uid;
  if (uid !== undefined && uid !== '' && uid !== current.metadata.uid) {
    throw invalid(r.kind, r.group, name, [{ reason: 'FieldValueInvalid', field: 'metadata.uid', message: `Invalid value: ${JSON.stringify(uid)}: field is immutable` }]);
  }
}

/** A body must say what it is (apiVersion and kind), and that must be the URL's resource: 400 otherwise. */
export function checkTypeMeta(r: ResourceInfo, body: Record<string, unknown>): void {
  const apiVersion = body['apiVersion'];
  const kind = body['kind'];
  if (kind === undefined || kind === '') throw badRequest(`Object 'Kind' is missing in '${abbreviate(body)}'`);
  if (apiVersion === undefined || apiVersion === '') throw badRequest(`Object 'apiVersion' is missing in '${abbreviate(body)}'`);
  if (apiVersion !== apiVersionOf(r)) {
    throw badRequest(`the API version in the data (${String(apiVersion)}) does not match the expected API version (${apiVersionOf(r)})`);
  }
  if (kind !== r.kind) {
    throw badRequest(`the kind in the data (${String(kind)}) does not match the expected kind (${r.kind}) for ${apiVersionOf(r)} ${r.plural}`);
  }
}

/** A resourceVersion sent as a precondition must be one (a revision number): 400 otherwise. */
function checkResourceVersion(rv: string): void {
  if (!/^[0-9]{1,20}$/.test(rv)) throw badRequest(`invalid resourceVersion "${rv.slice(0, 100)}": must be a decimal revision`);
}

/** A body in a message, shortened as Kubernetes does. */
function abbreviate(body: unknown): string {
  const text = JSON.stringify(body) ?? '';
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}

function describeCauses(causes: StatusCause[]): string {
  return causes.map((c) => (c.field ? `${c.field}: ${c.message ?? ''}` : (c.message ?? ''))).join('; ');
}

function withType(r: ResourceInfo, obj: KubeObject): KubeObject {
  if (obj.apiVersion === apiVersionOf(r) && obj.kind === r.kind) return obj;
  return { ...obj, apiVersion: apiVersionOf(r), kind: r.kind };
}

/** Fields a write never compares on (a no-op update must not bump resourceVersion). */
function stripVolatile(obj: KubeObject): KubeObject {
  const copy = { ...obj, metadata: { ...obj.metadata } };
  delete copy.metadata.resourceVersion;
  delete copy.metadata.managedFields;
  return copy;
}

function randomSuffix(): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += GENERATE_ALPHABET[randomInt(GENERATE_ALPHABET.length)];
  return s;
}

function scaleResourceVersion(scale: unknown): string | undefined {
  if (isObject(scale) && isObject(scale['metadata']) && typeof scale['metadata']['resourceVersion'] === 'string') {
    return scale['metadata']['resourceVersion'];
  }
  return undefined;
}

function scaleOf(obj: KubeObject): KubeObject {
  const spec = (obj['spec'] ?? {}) as { replicas?: number; selector?: { matchLabels?: Record<string, string> } };
  const status = (obj['status'] ?? {}) as { replicas?: number };
  const selector = Object.entries(spec.selector?.matchLabels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return {
    apiVersion: 'autoscaling/v1',
    kind: 'Scale',
    metadata: {
      name: obj.metadata.name,
      namespace: obj.metadata.namespace,
      uid: obj.metadata.uid,
      resourceVersion: obj.metadata.resourceVersion,
      creationTimestamp: obj.metadata.creationTimestamp,
    },
    spec: { replicas: spec.replicas ?? 0 },
    status: { replicas: status.replicas ?? 0, selector },
  };
}

/** Records who wrote an object, as Kubernetes' managedFields (manager, operation, time). */
function recordManager(obj: KubeObject, manager: string, operation: 'Update' | 'Apply', now: Date, subresource?: string): void {
  const entries = (obj.metadata.managedFields ?? []).filter(
    (e) => !(isObject(e) && e['manager'] === manager && e['operation'] === operation && (e['subresource'] ?? undefined) === subresource),
  );
  const entry: Record<string, unknown> = { manager, operation, apiVersion: obj.apiVersion, time: rfc3339(now), fieldsType: 'FieldsV1', fieldsV1: {} };
  if (subresource !== undefined && subresource !== 'binding') entry['subresource'] = subresource;
  entries.push(entry);
  obj.metadata.managedFields = entries;
}

/** Maps storage failures to API errors with the resource's name in them. */
export function storageToApiError(err: unknown, r: ResourceInfo, name: string): ApiError {
  if (err instanceof ApiError) return err;
  if (isStorageError(err, 'KeyExists')) return alreadyExists(r.plural, r.group, name);
  if (isStorageError(err, 'KeyNotFound')) return notFound(r.plural, r.group, name);
  if (isStorageError(err, 'Conflict')) return conflict(r.plural, r.group, name);
  if (isStorageError(err, 'Compacted')) return new ApiError('Expired', `too old resource version: ${err.message}`);
  if (isStorageError(err, 'Unavailable')) return new ApiError('ServiceUnavailable', err.message);
  const message = err instanceof Error ? err.message : String(err);
  return new ApiError('InternalError', `Internal error occurred: ${message}`);
}

export { NAMESPACE_FINALIZER };
