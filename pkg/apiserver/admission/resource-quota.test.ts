import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject, ResourceQuota } from '../../api/index.js';
import { ApiError } from '../../errors/index.js';
import { chargeQuota } from './resource-quota.js';

const PODS = { group: '', plural: 'pods' };

function quota(hard: Record<string, string>, used: Record<string, string>, scopes?: string[]): ResourceQuota {
  return {
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: { name: 'compute', namespace: 'ns' },
    spec: scopes === undefined ? { hard } : { hard, scopes: scopes as ['BestEffort'] },
    status: { hard, used },
  };
}

function pod(resources?: Record<string, unknown>): KubeObject {
  const container = resources === undefined ? { name: 'app' } : { name: 'app', resources };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-1', namespace: 'ns' },
    spec: { containers: [container] },
  };
}

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ApiError);
    assert.equal(err.code, 403);
    return err.message;
  }
  assert.fail('not refused');
}

test('a pod fits and is charged, or is refused with the exceeded resources only', () => {
  assert.deepEqual(chargeQuota({ resource: PODS, obj: pod() }, quota({ pods: '2' }, { pods: '1' })), { pods: '2' });
  assert.equal(
    refusal(() => chargeQuota({ resource: PODS, obj: pod() }, quota({ pods: '2' }, { pods: '2' }))),
    'pods "web-1" is forbidden: exceeded quota: compute, requested: pods=1, used: pods=2, limited: pods=2',
  );
  const compute = quota(
    { pods: '10', 'requests.cpu': '1', 'limits.memory': '1Gi' },
    { pods: '1', 'requests.cpu': '600m', 'limits.memory': '512Mi' },
  );
  const big = pod({ requests: { cpu: '500m' }, limits: { memory: '256Mi' } });
  assert.equal(
    refusal(() => chargeQuota({ resource: PODS, obj: big }, compute)),
    'pods "web-1" is forbidden: exceeded quota: compute, requested: requests.cpu=500m, used: requests.cpu=600m, limited: requests.cpu=1',
  );
  const small = pod({ requests: { cpu: '400m' }, limits: { memory: '512Mi' } });
  assert.deepEqual(chargeQuota({ resource: PODS, obj: small }, compute), {
    'limits.memory': '1Gi',
    pods: '2',
    'requests.cpu': '1',
  });
});

test('a tracked resource the pod leaves out, and a quota not yet counted, refuse', () => {
  assert.equal(
    refusal(() =>
      chargeQuota(
        { resource: PODS, obj: pod() },
        quota({ 'limits.cpu': '2', 'requests.memory': '1Gi' }, { 'limits.cpu': '0', 'requests.memory': '0' }),
      ),
    ),
    'pods "web-1" is forbidden: failed quota: compute: must specify limits.cpu for: app; requests.memory for: app',
  );
  assert.equal(
    refusal(() => chargeQuota({ resource: PODS, obj: pod() }, quota({ pods: '2', services: '1' }, {}))),
    'pods "web-1" is forbidden: status unknown for quota: compute, resources: pods',
  );
});

test('scoped quotas and other kinds', () => {
  const bestEffort = quota({ pods: '1' }, { pods: '1' }, ['BestEffort']);
  assert.equal(chargeQuota({ resource: PODS, obj: pod({ requests: { cpu: '1' } }) }, bestEffort), undefined);
  assert.match(
    refusal(() => chargeQuota({ resource: PODS, obj: pod() }, bestEffort)),
    /exceeded quota: compute/,
  );
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'ns' } };
  const counts = quota(
    { configmaps: '1', 'count/deployments.apps': '1' },
    { configmaps: '1', 'count/deployments.apps': '0' },
  );
  assert.equal(
    refusal(() => chargeQuota({ resource: { group: '', plural: 'configmaps' }, obj: cm }, counts)),
    'configmaps "c" is forbidden: exceeded quota: compute, requested: configmaps=1, used: configmaps=1, limited: configmaps=1',
  );
  const deploy = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', namespace: 'ns' } };
  assert.deepEqual(chargeQuota({ resource: { group: 'apps', plural: 'deployments' }, obj: deploy }, counts), {
    configmaps: '1',
    'count/deployments.apps': '1',
  });
  assert.equal(chargeQuota({ resource: { group: '', plural: 'secrets' }, obj: cm }, counts), undefined);
});
