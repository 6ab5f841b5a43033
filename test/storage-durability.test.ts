// A write the SQLite store acknowledged survives kill -9: a child process does 50
// concurrent creates and updates, printing each acknowledged one; it is killed with
// SIGKILL mid-stream; the store reopened here holds every acknowledged write at its
// revision, the revisions have no holes, and a watch from an early revision delivers every
// later event exactly once, in order. Two rounds: a crash after a crash-recovery, too.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SqliteStore, type StoreEvent } from '../pkg/storage/index.js';

const writer = resolve(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'store-crash-writer.js');

interface Acked {
  /** Latest acknowledged revision per key, and whether that was the update. */
  keys: Map<string, { revision: number; updated: boolean }>;
  count: number;
  startRevision: number;
}

/** Runs the writer until it acknowledged at least `minAcks` writes, then kills it with SIGKILL. */
async function writeUntilKilled(dataDir: string, tag: string, minAcks: number): Promise<Acked> {
  const child = spawn(process.execPath, [writer, dataDir, tag], { stdio: ['ignore', 'pipe', 'pipe'] });
  const acked: Acked = { keys: new Map(), count: 0, startRevision: -1 };
  let buffered = '';
  let stderr = '';
  let killed = false;
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    child.once('close', (code, signal) => res({ code, signal })),
  );
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      const [kind, key, rev] = line.split(' ');
      if (kind === 'ready') acked.startRevision = Number(key);
      if ((kind === 'create' || kind === 'update') && key !== undefined) {
        acked.count++;
        acked.keys.set(key, { revision: Number(rev), updated: kind === 'update' });
      }
    }
    if (!killed && acked.count >= minAcks) {
      killed = true;
      child.kill('SIGKILL');
    }
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const { signal } = await exited;
  clearTimeout(timer);
  // Every line printed before the kill has been read: 'close' comes after stdout's end.
  assert.equal(signal, 'SIGKILL', `the writer was killed mid-stream (stderr: ${stderr.slice(-1000)})`);
  assert.ok(acked.count >= minAcks, `only ${acked.count} writes acknowledged`);
  return acked;
}

function replay(store: SqliteStore, from: number): StoreEvent[] {
  const events: StoreEvent[] = [];
  store.watch('/registry/', from, { onEvent: (e) => events.push(e), onError: (e) => assert.fail(e) }).stop();
  return events;
}

test('kill -9 mid-stream loses no acknowledged write, and history replays exactly once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'storage-durability-'));
  try {
    const allAcked = new Map<string, { revision: number; updated: boolean }>();
    for (const tag of ['first', 'second']) {
      const acked = await writeUntilKilled(dir, tag, 3000);
      for (const [k, v] of acked.keys) allAcked.set(k, v);

      const store = SqliteStore.open(dir);
      try {
        const current = await store.currentRevision();
        const list = await store.list('/registry/core/configmaps/crash/');
        const live = new Map(list.items.map((i) => [i.key, i]));
        for (const [key, ack] of allAcked) {
          const item = live.get(key);
          assert.ok(item, `acknowledged ${key}@${ack.revision} is present`);
          if (ack.updated) {
            assert.equal(item.revision, ack.revision, `${key} keeps its acknowledged revision`);
            assert.deepEqual(item.object['data'], { step: 'updated' });
          } else {
            // Its update may have committed without being acknowledged; never anything older.
            assert.ok(item.revision >= ack.revision, `${key} is at ${item.revision}, acknowledged ${ack.revision}`);
          }
          assert.equal(item.object.metadata.resourceVersion, String(item.revision));
        }
        assert.ok(current >= Math.max(...[...acked.keys.values()].map((a) => a.revision)));

        // Every revision up to the current one is one event, delivered once, in order.
        const events = replay(store, 0);
        assert.deepEqual(
          events.map((e) => e.revision),
          Array.from({ length: current }, (_, i) => i + 1),
        );
        const byRevision = new Map(events.map((e) => [e.revision, e]));
        for (const [key, ack] of allAcked)
          assert.equal(byRevision.get(ack.revision)?.key, key, `event ${ack.revision} is ${key}`);
        const from = acked.startRevision + Math.floor((current - acked.startRevision) / 2);
        assert.deepEqual(
          replay(store, from).map((e) => e.revision),
          Array.from({ length: current - from }, (_, i) => from + i + 1),
        );
        // Replaying the history rebuilds exactly the live state.
        const rebuilt = new Map<string, number>();
        for (const e of events) {
          if (e.type === 'DELETED') rebuilt.delete(e.key);
          else rebuilt.set(e.key, e.revision);
        }
        assert.deepEqual([...rebuilt].sort(), list.items.map((i) => [i.key, i.revision]).sort());
        // And revisions continue after the crash.
        const next = await store.create('/registry/core/configmaps/crash/after', {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: 'after' },
        });
        assert.equal(next.revision, current + 1);
        await store.delete(next.key, next.revision);
      } finally {
        await store.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
