import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RESOURCES } from './registry.js';
import { validateObject, validateUpdate } from './validation.js';

const budget = (spec: Record<string, unknown>) => ({
  apiVersion: 'policy/v1',
  kind: 'PodDisruptionBudget',
  metadata: { name: 'web', namespace: 'ns' },
  spec,
});

test('PodDisruptionBudget: minAvailable xor maxUnavailable, int or percent, known policy, valid selector', () => {
  const r = RESOURCES.poddisruptionbudgets;
  assert.deepEqual(validateObject(budget({ minAvailable: 2, selector: { matchLabels: { app: 'web' } } }), r), []);
  assert.deepEqual(validateObject(budget({ maxUnavailable: '25%' }), r), []);
  const fields = (spec: Record<string, unknown>): (string | undefined)[] =>
    validateObject(budget(spec), r).map((c) => c.field);
  assert.deepEqual(fields({ minAvailable: 1, maxUnavailable: 1 }), ['spec']);
  assert.match(
    validateObject(budget({ minAvailable: 1, maxUnavailable: 1 }), r)[0]?.message ?? '',
    /minAvailable and maxUnavailable cannot be both set/,
  );
  assert.deepEqual(fields({ minAvailable: -1 }), ['spec.minAvailable']);
  assert.deepEqual(fields({ minAvailable: 'half' }), ['spec.minAvailable']);
  assert.deepEqual(fields({ maxUnavailable: '120%' }), ['spec.maxUnavailable']);
  assert.deepEqual(fields({ unhealthyPodEvictionPolicy: 'Sometimes' }), ['spec.unhealthyPodEvictionPolicy']);
  assert.deepEqual(fields({ selector: { matchExpressions: [{ key: 'a', operator: 'Near' }] } }), [
    'spec.selector.matchExpressions[0].operator',
  ]);
});

test('PriorityClass: reserved system names, the user ceiling, immutable value and policy', () => {
  const r = RESOURCES.priorityclasses;
  const pc = (name: string, value: number, more: Record<string, unknown> = {}) => ({
    apiVersion: 'scheduling.k8s.io/v1',
    kind: 'PriorityClass',
    metadata: { name },
    value,
    ...more,
  });
  assert.deepEqual(validateObject(pc('high', 1000), r), []);
  assert.deepEqual(validateObject(pc('system-node-critical', 2_000_001_000), r), []);
  assert.match(validateObject(pc('system-mine', 5), r)[0]?.message ?? '', /reserved for system use only/);
  assert.match(
    validateObject(pc('huge', 2_000_000_000), r)[0]?.message ?? '',
    /maximum allowed value of a user defined priority is 1000000000/,
  );
  assert.deepEqual(
    validateObject(pc('p', 1, { preemptionPolicy: 'Sometimes' }), r).map((c) => c.field),
    ['preemptionPolicy'],
  );
  assert.deepEqual(
    validateUpdate(pc('p', 2), pc('p', 1), r).map((c) => c.message),
    ['Forbidden: may not be changed in an update.'],
  );
});
