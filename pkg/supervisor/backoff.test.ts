import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RestartBackoff } from './backoff.js';

test('the wait doubles from 0.5 s up to 30 s while the process keeps crashing', () => {
  const b = new RestartBackoff();
  const waits = Array.from({ length: 9 }, () => b.next(100));
  assert.deepEqual(waits, [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
});

test('a process that ran 60 s before it exited starts over at 0.5 s', () => {
  const b = new RestartBackoff();
  for (let i = 0; i < 5; i++) b.next(10);
  assert.equal(b.next(59_999), 16000, 'just short of 60 s still counts as a crash loop');
  assert.equal(b.next(60_000), 500);
  assert.equal(b.next(0), 1000);
});

test('the policy is configurable', () => {
  const b = new RestartBackoff({ initialMs: 10, maxMs: 25, resetAfterMs: 100 });
  assert.deepEqual([b.next(0), b.next(0), b.next(0), b.next(100)], [10, 20, 25, 10]);
});
