// The migration from a real SQLite data directory into an in-memory target (the etcd
// target is exercised against a real etcd in test/store-migrate.test.ts): every live key
// with its bytes as stored, paged; refusals (source in use, target not empty, another
// source's marker, unreadable values); an interrupted run finished by the next one;
// verification catching a target that does not hold what was written.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { KubeObject } from '../api/meta.js';
import { buildResourceTransformers } from './encryption/index.js';
import { config, key } from './encryption/fixtures.js';
import { compareKeys, formatReport, migrate, MigrationError, type MigrationEntry } from './migrate.js';
import type { MigrationPage, MigrationTarget } from './migrate.js';
import { SqliteSource } from './migrate/sqlite-source.js';
import { DATABASE_FILE, SqliteStore } from './sqlite-store.js';
import { ValueCodec } from './value-codec.js';

const ENCRYPTION = buildResourceTransformers(config([['secretbox', 'key1', key(1)], 'identity']));
const OTHER_KEY = buildResourceTransformers(config([['secretbox', 'key9', key(9)]]));

class MemoryTarget implements MigrationTarget {
  readonly describe = 'memory';
  readonly values = new Map<string, Buffer>();
  marker: string | undefined;
  writes = 0;

  page(after: string | undefined, limit: number): Promise<MigrationPage> {
    const keys = [...this.values.keys()]
      .filter((k) => after === undefined || compareKeys(k, after) > 0)
      .sort(compareKeys);
    const entries = keys.slice(0, limit).map((k) => ({ key: k, value: this.values.get(k) ?? Buffer.alloc(0) }));
    const last = entries[entries.length - 1];
    return Promise.resolve({ entries, next: keys.length > limit && last !== undefined ? last.key : undefined });
  }
  countKeys(): Promise<number> {
    return Promise.resolve(this.values.size);
  }
  put(entries: MigrationEntry[]): Promise<void> {
    for (const e of entries) this.values.set(e.key, Buffer.from(e.value));
    this.writes += entries.length;
    return Promise.resolve();
  }
  remove(keys: string[]): Promise<void> {
    for (const k of keys) this.values.delete(k);
    return Promise.resolve();
  }
  readMarker(): Promise<string | undefined> {
    return Promise.resolve(this.marker);
  }
  createMarker(value: string): Promise<boolean> {
    if (this.marker !== undefined) return Promise.resolve(false);
    this.marker = value;
    return Promise.resolve(true);
  }
  removeMarker(): Promise<void> {
    this.marker = undefined;
    return Promise.resolve();
  }
}

const cm = (ns: string, name: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: ns },
  data: { name },
});
const secret = (name: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name, namespace: 'ns' },
  data: { password: 'aHVudGVyMg==' },
});

/** A data directory with 12 configmaps (one deleted, one updated), 3 secrets (encrypted), a deployment. */
async function populated(dir: string): Promise<Map<string, KubeObject>> {
  const store = SqliteStore.open(dir, { transformers: ENCRYPTION });
  try {
    for (let i = 0; i < 12; i++) await store.create(`/registry/core/configmaps/ns/cm-${i}`, cm('ns', `cm-${i}`));
    await store.delete('/registry/core/configmaps/ns/cm-3');
    const updated = await store.get('/registry/core/configmaps/ns/cm-5');
    assert.ok(updated);
    await store.update(
      '/registry/core/configmaps/ns/cm-5',
      { ...cm('ns', 'cm-5'), data: { v: '2' } },
      updated.revision,
    );
    for (let i = 0; i < 3; i++) await store.create(`/registry/core/secrets/ns/s-${i}`, secret(`s-${i}`));
    await store.create('/registry/apps/deployments/ns/web', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'ns' },
    });
    const live = new Map<string, KubeObject>();
    for (const item of (await store.list('/registry/')).items) live.set(item.key, item.object);
    return live;
  } finally {
    await store.close();
  }
}

function withDir(fn: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'migrate-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

/** The objects an apiserver with the encryption config reads from the target (resourceVersion aside). */
function readBack(target: MemoryTarget): Map<string, KubeObject> {
  const codec = new ValueCodec(ENCRYPTION);
  const out = new Map<string, KubeObject>();
  for (const [k, v] of target.values) {
    const { object } = codec.decode(k, v, 1);
    delete object.metadata.resourceVersion;
    out.set(k, object);
  }
  return out;
}

const withoutRv = (objects: Map<string, KubeObject>): Map<string, KubeObject> =>
  new Map(
    [...objects].map(([k, o]) => {
      const metadata = { ...o.metadata };
      delete metadata.resourceVersion;
      return [k, { ...o, metadata }];
    }),
  );

async function rejectsWith(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => err instanceof MigrationError && pattern.test(err.message));
}

test(
  'every live key is copied with its stored bytes, in pages; encrypted values stay encrypted and read back',
  withDir(async (dir) => {
    const live = await populated(dir);
    const source = SqliteSource.open(dir);
    const target = new MemoryTarget();
    try {
      const report = await migrate(source, target, { pageSize: 2, transformers: ENCRYPTION });
      assert.equal(report.objects, 15);
      assert.equal(report.written, 15);
      assert.equal(report.encrypted, 3);
      assert.equal(report.resumed, false);
      assert.deepEqual(Object.fromEntries(report.perResource), { configmaps: 11, secrets: 3, 'deployments.apps': 1 });
      assert.equal(target.marker, undefined, 'the marker is removed once verified');
      assert.equal(target.values.has('/registry/core/configmaps/ns/cm-3'), false, 'a deleted key is not copied');
      const storedSecret = target.values.get('/registry/core/secrets/ns/s-0');
      assert.ok(storedSecret?.subarray(0, 8).toString() === 'k8s:enc:', 'the Secret is still encrypted');
      assert.deepEqual(readBack(target), withoutRv(live));
      assert.match(
        formatReport(report),
        /^migrated 15 objects from sqlite:.* \(\d+ objects\/s\): configmaps 11, .*verified/,
      );
    } finally {
      source.close();
    }
  }),
);

