// `coxctl why deployment/NAME`: complete, stuck on failing pods, FailedCreate from a quota, paused.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Deployment, Pod, PodDisruptionBudget, ReplicaSet } from '../../api/index.js';
import { diagnoseDeployment, renderDiagnosis } from './index.js';
import { container, event, NOW, pod } from './why-fixtures.js';

const deployment = (
  status: Deployment['status'],
  extra: Partial<NonNullable<Deployment['spec']>> = {},
): Deployment => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'default', uid: 'd1', generation: 2 },
  spec: {
    replicas: 3,
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } } },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 1 } },
    ...extra,
  },
  status,
});
const rs = (name: string, revision: string, replicas: number): ReplicaSet => ({
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  metadata: { name, namespace: 'default', annotations: { 'deployment.kubernetes.io/revision': revision } },
  spec: { replicas, selector: { matchLabels: { app: 'web' } } },
  status: { replicas, readyReplicas: replicas },
});

test('complete: no false alarm', () => {
  const d = diagnoseDeployment(
    {
      deployment: deployment({
        observedGeneration: 2,
        replicas: 3,
        updatedReplicas: 3,
        readyReplicas: 3,
        availableReplicas: 3,
      }),
      replicaSets: [rs('web-1', '1', 3)],
      events: [],
      pods: [],
    },
    NOW,
  );
  assert.equal(d.healthy, true);
  assert.match(renderDiagnosis(d), /^deployment default\/web is available: 3\/3 ready/);
});

test('stuck on a failing new ReplicaSet: the first pod diagnosis, old ReplicaSet serving', () => {
  const failing: Pod = pod({
    name: 'web-2-x',
    status: {
      phase: 'Pending',
      containerStatuses: [container({ state: { waiting: { reason: 'ErrImagePull', message: 'pull access denied' } } })],
    },
  });
  const d = diagnoseDeployment(
    {
      deployment: deployment({
        observedGeneration: 2,
        replicas: 4,
        updatedReplicas: 2,
        readyReplicas: 2,
        availableReplicas: 2,
      }),
      replicaSets: [rs('web-1', '1', 2), { ...rs('web-2', '2', 2), status: { replicas: 2, readyReplicas: 0 } }],
      events: [],
      pods: [failing, failing],
      failingPod: { pod: failing, events: [] },
    },
    NOW,
  );
  const text = renderDiagnosis(d);
  assert.match(
    text,
    /^deployment default\/web rollout is stuck: ErrImagePull — pod web-2-x is not running: container app cannot pull image "busybox:latest": pull access denied$/m,
  );
  assert.match(text, /new ReplicaSet web-2: 2 of 2 pods not ready/);
  assert.match(text, /old ReplicaSet web-1 \(2 ready\) still serves \(maxUnavailable 1, maxSurge 1\)/);
});

test('FailedCreate from a quota', () => {
  const d = diagnoseDeployment(
    {
      deployment: deployment({
        observedGeneration: 2,
        replicas: 1,
        updatedReplicas: 1,
        readyReplicas: 1,
        availableReplicas: 1,
      }),
      replicaSets: [{ ...rs('web-1', '1', 3), status: { replicas: 0 } }],
      events: [
        event(
          'FailedCreate',
          'Error creating: pods "web-1-abc" is forbidden: exceeded quota: small, requested: pods=1, used: pods=1, limited: pods=1',
          { involvedObject: { kind: 'ReplicaSet', name: 'web-1' } },
        ),
      ],
      pods: [],
      quotas: [
        {
          apiVersion: 'v1',
          kind: 'ResourceQuota',
          metadata: { name: 'small' },
          status: { hard: { pods: '1' }, used: { pods: '1' } },
        },
      ],
    },
    NOW,
  );
  const text = renderDiagnosis(d);
  assert.equal(d.findings[0].reason, 'ExceededQuota');
  assert.match(text, /rollout is stuck: ExceededQuota — ReplicaSet web-1 cannot create pods .*exceeded quota: small/);
  assert.match(text, /quota small: pods 1\/1/);
  assert.match(text, /next: kubectl describe quota small/);
});

test('paused, and odd input (no status, no ReplicaSets)', () => {
  assert.match(
    renderDiagnosis(
      diagnoseDeployment(
        { deployment: deployment(undefined, { paused: true }), replicaSets: [], events: [], pods: [] },
        NOW,
      ),
    ),
    /rollout is paused: Paused/,
  );
  const d = diagnoseDeployment({ deployment: deployment(undefined), replicaSets: [], events: [], pods: [] }, NOW);
  assert.equal(d.healthy, false);
  assert.match(renderDiagnosis(d), /is not available: Progressing — 0\/3 ready.*no ReplicaSet yet/);
});

test('a budget that allows no disruption is a supporting fact; one that allows some is not', () => {
  const budget = (name: string, disruptionsAllowed: number): PodDisruptionBudget => ({
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name, namespace: 'default' },
    spec: { minAvailable: 3, selector: { matchLabels: { app: 'web' } } },
    status: { disruptionsAllowed, currentHealthy: 3, desiredHealthy: 3, expectedPods: 3 },
  });
  const d = diagnoseDeployment(
    {
      deployment: deployment({
        observedGeneration: 2,
        replicas: 3,
        updatedReplicas: 3,
        readyReplicas: 3,
        availableReplicas: 3,
      }),
      replicaSets: [rs('web-1', '1', 3)],
      events: [],
      pods: [],
      disruptionBudgets: [budget('strict', 0), budget('loose', 1)],
    },
    NOW,
  );
  const text = renderDiagnosis(d);
  assert.equal(d.healthy, true);
  assert.match(text, /PodDisruptionBudget strict allows 0 disruptions \(3 healthy, 3 expected\)/);
  assert.doesNotMatch(text, /loose/);
});
