// The generic REST layer: every verb on every resource, independent of HTTP. It turns
// requests into store operations with Kubernetes' semantics: decoding and field checks
// (admit-body.ts), defaulting, optimistic concurrency (resourceVersion), namespace
// lifecycle, and what each kind specialises through its strategy (registry/): preparing,
// validating, staging deletion. Every write goes through writes() (dry-run.ts). The steps
// that need no store of their own live beside it: watch-filter.ts, update-steps.ts,
// delete-staging.ts, compare-and-swap.ts, namespace-lifecycle.ts.

import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { applyDefaults } from '../api/defaults.js';
import { deepCopy, type DeleteOptions, type KubeList, type KubeObject, rfc3339 } from '../api/meta.js';
import { applyPatch } from '../api/patch/index.js';
import { apiVersionOf, storageKey, type Resource, type ResourceInfo } from '../api/registry.js';
import { alreadyExists, badRequest, conflict, expired, invalid, notFound } from '../errors/index.js';
import { isStorageError, type ListResult, type Store, type WatchHandle } from '../storage/store.js';
import { cutPage, decodeContinue, listAtRevision, type ContinueFrom } from './list-pages.js';
import {
  admitPatched,
  checkDeletePreconditions,
  patchedObject,
  checkFields,
  checkResourceVersion,
  decodeObject,
} from './admit-body.js';
import { duplicateFields } from './body.js';
import { compareAndSwap, type SwapStep } from './compare-and-swap.js';
import { commitDeletion, deleteEach } from './delete-staging.js';
import { dryRunWrites, type StoreWrites } from './dry-run.js';
import { awaitRevision } from './freshness.js';
import { requireActiveNamespace } from './namespace-lifecycle.js';
import type { CreateAdmission } from './admission/index.js';
import type { Strategies } from './registry/types.js';
import { isDryRun, parseResourceVersion } from './request-options.js';
import type {
  CollectionRef,
  CreateRequest,
  GuaranteedUpdate,
  ListOptions,
  ObjectRef,
  PatchRequest,
  UpdateRequest,
  WatchSubscription,
  WriteOptions,
  WriteResult,
} from './rest-types.js';
import { buildFilter, buildIndex } from './selection.js';
import { storageToApiError } from './storage-errors.js';
import { checkUidPrecondition, finishesDeletion, prepareAndValidate, retriesConflict } from './update-steps.js';
import { replayAsAdded, selectionEvents } from './watch-filter.js';
import { randomSuffix, recordManager, storedAs, stripVolatile, withType } from './write-meta.js';

export class RestStore {
  private readonly store: Store;
  readonly now: () => Date;
  /** What each kind specialises (registry/). */
  readonly strategyFor: Strategies;
  /** The admission plugins every kind's creates go through (LimitRanger, ResourceQuota). */
  private readonly admission: CreateAdmission | undefined;

  constructor(store: Store, options: { now?: () => Date; strategies: Strategies; admission?: CreateAdmission }) {
    this.store = store;
    this.now = options.now ?? (() => new Date());
    this.strategyFor = options.strategies;
    this.admission = options.admission;
  }

  // ---- reads ---------------------------------------------------------------------------

  async get<T extends KubeObject>(r: Resource<T>, namespace: string | undefined, name: string): Promise<T> {
    const item = await this.store.get(storageKey(r, namespace, name));
    if (item === undefined) throw notFound(r.plural, r.group, name);
    return storedAs(r, item.object);
  }

  /** Like get, but undefined when there is no such object (for the server's own lookups). */
  async find<T extends KubeObject>(
    r: Resource<T>,
    namespace: string | undefined,
    name: string,
  ): Promise<T | undefined> {
    const item = await this.store.get(storageKey(r, namespace, name));
    return item === undefined ? undefined : storedAs(r, item.object);
  }

