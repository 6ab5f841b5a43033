import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyDefaults } from './defaults.js';
import type { KubeObject } from './meta.js';
import { findByPlural, type ResourceInfo } from './registry.js';
import { checkTypes, unknownFields } from './schema.js';
import { validateObject, validateUpdate } from './validation.js';
import { nextRun, parseCronSchedule } from './cron.js';

function r(group: string, plural: string): ResourceInfo {
  const x = findByPlural(group, 'v1', plural);
  if (x === undefined) throw new Error(plural);
  return x;
}

function deployment(): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
    },
  };
}

test('a valid deployment passes and gets Kubernetes defaults', () => {
  const d = deployment();
  applyDefaults(d);
  assert.deepEqual(validateObject(d, r('apps', 'deployments')), []);
  const spec = d['spec'] as {
    replicas: number;
    strategy: { rollingUpdate: { maxSurge: string } };
    template: { spec: { restartPolicy: string; containers: { imagePullPolicy: string }[] } };
  };
  assert.equal(spec.replicas, 1);
  assert.equal(spec.strategy.rollingUpdate.maxSurge, '25%');
  assert.equal(spec.template.spec.restartPolicy, 'Always');
  assert.equal(spec.template.spec.containers[0]?.imagePullPolicy, 'Always');
});

test('each class of bad input names its field and reason', () => {
  const cases: [KubeObject, ResourceInfo, string, string][] = [];
  const badName = deployment();
  badName.metadata.name = 'Web_1';
  cases.push([badName, r('apps', 'deployments'), 'metadata.name', 'FieldValueInvalid']);
  const noImage = deployment();
  (noImage['spec'] as { template: { spec: { containers: object[] } } }).template.spec.containers = [{ name: 'c' }];
  cases.push([noImage, r('apps', 'deployments'), 'spec.template.spec.containers[0].image', 'FieldValueRequired']);
  const mismatch = deployment();
  (mismatch['spec'] as { selector: object }).selector = { matchLabels: { app: 'other' } };
  cases.push([mismatch, r('apps', 'deployments'), 'spec.template.metadata.labels', 'FieldValueInvalid']);
  const badRestart: KubeObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'default' },
    spec: { restartPolicy: 'Sometimes', containers: [{ name: 'c', image: 'i' }] },
  };
  cases.push([badRestart, r('', 'pods'), 'spec.restartPolicy', 'FieldValueNotSupported']);
  const badPort: KubeObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 's', namespace: 'default' },
    spec: { ports: [{ port: 70000 }] },
  };
  cases.push([badPort, r('', 'services'), 'spec.ports[0].port', 'FieldValueInvalid']);
  const badCron: KubeObject = {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'c', namespace: 'default' },
    spec: {
      schedule: '* * *',
      jobTemplate: {
        spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'i' }] } } },
      },
    },
  };
  cases.push([badCron, findByPlural('batch', 'v1', 'cronjobs') as ResourceInfo, 'spec.schedule', 'FieldValueInvalid']);
  for (const [obj, res, field, reason] of cases) {
    const causes = validateObject(obj, res);
    assert.ok(
      causes.some((c) => c.field === field && c.reason === reason),
      `${field}: ${JSON.stringify(causes)}`,
    );
  }
});

test('immutable fields on update', () => {
  const a = deployment();
  const b = deployment();
  (b['spec'] as { selector: object }).selector = { matchLabels: { app: 'x' } };
  assert.ok(validateUpdate(b, a, r('apps', 'deployments')).some((c) => c.field === 'spec.selector'));
});

test('wrong types and unknown fields are found by path', () => {
  const d = deployment();
  (d['spec'] as Record<string, unknown>)['replicas'] = 'three';
  (d['spec'] as Record<string, unknown>)['replicaz'] = 3;
  assert.deepEqual(
    checkTypes(d).map((c) => c.field),
    ['spec.replicas'],
  );
  assert.deepEqual(unknownFields(d), ['spec.replicaz']);
});

test('cron schedules', () => {
  assert.equal(parseCronSchedule('*/15 2 * * mon-fri').error, undefined);
  assert.match(parseCronSchedule('61 * * * *').error ?? '', /maximum/);
  const s = parseCronSchedule('30 2 * * *').schedule;
  assert.ok(s);
  assert.equal(nextRun(s, new Date('2026-01-01T03:00:00Z'))?.toISOString(), '2026-01-02T02:30:00.000Z');
});
