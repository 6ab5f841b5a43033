// The SQLite store: the shared Store contract, plus what only this backend promises
// (restart, auto-compaction, exclusive use of its data directory, its on-disk form).

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import type { KubeObject } from '../api/meta.js';
import { DATABASE_FILE, SqliteStore } from './sqlite-store.js';
import { isStorageError, type StoreEvent } from './store.js';
import { runStoreSuite } from './store-suite.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'sqlite-store-'));
}

function cm(name: string, data: Record<string, string> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'ns' }, data };
}

function replay(store: SqliteStore, prefix: string, from: number): StoreEvent[] {
  const events: StoreEvent[] = [];
  store.watch(prefix, from, { onEvent: (e) => events.push(e), onError: () => undefined }).stop();
  return events;
}

runStoreSuite('SQLite', async () => {
  const dir = tempDir();
  const store = SqliteStore.open(dir);
  return {
    store,
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

test('data and the revision counter survive a reopen, even when the last write was a delete', async () => {
  const dir = tempDir();
  try {
    const first = SqliteStore.open(dir);
    const a = await first.create('/r/cm/ns/a', cm('a', { v: '1' }));
    const b = await first.create('/r/cm/ns/b', cm('b'));
    const d = await first.delete('/r/cm/ns/b', b.revision);
    await first.close();

    const second = SqliteStore.open(dir);
    try {
      assert.equal(await second.currentRevision(), d.revision);
      const got = await second.get('/r/cm/ns/a');
      assert.equal(got?.revision, a.revision);
      assert.deepEqual(got?.object['data'], { v: '1' });
      assert.equal(await second.get('/r/cm/ns/b'), undefined);
      const c = await second.create('/r/cm/ns/c', cm('c'));
      assert.equal(c.revision, d.revision + 1);
      assert.deepEqual(
        replay(second, '/r/', 0).map((e) => `${e.type}@${e.revision}`),
        [`ADDED@${a.revision}`, `ADDED@${b.revision}`, `DELETED@${d.revision}`, `ADDED@${c.revision}`],
      );
    } finally {
      await second.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('rows hold one event each, and no resourceVersion inside the stored JSON', async () => {
  const dir = tempDir();
  try {
    const store = SqliteStore.open(dir);
    const a = await store.create('/r/cm/ns/a', cm('a'));
    const u = await store.update(
      '/r/cm/ns/a',
      { ...cm('a', { v: '2' }), metadata: { name: 'a', resourceVersion: '77' } },
      a.revision,
    );
    await store.delete('/r/cm/ns/a', u.revision);
    await store.close();
    const db = new Database(join(dir, DATABASE_FILE), { readonly: true });
    try {
      const rows = db
        .prepare('SELECT id, name, created, deleted, create_revision, prev_revision, value FROM kv ORDER BY id')
        .all() as {
        id: number;
        created: number;
        deleted: number;
        create_revision: number;
        prev_revision: number;
        value: string;
      }[];
      assert.deepEqual(
        rows.map((r) => [r.created, r.deleted, r.prev_revision]),
        [
          [1, 0, 0],
          [0, 0, a.revision],
          [0, 1, u.revision],
        ],
      );
      assert.deepEqual(
        rows.map((r) => r.create_revision),
        [0, a.revision, a.revision],
      );
      for (const r of rows) assert.ok(!r.value.includes('resourceVersion'), r.value);
    } finally {
      db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a second store on the same data directory is refused while the first is open', async () => {
  const dir = tempDir();
  const store = SqliteStore.open(dir);
  try {
    await store.create('/r/cm/ns/a', cm('a'));
    assert.throws(
      () => SqliteStore.open(dir),
      (err: unknown) => isStorageError(err, 'Unavailable') && /in use/.test(err.message),
    );
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('auto-compaction keeps the most recent historyRevisions revisions', async () => {
  const dir = tempDir();
  const store = SqliteStore.open(dir, { historyRevisions: 10, compactIntervalMs: 10 });
  try {
    let last = await store.create('/r/cm/ns/a', cm('a'));
    for (let i = 0; i < 40; i++) last = await store.update('/r/cm/ns/a', cm('a', { i: String(i) }), last.revision);
    const deadline = Date.now() + 10_000;
    for (let i = 0; i < 1000 && store.oldestWatchableRevision() < last.revision - 10; i++) {
      assert.ok(Date.now() < deadline, 'auto-compaction ran');
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(store.oldestWatchableRevision(), last.revision - 10);
    assert.throws(
      () => replay(store, '/r/', 1),
      (err: unknown) => isStorageError(err, 'Compacted') && err.revision === last.revision - 10,
    );
    const kept = replay(store, '/r/', last.revision - 10);
    assert.equal(kept.length, 10);
    assert.deepEqual(kept[0]?.prevObject?.['data'], { i: '29' }, 'the oldest kept event still has its previous state');
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('long replays and compactions spanning several steps stay exact', async () => {
  const dir = tempDir();
  const store = SqliteStore.open(dir);
  try {
    const keys = 50;
    const revs: number[] = [];
    const items = await Promise.all(
      Array.from({ length: keys }, (_, k) => store.create(`/r/cm/ns/k${k}`, cm(`k${k}`))),
    );
    revs.push(...items.map((i) => i.revision));
    let current = items.map((i) => i.revision);
    for (let round = 0; round < 240; round++) {
      const next = await Promise.all(
        current.map((rev, k) => store.update(`/r/cm/ns/k${k}`, cm(`k${k}`, { round: String(round) }), rev)),
      );
      current = next.map((i) => i.revision);
      revs.push(...current);
    }
    assert.equal(revs.length, 12_050);
    const all = replay(store, '/r/cm/', 0);
    assert.deepEqual(
      all.map((e) => e.revision),
      [...revs].sort((x, y) => x - y),
    );
    const middle = revs[6000] ?? 0;
    await store.compact(middle);
    assert.equal(store.oldestWatchableRevision(), middle);
    const tail = replay(store, '/r/cm/', middle);
    assert.equal(tail.length, revs.filter((r) => r > middle).length);
    for (const e of tail) {
      assert.equal(e.type, 'MODIFIED');
      assert.ok(e.prevObject, `event ${e.revision} has its previous state`);
      assert.ok(Number(e.prevObject.metadata.resourceVersion) < e.revision);
    }
    const list = await store.list('/r/cm/');
    assert.deepEqual(
      list.items.map((i) => i.revision).sort((x, y) => x - y),
      [...current].sort((x, y) => x - y),
    );
    await store.compact(await store.currentRevision());
    assert.equal((await store.list('/r/cm/')).items.length, keys);
    assert.deepEqual(replay(store, '/r/cm/', await store.currentRevision()), []);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a database written by the two-table layout is carried over', async () => {
  const dir = tempDir();
  try {
    const db = new Database(join(dir, DATABASE_FILE));
    db.exec(`
      CREATE TABLE log (id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, type INTEGER NOT NULL, value TEXT NOT NULL, prev TEXT);
      CREATE TABLE live (key TEXT PRIMARY KEY, revision INTEGER NOT NULL, value TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
    `);
    const value = JSON.stringify(cm('a', { v: 'old' }));
    for (let i = 0; i < 7; i++)
      db.prepare('INSERT INTO log (key, type, value) VALUES (?, 1, ?)').run('/r/cm/ns/a', value);
    db.prepare('INSERT INTO live (key, revision, value) VALUES (?, 5, ?)').run('/r/cm/ns/a', value);
    db.close();

    const store = SqliteStore.open(dir);
    try {
      assert.equal(await store.currentRevision(), 7);
      const got = await store.get('/r/cm/ns/a');
      assert.equal(got?.revision, 5);
      assert.deepEqual(got?.object['data'], { v: 'old' });
      assert.throws(
        () => replay(store, '/r/', 0),
        (err: unknown) => isStorageError(err, 'Compacted'),
      );
      const u = await store.update('/r/cm/ns/a', cm('a', { v: 'new' }), 5);
      assert.equal(u.revision, 8);
      assert.deepEqual(replay(store, '/r/', 7)[0]?.prevObject?.['data'], { v: 'old' });
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function fileSize(dir: string): number {
  return statSync(join(dir, DATABASE_FILE)).size;
}

test('the database file shrinks back after large objects are deleted and compacted', async () => {
  const dir = tempDir();
  const store = SqliteStore.open(dir);
  try {
    const big = 'x'.repeat(100_000);
    const items = [];
    for (let i = 0; i < 300; i++) items.push(await store.create(`/r/cm/ns/big-${i}`, cm(`big-${i}`, { big })));
    await store.create('/r/cm/ns/keep', cm('keep', { v: '1' }));
    const full = fileSize(dir);
    assert.ok(full > 10_000_000, `the objects are in the file (${full} bytes; the rest still in the WAL)`);

    for (const item of items) await store.delete(item.key, item.revision);
    await store.compact(await store.currentRevision());
    const after = fileSize(dir);
    assert.ok(after < full / 10, `file shrank from ${full} to ${after} bytes`);
    assert.deepEqual((await store.get('/r/cm/ns/keep'))?.object['data'], { v: '1' }, 'what was kept is intact');
    assert.equal((await store.list('/r/cm/')).items.length, 1);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a database made without incremental auto-vacuum is switched to it at open, data intact', async () => {
  const dir = tempDir();
  try {
    const first = SqliteStore.open(dir);
    await first.create('/r/cm/ns/a', cm('a', { v: '1' }));
    await first.close();
    // Turn it back into what earlier versions wrote: auto_vacuum NONE.
    const raw = new Database(join(dir, DATABASE_FILE));
    raw.pragma('auto_vacuum = NONE');
    raw.exec('VACUUM');
    assert.equal(raw.pragma('auto_vacuum', { simple: true }), 0);
    raw.close();

    const second = SqliteStore.open(dir);
    await second.close();
    const check = new Database(join(dir, DATABASE_FILE), { readonly: true });
    assert.equal(check.pragma('auto_vacuum', { simple: true }), 2, 'incremental');
    check.close();
    const third = SqliteStore.open(dir);
    try {
      assert.deepEqual((await third.get('/r/cm/ns/a'))?.object['data'], { v: '1' });
    } finally {
      await third.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
