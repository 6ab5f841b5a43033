import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventRing } from './event-ring.js';
import type { StoreEvent } from './store.js';

function event(revision: number): StoreEvent {
  return {
    type: 'MODIFIED',
    key: `/registry/core/configmaps/ns/c${revision % 7}`,
    revision,
    object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `c${revision % 7}` } },
  };
}

function revisionsAfter(ring: EventRing, after: number): number[] {
  const seen: number[] = [];
  ring.forEachAfter(after, (ev) => seen.push(ev.revision));
  return seen;
}

test('a count-bounded ring keeps the newest events and raises its floor past the dropped ones', () => {
  const ring = new EventRing(5, 0);
  for (let r = 1; r <= 5000; r++) ring.push(event(r));
  assert.equal(ring.length, 5);
  assert.equal(ring.floor, 4995);
  assert.deepEqual(revisionsAfter(ring, 4995), [4996, 4997, 4998, 4999, 5000]);
  assert.deepEqual(revisionsAfter(ring, 4998), [4999, 5000]);
  assert.deepEqual(revisionsAfter(ring, 5000), []);
});

test('events older than the fresh window go once more than the minimum are held; a quiet ring keeps them', () => {
  let now = 0;
  const ring = new EventRing(100_000, 0, { freshForMs: 1000, minEvents: 10, now: () => now });
  for (let r = 1; r <= 3000; r++) {
    ring.push(event(r));
    now += 1; // one event a millisecond: 1,000 of them are fresh
  }
  assert.equal(ring.length, 1001);
  assert.equal(ring.floor, 1999);
  assert.deepEqual(revisionsAfter(ring, 2995), [2996, 2997, 2998, 2999, 3000]);
  // An hour later, one more event: all but the minimum go.
  now += 3_600_000;
  ring.push(event(3001));
  assert.equal(ring.length, 10);
  assert.equal(ring.floor, 2991);
  assert.deepEqual(revisionsAfter(ring, 0).slice(0, 2), [2992, 2993]);
});

test('reset and raiseFloor; a ring of no capacity only moves its floor', () => {
  const ring = new EventRing(10, 0);
  for (let r = 1; r <= 4; r++) ring.push(event(r));
  ring.raiseFloor(2);
  assert.equal(ring.floor, 2);
  ring.reset(50);
  assert.equal(ring.length, 0);
  assert.equal(ring.floor, 50);
  const none = new EventRing(0, 0);
  none.push(event(9));
  assert.equal(none.length, 0);
  assert.equal(none.floor, 9);
});
