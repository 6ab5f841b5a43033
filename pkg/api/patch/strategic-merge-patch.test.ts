import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyJsonPatch } from './json-patch.js';
import { applyMergePatch, createMergePatch } from './merge-patch.js';
import { applyStrategicMergePatch, createThreeWayStrategicMergePatch, mergeKeyFor } from './strategic-merge-patch.js';

const DEPLOYMENT = { group: 'apps', kind: 'Deployment' };

function deployment(): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'd', labels: { a: '1', b: '2' } },
    spec: {
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        spec: {
          containers: [
            {
              name: 'c1',
              image: 'nginx:1',
              env: [
                { name: 'A', value: '1' },
                { name: 'B', value: '2' },
              ],
              ports: [{ containerPort: 80 }, { containerPort: 443 }],
            },
            { name: 'c2', image: 'sidecar:1' },
          ],
        },
      },
    },
  };
}

test('the apply patch kubectl sends for a changed deployment (KUBECTL-WIRE §8.1) merges by keys and honours directives', () => {
  const patch = {
    metadata: { labels: { b: null } },
    spec: {
      strategy: { $retainKeys: ['type'], type: 'Recreate' },
      template: {
        spec: {
          '$setElementOrder/containers': [{ name: 'c1' }],
          containers: [
            {
              '$setElementOrder/env': [{ name: 'B' }],
              '$setElementOrder/ports': [{ containerPort: 443 }],
              env: [
                { name: 'B', value: '3' },
                { $patch: 'delete', name: 'A' },
              ],
              image: 'nginx:2',
              name: 'c1',
              ports: [{ $patch: 'delete', containerPort: 80 }],
            },
            { $patch: 'delete', name: 'c2' },
          ],
        },
      },
    },
  };
  const out = applyStrategicMergePatch(deployment(), patch, DEPLOYMENT) as ReturnType<typeof deployment> & {
    metadata: { labels: Record<string, string> };
    spec: {
      strategy: Record<string, unknown>;
      template: { spec: { containers: { name: string; image: string; env: unknown[]; ports: unknown[] }[] } };
    };
  };
  assert.deepEqual(out.metadata.labels, { a: '1' });
  assert.deepEqual(out.spec.strategy, { type: 'Recreate' });
  const containers = out.spec.template.spec.containers;
  assert.equal(containers.length, 1);
  assert.equal(containers[0]?.image, 'nginx:2');
  assert.deepEqual(containers[0]?.env, [{ name: 'B', value: '3' }]);
  assert.deepEqual(containers[0]?.ports, [{ containerPort: 443 }]);
});

