// The Store contract (store.ts) as tests, run against every backend: the SQLite store and the
// watch cache over it. Only the interface is used, and watch events may arrive
// asynchronously, so every expectation about them waits (bounded) for them to arrive.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeObject } from '../api/meta.js';
import { isStorageError, type Store, type StorageErrorCode, type StoreEvent, type StoredItem } from './store.js';

export interface StoreFixture {
  store: Store;
  cleanup: () => Promise<void>;
}

/** How long a test waits for watch events that should arrive. */
const EVENT_TIMEOUT_MS = 10_000;

function cm(name: string, data: Record<string, string> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'ns' }, data };
}

async function rejectsWith(p: Promise<unknown>, code: StorageErrorCode): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isStorageError(err, code), `expected StorageError ${code}, got ${String(err)}`);
    return true;
  });
}

interface Recorder {
  events: StoreEvent[];
  errors: Error[];
  stop: () => void;
  /** Waits until at least n events arrived (bounded). */
  waitFor: (n: number) => Promise<void>;
}

function record(store: Store, prefix: string, from: number): Recorder {
  const events: StoreEvent[] = [];
  const errors: Error[] = [];
  const handle = store.watch(prefix, from, { onEvent: (e) => events.push(e), onError: (e) => errors.push(e) });
  return {
    events,
    errors,
    stop: () => handle.stop(),
    waitFor: (n) => until(() => events.length >= n, `${n} events under ${prefix} (got ${events.length})`),
  };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + EVENT_TIMEOUT_MS;
  for (let i = 0; i < 100_000 && !cond(); i++) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, i < 20 ? 0 : 5));
  }
}

/** Gives asynchronous deliveries a chance to (wrongly) arrive. */
async function quiet(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  await new Promise((r) => setTimeout(r, 50));
}

/** A watch that is too old must fail with Compacted, thrown or reported. */
async function expectCompacted(store: Store, prefix: string, from: number): Promise<void> {
  let reported: unknown;
  let events = 0;
  try {
    const handle = store.watch(prefix, from, { onEvent: () => events++, onError: (e) => (reported = e) });
    await until(() => reported !== undefined, `Compacted for a watch from ${from}`);
    handle.stop();
  } catch (err) {
    reported = err;
  }
  assert.ok(isStorageError(reported, 'Compacted'), `expected Compacted, got ${String(reported)}`);
  assert.equal(events, 0, 'no events before Compacted');
}

const data = (o: KubeObject | undefined): unknown => o?.['data'];
const summary = (events: StoreEvent[]): string[] => events.map((e) => `${e.type} ${e.key}`);

