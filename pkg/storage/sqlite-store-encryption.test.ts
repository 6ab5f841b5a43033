// The SQLite store with encryption at rest: values through the transformers on every write
// and read path, plaintext rows still readable (and stale), unreadable values refused per
// key, and the files' modes. The watch cache on top keeps both answers.

import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import type { KubeObject } from '../api/meta.js';
import { buildResourceTransformers, describeStoredValue, type ResourceTransformers } from './encryption/index.js';
import { b64, config, key, type Provider } from './encryption/fixtures.js';
import { DATABASE_FILE, SqliteStore } from './sqlite-store.js';
import { isStorageError, type StoreEvent } from './store.js';
import { WatchCache } from './watch-cache.js';

const VALUE = 'correct-horse-battery-staple-42';
const KEY = '/registry/core/secrets/ns/db';
const OTHER = '/registry/core/configmaps/ns/plain';

function secret(data: string): KubeObject {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'ns' }, data: { password: data } };
}

function transformers(providers: ([Provider, string, Buffer] | 'identity')[]): ResourceTransformers {
  return buildResourceTransformers(config(providers));
}

const KEY1: [Provider, string, Buffer] = ['secretbox', 'key1', key(1)];
const KEY2: [Provider, string, Buffer] = ['secretbox', 'key2', key(2)];

function withDir(fn: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sqlite-enc-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

function storedRows(dir: string, name: string): { value: unknown }[] {
  const db = new Database(join(dir, DATABASE_FILE), { readonly: true });
  try {
    return db.prepare<[string], { value: unknown }>('SELECT value FROM kv WHERE name = ? ORDER BY id').all(name);
  } finally {
    db.close();
  }
}

function filesContain(dir: string, needle: string): string[] {
  return readdirSync(dir).filter((f) => readFileSync(join(dir, f)).includes(Buffer.from(needle)));
}

function replay(store: SqliteStore, from: number): StoreEvent[] {
  const events: StoreEvent[] = [];
  store.watch('/registry/', from, { onEvent: (e) => events.push(e), onError: () => undefined }).stop();
  return events;
}

test(
  'encrypted values are BLOBs naming their key, and read back on every path',
  withDir(async (dir) => {
    const store = SqliteStore.open(dir, { transformers: transformers([KEY1, 'identity']) });
    const created = await store.create(KEY, secret(VALUE));
    assert.equal((created.object['data'] as Record<string, string>)['password'], VALUE);
    const updated = await store.update(KEY, secret(`${VALUE}-2`), created.revision);
    await store.create(OTHER, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'plain', namespace: 'ns' } });
    assert.equal(((await store.get(KEY))?.object['data'] as Record<string, string>)['password'], `${VALUE}-2`);
    const listed = await store.list('/registry/');
    assert.equal(listed.items.length, 2);
    assert.equal(listed.unreadable, undefined);
    const events = replay(store, 0);
    assert.deepEqual(
      events.map((e) => [e.type, e.revision]),
      [
        ['ADDED', created.revision],
        ['MODIFIED', updated.revision],
        ['ADDED', updated.revision + 1],
      ],
    );
    assert.equal(((events[1]?.prevObject as KubeObject)['data'] as Record<string, string>)['password'], VALUE);
    await store.close();

    const rows = storedRows(dir, KEY);
    for (const row of rows) {
      assert.ok(Buffer.isBuffer(row.value), 'an encrypted value is a BLOB');
      assert.deepEqual(describeStoredValue(row.value), { provider: 'secretbox', keyName: 'key1' });
    }
    assert.equal(typeof storedRows(dir, OTHER)[0]?.value, 'string', 'resources not configured stay TEXT');
    assert.deepEqual(filesContain(dir, VALUE), []);
    assert.deepEqual(filesContain(dir, b64(Buffer.from(VALUE))), []);
  }),
);

