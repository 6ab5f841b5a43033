import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findByPlural, type KubeObject, type ResourceInfo } from '../api/index.js';
import { humanDuration, rowFor } from './printers.js';

function r(group: string, plural: string): ResourceInfo {
  const x = findByPlural(group, 'v1', plural);
  if (x === undefined) throw new Error(plural);
  return x;
}

test('printers: kubectl ages and pod status', () => {
  assert.equal(humanDuration(45_000), '45s');
  assert.equal(humanDuration(200_000), '3m20s');
  assert.equal(humanDuration(5 * 3600_000 + 3 * 60_000), '5h3m');
  const pod: KubeObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: { containers: [{ name: 'c' }] },
    status: {
      phase: 'Running',
      containerStatuses: [
        { name: 'c', ready: false, restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } } },
      ],
    },
  };
  const row = rowFor(pod, r('', 'pods'), new Date('2026-01-01T00:10:00Z'));
  assert.deepEqual(row.slice(0, 5), ['p', '0/1', 'CrashLoopBackOff', '3', '10m']);
});

test('printers: a Deployment row shows its selector as kubectl writes it, and <none> without one', () => {
  const deployment = (selector: unknown): KubeObject => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: { replicas: 2, selector, template: { spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
    status: { readyReplicas: 1, updatedReplicas: 2, availableReplicas: 1 },
  });
  const now = new Date('2026-01-01T00:00:45Z');
  const selector = {
    matchLabels: { app: 'web' },
    matchExpressions: [
      { key: 'tier', operator: 'In', values: ['a', 'b'] },
      { key: 'canary', operator: 'DoesNotExist' },
    ],
  };
  assert.deepEqual(rowFor(deployment(selector), r('apps', 'deployments'), now), [
    'web',
    '1/2',
    2,
    1,
    '45s',
    'c',
    'busybox',
    'app=web,tier in (a,b),!canary',
  ]);
  assert.equal(rowFor(deployment(undefined), r('apps', 'deployments'), now).at(-1), '<none>');
});
