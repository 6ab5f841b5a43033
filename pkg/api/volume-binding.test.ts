import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { PersistentVolume, PersistentVolumeClaim } from './types/index.js';
import { findMatchingVolume, volumeFitsNode, volumeMismatch } from './volume-binding.js';

function pv(name: string, size: string, extra: Partial<NonNullable<PersistentVolume['spec']>> = {}): PersistentVolume {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name, labels: { tier: name.startsWith('fast') ? 'fast' : 'slow' } },
    spec: {
      capacity: { storage: size },
      accessModes: ['ReadWriteOnce'],
      storageClassName: '',
      hostPath: { path: `/srv/${name}` },
      ...extra,
    },
    status: { phase: 'Available' },
  };
}

function pvc(size: string, extra: Partial<NonNullable<PersistentVolumeClaim['spec']>> = {}): PersistentVolumeClaim {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: 'data', namespace: 'default', uid: 'u1' },
    spec: {
      accessModes: ['ReadWriteOnce'],
      storageClassName: '',
      resources: { requests: { storage: size } },
      ...extra,
    },
  };
}

test('the smallest volume that fits wins; too small, other class, missing access mode and taken volumes do not', () => {
  const volumes = [pv('a', '5Gi'), pv('b', '2Gi'), pv('c', '1Gi'), pv('d', '3Gi', { storageClassName: 'fast' })];
  assert.equal(findMatchingVolume(pvc('1500Mi'), volumes)?.metadata.name, 'b');
  assert.equal(findMatchingVolume(pvc('1Gi'), volumes)?.metadata.name, 'c');
  assert.equal(findMatchingVolume(pvc('10Gi'), volumes), undefined);
  assert.equal(findMatchingVolume(pvc('1Gi', { storageClassName: 'fast' }), volumes)?.metadata.name, 'd');
  assert.equal(findMatchingVolume(pvc('1Gi', { accessModes: ['ReadWriteMany'] }), volumes), undefined);
  const taken = pv('c', '1Gi', { claimRef: { namespace: 'default', name: 'other', uid: 'u2' } });
  assert.equal(findMatchingVolume(pvc('1Gi'), [taken, pv('b', '2Gi')])?.metadata.name, 'b');
});

test('a volume pre-bound to the claim is taken first; selectors and node affinity narrow the choice', () => {
  const preBound = pv('big', '9Gi', { claimRef: { namespace: 'default', name: 'data' } });
  assert.equal(findMatchingVolume(pvc('1Gi'), [pv('small', '1Gi'), preBound])?.metadata.name, 'big');
  const selecting = pvc('1Gi', { selector: { matchLabels: { tier: 'fast' } } });
  assert.equal(findMatchingVolume(selecting, [pv('slow1', '1Gi'), pv('fast1', '4Gi')])?.metadata.name, 'fast1');
  const pinned = pv('n2only', '1Gi', {
    nodeAffinity: {
      required: {
        nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['n2'] }] }],
      },
    },
  });
  const n1 = { name: 'n1', labels: { 'kubernetes.io/hostname': 'n1' } };
  const n2 = { name: 'n2', labels: { 'kubernetes.io/hostname': 'n2' } };
  assert.equal(volumeFitsNode(pinned, n1), false);
  assert.equal(volumeFitsNode(pinned, n2), true);
  assert.equal(findMatchingVolume(pvc('1Gi'), [pinned], n1), undefined);
  assert.equal(volumeMismatch(pvc('1Gi'), pinned, n1), 'node affinity conflict');
});

test('hostile sizes never match and never throw', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.constant('1e400'), fc.constant('-1Gi'), fc.constant('NaN')), (size) => {
      const chosen = findMatchingVolume(pvc(size), [pv('a', '1Gi')]);
      // Only what reads as a quantity may match (its suffixes include n, u and m: "0u" is 0).
      if (chosen !== undefined) assert.ok(/^\s*[+]?[0-9.eE+-]*[KMGTPEkmiun]*\s*$/.test(size), `matched ${size}`);
    }),
  );
  assert.equal(findMatchingVolume(pvc('1Gi'), [pv('a', 'lots')]), undefined);
});
