// Informer (client-go's shared informer): a reflector keeps a local cache of one resource
// in sync with the apiserver (list, then watch; re-list on 410) and tells handlers what
// changed.
//
// Consistency contract:
// - the cache holds, per `namespace/name` key, the newest object the informer has seen;
//   after hasSynced() it reflects the apiserver at least as of the initial list;
// - handlers run synchronously, in event order, after the cache was updated; a re-list is
//   turned into the adds, updates and deletes that bring the cache to the listed state;
// - cached objects are shared and read-only: clone before changing;
// - with stripManagedFields, cached objects lack metadata.managedFields (client-go's
//   TransformStripManagedFields, which kube-scheduler and kube-controller-manager use): no
//   controller reads them, and they are a good part of every object; an update sent from
//   such a copy keeps the stored ones (the apiserver keeps managedFields a write leaves out);
// - with resyncMs, every object is re-delivered to onUpdate(old, old) periodically, so
//   level-based reconcilers recover from anything they missed.

import type { KubeObject, WatchEvent } from '../api/meta.js';
import { objectKey } from '../api/meta.js';
import type { Resource } from '../api/registry.js';
import type { RestClient } from './rest-client.js';
import { Reflector, type ReflectorTarget } from './watch.js';

/** Handlers see the cached objects themselves: read-only, clone before changing. */
export interface InformerHandlers<T extends KubeObject> {
  onAdd?: (obj: Readonly<T>) => void;
  onUpdate?: (oldObj: Readonly<T>, newObj: Readonly<T>) => void;
  onDelete?: (obj: Readonly<T>) => void;
}

export type IndexFunc<T extends KubeObject> = (obj: Readonly<T>) => string[];

export interface InformerOptions<T extends KubeObject> {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  resyncMs?: number;
  /** Drop metadata.managedFields before caching (see above). */
  stripManagedFields?: boolean;
  /** Extra indexes by name; `namespace` is always there. */
  indexers?: Record<string, IndexFunc<T>>;
}

export class Informer<T extends KubeObject = KubeObject> {
  readonly resource: Resource<T>;
  private readonly client: RestClient;
  private readonly options: InformerOptions<T>;
  private readonly items = new Map<string, Readonly<T>>();
  private readonly indexers: Record<string, IndexFunc<T>>;
  private readonly indexes = new Map<string, Map<string, Set<string>>>();
  private readonly handlers: InformerHandlers<T>[] = [];
  private synced = false;
  private readonly syncWaiters: (() => void)[] = [];

  constructor(client: RestClient, resource: Resource<T>, options: InformerOptions<T> = {}) {
    this.client = client;
    this.resource = resource;
    this.options = options;
    this.indexers = { namespace: (o) => [o.metadata.namespace ?? ''], ...(options.indexers ?? {}) };
    for (const name of Object.keys(this.indexers)) this.indexes.set(name, new Map());
  }

  addHandler(handlers: InformerHandlers<T>): void {
    this.handlers.push(handlers);
    // A late handler sees what is already cached, as client-go does.
    if (this.synced) for (const obj of this.items.values()) handlers.onAdd?.(obj);
  }

  start(signal: AbortSignal): void {
    const target: ReflectorTarget<T> = { resource: this.resource };
    if (this.options.namespace !== undefined) target.namespace = this.options.namespace;
    if (this.options.labelSelector !== undefined) target.labelSelector = this.options.labelSelector;
    if (this.options.fieldSelector !== undefined) target.fieldSelector = this.options.fieldSelector;
    const reflector = new Reflector(this.client, target, {
      onList: (items) => this.replace(items),
      onEvent: (ev) => this.apply(ev),
    });
    reflector.start(signal);
    if (this.options.resyncMs !== undefined && this.options.resyncMs > 0) {
      const timer = setInterval(() => {
        for (const obj of this.items.values()) for (const h of this.handlers) h.onUpdate?.(obj, obj);
      }, this.options.resyncMs);
      timer.unref();
      signal.addEventListener('abort', () => clearInterval(timer), { once: true });
    }
  }

  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves once the first list has been applied (or rejects when aborted). */
  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.syncWaiters.push(resolve);
      signal?.addEventListener('abort', () => reject(new Error('aborted before the cache synced')), { once: true });
    });
  }

  get(key: string): Readonly<T> | undefined {
    return this.items.get(key);
  }

  list(): Readonly<T>[] {
    return [...this.items.values()];
  }

  /** Objects whose index function returned `value` for index `name`. */
  byIndex(name: string, value: string): Readonly<T>[] {
    const keys = this.indexes.get(name)?.get(value);
    if (keys === undefined) return [];
    const out: Readonly<T>[] = [];
    for (const k of keys) {
      const obj = this.items.get(k);
      if (obj !== undefined) out.push(obj);
    }
    return out;
  }

  private index(key: string, obj: Readonly<T> | undefined, old: Readonly<T> | undefined): void {
    for (const [name, fn] of Object.entries(this.indexers)) {
      const idx = this.indexes.get(name);
      if (idx === undefined) continue;
      if (old !== undefined) for (const v of fn(old)) idx.get(v)?.delete(key);
      if (obj !== undefined) {
        for (const v of fn(obj)) {
          let set = idx.get(v);
          if (set === undefined) {
            set = new Set();
            idx.set(v, set);
          }
          set.add(key);
        }
      }
    }
  }

  private upsert(obj: T): void {
    // Fresh from the wire, not yet shared: trimmed in place.
    if (this.options.stripManagedFields === true) delete obj.metadata.managedFields;
    const key = objectKey(obj);
    const old = this.items.get(key);
    this.items.set(key, obj);
    this.index(key, obj, old);
    for (const h of this.handlers) {
      if (old === undefined) h.onAdd?.(obj);
      else h.onUpdate?.(old, obj);
    }
  }

  private remove(obj: Readonly<T>): void {
    const key = objectKey(obj);
    const old = this.items.get(key);
    if (old === undefined) return;
    this.items.delete(key);
    this.index(key, undefined, old);
    for (const h of this.handlers) h.onDelete?.(obj);
  }

  private replace(items: T[]): void {
    const seen = new Set<string>();
    for (const obj of items) {
      const key = objectKey(obj);
      seen.add(key);
      const old = this.items.get(key);
      if (old === undefined || old.metadata.resourceVersion !== obj.metadata.resourceVersion) this.upsert(obj);
    }
    for (const [key, obj] of [...this.items]) if (!seen.has(key)) this.remove(obj);
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w();
    }
  }

  private apply(ev: WatchEvent<T>): void {
    if (ev.type === 'ADDED' || ev.type === 'MODIFIED') this.upsert(ev.object);
    else if (ev.type === 'DELETED') this.remove(ev.object);
  }
}
