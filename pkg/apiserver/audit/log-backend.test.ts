import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { AuditLogBackend, encodeEvent, StreamOutput, type AuditOutput } from './log-backend.js';
import { backupStamp, RotatingFile } from './rotating-file.js';
import type { AuditEvent } from './types.js';

function event(n: number, extra: Partial<AuditEvent> = {}): AuditEvent {
  return {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'Metadata',
    auditID: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    stage: 'ResponseComplete',
    requestURI: '/api/v1/pods',
    verb: 'list',
    user: { username: 'alice' },
    sourceIPs: ['10.0.0.1'],
    responseStatus: { metadata: {}, code: 200 },
    requestReceivedTimestamp: '2026-11-29T20:30:00.000000Z',
    stageTimestamp: '2026-11-29T20:30:00.001000Z',
    ...extra,
  };
}

async function withTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'coxswain-audit-'));
  try {
    await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function lines(path: string): Promise<unknown[]> {
  const text = await readFile(path, 'utf8');
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l): unknown => JSON.parse(l));
}

test('events are JSON lines appended to a 0600 file in a 0700 directory', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'logs', 'audit.log');
    const output = new RotatingFile({ path, maxSizeBytes: 0, maxBackups: 0, maxAgeDays: 0 });
    const backend = new AuditLogBackend({ output });
    assert.equal(backend.process(event(1)), true);
    assert.equal(backend.process(event(2)), true);
    await backend.shutdown();
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.equal((await stat(join(dir, 'logs'))).mode & 0o777, 0o700);
    assert.deepEqual(await lines(path), [event(1), event(2)]);
    assert.deepEqual(backend.stats(), { written: 2, dropped: 0, truncated: 0, failed: 0, queued: 0, queuedBytes: 0 });
    assert.equal(backend.process(event(3)), false, 'a shut-down backend takes nothing');

    // A restart appends, and a file left world-readable is tightened.
    await chmod(path, 0o644);
    const again = new AuditLogBackend({
      output: new RotatingFile({ path, maxSizeBytes: 0, maxBackups: 0, maxAgeDays: 0 }),
    });
    again.process(event(4));
    await again.shutdown();
    assert.equal((await lines(path)).length, 3);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
  });
});

test('rotation: audit-<timestamp>.log backups, each file under the size limit, all 0600', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'audit.log');
    const line = encodeEvent(event(0)) ?? assert.fail();
    let now = Date.UTC(2026, 10, 29, 20, 0, 0);
    const file = new RotatingFile({
      path,
      maxSizeBytes: line.length * 3 + 10,
      maxBackups: 0,
      maxAgeDays: 0,
      now: () => (now += 1000),
    });
    const backend = new AuditLogBackend({ output: file });
    for (let i = 0; i < 10; i++) {
      backend.process(event(i));
      await backend.flush(); // one write per event, so each event is a rotation opportunity
    }
    await backend.shutdown();
    const names = (await readdir(dir)).sort();
    assert.deepEqual(names, [
      'audit-2026-11-29T20-00-01.000.log',
      'audit-2026-11-29T20-00-02.000.log',
      'audit-2026-11-29T20-00-03.000.log',
      'audit.log',
    ]);
    const all: unknown[] = [];
    for (const name of names) {
      const { size, mode } = await stat(join(dir, name));
      assert.ok(size <= line.length * 3 + 10, `${name} is ${size} bytes`);
      assert.equal(mode & 0o777, 0o600, name);
      all.push(...(await lines(join(dir, name))));
    }
    assert.equal(all.length, 10, 'no event lost in rotation');
    assert.deepEqual(await lines(join(dir, 'audit-2026-11-29T20-00-01.000.log')), [event(0), event(1), event(2)]);
  });
});

test('rotation within one batch still keeps every file under the limit', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'audit.log');
    const line = encodeEvent(event(0)) ?? assert.fail();
    const file = new RotatingFile({ path, maxSizeBytes: line.length * 2, maxBackups: 0, maxAgeDays: 0 });
    const backend = new AuditLogBackend({ output: file });
    for (let i = 0; i < 9; i++) backend.process(event(i));
    await backend.shutdown();
    const names = await readdir(dir);
    assert.equal(names.length, 5);
    for (const name of names) assert.ok((await stat(join(dir, name))).size <= line.length * 2);
  });
});

