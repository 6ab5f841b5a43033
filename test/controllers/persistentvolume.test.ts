// The PV controller and the StatefulSet claims below end to end, without agents: the test
// plays the scheduler (it records the chosen node on a claim) and the agent's Node (with its
// local-path root). Static binding writes both sides; a local-path claim gets a volume pinned
// to the chosen node; the retention policy hands claims to the set or to condemned pods.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RESOURCES } from '../../pkg/api/index.js';
import type { PersistentVolumeClaim } from '../../pkg/api/types/index.js';
import { eventually } from '../harness/clients.js';
import { createNamespace, CR, runPod, template, useControllerPlane } from '../harness/controller-plane.js';
import { createReadyNode } from '../harness/fake-nodes.js';

const NS = 'pv';
const PVCS = RESOURCES.persistentvolumeclaims;
const PVS = RESOURCES.persistentvolumes;
const cp = useControllerPlane(['persistentvolume-binder', 'statefulset', 'garbagecollector']);

const claimNamed = (name: string): Promise<PersistentVolumeClaim | undefined> =>
  cp.client.get(PVCS, name, { namespace: NS }).catch(() => undefined);

test('a static volume binds both ways and both report Bound; the pv-protection finalizer is on', async () => {
  const { client } = cp;
  await createNamespace(client, NS);
  await client.create(PVS, {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name: 'static-1' },
    spec: {
      capacity: { storage: '2Gi' },
      accessModes: ['ReadWriteOnce'],
      storageClassName: 'manual',
      hostPath: { path: '/srv/s1' },
    },
  });
  await client.create(
    PVCS,
    {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'c1' },
      spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'manual', resources: { requests: { storage: '1Gi' } } },
    },
    { namespace: NS },
  );
  await eventually(async () => (await claimNamed('c1'))?.status?.phase === 'Bound', { what: 'c1 Bound' });
  const claim = await claimNamed('c1');
  assert.equal(claim?.spec?.volumeName, 'static-1');
  assert.equal(claim?.status?.capacity?.['storage'], '2Gi');
  const pv = await client.get(PVS, 'static-1');
  assert.equal(pv.status?.phase, 'Bound');
  assert.equal(pv.spec?.claimRef?.uid, claim?.metadata.uid);
  assert.deepEqual(pv.metadata.finalizers, ['kubernetes.io/pv-protection']);
  // The claim goes: Retain keeps the volume, Released; deleting it then releases the finalizer.
  await client.delete(PVCS, 'c1', { namespace: NS });
  await eventually(async () => (await client.get(PVS, 'static-1')).status?.phase === 'Released', {
    what: 'static-1 Released',
  });
  await client.delete(PVS, 'static-1');
  await eventually(async () => !(await client.list(PVS)).items.some((v) => v.metadata.name === 'static-1'), {
    what: 'static-1 gone',
  });
});

test('a local-path claim waits for a node, then gets a hostPath volume under that node’s root, pinned to it', async () => {
  const { client } = cp;
  await createReadyNode(client, 'n1');
  await client.patch(CR.nodes, 'n1', {
    type: 'merge',
    body: { metadata: { annotations: { 'coxswain.io/local-path-root': '/var/lib/n1/storage' } } },
  });
  await client.create(
    PVCS,
    {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'lp' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    },
    { namespace: NS },
  );
  const created = await claimNamed('lp');
  assert.equal(created?.spec?.storageClassName, 'local-path', 'the default class is set');
  await new Promise((r) => setTimeout(r, 500));
  assert.equal((await claimNamed('lp'))?.status?.phase, 'Pending', 'WaitForFirstConsumer: no node yet');
  await client.patch(PVCS, 'lp', {
    type: 'merge',
    namespace: NS,
    body: { metadata: { annotations: { 'volume.kubernetes.io/selected-node': 'n1' } } },
  });
  await eventually(async () => (await claimNamed('lp'))?.status?.phase === 'Bound', { what: 'lp Bound' });
  const claim = await claimNamed('lp');
  const pv = await client.get(PVS, claim?.spec?.volumeName ?? '');
  assert.equal(pv.metadata.name, `pvc-${claim?.metadata.uid ?? ''}`);
  assert.equal(pv.spec?.hostPath?.path, `/var/lib/n1/storage/pvc-${claim?.metadata.uid ?? ''}_${NS}_lp`);
  assert.deepEqual(pv.spec?.nodeAffinity?.required?.nodeSelectorTerms[0]?.matchExpressions?.[0]?.values, ['n1']);
  assert.equal(pv.metadata.annotations?.['pv.kubernetes.io/provisioned-by'], 'coxswain.io/local-path');
  // Delete reclaim: the claim goes, so does the volume.
  await client.delete(PVCS, 'lp', { namespace: NS });
  await eventually(async () => !(await client.list(PVS)).items.some((v) => v.metadata.name === pv.metadata.name), {
    what: 'the provisioned volume deleted',
  });
});

test('StatefulSet claims: created per ordinal before the pod; whenScaled Delete hands them to the condemned pod', async () => {
  const { client } = cp;
  await client.create(
    CR.statefulsets,
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'db' },
      spec: {
        replicas: 2,
        podManagementPolicy: 'Parallel',
        serviceName: 'db',
        selector: { matchLabels: { app: 'db' } },
        template: template('db'),
        persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Delete' },
        volumeClaimTemplates: [
          {
            metadata: { name: 'data' },
            spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
          },
        ],
      },
    },
    { namespace: NS },
  );
  await eventually(async () => (await claimNamed('data-db-1')) !== undefined, { what: 'data-db-1 created' });
  const pod1 = await client.get(CR.pods, 'db-1', { namespace: NS });
  assert.deepEqual(pod1.spec?.volumes?.find((v) => v.name === 'data')?.persistentVolumeClaim, {
    claimName: 'data-db-1',
  });
  assert.equal((await claimNamed('data-db-0'))?.metadata.labels?.['app'], 'db');
  for (const name of ['db-0', 'db-1']) await runPod(client, await client.get(CR.pods, name, { namespace: NS }), 'n1');
  await client.patch(CR.statefulsets, 'db', { type: 'merge', namespace: NS, body: { spec: { replicas: 1 } } });
  await eventually(
    async () => (await claimNamed('data-db-1'))?.metadata.ownerReferences?.some((r) => r.kind === 'Pod') === true,
    { what: 'data-db-1 owned by its condemned pod' },
  );
  assert.equal((await claimNamed('data-db-0'))?.metadata.ownerReferences, undefined, 'data-db-0 stays unowned');
});
