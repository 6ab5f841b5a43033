import assert from 'node:assert/strict';
import { test } from 'node:test';
import { convertVersion, hpaFromV1, hpaToV1 } from './conversion-autoscaling.js';
import type { KubeObject } from './meta.js';

const v2: KubeObject = {
  apiVersion: 'autoscaling/v2',
  kind: 'HorizontalPodAutoscaler',
  metadata: { name: 'web', namespace: 'default' },
  spec: {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
    minReplicas: 1,
    maxReplicas: 5,
    metrics: [
      { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } },
      { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '100Mi' } } },
    ],
    behavior: { scaleDown: { stabilizationWindowSeconds: 60 } },
  },
  status: {
    currentReplicas: 2,
    desiredReplicas: 3,
    currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 75 } } }],
    conditions: [{ type: 'AbleToScale', status: 'True', reason: 'SucceededRescale' }],
  },
};

test('v2 → v1 keeps the CPU target in its field and the rest in the annotations Kubernetes uses', () => {
  const v1 = hpaToV1(v2);
  assert.equal(v1.apiVersion, 'autoscaling/v1');
  assert.deepEqual(v1['spec'], {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
    minReplicas: 1,
    maxReplicas: 5,
    targetCPUUtilizationPercentage: 50,
  });
  assert.deepEqual(v1['status'], { currentReplicas: 2, desiredReplicas: 3, currentCPUUtilizationPercentage: 75 });
  const a = v1.metadata.annotations ?? {};
  assert.match(a['autoscaling.alpha.kubernetes.io/metrics'] ?? '', /memory/);
  assert.match(a['autoscaling.alpha.kubernetes.io/conditions'] ?? '', /SucceededRescale/);
});

test('v1 → v2 → v1 round-trips the spec; hostile annotations are ignored', () => {
  const back = hpaFromV1(hpaToV1(v2));
  assert.deepEqual(back['spec'], v2['spec']);
  assert.equal(back.metadata.annotations, undefined);
  const hostile = hpaFromV1({
    apiVersion: 'autoscaling/v1',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'x', annotations: { 'autoscaling.alpha.kubernetes.io/metrics': '{not json', keep: 'me' } },
    spec: { scaleTargetRef: { kind: 'Deployment', name: 'x' }, maxReplicas: 2 },
  });
  assert.deepEqual(hostile['spec'], { scaleTargetRef: { kind: 'Deployment', name: 'x' }, maxReplicas: 2 });
  assert.deepEqual(hostile.metadata.annotations, { keep: 'me' });
  assert.equal(convertVersion(v2, 'autoscaling/v2'), undefined);
  assert.equal(convertVersion({ apiVersion: 'v1', kind: 'Pod', metadata: {} }, 'autoscaling/v1'), undefined);
});
