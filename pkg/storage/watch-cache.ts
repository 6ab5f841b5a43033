// The watch cache (Kubernetes' cacher): the apiserver's in-memory view of a Store.
//
// It lists everything once, then follows the store's watch of the whole keyspace from the
// list's revision, keeping every live object (in buckets per `/registry/<group>/<plural>/`,
// each with sorted keys for prefix lists) and a ring of the most recent events.
//
// Consistency contract:
// - get and list answer from memory, consistent with revision() (the newest applied event).
// - A write goes to the store and resolves only once the cache has applied its revision,
//   so a read right after a write sees it (read-your-writes), for any backend. With
//   consistent reads (below) that wait is bounded by their timeout: reads stay consistent
//   on their own, and a stalled store watch does not hold writes.
// - watch(prefix, R) with R inside the ring replays the ring's events after R and then
//   follows live ones, in the same synchronous step (no gap, no duplicate); an older R is
//   handed to the store, which replays its history or reports Compacted.
// - Fan-out is synchronous and by prefix (see watchers.ts): events reach every watcher in
//   revision order, and a slow callback delays but never reorders them.
// - Objects handed out are shared with the cache and other watchers: read-only.
// - A key whose value the store could not read (ListResult.unreadable: say, encrypted with
//   a key no longer configured) answers get, and any list that covers it, with that error
//   until a write replaces it. An item's `stale` (rewrite to re-encrypt) is kept as listed,
//   and as the store's events report it.
// - Consistent reads (option consistentReads, for a store other processes write too: etcd
//   with several apiservers; Kubernetes' consistent reads from cache): get and list first
//   take the store's current revision (one cheap read, shared by every read that arrives
//   while none is under way) and wait until the cache reached it, asking the store's watch
//   for a progress notification so that writes outside the keyspace do not keep it waiting.
//   The cache answers only once its own events reached that revision. A progress
//   notification that vouches for the revision first sends the read to the store instead:
//   it means writes outside the keyspace, or (etcd before 3.4.25 / 3.5.8, etcd#15220) a
//   notification that ran ahead of events still on their way, which made a list through a
//   second apiserver miss half of 60 creates just acknowledged through the first.
//   After timeoutMs they read the store directly as well (slower, never stale).
// - If the store's watch breaks (e.g. it compacted past the cache), every watch served
//   from the ring ends with that error (its stream would have a gap), and the cache
//   re-lists and watches again; meanwhile new watches go to the store directly.

import type { KubeObject } from '../api/meta.js';
import { DEFAULT_RING_AGE, EventRing, type EventRingAge } from './event-ring.js';
import { SortedKeys } from './sorted-keys.js';
import {
  StorageError,
  type ListResult,
  type Store,
  type StoreEvent,
  type StoredItem,
  type WatchHandle,
  type WatchOptions,
} from './store.js';
import { WatcherSet } from './watchers.js';

export interface WatchCacheOptions {
  /** Events kept in memory for watches to resume from, at most (default 100,000). */
  capacity?: number;
  /** How long events are kept below that (default: Kubernetes' 75 s, at least 1,000 events). */
  ringAge?: EventRingAge;
  /** get and list see every write the store acknowledged before them (see above). */
  consistentReads?: { timeoutMs: number };
}

interface Bucket {
  items: Map<string, StoredItem>;
  keys: SortedKeys;
}

interface RevisionWaiter {
  revision: number;
  /** Called with true when the cache's own events reached the revision. */
  resolve: (byEvents: boolean) => void;
  reject: (err: Error) => void;
  /** A read's wait, which a progress notification may end (a write waits for its event). */
  read?: boolean;
}

/**
 * One read of a revision for any number of callers: a caller joins the read that starts
 * after it arrived (a read under way may have begun before a write it must see).
 */
class CoalescedRevision {
  private current: Promise<number> | undefined;
  private following: Promise<number> | undefined;

  constructor(private readonly read: () => Promise<number>) {}

  get(): Promise<number> {
    const current = this.current;
    if (current === undefined) return this.start();
    this.following ??= current
      .catch(() => 0)
      .then(() => {
        this.following = undefined;
        return this.start();
      });
    return this.following;
  }

