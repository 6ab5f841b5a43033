import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { KubeObject } from '../api/meta.js';
import { ApiError } from '../errors/index.js';
import { SqliteStore, WatchCache } from '../storage/index.js';
import { cutPage, decodeContinue, encodeContinue, listAtRevision, pageParams } from './list-pages.js';

const PREFIX = '/registry/core/configmaps/ns/';

function cm(name: string, v: string): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'ns' }, data: { v } } as KubeObject;
}

function outcome(fn: () => unknown): string {
  try {
    fn();
    return 'accepted';
  } catch (err) {
    if (err instanceof ApiError) return `${err.code} ${err.reason}`;
    throw err;
  }
}

test('continue tokens: Kubernetes’ format round-trips; anything else is a 400, never a path out of the prefix', () => {
  const token = encodeContinue(`${PREFIX}b\u0000`, PREFIX, 42);
  assert.deepEqual(JSON.parse(Buffer.from(token, 'base64url').toString()), {
    v: 'meta.k8s.io/v1',
    rv: 42,
    start: 'b\u0000',
  });
  assert.deepEqual(decodeContinue(token, PREFIX), { startKey: `${PREFIX}b\u0000`, revision: 42 });
  const forged = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  for (const bad of [
    'not base64!',
    forged('x'),
    Buffer.from('{').toString('base64url'),
    forged({ v: 'meta.k8s.io/v2', rv: 1, start: 'a' }),
    forged({ v: 'meta.k8s.io/v1', rv: 0, start: 'a' }),
    forged({ v: 'meta.k8s.io/v1', rv: '5', start: 'a' }),
    forged({ v: 'meta.k8s.io/v1', rv: -2, start: 'a' }),
    forged({ v: 'meta.k8s.io/v1', rv: 5, start: '' }),
    forged({ v: 'meta.k8s.io/v1', rv: 5, start: '../../secrets/kube-system/x' }),
    forged({ v: 'meta.k8s.io/v1', rv: 5, start: 'a/./b' }),
    'A'.repeat(10_000),
  ])
    assert.equal(
      outcome(() => decodeContinue(bad, PREFIX)),
      '400 BadRequest',
      bad.slice(0, 60),
    );
});

test('cutPage: limit items, a token naming the next key, remainingItemCount only when nothing is filtered', () => {
  const items = ['a', 'b', 'c', 'd', 'e'].map((n, i) => ({ key: PREFIX + n, object: cm(n, n), revision: i + 1 }));
  const first = cutPage(items, { limit: 2, startKey: undefined, prefix: PREFIX, revision: 9 });
  assert.deepEqual(
    first.items.map((i) => i.key),
    [PREFIX + 'a', PREFIX + 'b'],
  );
  assert.equal(first.meta.remainingItemCount, 3);
  const from = decodeContinue(first.meta.continue ?? '', PREFIX);
  const second = cutPage(items, { limit: 2, startKey: from.startKey, prefix: PREFIX, revision: 9 });
  assert.deepEqual(
    second.items.map((i) => i.key),
    [PREFIX + 'c', PREFIX + 'd'],
  );
  const filtered = cutPage(items, {
    limit: 1,
    startKey: undefined,
    prefix: PREFIX,
    revision: 9,
    matches: (i) => i.key.endsWith('c') || i.key.endsWith('e'),
  });
  assert.deepEqual(
    filtered.items.map((i) => i.key),
    [PREFIX + 'c'],
  );
  assert.equal(filtered.meta.remainingItemCount, undefined);
  assert.ok(filtered.meta.continue !== undefined);
  const all = cutPage(items, { limit: 0, startKey: undefined, prefix: PREFIX, revision: 9 });
  assert.equal(all.items.length, 5);
  assert.equal(all.meta.continue, undefined);
});

test('listAtRevision sees the list as it was, and an old revision the history lost is 410 with a new token', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'list-pages-'));
  const sqlite = SqliteStore.open(dir, { historyRevisions: 1000, compactIntervalMs: 3_600_000 });
  const cache = await WatchCache.start(sqlite, { capacity: 3 });
  try {
    for (const n of ['a', 'b', 'c']) await cache.create(PREFIX + n, cm(n, '1'));
    await cache.create('/registry/core/configmaps/other/z', cm('z', '1'));
    const at = await cache.currentRevision();
    const b = await cache.get(PREFIX + 'b');
    await cache.update(PREFIX + 'b', cm('b', '2'), b?.revision ?? 0);
    await cache.delete(PREFIX + 'c');
    await cache.create(PREFIX + 'd', cm('d', '1'));
    // Served by the store's history (the ring holds only 3 events) and by the ring.
    for (const revision of [at, (await cache.currentRevision()) - 1]) {
      const past = await listAtRevision(cache, PREFIX, { startKey: PREFIX, revision });
      assert.equal(past.revision, revision);
      if (revision === at) {
        assert.deepEqual(
          past.items.map((i) => [i.key.slice(PREFIX.length), (i.object['data'] as { v: string }).v]),
          [
            ['a', '1'],
            ['b', '1'],
            ['c', '1'],
          ],
        );
      } else {
        assert.deepEqual(
          past.items.map((i) => i.key.slice(PREFIX.length)),
          ['a', 'b'],
        );
      }
    }
    await sqlite.compact(await cache.currentRevision());
    await cache.compact(await cache.currentRevision());
    await assert.rejects(listAtRevision(cache, PREFIX, { startKey: `${PREFIX}b\u0000`, revision: at }), (err) => {
      assert.ok(err instanceof ApiError);
      assert.equal(err.code, 410);
      assert.equal(err.reason, 'Expired');
      const token = err.toStatus().metadata['continue'];
      assert.equal(typeof token, 'string');
      assert.deepEqual(decodeContinue(String(token), PREFIX), { startKey: `${PREFIX}b\u0000`, revision: -1 });
      return true;
    });
  } finally {
    await cache.close();
    await sqlite.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('page parameters: an integer limit; continue with a resourceVersion (other than 0) is 400, as Kubernetes', () => {
  assert.deepEqual(pageParams({ limit: '2', continue: 'abc' }), { limit: 2, continue: 'abc' });
  assert.deepEqual(pageParams({ limit: '2', continue: 'abc', resourceVersion: '0' }), { limit: 2, continue: 'abc' });
  assert.deepEqual(pageParams({ resourceVersion: '7' }), { limit: undefined, continue: undefined });
  assert.equal(
    outcome(() => pageParams({ continue: 'abc', resourceVersion: '7' })),
    '400 BadRequest',
  );
  assert.equal(
    outcome(() => pageParams({ limit: 'ten' })),
    '400 BadRequest',
  );
});
