import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PersistentVolume } from '../api/types/index.js';
import { folderToRemove, localPathRoot } from './local-path.js';

const root = localPathRoot('/var/lib/coxswain');

function volume(path: string, extra: { provisioner?: string; policy?: 'Delete' | 'Retain' } = {}): PersistentVolume {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: {
      name: 'pvc-1',
      annotations: { 'pv.kubernetes.io/provisioned-by': extra.provisioner ?? 'coxswain.io/local-path' },
    },
    spec: { persistentVolumeReclaimPolicy: extra.policy ?? 'Delete', hostPath: { path } },
  };
}

test('only a Delete local-path volume folder directly under the root is removed', () => {
  assert.equal(root, '/var/lib/coxswain/storage');
  assert.equal(folderToRemove(volume(`${root}/pvc-1_default_www`), root), `${root}/pvc-1_default_www`);
  assert.equal(folderToRemove(volume(`${root}/pvc-1`, { policy: 'Retain' }), root), undefined);
  assert.equal(folderToRemove(volume(`${root}/pvc-1`, { provisioner: 'someone-else' }), root), undefined);
});

test('hostile paths never escape the root', () => {
  for (const path of [
    root,
    `${root}/`,
    `${root}/..`,
    `${root}/../etc`,
    `${root}/a/../../etc`,
    '/',
    '/etc',
    'relative',
    `${root}/a/b`,
    `${root}-x/y`,
  ])
    assert.equal(folderToRemove(volume(path), root), undefined, path);
});