test(
  'a target that holds keys is refused, and nothing is written',
  withDir(async (dir) => {
    await populated(dir);
    const source = SqliteSource.open(dir);
    const target = new MemoryTarget();
    target.values.set('/registry/core/configmaps/other/x', Buffer.from('{}'));
    try {
      await rejectsWith(migrate(source, target), /already holds 1 key\(s\): refusing to mix two clusters' state/);
      assert.equal(target.values.size, 1);
      assert.equal(target.marker, undefined);
      // Another source's unfinished migration is not taken over either.
      target.values.clear();
      target.marker = JSON.stringify({ source: 'sqlite:/elsewhere', sourceRevision: 9, startedAt: 'then' });
      await rejectsWith(
        migrate(source, target),
        /unfinished migration from sqlite:\/elsewhere.*--from sqlite:\/elsewhere/,
      );
      assert.equal(target.values.size, 0);
      target.marker = 'garbage';
      await rejectsWith(migrate(source, target), /unreadable migration marker/);
    } finally {
      source.close();
    }
  }),
);

test(
  'an interrupted migration is finished by the next run: missing keys written, stray ones removed, changed ones fixed',
  withDir(async (dir) => {
    const live = await populated(dir);
    const source = SqliteSource.open(dir);
    const target = new MemoryTarget();
    try {
      await assert.rejects(
        migrate(source, target, {
          pageSize: 4,
          onProgress: () => {
            throw new Error('interrupted');
          },
        }),
        /interrupted/,
      );
      assert.ok(target.marker !== undefined, 'the marker stays');
      assert.equal(target.values.size, 4, 'one batch was written');
      // Meanwhile: a stray key (before, between and after the source's) and a changed value.
      target.values.set('/registry/apps/aaa/x', Buffer.from('{}'));
      target.values.set('/registry/core/configmaps/ns/cm-10a', Buffer.from('{}'));
      target.values.set('/registry/zzz/x', Buffer.from('{}'));
      const [firstKey] = [...target.values.keys()].sort(compareKeys).filter((k) => k.includes('configmaps'));
      assert.ok(firstKey);
      target.values.set(firstKey, Buffer.from('changed'));
      const writesBefore = target.writes;
      const report = await migrate(source, target, { pageSize: 4 });
      assert.equal(report.resumed, true);
      assert.equal(report.removed, 3);
      assert.equal(report.written, 15 - 4 + 1, 'only the missing and the changed keys');
      assert.equal(target.writes - writesBefore, report.written);
      assert.equal(target.marker, undefined);
      assert.deepEqual(readBack(target), withoutRv(live));
      assert.match(formatReport(report), /resumed: 12 written, 3 removed/);
      // Done: a further run refuses (the target now holds a cluster).
      await rejectsWith(migrate(source, target), /already holds 15 key/);
    } finally {
      source.close();
    }
  }),
);

test(
  'verification catches a target that does not hold what was written, and leaves the marker',
  withDir(async (dir) => {
    await populated(dir);
    const source = SqliteSource.open(dir);
    const target = new MemoryTarget();
    const put = target.put.bind(target);
    target.put = async (entries) => {
      await put(entries);
      target.values.delete('/registry/core/secrets/ns/s-1');
    };
    try {
      await rejectsWith(migrate(source, target), /verification failed: 1 key\(s\) missing.*s-1/);
      assert.ok(target.marker !== undefined);
    } finally {
      source.close();
    }
  }),
);

test(
  'values that the given encryption config cannot read are refused before they are written',
  withDir(async (dir) => {
    await populated(dir);
    const source = SqliteSource.open(dir);
    const target = new MemoryTarget();
    try {
      await rejectsWith(
        migrate(source, target, { transformers: OTHER_KEY }),
        /\/registry\/core\/secrets\/ns\/s-0 cannot be read with the given --encryption-provider-config/,
      );
      assert.equal([...target.values.keys()].filter((k) => k.includes('secrets')).length, 0);
    } finally {
      source.close();
    }
  }),
);

test(
  'the source is refused while a store holds it, and holds it against a store while open',
  withDir(async (dir) => {
    await populated(dir);
    const store = SqliteStore.open(dir);
    try {
      assert.throws(() => SqliteSource.open(dir), /is in use \(an apiserver holds .*\): stop it before migrating/);
    } finally {
      await store.close();
    }
    const source = SqliteSource.open(dir);
    try {
      assert.throws(() => SqliteStore.open(dir), /in use/);
    } finally {
      source.close();
    }
  }),
);

test(
  'a missing, empty or foreign source is one clear error',
  withDir(async (dir) => {
    assert.throws(() => SqliteSource.open(join(dir, 'nope')), /no Coxswain store there .*does not exist/);
    mkdirSync(join(dir, 'garbage'));
    writeFileSync(join(dir, 'garbage', DATABASE_FILE), 'this is not a database, just text '.repeat(200));
    assert.throws(() => SqliteSource.open(join(dir, 'garbage')), /cannot read .*not a database/);
    mkdirSync(join(dir, 'empty'));
    writeFileSync(join(dir, 'empty', DATABASE_FILE), '');
    assert.throws(() => SqliteSource.open(join(dir, 'empty')), /is not a Coxswain store \(it has no kv table\)/);
  }),
);