  private start(): Promise<number> {
    const started = this.read().finally(() => {
      if (this.current === started) this.current = undefined;
    });
    this.current = started;
    return started;
  }
}

/** The keyspace the cache holds (every storage key starts with it). */
const CACHED_PREFIX = '/';
/** Longest pause between attempts to re-list after the store's watch broke. */
const MAX_RESYNC_DELAY_MS = 5000;

/** Position of the fourth '/' (the end of `/registry/<group>/<plural>/`), or -1. */
function bucketEnd(key: string): number {
  let at = -1;
  for (let n = 0; n < 4; n++) {
    at = key.indexOf('/', at + 1);
    if (at < 0) return -1;
  }
  return at;
}

/** The bucket of a key: its `/registry/<group>/<plural>/`, or the key itself if shorter. */
function bucketOf(key: string): string {
  const end = bucketEnd(key);
  return end < 0 ? key : key.slice(0, end + 1);
}

export class WatchCache implements Store {
  private readonly store: Store;
  private readonly buckets = new Map<string, Bucket>();
  /** Live keys the store could not read, with the error to answer. */
  private readonly unreadable = new Map<string, StorageError>();
  private readonly ring: EventRing;
  private readonly watchers = new WatcherSet();
  /** Writes waiting for the cache to reach their revision, in ascending order. */
  private waiters: RevisionWaiter[] = [];
  private rev = 0;
  /** The newest revision the store's progress notifications vouched for (>= rev when set). */
  private progressRev = 0;
  private readonly consistent: { timeoutMs: number; revision: CoalescedRevision } | undefined;
  private upstream: WatchHandle | undefined;
  /** True while re-listing after the store's watch broke. */
  private resyncing = false;
  private resyncTimer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(store: Store, options: WatchCacheOptions) {
    this.store = store;
    this.ring = new EventRing(options.capacity ?? 100_000, 0, options.ringAge ?? DEFAULT_RING_AGE);
    const consistent = options.consistentReads;
    if (consistent !== undefined)
      this.consistent = {
        timeoutMs: consistent.timeoutMs,
        revision: new CoalescedRevision(() => store.currentRevision()),
      };
  }

  static async start(store: Store, options: WatchCacheOptions = {}): Promise<WatchCache> {
    const cache = new WatchCache(store, options);
    const listed = await store.list(CACHED_PREFIX);
    cache.load(listed);
    cache.follow(listed.revision);
    return cache;
  }

  /** The newest revision the cache has applied. */
  revision(): number {
    return this.rev;
  }

  currentRevision(): Promise<number> {
    return Promise.resolve(this.rev);
  }

  /** The newest revision the cache is known to be current at (events or progress). */
  freshRevision(): number {
    return Math.max(this.rev, this.progressRev);
  }

  async get(key: string): Promise<StoredItem | undefined> {
    if (this.consistent !== undefined && !(await this.fresh())) return this.store.get(key);
    return this.getCached(key);
  }

  peek(key: string): Promise<StoredItem | undefined> {
    return this.getCached(key);
  }

  peekList(prefix: string): Promise<ListResult> {
    return this.listCached(prefix);
  }

  async list(prefix: string): Promise<ListResult> {
    if (this.consistent !== undefined && !(await this.fresh())) return this.store.list(prefix);
    return this.listCached(prefix);
  }

  /**
   * Waits until the cache holds every write the store acknowledged before this call; false
   * when a progress notification or the timeout came first (the caller then reads the store).
   */
  private async fresh(): Promise<boolean> {
    const consistent = this.consistent;
    if (consistent === undefined || this.closed) return true;
    const target = await consistent.revision.get();
    if (target <= this.rev) return true;
    if (target <= this.progressRev) return false;
    this.upstream?.requestProgress?.();
    return this.reachWithin(target, consistent.timeoutMs);
  }