  /** A list, or one page of it (limit/continue: see list-pages.ts). */
  async list<T extends KubeObject>(
    r: Resource<T>,
    namespace: string | undefined,
    opts: ListOptions,
  ): Promise<KubeList<T>> {
    const filter = buildFilter(opts);
    const prefix = storageKey(r, namespace);
    const from =
      opts.continue !== undefined && opts.continue !== '' ? decodeContinue(opts.continue, prefix) : undefined;
    const listed =
      from !== undefined && from.revision >= 0
        ? await this.listAt(prefix, from)
        : opts.anyVersion === true && this.store.peekList !== undefined
          ? await this.store.peekList(prefix)
          : await this.store.list(prefix);
    const selecting = opts.labelSelector !== undefined || opts.fieldSelector !== undefined;
    const page = cutPage(listed.items, {
      limit: opts.limit,
      startKey: from?.startKey,
      prefix,
      revision: listed.revision,
      matches: selecting ? (item) => filter(storedAs(r, item.object)) : undefined,
    });
    return {
      kind: r.listKind,
      apiVersion: apiVersionOf(r),
      metadata: page.meta,
      items: page.items.map((i) => storedAs(r, i.object)),
    };
  }

  /** The list at a continue token's revision (waiting briefly for a revision not reached yet). */
  private async listAt(prefix: string, from: ContinueFrom): Promise<ListResult> {
    await this.awaitRevision(from.revision);
    return listAtRevision(this.store, prefix, from);
  }

