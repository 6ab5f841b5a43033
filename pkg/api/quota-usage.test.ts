import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from './meta.js';
import { canonicalQuantity, formatMilli, parseMilli } from './milli-quantity.js';
import {
  missingDeclarations,
  podHoldsQuota,
  quotaSelects,
  tracksResource,
  usageOf,
  usageToList,
} from './quota-usage.js';
import type { ResourceQuota } from './types/index.js';

const PODS = { group: '', plural: 'pods' };

function pod(containers: Record<string, unknown>[], extra: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns' }, spec: { containers, ...extra } };
}

function quota(spec: ResourceQuota['spec']): ResourceQuota {
  return { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'q', namespace: 'ns' }, spec };
}

test('quantities are exact thousandths and print as Kubernetes prints them', () => {
  assert.equal(parseMilli('500m'), 500n);
  assert.equal(parseMilli('1.5'), 1500n);
  assert.equal(parseMilli('128Mi'), 128n * 1024n * 1024n * 1000n);
  assert.equal(parseMilli('1e3'), 1_000_000n);
  assert.equal(parseMilli(2), 2000n);
  assert.equal(parseMilli('0.0001'), 1n, 'rounded up, as MilliValue');
  assert.equal(parseMilli('-1'), -1000n);
  for (const bad of ['', 'abc', '1Qi', '1..2', '1e999', '9'.repeat(60), {}, null])
    assert.equal(parseMilli(bad), undefined, String(bad));
  assert.equal(canonicalQuantity('1000m'), '1');
  assert.equal(canonicalQuantity('0.5'), '500m');
  assert.equal(canonicalQuantity('1024Mi'), '1Gi');
  assert.equal(canonicalQuantity('1536Mi'), '1536Mi');
  assert.equal(canonicalQuantity('2000'), '2k');
  assert.equal(formatMilli(0n), '0');
});

test('a pod counts its requests and limits, init containers as their peak', () => {
  const p = pod(
    [
      { name: 'a', resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '200m' } } },
      { name: 'b', resources: { requests: { cpu: '300m' } } },
    ],
    { initContainers: [{ name: 'i', resources: { requests: { cpu: '1' } } }] },
  );
  assert.deepEqual(usageToList(usageOf(PODS, p)), {
    'count/pods': '1',
    cpu: '1',
    'limits.cpu': '200m',
    memory: '64Mi',
    pods: '1',
    'requests.cpu': '1',
    'requests.memory': '64Mi',
  });
});

test('services, claims and other kinds count by name', () => {
  const svc = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 's' },
    spec: { type: 'NodePort', ports: [{}, {}] },
  };
  assert.deepEqual(usageToList(usageOf({ group: '', plural: 'services' }, svc)), {
    'count/services': '1',
    services: '1',
    'services.nodeports': '2',
  });
  const claim = {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: 'c' },
    spec: { storageClassName: 'gold', resources: { requests: { storage: '1Gi' } } },
  };
  assert.deepEqual(usageToList(usageOf({ group: '', plural: 'persistentvolumeclaims' }, claim)), {
    'count/persistentvolumeclaims': '1',
    'gold.storageclass.storage.k8s.io/persistentvolumeclaims': '1',
    'gold.storageclass.storage.k8s.io/requests.storage': '1Gi',
    persistentvolumeclaims: '1',
    'requests.storage': '1Gi',
  });
  const deploy = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' } };
  assert.deepEqual(usageToList(usageOf({ group: 'apps', plural: 'deployments' }, deploy)), {
    'count/deployments.apps': '1',
  });
  assert.equal(tracksResource({ group: 'apps', plural: 'deployments' }, 'count/deployments.apps'), true);
  assert.equal(tracksResource({ group: 'apps', plural: 'deployments' }, 'pods'), false);
  assert.equal(tracksResource(PODS, 'limits.memory'), true);
  assert.equal(tracksResource({ group: '', plural: 'configmaps' }, 'configmaps'), true);
});

test('scopes select pods by deadline, QoS and priority class; other kinds never', () => {
  const bestEffort = pod([{ name: 'a' }]);
  const burstable = pod([{ name: 'a', resources: { requests: { cpu: '1' } } }], {
    activeDeadlineSeconds: 30,
    priorityClassName: 'high',
  });
  assert.equal(quotaSelects(quota({ scopes: ['BestEffort'] }), PODS, bestEffort), true);
  assert.equal(quotaSelects(quota({ scopes: ['BestEffort'] }), PODS, burstable), false);
  assert.equal(quotaSelects(quota({ scopes: ['NotBestEffort', 'Terminating'] }), PODS, burstable), true);
  assert.equal(quotaSelects(quota({ scopes: ['NotTerminating'] }), PODS, burstable), false);
  const high = quota({
    scopeSelector: { matchExpressions: [{ scopeName: 'PriorityClass', operator: 'In', values: ['high'] }] },
  });
  assert.equal(quotaSelects(high, PODS, burstable), true);
  assert.equal(quotaSelects(high, PODS, bestEffort), false);
  const notHigh = quota({
    scopeSelector: { matchExpressions: [{ scopeName: 'PriorityClass', operator: 'NotIn', values: ['high'] }] },
  });
  assert.equal(quotaSelects(notHigh, PODS, bestEffort), true);
  assert.equal(quotaSelects(quota({ scopes: ['BestEffort'] }), { group: '', plural: 'configmaps' }, bestEffort), false);
  assert.equal(quotaSelects(quota({}), { group: '', plural: 'configmaps' }, bestEffort), true);
});

test('a quota on cpu or memory makes every container declare it', () => {
  const p = pod([
    { name: 'b', resources: { limits: { cpu: '1' } } },
    { name: 'a', resources: {} },
  ]);
  assert.equal(missingDeclarations(p, ['pods']), undefined);
  assert.equal(missingDeclarations(p, ['limits.cpu', 'limits.memory']), 'limits.cpu for: a; limits.memory for: a,b');
});

test('finished and past-grace pods hold no quota', () => {
  const now = new Date('2026-01-01T00:01:00Z');
  assert.equal(podHoldsQuota(pod([]), now), true);
  assert.equal(podHoldsQuota({ ...pod([]), status: { phase: 'Succeeded' } }, now), false);
  const deleting = (grace: number): KubeObject => {
    const p = pod([]);
    p.metadata.deletionTimestamp = '2026-01-01T00:00:30Z';
    p.metadata.deletionGracePeriodSeconds = grace;
    return p;
  };
  assert.equal(podHoldsQuota(deleting(60), now), true);
  assert.equal(podHoldsQuota(deleting(10), now), false);
});
