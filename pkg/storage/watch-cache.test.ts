// The watch cache over the SQLite store: the shared Store contract (with a roomy ring and
// with a tiny one, so both the ring and the fall-back to the store are exercised), plus
// what only the cache promises.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { KubeObject } from '../api/meta.js';
import { SqliteStore } from './sqlite-store.js';
import {
  isStorageError,
  type ListResult,
  type Store,
  type StoreEvent,
  type StoredItem,
  type WatchHandle,
  type WatchOptions,
} from './store.js';
import { runStoreSuite } from './store-suite.js';
import { WatchCache } from './watch-cache.js';

function cm(name: string, data: Record<string, string> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (let i = 0; i < 10_000 && !cond(); i++) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
  assert.ok(cond(), `gave up waiting for ${what}`);
}

interface Fixture {
  sqlite: SqliteStore;
  cache: WatchCache;
  close: () => Promise<void>;
}

async function open(
  options: { capacity?: number; wrap?: (s: Store) => Store; consistentReads?: { timeoutMs: number } } = {},
): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'watch-cache-'));
  const sqlite = SqliteStore.open(dir);
  const cache = await WatchCache.start(options.wrap?.(sqlite) ?? sqlite, {
    capacity: options.capacity,
    ...(options.consistentReads === undefined ? {} : { consistentReads: options.consistentReads }),
  });
  return {
    sqlite,
    cache,
    close: async () => {
      await cache.close();
      await sqlite.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

for (const capacity of [100_000, 3]) {
  runStoreSuite(`watch cache (ring of ${capacity}) over SQLite`, async () => {
    const f = await open({ capacity });
    return { store: f.cache, cleanup: f.close };
  });
}

/**
 * A real store seen through a slow or unreliable watch: events reach watchers `lagMs`
 * after the write was answered, and every watch can be broken on demand (as when a store
 * compacts past a watcher or the connection drops).
 */
class LaggingStore implements Store {
  private readonly inner: Store;
  private readonly lagMs: number;
  private readonly broken = new Set<() => void>();

  /**
   * With earlyProgress, a requested progress notification reports the store's revision at
   * once, ahead of the events still lagging (etcd before 3.4.25 / 3.5.8, etcd#15220).
   */
  constructor(
    inner: Store,
    lagMs: number,
    private readonly earlyProgress = false,
  ) {
    this.inner = inner;
    this.lagMs = lagMs;
  }

  breakWatches(): void {
    for (const b of [...this.broken]) b();
  }

  currentRevision(): Promise<number> {
    return this.inner.currentRevision();
  }
  get(key: string): Promise<StoredItem | undefined> {
    return this.inner.get(key);
  }
  list(prefix: string): Promise<ListResult> {
    return this.inner.list(prefix);
  }
  create(key: string, object: KubeObject): Promise<StoredItem> {
    return this.inner.create(key, object);
  }
  update(key: string, object: KubeObject, expectedRevision: number): Promise<StoredItem> {
    return this.inner.update(key, object, expectedRevision);
  }
  delete(key: string, expectedRevision?: number): Promise<StoredItem> {
    return this.inner.delete(key, expectedRevision);
  }
  watch(prefix: string, fromRevision: number, options: WatchOptions): WatchHandle {
    let open = true;
    const inner = this.inner.watch(prefix, fromRevision, {
      // Timers of equal delay fire in order, so the lag keeps the events in order.
      onEvent: (e) => void setTimeout(() => open && options.onEvent(e), this.lagMs),
      onError: (err) => open && options.onError(err),
    });
    const breakIt = (): void => {
      if (!open) return;
      open = false;
      inner.stop();
      this.broken.delete(breakIt);
      options.onError(new Error('watch connection lost'));
    };
    this.broken.add(breakIt);
    const requestProgress = (): void =>
      void this.inner.currentRevision().then((revision) => open && options.onProgress?.(revision));
    return {
      stop: () => {
        open = false;
        this.broken.delete(breakIt);
        inner.stop();
      },
      ...(this.earlyProgress ? { requestProgress } : {}),
    };
  }
  compact(revision: number): Promise<void> {
    return this.inner.compact(revision);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

test('read-your-writes: a read right after a write sees it, even when the store’s watch lags', async () => {
  let lagging: LaggingStore | undefined;
  const f = await open({ wrap: (s) => (lagging = new LaggingStore(s, 30)) });
  try {
    assert.ok(lagging);
    const created = await f.cache.create('/registry/core/configmaps/ns/a', cm('a'));
    assert.equal(f.cache.revision(), created.revision);
    assert.equal((await f.cache.get('/registry/core/configmaps/ns/a'))?.revision, created.revision);
    const many = await Promise.all(
      Array.from({ length: 50 }, (_, i) => f.cache.create(`/registry/core/configmaps/ns/m${i}`, cm(`m${i}`))),
    );
    const last = many[many.length - 1];
    assert.ok(last);
    assert.equal((await f.cache.get(last.key))?.revision, last.revision);
    assert.equal((await f.cache.list('/registry/core/configmaps/ns/')).items.length, 51);
    const u = await f.cache.update(created.key, cm('a', { v: '2' }), created.revision);
    assert.deepEqual((await f.cache.get(created.key))?.object['data'], { v: '2' });
    await f.cache.delete(created.key, u.revision);
    assert.equal(await f.cache.get(created.key), undefined);
  } finally {
    await f.close();
  }
});

test('consistent reads: a write whose event the stalled watch does not bring resolves after the timeout, and is read back', async () => {
  let lagging: LaggingStore | undefined;
  const f = await open({ wrap: (s) => (lagging = new LaggingStore(s, 60_000)), consistentReads: { timeoutMs: 50 } });
  try {
    assert.ok(lagging);
    const created = await f.cache.create('/registry/core/configmaps/ns/stalled', cm('stalled'));
    assert.ok(f.cache.revision() < created.revision, 'the cache has not seen the write');
    assert.equal((await f.cache.get(created.key))?.revision, created.revision, 'a read still sees it (from the store)');
  } finally {
    await f.close();
  }
});

test('peek and peekList answer from memory at once: a write the lagging watch has not brought yet is not there', async () => {
  let lagging: LaggingStore | undefined;
  const f = await open({ wrap: (s) => (lagging = new LaggingStore(s, 5000)), consistentReads: { timeoutMs: 3000 } });
  try {
    assert.ok(lagging);
    const key = '/registry/core/configmaps/ns/not-yet';
    await f.sqlite.create(key, cm('not-yet'));
    assert.equal(await f.cache.peek(key), undefined, 'peek does not wait for the watch');
    const listed = await f.cache.peekList('/registry/core/configmaps/ns/');
    assert.ok(!listed.items.some((item) => item.key === key), 'nor does peekList');
    assert.equal(listed.revision, f.cache.freshRevision(), "peekList is consistent with the cache's own revision");
  } finally {
    await f.close();
  }
});

test('consistent reads: a write by another writer is seen at once, though the watch lags; too long a lag reads the store', async () => {
  for (const [lagMs, timeoutMs] of [
    [80, 3000],
    [5000, 50],
  ] as const) {
    let lagging: LaggingStore | undefined;
    const f = await open({ wrap: (s) => (lagging = new LaggingStore(s, lagMs)), consistentReads: { timeoutMs } });
    try {
      assert.ok(lagging);
      for (let i = 0; i < 5; i++) {
        // Written straight to the store (another apiserver): this cache hears of it late.
        const key = `/registry/core/configmaps/ns/other-${i}`;
        const written = await f.sqlite.create(key, cm(`other-${i}`));
        assert.equal((await f.cache.get(key))?.revision, written.revision, `get ${i} (lag ${lagMs} ms)`);
        const listed = await f.cache.list('/registry/core/configmaps/ns/');
        assert.ok(
          listed.items.some((item) => item.key === key),
          `list ${i} (lag ${lagMs} ms)`,
        );
      }
      // Concurrent reads share revision reads and all see the write.
      const key = '/registry/core/configmaps/ns/together';
      await f.sqlite.create(key, cm('together'));
      const seen = await Promise.all(Array.from({ length: 20 }, () => f.cache.get(key)));
      assert.ok(seen.every((item) => item?.key === key));
    } finally {
      await f.close();
    }
  }
});

test('consistent reads: a progress notification that runs ahead of the events sends the read to the store, never answers it stale', async () => {
  const f = await open({ wrap: (s) => new LaggingStore(s, 5000, true), consistentReads: { timeoutMs: 3000 } });
  try {
    // 60 writes by another apiserver, then a list through this one: the notification
    // arrives first and vouches for a revision whose events are still 5 s away.
    await Promise.all(
      Array.from({ length: 60 }, (_, i) => f.sqlite.create(`/registry/core/services/ns/s${i}`, cm(`s${i}`))),
    );
    const listed = await f.cache.list('/registry/core/services/ns/');
    assert.equal(listed.items.length, 60);
    assert.ok(f.cache.revision() < listed.revision, 'the answer came from the store: the cache was behind');
    const one = await f.cache.get('/registry/core/services/ns/s59');
    assert.ok(one !== undefined);
  } finally {
    await f.close();
  }
});

test('a watch older than the ring is served from the store’s history, exactly', async () => {
  const f = await open({ capacity: 10 });
  try {
    const start = f.cache.revision();
    const revs: number[] = [];
    let item = await f.cache.create('/registry/core/configmaps/ns/a', cm('a'));
    revs.push(item.revision);
    for (let i = 0; i < 29; i++) {
      item = await f.cache.update(item.key, cm('a', { i: String(i) }), item.revision);
      revs.push(item.revision);
    }
    for (const from of [start, revs[5] ?? 0, revs[25] ?? 0]) {
      const events: StoreEvent[] = [];
      const h = f.cache.watch('/registry/core/configmaps/', from, {
        onEvent: (e) => events.push(e),
        onError: (e) => assert.fail(e),
      });
      const next = await f.cache.update(item.key, cm('a', { live: String(from) }), item.revision);
      item = next;
      revs.push(next.revision);
      assert.deepEqual(
        events.map((e) => e.revision),
        revs.filter((r) => r > from),
        `watch from ${from}`,
      );
      h.stop();
    }
    // Once the store compacts, the same old watch is Compacted.
    await f.cache.compact(revs[20] ?? 0);
    assert.throws(
      () => f.cache.watch('/registry/', revs[5] ?? 0, { onEvent: () => undefined, onError: () => undefined }),
      (err: unknown) => isStorageError(err, 'Compacted'),
    );
  } finally {
    await f.close();
  }
});

test('500 watchers each get exactly their events, in order', async () => {
  const f = await open();
  try {
    const from = f.cache.revision();
    const namespaces = 50;
    const watchers: { prefix: string; events: StoreEvent[]; handle: WatchHandle }[] = [];
    for (let i = 0; i < 500; i++) {
      const prefix = i % 10 === 0 ? '/registry/core/pods/' : `/registry/core/pods/ns${i % namespaces}/`;
      const events: StoreEvent[] = [];
      const handle = f.cache.watch(prefix, from, { onEvent: (e) => events.push(e), onError: (e) => assert.fail(e) });
      watchers.push({ prefix, events, handle });
    }
    const written = await Promise.all(
      Array.from({ length: 400 }, (_, i) =>
        f.cache.create(`/registry/core/pods/ns${i % (namespaces + 5)}/p${i}`, cm(`p${i}`)),
      ),
    );
    await f.cache.create('/registry/core/podtemplates/ns1/x', cm('x'));
    const sorted = written.sort((a, b) => a.revision - b.revision);
    for (const w of watchers) {
      const expected = sorted.filter((i) => i.key.startsWith(w.prefix)).map((i) => i.revision);
      assert.deepEqual(
        w.events.map((e) => e.revision),
        expected,
        `watcher on ${w.prefix}`,
      );
      w.handle.stop();
    }
  } finally {
    await f.close();
  }
});

test('slow, re-entrant and failing watchers cannot reorder, repeat or block events for the others', async () => {
  const f = await open();
  try {
    const from = f.cache.revision();
    const order: number[] = [];
    const late: StoreEvent[] = [];
    const errors: Error[] = [];
    let lateHandle: WatchHandle | undefined;
    const slow = f.cache.watch('/registry/', from, {
      onEvent: (e) => {
        const until = Date.now() + 2;
        while (Date.now() < until) {
          // Busy: a slow consumer.
        }
        order.push(e.revision);
        // Registering a watch from inside a callback, from before the event being delivered.
        if (lateHandle === undefined)
          lateHandle = f.cache.watch('/registry/', from, {
            onEvent: (ev) => late.push(ev),
            onError: (err) => errors.push(err),
          });
      },
      onError: (err) => errors.push(err),
    });
    const throwing: Error[] = [];
    let calls = 0;
    f.cache.watch('/registry/', from, {
      onEvent: () => {
        calls++;
        throw new Error('consumer bug');
      },
      onError: (err) => throwing.push(err),
    });
    const written = await Promise.all(
      Array.from({ length: 30 }, (_, i) => f.cache.create(`/registry/core/configmaps/ns/c${i}`, cm(`c${i}`))),
    );
    const expected = written.map((i) => i.revision).sort((a, b) => a - b);
    assert.deepEqual(order, expected);
    assert.deepEqual(
      late.map((e) => e.revision),
      expected,
    );
    assert.deepEqual(errors, []);
    assert.equal(calls, 1, 'a throwing watcher is ended after its first failure');
    assert.equal(throwing.length, 1);
    slow.stop();
    lateHandle?.stop();
  } finally {
    await f.close();
  }
});

test('lists over 10,000 objects: by resource, by namespace, wider prefixes; sorted, after deletes and re-creates', async () => {
  const f = await open();
  try {
    const expected = new Set<string>();
    const batch: Promise<StoredItem>[] = [];
    for (let i = 0; i < 10_000; i++) {
      const key = `/registry/core/pods/ns${i % 20}/pod-${(i * 7919) % 10_000}`;
      expected.add(key);
      batch.push(f.cache.create(key, cm(`pod-${i}`)));
    }
    await Promise.all(batch);
    await f.cache.create('/registry/apps/deployments/ns1/d', cm('d'));
    const deleted = [...expected].filter((_, i) => i % 3 === 0);
    await Promise.all(deleted.map((k) => f.cache.delete(k)));
    for (const k of deleted.slice(0, 100)) await f.cache.create(k, cm('again'));
    for (const k of deleted.slice(100)) expected.delete(k);
    const sortedExpected = [...expected].sort();
    const pods = await f.cache.list('/registry/core/pods/');
    assert.deepEqual(
      pods.items.map((i) => i.key),
      sortedExpected,
    );
    const fromStore = await f.sqlite.list('/registry/core/pods/');
    assert.deepEqual(
      pods.items.map((i) => `${i.key}@${i.revision}`),
      fromStore.items.map((i) => `${i.key}@${i.revision}`),
    );
    const ns7 = await f.cache.list('/registry/core/pods/ns7/');
    assert.deepEqual(
      ns7.items.map((i) => i.key),
      sortedExpected.filter((k) => k.startsWith('/registry/core/pods/ns7/')),
    );
    const everything = await f.cache.list('/registry/');
    assert.deepEqual(
      everything.items.map((i) => i.key),
      ['/registry/apps/deployments/ns1/d', ...sortedExpected],
    );
    assert.equal((await f.cache.list('/registry/core/po')).items.length, sortedExpected.length);
    assert.equal(pods.revision, await f.sqlite.currentRevision());
  } finally {
    await f.close();
  }
});

test('when the store’s watch breaks, watches from memory end, and the cache re-lists and carries on', async () => {
  let lagging: LaggingStore | undefined;
  const f = await open({ wrap: (s) => (lagging = new LaggingStore(s, 0)) });
  try {
    assert.ok(lagging);
    const a = await f.cache.create('/registry/core/configmaps/ns/a', cm('a'));
    const errors: Error[] = [];
    f.cache.watch('/registry/', a.revision, { onEvent: () => undefined, onError: (e) => errors.push(e) });
    // Writes the cache cannot see while it is cut off.
    lagging.breakWatches();
    assert.equal(errors.length, 1);
    const b = await f.sqlite.create('/registry/core/configmaps/ns/b', cm('b'));
    await f.sqlite.delete(a.key);
    await until(() => f.cache.revision() >= b.revision + 1, 'the cache to re-list');
    assert.deepEqual(
      (await f.cache.list('/registry/')).items.map((i) => i.key),
      [b.key],
    );
    const events: StoreEvent[] = [];
    f.cache.watch('/registry/', f.cache.revision(), { onEvent: (e) => events.push(e), onError: (e) => assert.fail(e) });
    const c = await f.cache.create('/registry/core/configmaps/ns/c', cm('c'));
    await until(() => events.length === 1, 'a live event after the re-list');
    assert.equal(events[0]?.revision, c.revision);
    assert.equal((await f.cache.get(c.key))?.revision, c.revision);
  } finally {
    await f.close();
  }
});

test('writes outside the cached keyspace are refused, not left hanging', async () => {
  const f = await open();
  try {
    await assert.rejects(f.cache.create('registry/no-slash', cm('x')), (err: unknown) =>
      isStorageError(err, 'Unavailable'),
    );
  } finally {
    await f.close();
  }
});