test('maxbackup keeps the newest backups, maxage removes old ones by the time in their name', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'audit.log');
    const day = 24 * 60 * 60 * 1000;
    const now = Date.UTC(2026, 10, 29, 12, 0, 0);
    // Backups from 10, 5 and 1 days ago, and a file that only looks similar.
    for (const age of [10, 5, 1]) await writeFile(join(dir, `audit-${backupStamp(now - age * day)}.log`), 'x\n');
    await writeFile(join(dir, 'audit-notes.log'), 'keep me\n');
    const byAge = new RotatingFile({ path, maxSizeBytes: 10, maxBackups: 0, maxAgeDays: 7, now: () => now });
    await byAge.writeLines(['0123456789']);
    await byAge.writeLines(['0123456789']); // rotates and prunes
    await byAge.close();
    assert.deepEqual((await readdir(dir)).sort(), [
      `audit-${backupStamp(now - 5 * day)}.log`,
      `audit-${backupStamp(now - day)}.log`,
      `audit-${backupStamp(now)}.log`,
      'audit-notes.log',
      'audit.log',
    ]);
    const byCount = new RotatingFile({ path, maxSizeBytes: 10, maxBackups: 2, maxAgeDays: 0, now: () => now + 1000 });
    await byCount.writeLines(['0123456789']);
    await byCount.close();
    assert.deepEqual((await readdir(dir)).sort(), [
      `audit-${backupStamp(now)}.log`,
      `audit-${backupStamp(now + 1000)}.log`,
      'audit-notes.log',
      'audit.log',
    ]);
  });
});

test('a line larger than the file limit is refused and counted, the others written', async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, 'audit.log');
    const errors: string[] = [];
    const backend = new AuditLogBackend({
      output: new RotatingFile({ path, maxSizeBytes: 800, maxBackups: 0, maxAgeDays: 0 }),
      onError: (m) => errors.push(m),
    });
    backend.process(event(1));
    backend.process(event(2, { userAgent: 'u'.repeat(1000) }));
    backend.process(event(3));
    await backend.shutdown();
    assert.deepEqual(await lines(path), [event(1), event(3)]);
    assert.equal(backend.stats().failed, 1);
    assert.match(errors[0] ?? '', /^Error in audit plugin 'log' affecting 1 audit events/);
  });
});

test('too-large events lose their objects first, then are dropped', () => {
  const big = event(1, { requestObject: { data: 'x'.repeat(5000) }, responseObject: { ok: true } });
  const line = encodeEvent(big, 2000) ?? assert.fail();
  const parsed: unknown = JSON.parse(line);
  assert.deepEqual(parsed, { ...event(1), annotations: { 'audit.k8s.io/truncated': 'true' } });
  assert.equal(encodeEvent(event(1, { userAgent: 'x'.repeat(5000) }), 2000), undefined);

  const backend = new AuditLogBackend({ output: new StreamOutput(new PassThrough()), maxEventBytes: 2000 });
  assert.equal(backend.process(big), true);
  assert.equal(backend.process(event(2, { userAgent: 'x'.repeat(5000) })), false);
  assert.equal(backend.stats().truncated, 1);
  assert.equal(backend.stats().failed, 1);
});

test('`-`: lines go to a stream (stdout)', async () => {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  const backend = new AuditLogBackend({ output: new StreamOutput(stream) });
  backend.process(event(1));
  backend.process(event(2));
  await backend.shutdown();
  assert.equal(Buffer.concat(chunks).toString(), `${JSON.stringify(event(1))}\n${JSON.stringify(event(2))}\n`);
});

/** An output stuck like a dead disk until released. */
class StuckOutput implements AuditOutput {
  written: string[] = [];
  private release: (() => void) | undefined;
  private readonly stuck = new Promise<void>((resolve) => (this.release = resolve));
  async writeLines(lines: readonly string[]): Promise<{ refused: number }> {
    await this.stuck;
    this.written.push(...lines);
    return { refused: 0 };
  }
  unstick(): void {
    this.release?.();
  }
  async close(): Promise<void> {}
}

