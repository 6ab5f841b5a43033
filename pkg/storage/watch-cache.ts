// The watch cache (Kubernetes' cacher): the apiserver's in-memory view of the store. It
// lists everything once, then follows the store's watch of the whole keyspace, keeping
// every live object (bucketed per resource type for fast lists) and a ring of recent events.
// Reads are served from memory; watches within the ring are served from it, older ones
// fall through to the store (which reports Compacted when too old). Writes go to the
// store and resolve once the cache has applied them (read-your-writes).

import {
  StorageError,
  type ListResult,
  type Store,
  type StoreEvent,
  type StoredItem,
  type WatchHandle,
  type WatchOptions,
} from './store.js';
import type { KubeObject } from '../api/meta.js';
import { WatcherSet } from './watchers.js';

export interface WatchCacheOptions {
  /** Events kept in memory for watches to resume from. */
  capacity?: number;
}

/** `/registry/<group>/<plural>/`: the bucket a key belongs to. */
function bucketOf(key: string): string {
  let slashes = 0;
  for (let i = 0; i < key.length; i++) {
    if (key.charCodeAt(i) === 47 && ++slashes === 4) return key.slice(0, i + 1);
  }
  return key;
}

export class WatchCache implements Store {
  private readonly store: Store;
  private readonly buckets = new Map<string, Map<string, StoredItem>>();
  private readonly ring: StoreEvent[] = [];
  private readonly capacity: number;
  private ringStart = 0;
  private rev = 0;
  /** Revision before the first event in the ring (watches from >= this are served here). */
  private ringFloor = 0;
  private readonly watchers = new WatcherSet();
  private readonly revisionWaiters: { revision: number; resolve: () => void }[] = [];
  private upstream: WatchHandle | undefined;
  private failed: Error | undefined;

  private constructor(store: Store, options: WatchCacheOptions) {
    this.store = store;
    this.capacity = options.capacity ?? 100_000;
  }

  static async start(store: Store, options: WatchCacheOptions = {}): Promise<WatchCache> {
    const cache = new WatchCache(store, options);
    const initial = await store.list('/');
    for (const item of initial.items) cache.put(item);
    cache.rev = initial.revision;
    cache.ringFloor = initial.revision;
    cache.upstream = store.watch('/', initial.revision, {
      onEvent: (ev) => cache.apply(ev),
      onError: (err) => cache.fail(err),
    });
    return cache;
  }

  /** The newest revision the cache has applied. */
  revision(): number {
    return this.rev;
  }

  private put(item: StoredItem): void {
    const bucket = bucketOf(item.key);
    let map = this.buckets.get(bucket);
    if (map === undefined) {
      map = new Map();
      this.buckets.set(bucket, map);
    }
    map.set(item.key, item);
  }

  private apply(ev: StoreEvent): void {
    if (ev.revision <= this.rev) return;
    if (ev.type === 'DELETED') this.buckets.get(bucketOf(ev.key))?.delete(ev.key);
    else this.put({ key: ev.key, revision: ev.revision, object: ev.object });
    this.rev = ev.revision;
    this.ring.push(ev);
    if (this.ring.length - this.ringStart > this.capacity) {
      const dropped = this.ring[this.ringStart];
      this.ringStart++;
      if (dropped !== undefined) this.ringFloor = dropped.revision;
      if (this.ringStart > 4096 && this.ringStart * 2 > this.ring.length) {
        this.ring.splice(0, this.ringStart);
        this.ringStart = 0;
      }
    }
    this.watchers.emit(ev);
    while (this.revisionWaiters.length > 0 && (this.revisionWaiters[0]?.revision ?? Infinity) <= this.rev) {
      this.revisionWaiters.shift()?.resolve();
    }
  }

  private fail(err: Error): void {
    this.failed = err;
    this.watchers.fail(err);
  }

  private waitFor(revision: number): Promise<void> {
    if (revision <= this.rev) return Promise.resolve();
    return new Promise((resolve) => {
      const i = this.revisionWaiters.findIndex((w) => w.revision > revision);
      const waiter = { revision, resolve };
      if (i < 0) this.revisionWaiters.push(waiter);
      else this.revisionWaiters.splice(i, 0, waiter);
    });
  }

  private async written(p: Promise<StoredItem>): Promise<StoredItem> {
    const item = await p;
    await this.waitFor(item.revision);
    return item;
  }

  currentRevision(): Promise<number> {
    return Promise.resolve(this.rev);
  }

  get(key: string): Promise<StoredItem | undefined> {
    this.assertHealthy();
    return Promise.resolve(this.buckets.get(bucketOf(key))?.get(key));
  }

  list(prefix: string): Promise<ListResult> {
    this.assertHealthy();
    const items: StoredItem[] = [];
    const bucket = bucketOf(prefix);
    const scan = (map: Map<string, StoredItem>): void => {
      for (const [key, item] of map) if (key.startsWith(prefix)) items.push(item);
    };
    if (bucket.endsWith('/') && bucket.length <= prefix.length && this.buckets.has(bucket)) {
      const map = this.buckets.get(bucket);
      if (map !== undefined) scan(map);
    } else {
      for (const [name, map] of this.buckets) if (name.startsWith(prefix) || prefix.startsWith(name)) scan(map);
    }
    items.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return Promise.resolve({ items, revision: this.rev });
  }

  create(key: string, object: KubeObject): Promise<StoredItem> {
    return this.written(this.store.create(key, object));
  }

  update(key: string, object: KubeObject, expectedRevision: number): Promise<StoredItem> {
    return this.written(this.store.update(key, object, expectedRevision));
  }

  delete(key: string, expectedRevision?: number): Promise<StoredItem> {
    return this.written(this.store.delete(key, expectedRevision));
  }

  watch(prefix: string, fromRevision: number, options: WatchOptions): WatchHandle {
    this.assertHealthy();
    if (fromRevision < this.ringFloor) return this.store.watch(prefix, fromRevision, options);
    // Replay from the ring and register in one synchronous step.
    for (let i = this.ringStart; i < this.ring.length; i++) {
      const ev = this.ring[i];
      if (ev !== undefined && ev.revision > fromRevision && ev.key.startsWith(prefix)) options.onEvent(ev);
    }
    return this.watchers.add(prefix, options);
  }

  compact(revision: number): Promise<void> {
    return this.store.compact(revision);
  }

  close(): Promise<void> {
    this.upstream?.stop();
    this.watchers.clear();
    return Promise.resolve();
  }

  private assertHealthy(): void {
    if (this.failed !== undefined) throw new StorageError('Unavailable', '', `watch cache is broken: ${this.failed.message}`);
  }
}