export function runStoreSuite(name: string, makeStore: () => Promise<StoreFixture>): void {
  describe(`Store contract: ${name}`, () => {
    const withStore = (title: string, fn: (store: Store) => Promise<void>): void => {
      test(title, async () => {
        const { store, cleanup } = await makeStore();
        try {
          await fn(store);
        } finally {
          await cleanup();
        }
      });
    };

    withStore(
      'create, get, list, update and delete; resourceVersion is the revision of the last write',
      async (store) => {
        const a = await store.create('/r/cm/ns/a', cm('a', { v: '1' }));
        assert.equal(a.key, '/r/cm/ns/a');
        assert.equal(a.object.metadata.resourceVersion, String(a.revision));
        assert.deepEqual(data(a.object), { v: '1' });
        const got = await store.get('/r/cm/ns/a');
        assert.equal(got?.revision, a.revision);
        assert.equal(got?.object.metadata.resourceVersion, String(a.revision));
        assert.deepEqual(data(got?.object), { v: '1' });
        const u = await store.update('/r/cm/ns/a', cm('a', { v: '2' }), a.revision);
        assert.ok(u.revision > a.revision);
        assert.equal(u.object.metadata.resourceVersion, String(u.revision));
        assert.deepEqual(data((await store.get('/r/cm/ns/a'))?.object), { v: '2' });
        const d = await store.delete('/r/cm/ns/a', u.revision);
        assert.ok(d.revision > u.revision);
        assert.equal(d.object.metadata.resourceVersion, String(d.revision));
        assert.deepEqual(data(d.object), { v: '2' }, 'delete returns the last state');
        assert.equal(await store.get('/r/cm/ns/a'), undefined);
        assert.equal((await store.list('/r/cm/')).items.length, 0);
        assert.equal(await store.get('/r/cm/ns/never'), undefined);
      },
    );

    withStore('a resourceVersion inside the written object is ignored', async (store) => {
      const obj = cm('a');
      obj.metadata.resourceVersion = '999999';
      const a = await store.create('/r/cm/ns/a', obj);
      assert.equal(a.object.metadata.resourceVersion, String(a.revision));
      assert.equal((await store.get('/r/cm/ns/a'))?.object.metadata.resourceVersion, String(a.revision));
      const stale = cm('a', { v: '2' });
      stale.metadata.resourceVersion = '1';
      const u = await store.update('/r/cm/ns/a', stale, a.revision);
      assert.equal((await store.get('/r/cm/ns/a'))?.object.metadata.resourceVersion, String(u.revision));
    });

    withStore('one revision sequence, shared by all keys, strictly increasing', async (store) => {
      const start = await store.currentRevision();
      const revs: number[] = [];
      revs.push((await store.create('/r/cm/ns/a', cm('a'))).revision);
      revs.push((await store.create('/r/secrets/ns/b', cm('b'))).revision);
      revs.push((await store.update('/r/cm/ns/a', cm('a', { x: '1' }), revs[0] ?? 0)).revision);
      revs.push((await store.delete('/r/secrets/ns/b')).revision);
      revs.push((await store.create('/r/secrets/ns/b', cm('b'))).revision);
      assert.ok((revs[0] ?? 0) > start);
      for (let i = 1; i < revs.length; i++)
        assert.ok((revs[i] ?? 0) > (revs[i - 1] ?? 0), `revision ${i} increases: ${revs.join(',')}`);
      assert.equal(await store.currentRevision(), revs[revs.length - 1]);
    });

    withStore('list: by prefix, sorted by key, with the revision it is consistent with', async (store) => {
      for (const k of ['ns2/b', 'ns1/b', 'ns1/a', 'ns10/a']) await store.create(`/r/cm/${k}`, cm(k));
      await store.create('/r/cmx/ns1/a', cm('a'));
      await store.create('/r/secrets/ns1/a', cm('a'));
      const all = await store.list('/r/cm/');
      assert.deepEqual(
        all.items.map((i) => i.key),
        ['/r/cm/ns1/a', '/r/cm/ns1/b', '/r/cm/ns10/a', '/r/cm/ns2/b'],
      );
      assert.equal(all.revision, await store.currentRevision());
      for (const item of all.items) assert.equal(item.object.metadata.resourceVersion, String(item.revision));
      assert.deepEqual(
        (await store.list('/r/cm/ns1/')).items.map((i) => i.key),
        ['/r/cm/ns1/a', '/r/cm/ns1/b'],
      );
      assert.deepEqual((await store.list('/r/cm/ns9/')).items, []);
      assert.equal((await store.list('/r/')).items.length, 6);
      assert.equal((await store.list('/')).items.length, 6);
      const before = await store.list('/r/cm/');
      const written = await store.create('/r/other/ns/x', cm('x'));
      const after = await store.list('/r/cm/');
      assert.ok(after.revision >= written.revision, 'a list revision covers writes to other prefixes');
      assert.ok(before.revision < after.revision);
    });

    withStore('KeyExists on a live key; a deleted key can be created again', async (store) => {
      const a = await store.create('/r/cm/ns/a', cm('a'));
      await rejectsWith(store.create('/r/cm/ns/a', cm('a')), 'KeyExists');
      await store.delete('/r/cm/ns/a', a.revision);
      const again = await store.create('/r/cm/ns/a', cm('a', { v: 'new' }));
      assert.ok(again.revision > a.revision);
      assert.deepEqual(data((await store.get('/r/cm/ns/a'))?.object), { v: 'new' });
    });

    withStore('Conflict on a stale expected revision carries the live revision', async (store) => {
      const a = await store.create('/r/cm/ns/a', cm('a'));
      const u = await store.update('/r/cm/ns/a', cm('a', { x: '1' }), a.revision);
      await assert.rejects(store.update('/r/cm/ns/a', cm('a', { x: '2' }), a.revision), (err: unknown) => {
        assert.ok(isStorageError(err, 'Conflict'), String(err));
        assert.equal(err.revision, u.revision);
        return true;
      });
      await rejectsWith(store.delete('/r/cm/ns/a', a.revision), 'Conflict');
      assert.deepEqual(data((await store.get('/r/cm/ns/a'))?.object), { x: '1' }, 'failed writes change nothing');
      assert.equal(await store.currentRevision(), u.revision, 'failed writes take no revision');
      const d = await store.delete('/r/cm/ns/a', u.revision);
      assert.ok(d.revision > u.revision);
    });

    withStore('KeyNotFound for updates and deletes of absent or deleted keys', async (store) => {
      await rejectsWith(store.update('/r/cm/ns/missing', cm('missing'), 1), 'KeyNotFound');
      await rejectsWith(store.delete('/r/cm/ns/missing'), 'KeyNotFound');
      await rejectsWith(store.delete('/r/cm/ns/missing', 1), 'KeyNotFound');
      const a = await store.create('/r/cm/ns/a', cm('a'));
      const d = await store.delete('/r/cm/ns/a');
      await rejectsWith(store.update('/r/cm/ns/a', cm('a'), a.revision), 'KeyNotFound');
      await rejectsWith(store.update('/r/cm/ns/a', cm('a'), d.revision), 'KeyNotFound');
      await rejectsWith(store.delete('/r/cm/ns/a'), 'KeyNotFound');
    });

    withStore('200 concurrent creates all succeed with distinct revisions', async (store) => {
      const items = await Promise.all(
        Array.from({ length: 200 }, (_, i) => store.create(`/r/cm/ns/c${i}`, cm(`c${i}`))),
      );
      assert.equal(new Set(items.map((i) => i.revision)).size, 200);
      const list = await store.list('/r/cm/ns/');
      assert.equal(list.items.length, 200);
      const byKey = new Map(items.map((i) => [i.key, i.revision]));
      for (const item of list.items) assert.equal(item.revision, byKey.get(item.key));
    });

    withStore('concurrent updates with the same expected revision: exactly one wins', async (store) => {
      const a = await store.create('/r/cm/ns/a', cm('a'));
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => store.update('/r/cm/ns/a', cm('a', { i: String(i) }), a.revision)),
      );
      const won = results.filter((r): r is PromiseFulfilledResult<StoredItem> => r.status === 'fulfilled');
      assert.equal(won.length, 1);
      for (const r of results)
        if (r.status === 'rejected') assert.ok(isStorageError(r.reason, 'Conflict'), String(r.reason));
      assert.equal((await store.get('/r/cm/ns/a'))?.revision, won[0]?.value.revision);
    });

    withStore('a failed write among concurrent ones does not affect the others', async (store) => {
      const dup = await store.create('/r/cm/ns/dup', cm('dup'));
      const results = await Promise.allSettled([
        store.create('/r/cm/ns/x1', cm('x1')),
        store.create('/r/cm/ns/dup', cm('dup')),
        store.update('/r/cm/ns/dup', cm('dup'), dup.revision - 1),
        store.delete('/r/cm/ns/nothing'),
        store.create('/r/cm/ns/x2', cm('x2')),
        store.update('/r/cm/ns/dup', cm('dup', { ok: 'yes' }), dup.revision),
      ]);
      assert.deepEqual(
        results.map((r) => r.status),
        ['fulfilled', 'rejected', 'rejected', 'rejected', 'fulfilled', 'fulfilled'],
      );
      assert.ok(await store.get('/r/cm/ns/x1'));
      assert.ok(await store.get('/r/cm/ns/x2'));
      assert.deepEqual(data((await store.get('/r/cm/ns/dup'))?.object), { ok: 'yes' });
    });

    withStore('watch replays exactly the events after a revision, in order, then follows live ones', async (store) => {
      const a = await store.create('/r/cm/ns/a', cm('a'));
      const u = await store.update('/r/cm/ns/a', cm('a', { v: '2' }), a.revision);
      const b = await store.create('/r/cm/ns/b', cm('b'));
      const w = record(store, '/r/cm/', a.revision);
      try {
        await w.waitFor(2);
        assert.deepEqual(summary(w.events), ['MODIFIED /r/cm/ns/a', 'ADDED /r/cm/ns/b']);
        assert.deepEqual(
          w.events.map((e) => e.revision),
          [u.revision, b.revision],
        );
        const d = await store.delete('/r/cm/ns/a', u.revision);
        const c = await store.create('/r/cm/ns/c', cm('c'));
        await w.waitFor(4);
        await quiet();
        assert.deepEqual(summary(w.events), [
          'MODIFIED /r/cm/ns/a',
          'ADDED /r/cm/ns/b',
          'DELETED /r/cm/ns/a',
          'ADDED /r/cm/ns/c',
        ]);
        assert.deepEqual(
          w.events.map((e) => e.revision),
          [u.revision, b.revision, d.revision, c.revision],
        );
        for (const e of w.events) assert.equal(e.object.metadata.resourceVersion, String(e.revision));
        assert.deepEqual(w.errors, []);
      } finally {
        w.stop();
      }
    });

    withStore('watch from the current revision sees only later events; from 0, everything', async (store) => {
      await store.create('/r/cm/ns/a', cm('a'));
      const now = await store.currentRevision();
      const fromNow = record(store, '/r/cm/', now);
      const fromZero = record(store, '/r/cm/', 0);
      try {
        await store.create('/r/cm/ns/b', cm('b'));
        await fromNow.waitFor(1);
        await fromZero.waitFor(2);
        await quiet();
        assert.deepEqual(summary(fromNow.events), ['ADDED /r/cm/ns/b']);
        assert.deepEqual(summary(fromZero.events), ['ADDED /r/cm/ns/a', 'ADDED /r/cm/ns/b']);
      } finally {
        fromNow.stop();
        fromZero.stop();
      }
    });

    withStore('watch from a revision not reached yet starts after it', async (store) => {
      const a = await store.create('/r/cm/ns/a', cm('a'));
      const w = record(store, '/r/cm/', a.revision + 2);
      try {
        await store.create('/r/cm/ns/b', cm('b'));
        await store.create('/r/cm/ns/c', cm('c'));
        const d = await store.create('/r/cm/ns/d', cm('d'));
        await w.waitFor(1);
        await quiet();
        assert.deepEqual(
          w.events.map((e) => e.revision),
          [d.revision],
        );
      } finally {
        w.stop();
      }
    });

    withStore('watch filters by prefix', async (store) => {
      const cms = record(store, '/r/cm/', await store.currentRevision());
      const ns1 = record(store, '/r/cm/ns1/', await store.currentRevision());
      const everything = record(store, '/', await store.currentRevision());
      const partial = record(store, '/r/cm', await store.currentRevision());
      try {
        await store.create('/r/cm/ns1/a', cm('a'));
        await store.create('/r/cm/ns2/a', cm('a'));
        await store.create('/r/cmx/ns1/a', cm('a'));
        await store.create('/r/secrets/ns1/a', cm('a'));
        await everything.waitFor(4);
        await cms.waitFor(2);
        await ns1.waitFor(1);
        await quiet();
        assert.deepEqual(summary(cms.events), ['ADDED /r/cm/ns1/a', 'ADDED /r/cm/ns2/a']);
        assert.deepEqual(summary(ns1.events), ['ADDED /r/cm/ns1/a']);
        assert.equal(everything.events.length, 4);
        await partial.waitFor(3);
        assert.deepEqual(
          summary(partial.events),
          ['ADDED /r/cm/ns1/a', 'ADDED /r/cm/ns2/a', 'ADDED /r/cmx/ns1/a'],
          'a prefix need not end at a /',
        );
        // Replays filter the same way.
        const replay = record(store, '/r/cm/ns2/', 0);
        await replay.waitFor(1);
        await quiet();
        assert.deepEqual(summary(replay.events), ['ADDED /r/cm/ns2/a']);
        replay.stop();
      } finally {
        cms.stop();
        ns1.stop();
        everything.stop();
        partial.stop();
      }
    });

    withStore(
      'MODIFIED and DELETED events carry the previous state; DELETED carries its own revision',
      async (store) => {
        const w = record(store, '/r/cm/', await store.currentRevision());
        try {
          const a = await store.create('/r/cm/ns/a', cm('a', { v: '1' }));
          const u = await store.update('/r/cm/ns/a', cm('a', { v: '2' }), a.revision);
          const d = await store.delete('/r/cm/ns/a');
          await w.waitFor(3);
          const [added, modified, deleted] = w.events;
          assert.equal(added?.type, 'ADDED');
          assert.equal(added?.prevObject, undefined);
          assert.equal(modified?.type, 'MODIFIED');
          assert.deepEqual(data(modified?.object), { v: '2' });
          assert.deepEqual(data(modified?.prevObject), { v: '1' });
          assert.equal(modified?.prevObject?.metadata.resourceVersion, String(a.revision));
          assert.equal(deleted?.type, 'DELETED');
          assert.equal(deleted?.revision, d.revision);
          assert.equal(deleted?.object.metadata.resourceVersion, String(d.revision));
          assert.deepEqual(data(deleted?.object), { v: '2' });
          assert.deepEqual(data(deleted?.prevObject), { v: '2' });
          assert.equal(deleted?.prevObject?.metadata.resourceVersion, String(u.revision));
          // A replay carries the same.
          const replay = record(store, '/r/cm/', a.revision);
          await replay.waitFor(2);
          assert.deepEqual(data(replay.events[0]?.prevObject), { v: '1' });
          assert.equal(replay.events[0]?.prevObject?.metadata.resourceVersion, String(a.revision));
          assert.equal(replay.events[1]?.type, 'DELETED');
          assert.equal(replay.events[1]?.object.metadata.resourceVersion, String(d.revision));
          assert.equal(replay.events[1]?.prevObject?.metadata.resourceVersion, String(u.revision));
          replay.stop();
        } finally {
          w.stop();
        }
      },
    );

    withStore('a stopped watch receives nothing more', async (store) => {
      const w = record(store, '/r/cm/', await store.currentRevision());
      const other = record(store, '/r/cm/', await store.currentRevision());
      try {
        await store.create('/r/cm/ns/a', cm('a'));
        await w.waitFor(1);
        w.stop();
        await store.create('/r/cm/ns/b', cm('b'));
        await other.waitFor(2);
        await quiet();
        assert.equal(w.events.length, 1);
      } finally {
        other.stop();
      }
    });

    withStore('a watch started while writes are in flight misses nothing and repeats nothing', async (store) => {
      const start = await store.currentRevision();
      const writes = Array.from({ length: 100 }, (_, i) => store.create(`/r/cm/ns/k${i}`, cm(`k${i}`)));
      await Promise.all(writes.slice(0, 10));
      const mid = record(store, '/r/cm/', start);
      try {
        const items = await Promise.all(writes);
        await mid.waitFor(100);
        await quiet();
        const expected = items.map((i) => i.revision).sort((x, y) => x - y);
        assert.deepEqual(
          mid.events.map((e) => e.revision),
          expected,
        );
      } finally {
        mid.stop();
      }
    });

    withStore('compaction: older watches get Compacted; live objects and newer history remain', async (store) => {
      const keep = await store.create('/r/cm/ns/keep', cm('keep', { v: 'old' }));
      const a = await store.create('/r/cm/ns/a', cm('a'));
      let last = a;
      for (let i = 0; i < 5; i++) last = await store.update('/r/cm/ns/a', cm('a', { i: String(i) }), last.revision);
      const gone = await store.create('/r/cm/ns/gone', cm('gone'));
      await store.delete('/r/cm/ns/gone', gone.revision);
      const compactedAt = await store.currentRevision();
      const after = await store.update('/r/cm/ns/keep', cm('keep', { v: 'new' }), keep.revision);
      await store.compact(compactedAt);
      await expectCompacted(store, '/r/cm/', a.revision);
      await expectCompacted(store, '/r/cm/', 0);
      // Everything live is still there, with its revision.
      const list = await store.list('/r/cm/');
      assert.deepEqual(
        list.items.map((i) => `${i.key}@${i.revision}`),
        [`/r/cm/ns/a@${last.revision}`, `/r/cm/ns/keep@${after.revision}`],
      );
      assert.equal((await store.get('/r/cm/ns/a'))?.revision, last.revision);
      // From the compaction revision on, history is intact, previous states included.
      const w = record(store, '/r/cm/', compactedAt);
      try {
        await w.waitFor(1);
        const u2 = await store.update('/r/cm/ns/a', cm('a', { i: 'later' }), last.revision);
        await w.waitFor(2);
        await quiet();
        assert.deepEqual(summary(w.events), ['MODIFIED /r/cm/ns/keep', 'MODIFIED /r/cm/ns/a']);
        assert.deepEqual(data(w.events[0]?.prevObject), { v: 'old' });
        assert.equal(w.events[0]?.prevObject?.metadata.resourceVersion, String(keep.revision));
        assert.equal(w.events[1]?.revision, u2.revision);
        assert.deepEqual(data(w.events[1]?.prevObject), { i: '4' });
      } finally {
        w.stop();
      }
      await rejectsWith(store.create('/r/cm/ns/a', cm('a')), 'KeyExists');
      assert.ok(
        await store.create('/r/cm/ns/gone', cm('gone')),
        'a key deleted before compaction can be created again',
      );
    });

    withStore('closing the store ends its watches through onError', async (store) => {
      const w = record(store, '/r/cm/', await store.currentRevision());
      await store.close();
      await until(() => w.errors.length === 1, 'onError after close');
      await quiet();
      assert.equal(w.errors.length, 1, 'onError is called once');
    });
  });
}
