import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatGroupResource, groupResourceOfStorageKey, parseGroupResource } from './group-resource.js';

describe('group-resources', () => {
  it('parses the config spellings as Kubernetes does (first dot splits)', () => {
    assert.deepEqual(parseGroupResource('secrets'), { group: '', resource: 'secrets' });
    assert.deepEqual(parseGroupResource('deployments.apps'), { group: 'apps', resource: 'deployments' });
    assert.deepEqual(parseGroupResource('widgets.example.com'), { group: 'example.com', resource: 'widgets' });
    assert.deepEqual(parseGroupResource('*.'), { group: '', resource: '*' });
    assert.deepEqual(parseGroupResource('*.*'), { group: '*', resource: '*' });
    assert.deepEqual(parseGroupResource('*.apps'), { group: 'apps', resource: '*' });
  });

  it('formats back to the same spelling', () => {
    for (const text of ['secrets', 'deployments.apps', '*.', '*.*', '*.apps']) {
      assert.equal(formatGroupResource(parseGroupResource(text)), text);
    }
  });

  it('reads the group-resource of a store key, the core group spelled core', () => {
    assert.deepEqual(groupResourceOfStorageKey('/registry/core/secrets/default/db'), {
      group: '',
      resource: 'secrets',
    });
    assert.deepEqual(groupResourceOfStorageKey('/registry/apps/deployments/default/web'), {
      group: 'apps',
      resource: 'deployments',
    });
    assert.deepEqual(groupResourceOfStorageKey('/registry/core/namespaces/kube-system'), {
      group: '',
      resource: 'namespaces',
    });
  });

  it('refuses keys of another shape', () => {
    for (const key of [
      '',
      '/',
      'registry/core/secrets/a',
      '/other/core/secrets/a',
      '/registry/core',
      '/registry//secrets/a',
      '/registry/core//a',
    ]) {
      assert.equal(groupResourceOfStorageKey(key), undefined, key);
    }
  });
});
