// The Store contract as tests, run against every backend (SQLite, the watch cache, etcd).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeObject } from '../api/meta.js';
import { isStorageError, type Store, type StoreEvent } from './store.js';

export interface StoreFixture {
  store: Store;
  cleanup: () => Promise<void>;
}

function obj(name: string, data: Record<string, string> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'ns' }, data };
}

async function rejectsWith(p: Promise<unknown>, code: Parameters<typeof isStorageError>[1]): Promise<void> {
  await assert.rejects(p, (err: unknown) => isStorageError(err, code));
}

function collect(store: Store, prefix: string, from: number): { events: StoreEvent[]; stop: () => void } {
  const events: StoreEvent[] = [];
  const handle = store.watch(prefix, from, { onEvent: (e) => events.push(e), onError: () => undefined });
  return { events, stop: () => handle.stop() };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

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

    withStore('create, get, list, update, delete with resourceVersion = revision', async (store) => {
      const a = await store.create('/r/cm/ns/a', obj('a', { v: '1' }));
      assert.equal(a.object.metadata.resourceVersion, String(a.revision));
      const got = await store.get('/r/cm/ns/a');
      assert.equal(got?.revision, a.revision);
      assert.deepEqual(got?.object['data'], { v: '1' });
      const b = await store.create('/r/cm/ns/b', obj('b'));
      assert.ok(b.revision > a.revision, 'revisions increase across keys');
      const list = await store.list('/r/cm/ns/');
      assert.deepEqual(list.items.map((i) => i.key), ['/r/cm/ns/a', '/r/cm/ns/b']);
      assert.ok(list.revision >= b.revision);
      const u = await store.update('/r/cm/ns/a', obj('a', { v: '2' }), a.revision);
      assert.ok(u.revision > b.revision);
      assert.deepEqual((await store.get('/r/cm/ns/a'))?.object['data'], { v: '2' });
      const d = await store.delete('/r/cm/ns/a', u.revision);
      assert.ok(d.revision > u.revision);
      assert.equal(d.object.metadata.resourceVersion, String(d.revision));
      assert.equal(await store.get('/r/cm/ns/a'), undefined);
      assert.equal(await store.currentRevision(), d.revision);
    });

    withStore('KeyExists, Conflict and KeyNotFound', async (store) => {
      const a = await store.create('/r/cm/ns/a', obj('a'));
      await rejectsWith(store.create('/r/cm/ns/a', obj('a')), 'KeyExists');
      await store.update('/r/cm/ns/a', obj('a', { x: '1' }), a.revision);
      await rejectsWith(store.update('/r/cm/ns/a', obj('a', { x: '2' }), a.revision), 'Conflict');
      await rejectsWith(store.delete('/r/cm/ns/a', a.revision), 'Conflict');
      await rejectsWith(store.update('/r/cm/ns/missing', obj('missing'), 1), 'KeyNotFound');
      await rejectsWith(store.delete('/r/cm/ns/missing'), 'KeyNotFound');
    });

    withStore('a failed write in a batch does not affect the others', async (store) => {
      await store.create('/r/cm/ns/dup', obj('dup'));
      const results = await Promise.allSettled([
        store.create('/r/cm/ns/x1', obj('x1')),
        store.create('/r/cm/ns/dup', obj('dup')),
        store.create('/r/cm/ns/x2', obj('x2')),
      ]);
      assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
      assert.ok(await store.get('/r/cm/ns/x1'));
      assert.ok(await store.get('/r/cm/ns/x2'));
    });

    withStore('200 concurrent creates get distinct revisions', async (store) => {
      const items = await Promise.all(Array.from({ length: 200 }, (_, i) => store.create(`/r/cm/ns/c${i}`, obj(`c${i}`))));
      assert.equal(new Set(items.map((i) => i.revision)).size, 200);
      assert.equal((await store.list('/r/cm/ns/')).items.length, 200);
    });

    withStore('watch replays exactly the later events in order, then follows live ones, by prefix', async (store) => {
      const a = await store.create('/r/cm/ns/a', obj('a'));
      const u = await store.update('/r/cm/ns/a', obj('a', { v: '2' }), a.revision);
      await store.create('/r/other/ns/z', obj('z'));
      const w = collect(store, '/r/cm/', a.revision);
      try {
        await store.delete('/r/cm/ns/a', u.revision);
        await store.create('/r/cm/ns/b', obj('b'));
        await settle();
        assert.deepEqual(w.events.map((e) => `${e.type} ${e.key}`), ['MODIFIED /r/cm/ns/a', 'DELETED /r/cm/ns/a', 'ADDED /r/cm/ns/b']);
        const revs = w.events.map((e) => e.revision);
        assert.deepEqual([...revs].sort((x, y) => x - y), revs);
        const del = w.events[1];
        assert.deepEqual(del?.prevObject?.['data'], { v: '2' });
        assert.equal(del?.object.metadata.resourceVersion, String(del?.revision));
        assert.deepEqual(w.events[0]?.prevObject?.['data'], {});
      } finally {
        w.stop();
      }
    });

    withStore('watch from a compacted revision fails with Compacted', async (store) => {
      const a = await store.create('/r/cm/ns/a', obj('a'));
      let last = a;
      for (let i = 0; i < 5; i++) last = await store.update('/r/cm/ns/a', obj('a', { i: String(i) }), last.revision);
      await store.compact(last.revision - 1);
      assert.throws(() => store.watch('/r/cm/', a.revision, { onEvent: () => undefined, onError: () => undefined }), (err: unknown) => isStorageError(err, 'Compacted'));
      const w = collect(store, '/r/cm/', last.revision - 1);
      await settle();
      assert.equal(w.events.length, 1);
      w.stop();
    });
  });
}
