import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rfc3339 } from './meta.js';

test('rfc3339 drops the milliseconds, from a Date, a number or a string, also within one second', () => {
  const at = Date.UTC(2026, 10, 30, 12, 0, 5, 100);
  assert.equal(rfc3339(at), '2026-11-30T12:00:05Z');
  assert.equal(rfc3339(new Date(at + 800)), '2026-11-30T12:00:05Z');
  assert.equal(rfc3339(at + 900), '2026-11-30T12:00:06Z');
  assert.equal(rfc3339('2026-11-30T12:00:06.999Z'), '2026-11-30T12:00:06Z');
  assert.equal(rfc3339(at - 1000 * 86400), '2026-11-29T12:00:05Z');
  assert.throws(() => rfc3339('not a time'), RangeError);
});
