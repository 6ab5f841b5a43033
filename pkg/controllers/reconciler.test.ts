import assert from 'node:assert/strict';
import { test } from 'node:test';
import { periodicLoop, ReconcileLoop, TerminalError } from './reconciler.js';

/** Polls (bounded) until check() holds. */
async function eventually(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(check(), 'condition reached');
}

test('a failing key is retried with back-off until it succeeds', async () => {
  const calls: string[] = [];
  const loop = new ReconcileLoop(
    't',
    async (key) => {
      calls.push(key);
      if (calls.length < 3) throw new Error('apiserver away');
    },
    { log: () => undefined },
  );
  const stop = new AbortController();
  const running = loop.start(stop.signal);
  loop.enqueue('default/a');
  await eventually(() => calls.length === 3);
  stop.abort();
  await running;
  assert.deepEqual(calls, ['default/a', 'default/a', 'default/a']);
  assert.equal(loop.queue.retries('default/a'), 0, 'success forgets the failures');
});

test('a terminal error is logged once and the key is not requeued; a new event brings it back', async () => {
  const calls: string[] = [];
  const logs: string[] = [];
  let healthy = false;
  const loop = new ReconcileLoop(
    't',
    async (key) => {
      calls.push(key);
      if (key === 'default/bad') throw new TerminalError('spec.schedule is not a schedule');
      healthy = true;
    },
    { log: (msg) => void logs.push(msg) },
  );
  const stop = new AbortController();
  const running = loop.start(stop.signal);
  loop.enqueue('default/bad');
  loop.enqueue('default/good');
  await eventually(() => healthy && logs.length === 1);
  // An ordinary error would have counted a retry and scheduled the key again.
  assert.equal(loop.queue.retries('default/bad'), 0);
  assert.equal(loop.queue.length, 0);
  assert.deepEqual(
    calls.filter((k) => k === 'default/bad'),
    ['default/bad'],
  );
  assert.deepEqual(logs, ['t default/bad: spec.schedule is not a schedule (not retried)']);
  loop.enqueue('default/bad');
  await eventually(() => calls.filter((k) => k === 'default/bad').length === 2);
  stop.abort();
  await running;
});

test('a reconcile asking to be requeued is looked at again', async () => {
  let calls = 0;
  const loop = new ReconcileLoop('t', async () => (++calls < 3 ? { requeueAfterMs: 1 } : {}), { log: () => undefined });
  const stop = new AbortController();
  const running = loop.start(stop.signal);
  loop.enqueue('k');
  await eventually(() => calls === 3);
  stop.abort();
  await running;
  assert.equal(calls, 3);
});

test('a periodic loop passes every period, and a failed pass is logged and tried again after the period', async () => {
  const starts: number[] = [];
  const logs: string[] = [];
  const loop = periodicLoop(
    'sweeper',
    async () => {
      starts.push(Date.now());
      if (starts.length === 2) throw new Error('apiserver away');
    },
    { periodMs: 40, log: (msg) => void logs.push(msg) },
  );
  const stop = new AbortController();
  const running = loop.start(stop.signal);
  await eventually(() => starts.length === 4);
  stop.abort();
  await running;
  assert.deepEqual(logs, ['sweeper pass: apiserver away']);
  for (let i = 1; i < starts.length; i++) {
    const gap = (starts[i] ?? 0) - (starts[i - 1] ?? 0);
    assert.ok(gap >= 35, `pass ${i} came ${gap} ms after the one before`);
  }
});
