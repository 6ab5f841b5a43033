import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { KubeObject } from './meta.js';
import { checkTypes, pruneUnknownFields, schemaKinds } from './schema.js';

function deployment(replicas: unknown, extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'd', generation: 2 ** 40 },
    spec: { replicas, ...extra },
  };
}

test('int32 fields take integers in range; int64 fields take safe integers', () => {
  assert.deepEqual(checkTypes(deployment(2 ** 31 - 1)), []);
  assert.deepEqual(checkTypes(deployment(-(2 ** 31))), []);
  for (const bad of [2 ** 31, 1e26, 1e300, 1.5, -(2 ** 31) - 1]) {
    const causes = checkTypes(deployment(bad));
    assert.equal(causes.length, 1, String(bad));
    assert.equal(causes[0]?.field, 'spec.replicas');
    assert.match(causes[0]?.message ?? '', /of type int32/);
  }
  assert.match(
    checkTypes(deployment(1, { progressDeadlineSeconds: '5' }))[0]?.message ?? '',
    /must be of type integer/,
  );
  const pod: KubeObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p' },
    spec: { terminationGracePeriodSeconds: 2 ** 40, containers: [] },
  };
  assert.deepEqual(checkTypes(pod), []);
  (pod['spec'] as Record<string, unknown>)['terminationGracePeriodSeconds'] = 2 ** 64;
  assert.match(checkTypes(pod)[0]?.message ?? '', /of type int64/);
});

test('unknown fields are pruned from closed objects and reported; open ones keep theirs', () => {
  const d = deployment(1, {
    replicaz: 3,
    template: { metadata: { labelz: {} }, spec: { containers: [{ name: 'c', imagex: 'y' }] } },
  });
  d['status'] = { anything: 1 };
  assert.deepEqual(pruneUnknownFields(d).sort(), [
    'spec.replicaz',
    'spec.template.metadata.labelz',
    'spec.template.spec.containers[0].imagex',
  ]);
  assert.deepEqual(d['spec'], { replicas: 1, template: { metadata: {}, spec: { containers: [{ name: 'c' }] } } });
  assert.deepEqual(d['status'], { anything: 1 });
  assert.deepEqual(pruneUnknownFields(d), []);
});

test('fuzz: checking and pruning any JSON under any kind never throws and leaves no unknown field', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...schemaKinds()),
      fc.dictionary(
        fc.constantFrom('spec', 'status', 'data', 'metadata', 'x', 'rules', 'subsets'),
        fc.jsonValue({ maxDepth: 5 }),
      ),
      (kind, fields) => {
        const obj = { apiVersion: 'v1', kind, metadata: {}, ...fields } as KubeObject;
        if (typeof obj.metadata !== 'object' || obj.metadata === null || Array.isArray(obj.metadata)) obj.metadata = {};
        checkTypes(obj);
        pruneUnknownFields(obj);
        assert.deepEqual(pruneUnknownFields(obj), []);
      },
    ),
    { numRuns: 1000 },
  );
});