  /**
   * Streams changes. Objects entering the selection arrive as ADDED, leaving it as DELETED,
   * as Kubernetes' watch filtering does. Returns a handle; errors (e.g. Expired) are reported
   * through onError.
   */
  async watch(r: ResourceInfo, namespace: string | undefined, req: WatchSubscription): Promise<WatchHandle> {
    const { listener, onError } = req;
    const selection = { r, filter: buildFilter(req), listener };
    const prefix = storageKey(r, namespace);
    let from: number;
    if (req.resourceVersion === undefined || req.resourceVersion === '' || req.resourceVersion === '0') {
      const current = await this.store.list(prefix);
      replayAsAdded(selection, current.items);
      from = current.revision;
    } else {
      from = parseResourceVersion(req.resourceVersion);
      await this.awaitRevision(from);
    }
    try {
      const index = buildIndex(req);
      return this.store.watch(prefix, from, {
        onEvent: selectionEvents(selection),
        onError: (err) => onError(storageToApiError(err, r, '')),
        ...(index !== undefined ? { index } : {}),
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

  async create(r: ResourceInfo, req: CreateRequest, opts: WriteOptions = {}): Promise<WriteResult> {
    const { namespace, body } = req;
    const strategy = this.strategyFor(r);
    const obj = decodeObject(r, { namespace, body, owned: req.bodyOwned === true });
    const warnings = checkFields(r, obj, {
      mode: opts.fieldValidation,
      duplicates: opts.duplicateFields ?? duplicateFields(body),
    });
    applyDefaults(obj);
    strategy.normalize(obj);
    if (!obj.metadata.name && obj.metadata.generateName) {
      obj.metadata.name = obj.metadata.generateName + randomSuffix();
    }
    const name = obj.metadata.name ?? '';
    // The uid exists before validation: a Job's generated selector is made of it.
    obj.metadata.uid = randomUUID();
    await this.admission?.mutate(r, obj);
    const causes = strategy.validate(r, obj);
    if (causes.length > 0) throw invalid(r, name, causes);
    if (r.namespaced) await requireActiveNamespace(this.store, obj.metadata.namespace ?? '');
    strategy.checkWrite?.(obj, opts.user);
    if (strategy.admitCreate !== undefined) warnings.push(...(await strategy.admitCreate(obj)));
    strategy.prepareForCreate(r, obj);
    const meta = obj.metadata;
    meta.creationTimestamp = rfc3339(this.now());
    delete meta.resourceVersion;
    if (opts.fieldManager !== undefined)
      recordManager(obj, { manager: opts.fieldManager, operation: 'Update', now: this.now() });
    // An existing name is AlreadyExists, before any allocation could complain about it. From
    // memory when the store's create will refuse a name taken meanwhile anyway; a dry run
    // writes nothing, so it reads consistently.
    const key = storageKey(r, meta.namespace, name);
    const existing =
      opts.dryRun === true || this.store.peek === undefined ? await this.store.get(key) : await this.store.peek(key);
    if (existing !== undefined) throw alreadyExists(r.plural, r.group, name);
    await this.admission?.validate(r, obj, { dryRun: opts.dryRun === true });
    const undo = await strategy.beforeCreate?.(obj, { dryRun: opts.dryRun === true });
    try {
      const item = await this.writes(opts).create(key, obj);
      return { object: withType(r, item.object), warnings };
    } catch (err) {
      // A refused create gives back what it took (a failed undo is left to the repair pass).
      if (undo) await undo().catch(() => undefined);
      throw storageToApiError(err, r, name);
    }
  }

  // ---- update / patch -------------------------------------------------------------------

  /** PUT: replaces the object (or only its status with subresource 'status'). */
  async update(r: ResourceInfo, ref: ObjectRef, req: UpdateRequest): Promise<WriteResult> {
    const { namespace, name } = ref;
    const { body, ...opts } = req;
    const incoming = decodeObject(r, { namespace, body });
    if (incoming.metadata.name !== undefined && incoming.metadata.name !== name) {
      throw badRequest(
        `the name of the object (${incoming.metadata.name}) does not match the name on the URL (${name})`,
      );
    }
    incoming.metadata.name = name;
    const warnings = checkFields(r, incoming, { mode: opts.fieldValidation, duplicates: duplicateFields(body) });
    const expected = incoming.metadata.resourceVersion;
    const object = await this.guaranteedUpdate(r, ref, {
      ...opts,
      warnings,
      expectedResourceVersion: expected,
      mutate: (current) => {
        checkUidPrecondition(r, incoming, current);
        const next = deepCopy(incoming);
        applyDefaults(next);
        return opts.subresource === 'status' ? this.strategyFor(r).prepareForStatusUpdate(next, current) : next;
      },
    });
    return { object, warnings };
  }

  /** PATCH with a JSON, merge or strategic-merge patch (server-side apply: see apply()). */
  async patch(r: ResourceInfo, ref: ObjectRef, req: PatchRequest): Promise<WriteResult> {
    const { contentType, body: patchBody, ...opts } = req;
    const warnings: string[] = [];
    const object = await this.guaranteedUpdate(r, ref, {
      ...opts,
      warnings,
      mutate: (current) => {
        const patch = { contentType, body: patchBody };
        const patched = applyPatch(deepCopy(current), patch, { group: r.group, kind: r.kind });
        const next = patchedObject(r, patched);
        admitPatched(
          { r, next, current },
          { mode: opts.fieldValidation, duplicates: duplicateFields(patchBody), warnings },
        );
        applyDefaults(next);
        return opts.subresource === 'status' ? this.strategyFor(r).prepareForStatusUpdate(next, current) : next;
      },
    });
    return { object, warnings };
  }

  /**
   * The retry loop behind every update: read the live object, compute the next state,
   * validate, compare-and-swap on the read revision. A caller-supplied resourceVersion makes
   * a mismatch a 409 Conflict; without one, conflicts are retried.
   */
  async guaranteedUpdate(r: ResourceInfo, ref: ObjectRef, opts: GuaranteedUpdate): Promise<KubeObject> {
    const { name } = ref;
    const { expectedResourceVersion, subresource, mutate } = opts;
    const key = storageKey(r, ref.namespace, name);
    const strategy = this.strategyFor(r);
    if (expectedResourceVersion !== undefined && expectedResourceVersion !== '')
      checkResourceVersion(expectedResourceVersion);
    const mark = opts.warnings?.length ?? 0;
    for (let attempt = 0; ; attempt++) {
      // Admission runs on every attempt; the client hears the warnings of the one that counted.
      opts.warnings?.splice(mark);
      const item = await this.store.get(key);
      if (item === undefined) throw notFound(r.plural, r.group, name);
      if (
        expectedResourceVersion !== undefined &&
        expectedResourceVersion !== '' &&
        expectedResourceVersion !== String(item.revision)
      ) {
        throw conflict(r, name);
      }
      const current = item.object;
      const next = mutate(deepCopy(current));
      prepareAndValidate({ r, name, strategy, next, current, subresource });
      strategy.checkWrite?.(next, opts.user);
      if (strategy.admitUpdate !== undefined)
        opts.warnings?.push(...(await strategy.admitUpdate({ next, current, subresource })));
      // Unchanged: nothing to write, unless the stored value is stale (written with an older
      // encryption key or in plaintext), which the write re-encrypts, as Kubernetes does.
      if (item.stale !== true && isDeepStrictEqual(stripVolatile(next), stripVolatile(current)))
        return withType(r, current);
      if (opts.fieldManager !== undefined)
        recordManager(next, { manager: opts.fieldManager, operation: 'Update', now: this.now(), subresource });
      const writes = this.writes(opts);
      try {
        if (finishesDeletion(strategy, next)) {
          const deleted = await writes.delete(key, item.revision);
          if (!opts.dryRun) await strategy.afterDelete?.(deleted.object);
          return withType(r, deleted.object);
        }
        const stored = await writes.update(key, next, item.revision);
        return withType(r, stored.object);
      } catch (err) {
        if (retriesConflict(err, expectedResourceVersion, attempt)) continue;
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
  async delete(
    r: ResourceInfo,
    ref: ObjectRef,
    opts: DeleteOptions = {},
  ): Promise<{ object: KubeObject; deleted: boolean }> {
    const { name } = ref;
    const key = storageKey(r, ref.namespace, name);
    const strategy = this.strategyFor(r);
    for (let attempt = 0; ; attempt++) {
      const item = await this.store.get(key);
      if (item === undefined) throw notFound(r.plural, r.group, name);
      const current = item.object;
      checkDeletePreconditions(r, opts.preconditions, item);
      const next = deepCopy(current);
      const staged = strategy.stageDeletion(next, opts, this.now());
      const dryRun = isDryRun(opts);
      const writes = this.writes({ dryRun });
      try {
        return await commitDeletion({ r, strategy, writes, key, item, staged: staged ? next : undefined, dryRun });
      } catch (err) {
        // A conflict is retried; an object gone meanwhile is NotFound.
        if (isStorageError(err, 'Conflict') && attempt < 20) continue;
        throw storageToApiError(err, r, name);
      }
    }
  }

  async deleteCollection(r: ResourceInfo, collection: CollectionRef, opts: DeleteOptions = {}): Promise<KubeList> {
    const { namespace, ...sel } = collection;
    const list = await this.list(r, namespace, sel);
    const items = await deleteEach(list.items, (obj) =>
      this.delete(r, { namespace: obj.metadata.namespace, name: obj.metadata.name ?? '' }, opts),
    );
    return { ...list, items };
  }

  /**
   * A compare-and-swap loop past the strategy, for a subresource that writes one field
   * itself (namespaces/finalize): step gives the next object and whether it goes instead.
   */
  async swap(r: ResourceInfo, ref: ObjectRef, req: WriteOptions & { step: SwapStep }): Promise<KubeObject> {
    return compareAndSwap({ store: this.store, writes: this.writes(req), r, ref, step: req.step });
  }

  // ---- helpers --------------------------------------------------------------------------

  /** Where a request's writes go: the store, or for a dry run nowhere (see dry-run.ts). */
  private writes(opts: { dryRun?: boolean }): StoreWrites {
    return opts.dryRun ? dryRunWrites(this.store) : this.store;
  }
}
