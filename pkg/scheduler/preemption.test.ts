import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Node, Pod, PodDisruptionBudget } from '../api/types/index.js';
import { SchedulerCache } from './cache.js';
import { mayPreempt, pickCandidate, selectPreemption, splitByBudget } from './preemption.js';
import { FILTERS } from './scheduler.js';

function node(name: string, cpu = '1'): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name } },
    status: {
      allocatable: { cpu, memory: '4Gi', pods: '110' },
      conditions: [{ type: 'Ready', status: 'True' }],
    },
  };
}

let uid = 0;
function pod(
  name: string,
  opts: { cpu: string; priority?: number; node?: string; labels?: Record<string, string> },
): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', uid: `u${uid++}`, labels: opts.labels ?? {} },
    spec: {
      containers: [{ name: 'c', image: 'i', resources: { requests: { cpu: opts.cpu } } }],
      ...(opts.priority !== undefined && { priority: opts.priority }),
      ...(opts.node !== undefined && { nodeName: opts.node }),
    },
    status: { phase: 'Running' },
  };
}

function budget(app: string, allowed: number): PodDisruptionBudget {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: app, namespace: 'default' },
    spec: { minAvailable: 1, selector: { matchLabels: { app } } },
    status: { disruptionsAllowed: allowed, currentHealthy: 2, desiredHealthy: 1, expectedPods: 2 },
  };
}

function cluster(nodes: Node[], pods: Pod[]): SchedulerCache {
  const cache = new SchedulerCache();
  for (const n of nodes) cache.upsertNode(n);
  for (const p of pods) cache.upsertPod(p);
  return cache;
}

test('a high-priority pod evicts the fewest, lowest-priority pods that make it fit', () => {
  const cache = cluster(
    [node('a'), node('b')],
    [
      pod('a-low', { cpu: '600m', priority: 1, node: 'a' }),
      pod('a-mid', { cpu: '300m', priority: 5, node: 'a' }),
      pod('b-low1', { cpu: '400m', priority: 1, node: 'b' }),
      pod('b-low2', { cpu: '400m', priority: 1, node: 'b' }),
    ],
  );
  const high = pod('high', { cpu: '500m', priority: 100 });
  const chosen = selectPreemption(high, { nodes: cache.snapshot(), filters: FILTERS, pdbs: [] });
  // On a, evicting a-low frees enough and a-mid is reprieved; on b one of the two 400m pods must
  // go. Both cost one priority-1 victim: the first candidate wins the tie.
  assert.equal(chosen?.node, 'a');
  assert.deepEqual(
    chosen.victims.map((p) => p.metadata.name),
    ['a-low'],
  );
});

test('only lower-priority pods are victims: equal or higher priority make preemption useless', () => {
  const cache = cluster([node('a')], [pod('same', { cpu: '800m', priority: 100, node: 'a' })]);
  const high = pod('high', { cpu: '500m', priority: 100 });
  assert.equal(selectPreemption(high, { nodes: cache.snapshot(), filters: FILTERS, pdbs: [] }), undefined);
});

test('victims whose eviction breaks no budget are preferred; budgets are spent per victim', () => {
  const protectedPods = [
    pod('guarded', { cpu: '800m', priority: 1, node: 'a', labels: { app: 'db' } }),
    pod('free', { cpu: '800m', priority: 1, node: 'b', labels: { app: 'web' } }),
  ];
  const cache = cluster([node('a'), node('b')], protectedPods);
  const high = pod('high', { cpu: '500m', priority: 100 });
  const chosen = selectPreemption(high, {
    nodes: cache.snapshot(),
    filters: FILTERS,
    pdbs: [budget('db', 0), budget('web', 1)],
  });
  assert.equal(chosen?.node, 'b');
  assert.equal(chosen.violations, 0);
  const split = splitByBudget(
    [
      pod('w1', { cpu: '1m', labels: { app: 'web' } }),
      pod('w2', { cpu: '1m', labels: { app: 'web' } }),
      pod('x', { cpu: '1m', labels: { app: 'other' } }),
    ],
    [budget('web', 1)],
  );
  assert.deepEqual(
    split.violating.map((p) => p.metadata.name),
    ['w2'],
  );
  assert.deepEqual(
    split.safe.map((p) => p.metadata.name),
    ['w1', 'x'],
  );
});

test('preemptionPolicy Never, and a nominated node whose victims still terminate, stop preemption', () => {
  const never = pod('never', { cpu: '500m', priority: 100 });
  never.spec = { ...never.spec, containers: never.spec?.containers ?? [], preemptionPolicy: 'Never' };
  assert.equal(mayPreempt(never, undefined), false);
  const terminating = pod('going', { cpu: '800m', priority: 1, node: 'a' });
  terminating.metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
  const cache = cluster([node('a')], [terminating]);
  const high = pod('high', { cpu: '500m', priority: 100 });
  assert.equal(mayPreempt(high, cache.snapshot()[0]), false);
  assert.equal(mayPreempt(high, undefined), true);
});

test('candidates are ranked by violations, then highest victim priority, then sum, then count', () => {
  const p = (priority: number): Pod => pod(`p${priority}`, { cpu: '1m', priority });
  const chosen = pickCandidate([
    { node: 'violates', victims: [p(1)], violations: 1 },
    { node: 'higher', victims: [p(5)], violations: 0 },
    { node: 'more', victims: [p(1), p(1)], violations: 0 },
    { node: 'best', victims: [p(1)], violations: 0 },
  ]);
  assert.equal(chosen?.node, 'best');
  assert.equal(pickCandidate([]), undefined);
});
