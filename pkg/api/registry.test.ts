import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findByPlural, mustFind, RESOURCE_LIST, RESOURCES, resolveResource, type Resource } from './registry.js';
import type { Pod } from './types/index.js';

test('the named table holds every served resource under its plural, in registry order', () => {
  // The resource metrics share core's plurals (nodes, pods): they are named by kind; a second
  // version of a resource by plural and version.
  const key = (r: (typeof RESOURCE_LIST)[number], i: number): string => {
    if (r.group === 'metrics.k8s.io') return r.kind.toLowerCase();
    const earlier = RESOURCE_LIST.slice(0, i).some((x) => x.group === r.group && x.plural === r.plural);
    return earlier ? `${r.plural}${r.version}` : r.plural;
  };
  assert.deepEqual(
    Object.keys(RESOURCES).filter((k) => !/^\d+$/.test(k)),
    RESOURCE_LIST.map(key),
  );
  for (const r of RESOURCE_LIST) assert.equal(findByPlural(r.group, r.version, r.plural), r);
  assert.equal(RESOURCES.pods, mustFind('', 'v1', 'pods'));
  assert.equal(RESOURCES.deployments.group, 'apps');
  assert.equal(resolveResource('deploy'), RESOURCES.deployments);
});

test('RESOURCES still iterates as the registry-ordered array for callers not yet converted', () => {
  assert.deepEqual([...RESOURCES], [...RESOURCE_LIST]);
  assert.equal(RESOURCES.length, RESOURCE_LIST.length);
  assert.deepEqual(
    RESOURCES.filter((r) => r.plural === 'pods' && r.group === ''),
    [RESOURCES.pods],
  );
});

test('a typed resource carries its object type only for the compiler', () => {
  const pods: Resource<Pod> = RESOURCES.pods;
  assert.equal('objectType' in pods, false);
  assert.equal(JSON.stringify(pods).includes('objectType'), false);
});
