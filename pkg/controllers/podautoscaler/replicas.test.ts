import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CalculationError, replicasFor, type CalculationInput, type PodInfo, type Sample } from './replicas.js';

const NOW = Date.parse('2026-01-01T12:00:00Z');
const LONG_AGO = NOW - 60 * 60_000;

function pod(name: string, over: Partial<PodInfo> = {}): PodInfo {
  return {
    name,
    phase: 'Running',
    deleting: false,
    ready: true,
    startTimeMs: LONG_AGO,
    readyTransitionMs: LONG_AGO + 5_000,
    request: 100,
    ...over,
  };
}

function samples(values: Record<string, number>): Map<string, Sample> {
  return new Map(
    Object.entries(values).map(([k, value]) => [k, { value, timestampMs: NOW - 5_000, windowMs: 10_000 }]),
  );
}

function cpu(over: Partial<CalculationInput>): CalculationInput {
  return {
    currentReplicas: 2,
    pods: [pod('a'), pod('b')],
    metrics: samples({ a: 100, b: 100 }),
    resource: 'cpu',
    target: { utilization: 50 },
    nowMs: NOW,
    ...over,
  };
}

test('utilization above target scales up by the usage ratio, rounded up', () => {
  // 100% of request against a 50% target: twice the pods.
  const r = replicasFor(cpu({}));
  assert.equal(r.replicas, 4);
  assert.equal(r.utilization, 100);
  // 3 pods at 70% for a 50% target: ceil(1.4 × 3) = 5.
  const three = replicasFor(
    cpu({ currentReplicas: 3, pods: [pod('a'), pod('b'), pod('c')], metrics: samples({ a: 70, b: 70, c: 70 }) }),
  );
  assert.equal(three.replicas, 5);
});

test('within the 10 % tolerance nothing changes; outside it the count moves', () => {
  assert.equal(replicasFor(cpu({ metrics: samples({ a: 54, b: 54 }) })).replicas, 2);
  assert.equal(replicasFor(cpu({ metrics: samples({ a: 46, b: 46 }) })).replicas, 2);
  assert.equal(replicasFor(cpu({ metrics: samples({ a: 56, b: 56 }) })).replicas, 3);
  assert.equal(replicasFor(cpu({ metrics: samples({ a: 10, b: 10 }) })).replicas, 1);
});

test('average value targets compare usage per pod to the target', () => {
  const r = replicasFor({
    ...cpu({ metrics: samples({ a: 300, b: 300 }) }),
    resource: 'memory',
    target: { averageValue: 200 },
  });
  assert.equal(r.replicas, 3);
  assert.equal(r.averageValue, 300);
  assert.equal(r.utilization, undefined);
});

test('missing metrics: assumed at 100 % of request when scaling down, so a scale-down is damped', () => {
  // a uses 10%, b reports nothing: with b at 100% the ratio (55/50) is within tolerance.
  const r = replicasFor(cpu({ metrics: samples({ a: 10 }) }));
  assert.equal(r.replicas, 2);
});

test('missing metrics: assumed at 0 when scaling up', () => {
  // a at 200%, b missing → b counts as 0: ratio 100/50 = 2 over 2 pods → 4.
  const r = replicasFor(cpu({ metrics: samples({ a: 200 }) }));
  assert.equal(r.replicas, 4);
});

test('unready CPU pods count as 0 when scaling up, and a direction flip means no change', () => {
  const starting = pod('b', { ready: false, startTimeMs: NOW - 10_000, readyTransitionMs: NOW - 10_000 });
  // a at 60% (ratio 1.2), b unready counted at 0 → 30% → ratio 0.6: the direction flips, no change.
  assert.equal(replicasFor(cpu({ pods: [pod('a'), starting], metrics: samples({ a: 60, b: 300 }) })).replicas, 2);
  // a at 200% and b unready at 0 → 100% → 4 pods.
  assert.equal(replicasFor(cpu({ pods: [pod('a'), starting], metrics: samples({ a: 200, b: 300 }) })).replicas, 4);
});

test('pending, failed and deleting pods are left out', () => {
  const pods = [pod('a'), pod('b', { deleting: true }), pod('c', { phase: 'Failed' })];
  assert.equal(replicasFor(cpu({ currentReplicas: 1, pods, metrics: samples({ a: 100, b: 0, c: 0 }) })).replicas, 2);
});

test('hostile or empty input is an error with Kubernetes message, never a count', () => {
  assert.throws(() => replicasFor(cpu({ pods: [] })), /no pods returned by selector while calculating replica count/);
  assert.throws(
    () => replicasFor(cpu({ pods: [pod('a', { request: undefined, containerWithoutRequest: 'app' })] })),
    /missing request for cpu in container app of Pod a/,
  );
  assert.throws(
    () => replicasFor(cpu({ metrics: new Map() })),
    (err: unknown) => err instanceof CalculationError && /did not receive metrics/.test(err.message),
  );
});