  private reachWithin(revision: number, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(false);
      }, timeoutMs);
      const settle = (byEvents: boolean): void => {
        clearTimeout(timer);
        resolve(byEvents);
      };
      const waiter: RevisionWaiter = { revision, resolve: settle, reject: () => settle(false), read: true };
      this.insertWaiter(waiter);
    });
  }

  private getCached(key: string): Promise<StoredItem | undefined> {
    if (this.closed) return Promise.reject(closedError(key));
    const error = this.unreadable.get(key);
    if (error !== undefined) return Promise.reject(error);
    return Promise.resolve(this.buckets.get(bucketOf(key))?.items.get(key));
  }

  private listCached(prefix: string): Promise<ListResult> {
    if (this.closed) return Promise.reject(closedError(prefix));
    for (const [key, error] of this.unreadable) if (key.startsWith(prefix)) return Promise.reject(error);
    const end = bucketEnd(prefix);
    const items: StoredItem[] = [];
    if (end >= 0) {
      // The prefix lies inside one bucket (a resource type, maybe narrowed to a namespace).
      const bucket = this.buckets.get(prefix.slice(0, end + 1));
      if (bucket !== undefined) collect(bucket, prefix, items);
    } else {
      // Wider than a bucket: every bucket under the prefix. Each bucket's keys start with
      // its name, so buckets in name order give keys in order.
      const names = [...this.buckets.keys()].filter((n) => n.startsWith(prefix));
      names.sort();
      for (const name of names) {
        const bucket = this.buckets.get(name);
        if (bucket !== undefined) collect(bucket, prefix, items);
      }
    }
    return Promise.resolve({ items, revision: this.rev });
  }

  create(key: string, object: KubeObject): Promise<StoredItem> {
    return this.write(key, () => this.store.create(key, object));
  }

  update(key: string, object: KubeObject, expectedRevision: number): Promise<StoredItem> {
    return this.write(key, () => this.store.update(key, object, expectedRevision));
  }

  delete(key: string, expectedRevision?: number): Promise<StoredItem> {
    return this.write(key, () => this.store.delete(key, expectedRevision));
  }

  watch(prefix: string, fromRevision: number, options: WatchOptions): WatchHandle {
    if (this.closed) throw closedError(prefix);
    if (this.resyncing || fromRevision < this.ring.floor) return this.store.watch(prefix, fromRevision, options);
    // Replay from the ring and register in one synchronous step.
    let last = fromRevision;
    this.ring.forEachAfter(fromRevision, (ev) => {
      if (!ev.key.startsWith(prefix)) return;
      options.onEvent(ev);
      last = ev.revision;
    });
    return this.watchers.add(prefix, Math.max(last, fromRevision), options);
  }

  /** Compacts the store, and forgets the same history here. */
  async compact(revision: number): Promise<void> {
    await this.store.compact(revision);
    this.ring.raiseFloor(Math.min(revision, this.rev));
  }

  /** Stops following the store (which the caller owns and closes) and ends every watch. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    this.upstream?.stop();
    this.upstream = undefined;
    if (this.resyncTimer !== undefined) clearTimeout(this.resyncTimer);
    const err = closedError('');
    this.watchers.fail(err);
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(err);
    return Promise.resolve();
  }

  // ---- following the store ------------------------------------------------------------

  /** Replaces the whole state with a list of the store. */
  private load(listed: ListResult): void {
    this.buckets.clear();
    this.unreadable.clear();
    for (const item of listed.items) this.put(item);
    for (const { key, error } of listed.unreadable ?? []) this.unreadable.set(key, error);
    this.rev = listed.revision;
    this.ring.reset(listed.revision);
    this.releaseWaiters();
  }

  private follow(fromRevision: number): void {
    this.upstream = this.store.watch(CACHED_PREFIX, fromRevision, {
      onEvent: (ev) => this.apply(ev),
      onError: (err) => this.upstreamBroke(err),
      onProgress: (revision) => {
        if (revision <= this.progressRev) return;
        this.progressRev = revision;
        this.releaseWaiters();
      },
    });
  }

  private apply(ev: StoreEvent): void {
    if (ev.revision <= this.rev) return;
    const bucket = this.buckets.get(bucketOf(ev.key));
    const previous = bucket?.items.get(ev.key);
    this.unreadable.delete(ev.key);
    // Keep one copy of the previous state: the one already in memory.
    const event: StoreEvent =
      previous !== undefined && ev.prevObject !== undefined ? { ...ev, prevObject: previous.object } : ev;
    if (ev.type === 'DELETED') {
      if (bucket !== undefined && previous !== undefined) {
        bucket.items.delete(ev.key);
        bucket.keys.remove(ev.key);
      }
    } else {
      const item: StoredItem = { key: ev.key, revision: ev.revision, object: ev.object };
      if (ev.stale === true) item.stale = true;
      this.put(item);
    }
    this.rev = ev.revision;
    this.ring.push(event);
    this.watchers.emit(event);
    this.releaseWaiters();
  }

  private put(item: StoredItem): void {
    const name = bucketOf(item.key);
    let bucket = this.buckets.get(name);
    if (bucket === undefined) {
      bucket = { items: new Map(), keys: new SortedKeys() };
      this.buckets.set(name, bucket);
    }
    if (!bucket.items.has(item.key)) bucket.keys.add(item.key);
    bucket.items.set(item.key, item);
  }

  private upstreamBroke(err: Error): void {
    this.upstream = undefined;
    if (this.closed) return;
    // Watches served from memory would miss what happens until the re-list: end them.
    this.watchers.fail(err);
    this.resyncing = true;
    this.resync(0);
  }

  private resync(attempt: number): void {
    const retry = (): void => {
      if (this.closed) return;
      const delay = Math.min(MAX_RESYNC_DELAY_MS, 100 * 2 ** attempt);
      this.resyncTimer = setTimeout(() => this.resync(attempt + 1), delay);
      this.resyncTimer.unref();
    };
    this.store.list(CACHED_PREFIX).then((listed) => {
      if (this.closed) return;
      // Load first: following replays (synchronously, for some stores) onto the new state.
      this.load(listed);
      try {
        this.follow(listed.revision);
      } catch {
        retry();
        return;
      }
      this.resyncing = false;
    }, retry);
  }

  // ---- read-your-writes ----------------------------------------------------------------

  private async write(key: string, send: () => Promise<StoredItem>): Promise<StoredItem> {
    if (this.closed) throw closedError(key);
    // The cache follows '/' only: a write elsewhere would never be seen, and never answered.
    if (!key.startsWith(CACHED_PREFIX)) {
      throw new StorageError('Unavailable', `the watch cache holds only keys that start with "${CACHED_PREFIX}"`, {
        key,
      });
    }
    const item = await send();
    if (item.revision <= this.rev) return item;
    // With consistent reads every read checks freshness itself, so a write waits for its own
    // event only so long: a stalled store watch (its etcd member cut off, not yet noticed by
    // the keepalive) must not hold every write past its client's timeout.
    if (this.consistent !== undefined) await this.reachWithin(item.revision, this.consistent.timeoutMs);
    else await this.reach(item.revision);
    return item;
  }

  private reach(revision: number): Promise<void> {
    if (this.closed) return Promise.reject(closedError(''));
    return new Promise((resolve, reject) => this.insertWaiter({ revision, resolve: () => resolve(), reject }));
  }

  private insertWaiter(waiter: RevisionWaiter): void {
    // Writes mostly complete in revision order: search from the end.
    let i = this.waiters.length;
    while (i > 0 && (this.waiters[i - 1]?.revision ?? 0) > waiter.revision) i--;
    this.waiters.splice(i, 0, waiter);
  }

  private releaseWaiters(): void {
    const fresh = this.freshRevision();
    if (this.waiters.length === 0 || (this.waiters[0]?.revision ?? Infinity) > fresh) return;
    const ready: RevisionWaiter[] = [];
    const waiting: RevisionWaiter[] = [];
    for (const w of this.waiters) {
      // A write resolves on its own event; a read also on a progress notification (which
      // sends it to the store: see the contract above).
      if (w.revision <= this.rev || (w.read === true && w.revision <= fresh)) ready.push(w);
      else waiting.push(w);
    }
    if (ready.length === 0) return;
    this.waiters = waiting;
    for (const w of ready) w.resolve(w.revision <= this.rev);
  }
}

function collect(bucket: Bucket, prefix: string, into: StoredItem[]): void {
  for (const key of bucket.keys.withPrefix(prefix)) {
    const item = bucket.items.get(key);
    if (item !== undefined) into.push(item);
  }
}

function closedError(key: string): StorageError {
  return new StorageError('Unavailable', 'the watch cache is closed', { key });
}
