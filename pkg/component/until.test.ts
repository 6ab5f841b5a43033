import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jittered, sleep, until } from './until.js';

test('until runs fn again after each period and resolves once the signal aborts', async () => {
  const stop = new AbortController();
  let runs = 0;
  await until(
    stop.signal,
    () => {
      runs++;
      if (runs === 3) stop.abort();
    },
    1,
  );
  assert.equal(runs, 3);
});

test('until never overlaps runs: the next starts after the previous one settled', async () => {
  const stop = new AbortController();
  let running = 0;
  let most = 0;
  let runs = 0;
  await until(
    stop.signal,
    async () => {
      running++;
      most = Math.max(most, running);
      await sleep(2, new AbortController().signal);
      running--;
      if (++runs === 4) stop.abort();
    },
    0,
  );
  assert.equal(most, 1);
  assert.equal(runs, 4);
});

test('until on an aborted signal does not run fn', async () => {
  const stop = new AbortController();
  stop.abort();
  let runs = 0;
  await until(stop.signal, () => void runs++, 1);
  assert.equal(runs, 0);
});

test('errors go to onError and the loop goes on; without onError the first error rejects', async () => {
  const stop = new AbortController();
  const seen: unknown[] = [];
  let runs = 0;
  await until(
    stop.signal,
    () => {
      if (++runs === 3) stop.abort();
      throw new Error(`run ${runs}`);
    },
    { periodMs: 1, onError: (err) => seen.push(err) },
  );
  assert.deepEqual(
    seen.map((e) => (e instanceof Error ? e.message : '')),
    ['run 1', 'run 2', 'run 3'],
  );
  await assert.rejects(
    until(
      new AbortController().signal,
      () => {
        throw new Error('boom');
      },
      1,
    ),
    /boom/,
  );
});

test('abort during the wait stops the loop without waiting out the period', async () => {
  const stop = new AbortController();
  let runs = 0;
  const done = until(stop.signal, () => void runs++, 3_600_000);
  await Promise.resolve();
  stop.abort();
  await done; // an hour-long period would hang the test if the wait were not cut short
  assert.equal(runs, 1);
});

test('jitter stretches the wait by up to jitter × period', () => {
  assert.equal(jittered(1000), 1000);
  assert.equal(
    jittered(1000, 0.5, () => 0),
    1000,
  );
  assert.equal(
    jittered(1000, 0.5, () => 1),
    1500,
  );
  assert.equal(
    jittered(1000, 0.2, () => 0.5),
    1100,
  );
});