test('set image and rollout restart patches keep the other containers', () => {
  const setImage = { spec: { template: { spec: { containers: [{ image: 'sidecar:9', name: 'c2' }] } } } };
  const out = applyStrategicMergePatch(deployment(), setImage, DEPLOYMENT) as {
    spec: { template: { spec: { containers: { name: string; image: string }[] } } };
  };
  assert.deepEqual(
    out.spec.template.spec.containers.map((c) => `${c.name}=${c.image}`),
    ['c1=nginx:1', 'c2=sidecar:9'],
  );
  const restart = { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': 'now' } } } } };
  const r = applyStrategicMergePatch(deployment(), restart, DEPLOYMENT) as {
    spec: { template: { metadata: { annotations: Record<string, string> } } };
  };
  assert.equal(r.spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt'], 'now');
});

test('cordon and uncordon', () => {
  const node = { kind: 'Node', spec: { podCIDR: '10.244.1.0/24' } };
  const cordoned = applyStrategicMergePatch(node, { spec: { unschedulable: true } }, { group: '', kind: 'Node' }) as {
    spec: Record<string, unknown>;
  };
  assert.equal(cordoned.spec['unschedulable'], true);
  const back = applyStrategicMergePatch(cordoned, { spec: { unschedulable: null } }, { group: '', kind: 'Node' }) as {
    spec: Record<string, unknown>;
  };
  assert.deepEqual(back.spec, { podCIDR: '10.244.1.0/24' });
});

test('lists without a merge key are replaced; finalizers merge as a set', () => {
  const pod = { metadata: { finalizers: ['a'] }, spec: { containers: [{ name: 'c', args: ['x', 'y'] }] } };
  const out = applyStrategicMergePatch(
    pod,
    { metadata: { finalizers: ['b'] }, spec: { containers: [{ name: 'c', args: ['z'] }] } },
    { group: '', kind: 'Pod' },
  ) as {
    metadata: { finalizers: string[] };
    spec: { containers: { args: string[] }[] };
  };
  assert.deepEqual(out.metadata.finalizers, ['a', 'b']);
  assert.deepEqual(out.spec.containers[0]?.args, ['z']);
  assert.equal(
    mergeKeyFor({ group: 'batch', kind: 'CronJob' }, ['spec', 'jobTemplate', 'spec', 'template', 'spec', 'containers']),
    'name',
  );
  assert.equal(mergeKeyFor({ group: '', kind: 'Service' }, ['spec', 'ports']), 'port');
});

test('three-way patch: unchanged is empty, removed fields become deletions, server-side fields are left alone', () => {
  const applied = { metadata: { name: 'cm' }, data: { a: '1', b: '2' } };
  const live = { metadata: { name: 'cm', uid: 'u', resourceVersion: '5' }, data: { a: '1', b: '2' } };
  assert.deepEqual(
    createThreeWayStrategicMergePatch(
      { original: applied, modified: applied, current: live },
      { group: '', kind: 'ConfigMap' },
    ),
    {},
  );
  const next = { metadata: { name: 'cm' }, data: { a: '1' } };
  assert.deepEqual(
    createThreeWayStrategicMergePatch(
      { original: applied, modified: next, current: live },
      { group: '', kind: 'ConfigMap' },
    ),
    {
      data: { b: null },
    },
  );
  const d1 = deployment();
  const d2 = deployment();
  (
    (d2['spec'] as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0] as {
      image: string;
    }
  ).image = 'nginx:3';
  const patch = createThreeWayStrategicMergePatch({ original: d1, modified: d2, current: d1 }, DEPLOYMENT);
  const patched = applyStrategicMergePatch(d1, patch, DEPLOYMENT);
  assert.deepEqual(patched, d2);
});

test('JSON patch and merge patch', () => {
  const doc = { a: { b: [1, 2] }, c: 'x' };
  assert.deepEqual(
    applyJsonPatch(doc, [
      { op: 'add', path: '/a/b/-', value: 3 },
      { op: 'replace', path: '/c', value: 'y' },
      { op: 'remove', path: '/a/b/0' },
    ]),
    { a: { b: [2, 3] }, c: 'y' },
  );
  assert.throws(() => applyJsonPatch(doc, [{ op: 'test', path: '/c', value: 'nope' }]), /test failed/);
  assert.throws(() => applyJsonPatch(doc, [{ op: 'remove', path: '/missing' }]), /does not exist/);
  assert.deepEqual(applyMergePatch(doc, { a: null, d: { e: 1 } }), { c: 'x', d: { e: 1 } });
  assert.deepEqual(createMergePatch({ a: 1, b: 2 }, { a: 1, c: 3 }), { b: null, c: 3 });
});

test('object metadata inside a template merges ownerReferences by uid and finalizers as a set, as at the top', () => {
  const original = {
    spec: {
      template: {
        metadata: { finalizers: ['a'], ownerReferences: [{ uid: 'u1', name: 'one', kind: 'X', apiVersion: 'v1' }] },
      },
    },
  };
  const patched = applyStrategicMergePatch(
    original,
    {
      spec: {
        template: {
          metadata: { finalizers: ['b'], ownerReferences: [{ uid: 'u2', name: 'two', kind: 'X', apiVersion: 'v1' }] },
        },
      },
    },
    DEPLOYMENT,
  );
  assert.deepEqual(patched, {
    spec: {
      template: {
        metadata: {
          finalizers: ['a', 'b'],
          ownerReferences: [
            { uid: 'u1', name: 'one', kind: 'X', apiVersion: 'v1' },
            { uid: 'u2', name: 'two', kind: 'X', apiVersion: 'v1' },
          ],
        },
      },
    },
  });
  assert.equal(mergeKeyFor(DEPLOYMENT, ['spec', 'template', 'metadata', 'ownerReferences']), 'uid');
});