test('a flood against a stuck disk never blocks, stays bounded and counts the drops', async () => {
  const output = new StuckOutput();
  const errors: string[] = [];
  const backend = new AuditLogBackend({ output, bufferSize: 8, onError: (m) => errors.push(m) });
  const heapBefore = process.memoryUsage().heapUsed;
  const started = performance.now();
  let accepted = 0;
  for (let i = 0; i < 50_000; i++) {
    if (backend.process(event(i, { requestObject: { data: 'x'.repeat(1000) } }))) accepted += 1;
    if (i % 5000 === 0) await new Promise((resolve) => setImmediate(resolve)); // let the drain loop run
  }
  const elapsed = performance.now() - started;
  assert.equal(accepted, 8);
  const { queuedBytes, ...counts } = backend.stats();
  assert.deepEqual(counts, { written: 0, dropped: 50_000 - 8, truncated: 0, failed: 0, queued: 8 });
  assert.ok(queuedBytes > 8 * 1000 && queuedBytes < 8 * 2000, `${queuedBytes} bytes queued`);
  assert.ok(elapsed < 5000, `process() took ${elapsed} ms for 50k events`);
  assert.ok(process.memoryUsage().heapUsed - heapBefore < 64 * 1024 * 1024, 'memory stays bounded');
  assert.ok(errors.length < 10, `drops are reported sparingly (${errors.length} messages)`);
  assert.match(errors[0] ?? '', /audit buffer queue blocked/);
  output.unstick();
  await backend.flush();
  assert.equal(output.written.length, 8);
  assert.equal(backend.stats().written, 8);
  assert.equal(backend.process(event(99)), true, 'space again once the disk caught up');
  await backend.shutdown();
});

test('the queue is bounded in bytes too, not only in events', async () => {
  const output = new StuckOutput();
  const backend = new AuditLogBackend({ output, bufferSize: 10_000, maxQueueBytes: 100_000 });
  let accepted = 0;
  for (let i = 0; i < 1000; i++)
    if (backend.process(event(i, { requestObject: { data: 'x'.repeat(9000) } }))) accepted += 1;
  assert.ok(accepted >= 9 && accepted <= 11, `${accepted} accepted`);
  assert.ok(backend.stats().queuedBytes <= 100_000);
  assert.equal(backend.stats().dropped, 1000 - accepted);
  output.unstick();
  await backend.shutdown();
  assert.equal(backend.stats().queuedBytes, 0);
});

test('write errors are counted and reported, and the backend keeps going', async () => {
  let failures = 1;
  const written: string[] = [];
  const output: AuditOutput = {
    writeLines: (batch) => {
      if (failures-- > 0) return Promise.reject(new Error('ENOSPC: no space left on device'));
      written.push(...batch);
      return Promise.resolve({ refused: 0 });
    },
    close: () => Promise.resolve(),
  };
  const errors: string[] = [];
  const backend = new AuditLogBackend({ output, onError: (m) => errors.push(m) });
  backend.process(event(1));
  await backend.flush();
  backend.process(event(2));
  await backend.shutdown();
  assert.deepEqual(errors, ["Error in audit plugin 'log' affecting 1 audit events: ENOSPC: no space left on device"]);
  assert.equal(written.length, 1);
  assert.deepEqual(backend.stats(), { written: 1, dropped: 0, truncated: 0, failed: 1, queued: 0, queuedBytes: 0 });
});

test('a log path whose directory cannot be made fails at open', async () => {
  await withTempDir(async (dir) => {
    await writeFile(join(dir, 'file'), '');
    const file = new RotatingFile({
      path: join(dir, 'file', 'audit.log'),
      maxSizeBytes: 0,
      maxBackups: 0,
      maxAgeDays: 0,
    });
    await assert.rejects(file.open(), /EEXIST|ENOTDIR/);
  });
});
