import assert from 'node:assert/strict';
import { test } from 'node:test';
import { countersChanged, fieldsChanged } from './status.js';

test('counters: a missing stored counter equals 0', () => {
  assert.equal(countersChanged(undefined, { replicas: 0 }), false);
  assert.equal(countersChanged({ replicas: 2, conditions: [] }, { replicas: 2 }), false);
  assert.equal(countersChanged({ replicas: 2 }, { replicas: 3 }), true);
  assert.equal(countersChanged({}, { readyReplicas: 1 }), true);
});

test('fields: compared strictly, a missing one differs', () => {
  assert.equal(fieldsChanged({ replicas: 0, currentRevision: 'a' }, { replicas: 0, currentRevision: 'a' }), false);
  assert.equal(fieldsChanged({}, { replicas: 0 }), true);
  assert.equal(fieldsChanged({ currentRevision: 'a' }, { currentRevision: 'b' }), true);
});
