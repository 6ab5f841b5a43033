import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WorkQueue } from './work-queue.js';

test('duplicate adds collapse into one item', async () => {
  const q = new WorkQueue();
  q.add('a');
  q.add('a');
  q.add('b');
  assert.equal(q.length, 2);
  assert.equal(await q.get(), 'a');
  assert.equal(await q.get(), 'b');
});

test('a key being processed is not handed out again until done, then comes back once', async () => {
  const q = new WorkQueue();
  q.add('a');
  const first = await q.get();
  assert.equal(first, 'a');
  q.add('a');
  q.add('a');
  assert.equal(q.length, 0, 'held back while processing');
  q.done('a');
  assert.equal(q.length, 1);
  assert.equal(await q.get(), 'a');
  q.done('a');
  assert.equal(q.length, 0);
});

test('rate-limited re-adds back off per key and forget resets it', async () => {
  // The queue's timers do not hold the process open; the test does while it waits.
  const keepAlive = setInterval(() => undefined, 50);
  const q = new WorkQueue({ baseDelayMs: 1, maxDelayMs: 4 });
  q.addRateLimited('x');
  q.addRateLimited('x');
  q.addRateLimited('x');
  q.addRateLimited('x');
  assert.equal(q.retries('x'), 4);
  assert.equal(await q.get(), 'x');
  q.forget('x');
  assert.equal(q.retries('x'), 0);
  q.shutDown();
  clearInterval(keepAlive);
});

test('shutDown releases waiting workers', async () => {
  const q = new WorkQueue();
  const waiting = q.get();
  q.shutDown();
  assert.equal(await waiting, undefined);
});

test('a key re-added while it is processed goes behind the keys already waiting (one busy key cannot starve others)', async () => {
  const q = new WorkQueue();
  q.add('big');
  assert.equal(await q.get(), 'big');
  q.add('big'); // its own pod events while it syncs
  q.add('small');
  q.done('big');
  assert.equal(await q.get(), 'small');
  assert.equal(await q.get(), 'big');
});
