// Garbage collector below end to end: pods owned by a ReplicaSet (no ReplicaSet controller
// runs, so only the collector touches them) are deleted after their owner with background
// propagation; with foreground propagation the owner waits for its dependents; with Orphan
// the dependents stay, their owner reference removed.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../pkg/api/meta.js';
import { eventually } from '../harness/clients.js';
import { createNamespace, CR, isGone, podSpec, useControllerPlane } from '../harness/controller-plane.js';

const NS = 'gc';
const HOLD = 'example.com/hold';
const cp = useControllerPlane(['garbagecollector']);

/** A ReplicaSet of 0 replicas and `n` pods it owns, named <owner>-<i>. */
async function ownerWithPods(owner: string, n: number, podFinalizers: string[] = []): Promise<KubeObject> {
  const rs = await cp.client.create(
    CR.replicasets,
    {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: owner },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: owner } },
        template: { metadata: { labels: { app: owner } }, spec: podSpec() },
      },
    },
    { namespace: NS },
  );
  const ref = {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    name: owner,
    uid: rs.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
  for (let i = 0; i < n; i++) {
    await cp.client.create(
      CR.pods,
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: `${owner}-${i}`,
          labels: { app: owner },
          ownerReferences: [ref],
          ...(podFinalizers.length > 0 ? { finalizers: podFinalizers } : {}),
        },
        spec: podSpec(),
      },
      { namespace: NS },
    );
  }
  return rs;
}

async function podsGone(owner: string, n: number): Promise<boolean> {
  for (let i = 0; i < n; i++)
    if (!(await isGone(cp.client, CR.pods, { name: `${owner}-${i}`, namespace: NS }))) return false;
  return true;
}

test('background: the owner goes at once, then its dependents', async () => {
  const { client } = cp;
  await createNamespace(client, NS);
  await ownerWithPods('bg', 2);
  await client.delete(CR.replicasets, 'bg', { namespace: NS, propagationPolicy: 'Background' });
  assert.ok(await isGone(client, CR.replicasets, { name: 'bg', namespace: NS }), 'owner deleted without waiting');
  await eventually(() => podsGone('bg', 2), { what: 'dependents of bg deleted' });
});

test('foreground: the owner stays (foregroundDeletion) until its dependents are gone', async () => {
  const { client } = cp;
  // One dependent holds a finalizer of the test's, so the wait can be seen.
  await ownerWithPods('fg', 2, [HOLD]);
  await client.delete(CR.replicasets, 'fg', { namespace: NS, propagationPolicy: 'Foreground' });
  await eventually(
    async () => {
      const pods = await Promise.all([0, 1].map((i) => client.get(CR.pods, `fg-${i}`, { namespace: NS })));
      return pods.every((p) => p.metadata.deletionTimestamp !== undefined);
    },
    { what: 'dependents of fg being deleted' },
  );
  const owner = await client.get(CR.replicasets, 'fg', { namespace: NS });
  assert.ok(owner.metadata.deletionTimestamp !== undefined);
  assert.ok(owner.metadata.finalizers?.includes('foregroundDeletion'), 'owner waits with foregroundDeletion');

  for (const i of [0, 1])
    await client.patch(CR.pods, `fg-${i}`, { type: 'merge', body: { metadata: { finalizers: null } }, namespace: NS });
  await eventually(() => podsGone('fg', 2), { what: 'dependents of fg gone' });
  await eventually(() => isGone(client, CR.replicasets, { name: 'fg', namespace: NS }), {
    what: 'owner fg gone after its dependents',
  });
});

test('orphan: the owner goes, its dependents stay without the owner reference', async () => {
  const { client } = cp;
  await ownerWithPods('orph', 2);
  await client.delete(CR.replicasets, 'orph', { namespace: NS, propagationPolicy: 'Orphan' });
  await eventually(() => isGone(client, CR.replicasets, { name: 'orph', namespace: NS }), { what: 'owner orph gone' });
  for (const i of [0, 1]) {
    const p = await client.get(CR.pods, `orph-${i}`, { namespace: NS });
    assert.equal(p.metadata.deletionTimestamp, undefined, 'dependent not deleted');
    assert.equal((p.metadata.ownerReferences ?? []).length, 0, 'owner reference removed');
  }
});
