import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StatefulSet } from '../../api/types/index.js';
import { claimsFor, podVolumesWithClaims } from './claims.js';

function set(policy?: { whenDeleted?: 'Retain' | 'Delete'; whenScaled?: 'Retain' | 'Delete' }): StatefulSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'web', namespace: 'default', uid: 'set-uid' },
    spec: {
      selector: { matchLabels: { app: 'nginx' } },
      template: { metadata: { labels: { app: 'nginx' } }, spec: { containers: [{ name: 'c', image: 'i' }] } },
      volumeClaimTemplates: [
        {
          metadata: { name: 'www', labels: { kind: 'web' } },
          spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
        },
      ],
      ...(policy === undefined ? {} : { persistentVolumeClaimRetentionPolicy: policy }),
    },
  };
}

test('one claim per template and ordinal, named <template>-<set>-<ordinal>, labelled with the selector', () => {
  const [claim] = claimsFor(set(), 3);
  assert.equal(claim?.metadata.name, 'www-web-3');
  assert.deepEqual(claim?.metadata.labels, { kind: 'web', app: 'nginx' });
  assert.equal(claim?.metadata.ownerReferences, undefined, 'Retain: nobody owns it');
  assert.deepEqual(claim?.spec?.resources?.requests, { storage: '1Gi' });
  const [owned] = claimsFor(set({ whenDeleted: 'Delete' }), 0);
  assert.equal(owned?.metadata.ownerReferences?.[0]?.uid, 'set-uid');
});

test("the pod's volume refers to its claim, replacing a template volume of the same name", () => {
  const volumes = podVolumesWithClaims(set(), 1, [
    { name: 'www', emptyDir: {} },
    { name: 'config', configMap: { name: 'c' } },
  ]);
  assert.deepEqual(volumes, [
    { name: 'config', configMap: { name: 'c' } },
    { name: 'www', persistentVolumeClaim: { claimName: 'www-web-1' } },
  ]);
});
