import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from '../errors/index.js';
import {
  budgetStatus,
  decrementBudget,
  evictsFreely,
  guardingBudget,
  scaledValue,
  unhealthyPodBypassesBudget,
} from './disruption.js';
import type { Pod, PodDisruptionBudget, PodDisruptionBudgetSpec } from './types/index.js';

const NOW = new Date('2026-11-30T08:00:00Z');

function pod(name: string, opts: { ready?: boolean; phase?: 'Running' | 'Pending'; app?: string } = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'ns', labels: { app: opts.app ?? 'web' } },
    spec: { containers: [{ name: 'c', image: 'i' }] },
    status: {
      phase: opts.phase ?? 'Running',
      conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }],
    },
  };
}

function pdb(spec: PodDisruptionBudgetSpec, status?: PodDisruptionBudget['status']): PodDisruptionBudget {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: 'web', namespace: 'ns', generation: 1 },
    spec: { selector: { matchLabels: { app: 'web' } }, ...spec },
    ...(status !== undefined && { status }),
  };
}

test('status: minAvailable as a count, maxUnavailable and percentages of the controllers scale', () => {
  const pods = [pod('a'), pod('b'), pod('c', { ready: false })];
  const min2 = budgetStatus(pdb({ minAvailable: 2 }), { pods, controllerScale: 0, now: NOW });
  assert.deepEqual(
    [min2.expectedPods, min2.desiredHealthy, min2.currentHealthy, min2.disruptionsAllowed, min2.observedGeneration],
    [3, 2, 2, 0, 1],
  );
  assert.equal(min2.conditions?.[0]?.reason, 'InsufficientPods');
  const max1 = budgetStatus(pdb({ maxUnavailable: 1 }), { pods: pods.slice(0, 2), controllerScale: 3, now: NOW });
  assert.deepEqual([max1.expectedPods, max1.desiredHealthy, max1.disruptionsAllowed], [3, 2, 0]);
  // 50 % of 3 rounds up to 2: one of the three healthy pods may go.
  const half = budgetStatus(pdb({ minAvailable: '50%' }), {
    pods: [pod('a'), pod('b'), pod('c')],
    controllerScale: 3,
    now: NOW,
  });
  assert.deepEqual([half.desiredHealthy, half.disruptionsAllowed], [2, 1]);
  assert.equal(half.conditions?.[0]?.status, 'True');
  assert.equal(half.conditions?.[0]?.reason, 'SufficientPods');
  assert.equal(scaledValue('34%', 3), 2);
  // Nothing expected: nothing allowed, whatever the arithmetic says.
  assert.equal(
    budgetStatus(pdb({ maxUnavailable: '100%' }), { pods: [], controllerScale: 0, now: NOW }).disruptionsAllowed,
    0,
  );
});

test('status: a pod evicted recently is not healthy; an old record is dropped', () => {
  const pods = [pod('a'), pod('b'), pod('c')];
  const recent = new Date(NOW.getTime() - 30_000).toISOString();
  const stale = new Date(NOW.getTime() - 10 * 60_000).toISOString();
  const status = budgetStatus(
    pdb(
      { minAvailable: 1 },
      {
        disruptionsAllowed: 0,
        currentHealthy: 0,
        desiredHealthy: 0,
        expectedPods: 0,
        disruptedPods: { a: recent, b: stale, gone: recent },
      },
    ),
    { pods, controllerScale: 0, now: NOW },
  );
  assert.deepEqual(status.disruptedPods, { a: recent });
  assert.deepEqual([status.currentHealthy, status.disruptionsAllowed], [2, 1]);
});

test('eviction: decrement with the pod recorded, 429 with the budget cause when none is allowed', () => {
  const status = {
    disruptionsAllowed: 1,
    currentHealthy: 3,
    desiredHealthy: 2,
    expectedPods: 3,
    observedGeneration: 1,
  };
  const next = decrementBudget(pdb({ minAvailable: 2 }, status), { podName: 'a', now: NOW, dryRun: false });
  assert.equal(next.status?.disruptionsAllowed, 0);
  assert.deepEqual(next.status?.disruptedPods, { a: NOW.toISOString().replace('.000Z', 'Z') });
  assert.equal(next.status?.conditions?.[0]?.reason, 'InsufficientPods');
  assert.throws(
    () => decrementBudget(next, { podName: 'b', now: NOW, dryRun: false }),
    (err: unknown) =>
      err instanceof ApiError &&
      err.code === 429 &&
      err.message === "Cannot evict pod as it would violate the pod's disruption budget." &&
      err.details?.causes?.[0]?.reason === 'DisruptionBudget' &&
      err.details.causes[0].message === 'The disruption budget web needs 2 healthy pods and has 3 currently',
  );
  // A spec the controller has not seen yet: 429, "still being processed".
  const unseen = pdb({ minAvailable: 2 }, { ...status, observedGeneration: 0 });
  assert.throws(
    () => decrementBudget(unseen, { podName: 'a', now: NOW, dryRun: false }),
    (err: unknown) =>
      err instanceof ApiError &&
      err.code === 429 &&
      /still being processed/.test(err.details?.causes?.[0]?.message ?? ''),
  );
  const negative = pdb({ minAvailable: 2 }, { ...status, disruptionsAllowed: -1 });
  assert.throws(
    () => decrementBudget(negative, { podName: 'a', now: NOW, dryRun: false }),
    (err: unknown) => err instanceof ApiError && err.code === 403,
  );
  // A dry run spends nothing it records.
  const dry = decrementBudget(pdb({ minAvailable: 2 }, status), { podName: 'a', now: NOW, dryRun: true });
  assert.equal(dry.status?.disruptedPods, undefined);
});

test('eviction: free for pending pods, 500 for two budgets, unready pods per the unhealthy policy', () => {
  assert.equal(evictsFreely(pod('p', { phase: 'Pending' })), true);
  assert.equal(evictsFreely(pod('p')), false);
  const one = pdb({ minAvailable: 1 });
  assert.equal(guardingBudget(pod('p'), [one]), one);
  assert.equal(guardingBudget(pod('p', { app: 'other' }), [one]), undefined);
  assert.throws(
    () => guardingBudget(pod('p'), [one, { ...one, metadata: { ...one.metadata, name: 'second' } }]),
    (err: unknown) =>
      err instanceof ApiError && err.code === 500 && /more than one PodDisruptionBudget/.test(err.message),
  );
  const met = { disruptionsAllowed: 0, currentHealthy: 2, desiredHealthy: 2, expectedPods: 3 };
  const unready = pod('u', { ready: false });
  assert.equal(unhealthyPodBypassesBudget(unready, pdb({ minAvailable: 2 }, met)), true);
  assert.equal(unhealthyPodBypassesBudget(unready, pdb({ minAvailable: 2 }, { ...met, currentHealthy: 1 })), false);
  assert.equal(
    unhealthyPodBypassesBudget(
      unready,
      pdb({ minAvailable: 2, unhealthyPodEvictionPolicy: 'AlwaysAllow' }, { ...met, currentHealthy: 1 }),
    ),
    true,
  );
  assert.equal(unhealthyPodBypassesBudget(pod('r'), pdb({ minAvailable: 2 }, met)), false);
});