test(
  'plaintext rows and older keys read as stale until rewritten; the rewrite uses the first key',
  withDir(async (dir) => {
    const plain = SqliteStore.open(dir);
    const first = await plain.create(KEY, secret(VALUE));
    await plain.close();

    const one = SqliteStore.open(dir, { transformers: transformers([KEY1, 'identity']) });
    assert.equal((await one.get(KEY))?.stale, true);
    assert.equal((await one.list('/registry/')).items[0]?.stale, true);
    assert.equal(replay(one, 0)[0]?.stale, true);
    const rewritten = await one.update(KEY, secret(VALUE), first.revision);
    assert.equal(rewritten.stale, undefined);
    assert.equal((await one.get(KEY))?.stale, undefined);
    await one.close();

    const two = SqliteStore.open(dir, { transformers: transformers([KEY2, KEY1]) });
    const item = await two.get(KEY);
    assert.equal(item?.stale, true, 'written with key1, which is no longer first');
    await two.update(KEY, secret(VALUE), item.revision);
    assert.equal((await two.get(KEY))?.stale, undefined);
    await two.close();
    const rows = storedRows(dir, KEY);
    assert.equal(typeof rows[0]?.value, 'string');
    assert.deepEqual(describeStoredValue(rows[rows.length - 1]?.value as Buffer), {
      provider: 'secretbox',
      keyName: 'key2',
    });
  }),
);

test(
  'a value no configured key can read is Unavailable for that key only',
  withDir(async (dir) => {
    const one = SqliteStore.open(dir, { transformers: transformers([KEY1]) });
    const created = await one.create(KEY, secret(VALUE));
    await one.create(OTHER, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'plain', namespace: 'ns' } });
    await one.close();

    const wrong = SqliteStore.open(dir, { transformers: transformers([KEY2]) });
    const unavailable = (err: unknown): boolean => isStorageError(err, 'Unavailable') && /key1/.test(err.message);
    await assert.rejects(wrong.get(KEY), unavailable);
    await assert.rejects(wrong.update(KEY, secret('x'), created.revision), unavailable);
    await assert.rejects(wrong.delete(KEY), unavailable);
    const listed = await wrong.list('/registry/');
    assert.deepEqual(
      listed.items.map((i) => i.key),
      [OTHER],
    );
    assert.deepEqual(
      listed.unreadable?.map((u) => u.key),
      [KEY],
    );
    assert.throws(() => replay(wrong, 0), unavailable);

    const cache = await WatchCache.start(wrong);
    await assert.rejects(cache.get(KEY), unavailable);
    await assert.rejects(cache.list('/registry/core/secrets/'), unavailable);
    assert.equal((await cache.list('/registry/core/configmaps/')).items.length, 1);
    await cache.close();
    await wrong.close();
  }),
);

test(
  'the watch cache keeps stale from the list and clears it on a rewrite',
  withDir(async (dir) => {
    const plain = SqliteStore.open(dir);
    await plain.create(KEY, secret(VALUE));
    await plain.close();
    const store = SqliteStore.open(dir, { transformers: transformers([KEY1, 'identity']) });
    const cache = await WatchCache.start(store);
    const item = await cache.get(KEY);
    assert.equal(item?.stale, true);
    await cache.update(KEY, secret(VALUE), item.revision);
    assert.equal((await cache.get(KEY))?.stale, undefined);
    await cache.close();
    await store.close();
  }),
);

test(
  'after a rewrite and a compaction no plaintext of the old value is left in the files',
  withDir(async (dir) => {
    const plain = SqliteStore.open(dir);
    const first = await plain.create(KEY, secret(VALUE));
    await plain.close();
    assert.deepEqual(filesContain(dir, VALUE), [DATABASE_FILE], 'written in plaintext before encryption');

    const store = SqliteStore.open(dir, { transformers: transformers([KEY1, 'identity']) });
    const rewritten = await store.update(KEY, secret(VALUE), first.revision);
    assert.ok(filesContain(dir, VALUE).length > 0, 'the old revision still holds it');
    await store.compact(rewritten.revision);
    assert.deepEqual(filesContain(dir, VALUE), [], 'secure_delete zeroed it and the WAL was truncated');
    assert.equal(((await store.get(KEY))?.object['data'] as Record<string, string>)['password'], VALUE);
    await store.close();
    assert.deepEqual(filesContain(dir, VALUE), []);
  }),
);

test(
  'the data directory is 0700 and the database files 0600',
  withDir(async (dir) => {
    const data = join(dir, 'data');
    const store = SqliteStore.open(data, { transformers: transformers([KEY1]) });
    await store.create(KEY, secret(VALUE));
    assert.equal(statSync(data).mode & 0o777, 0o700);
    for (const f of readdirSync(data)) assert.equal(statSync(join(data, f)).mode & 0o777, 0o600, f);
    await store.close();
  }),
);
