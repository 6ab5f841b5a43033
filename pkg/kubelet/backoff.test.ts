import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Backoff } from './backoff.js';

test('restart delays: immediate first, then 10s doubling to 5min, reset after a long run', () => {
  const b = new Backoff();
  const key = 'pod/c';
  assert.equal(b.remaining(key, 1000, 1000), 0);
  const delays: number[] = [];
  for (let i = 0; i < 8; i++) {
    b.restarted(key, 1000);
    delays.push(b.delay(key));
  }
  assert.deepEqual(delays, [10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
  assert.equal(b.remaining(key, 0, 100_000), 200_000);
  b.restarted(key, 11 * 60_000);
  assert.equal(b.delay(key), 10_000);
  b.forget('pod/');
  assert.equal(b.delay(key), 0);
});
