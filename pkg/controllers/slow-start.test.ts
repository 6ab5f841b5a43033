import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Expectations } from './expectations.js';
import { BURST_REPLICAS, burst, settleAll, slowStartBatch } from './slow-start.js';

test('one sync acts on at most a burst, whatever the count says', () => {
  assert.equal(burst(3), 3);
  assert.equal(burst(1500), BURST_REPLICAS);
  assert.equal(burst(1e26), BURST_REPLICAS);
  assert.equal(burst(Number.POSITIVE_INFINITY), 0);
  assert.equal(burst(Number.NaN), 0);
  assert.equal(burst(-4), 0);
});

test('slow start runs batches of 1, 2, 4, … and never more than a burst in all', async () => {
  let inFlight = 0;
  const batches: number[] = [];
  let calls = 0;
  const result = await slowStartBatch(1e26, async () => {
    calls++;
    if (inFlight === 0) batches.push(0);
    inFlight++;
    batches[batches.length - 1] = (batches[batches.length - 1] ?? 0) + 1;
    await new Promise((r) => setImmediate(r));
    inFlight--;
  });
  assert.equal(calls, BURST_REPLICAS);
  assert.deepEqual(result, { succeeded: BURST_REPLICAS, skipped: 0 });
  assert.deepEqual(batches, [1, 2, 4, 8, 16, 32, 64, 128, 245]);
});

test('slow start stops at the first batch with a failure and says how many were skipped', async () => {
  let calls = 0;
  const result = await slowStartBatch(100, async (i) => {
    calls++;
    if (i === 4) throw new Error('quota exceeded');
  });
  // batches 1 (i=0), 2 (1-2), 4 (3-6: i=4 fails), then nothing more.
  assert.equal(calls, 7);
  assert.equal(result.succeeded, 6);
  assert.equal(result.skipped, 93);
  assert.match(String(result.error), /quota exceeded/);
});

test('settleAll reports the items whose call failed and the first error', async () => {
  const { failed, error } = await settleAll(['a', 'b', 'c', 'd'], async (x) => {
    if (x === 'b' || x === 'd') throw new Error(`no ${x}`);
  });
  assert.deepEqual(failed, ['b', 'd']);
  assert.match(String(error), /no b/);
  assert.deepEqual(await settleAll([1, 2], async () => undefined), { failed: [] });
});

test('expectations: lowered by a count in one step, deletions counted once per pod', () => {
  const e = new Expectations();
  e.expect('ns/rs', 500);
  e.observeAdd('ns/rs', 498);
  assert.equal(e.satisfied('ns/rs'), false);
  e.observeAdd('ns/rs', 2);
  assert.equal(e.satisfied('ns/rs'), true);

  e.expect('ns/rs', 0, ['u1', 'u2']);
  e.observeDelete('ns/rs', 'u1');
  e.observeDelete('ns/rs', 'u1'); // terminating, then gone: the same deletion
  assert.equal(e.satisfied('ns/rs'), false);
  e.observeDelete('ns/rs', 'u2');
  assert.equal(e.satisfied('ns/rs'), true);
  e.observeAdd('ns/other'); // nothing expected: no effect
  assert.equal(e.satisfied('ns/other'), true);
});
