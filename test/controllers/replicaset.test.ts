// ReplicaSet controller below end to end: it keeps `replicas` pods owned by the set,
// replaces a deleted one, counts ready pods in status once the "kubelet" (the test) marks
// them Ready, and scales down.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually } from '../harness/clients.js';
import {
  createNamespace,
  CR,
  livePods,
  runPod,
  statusCount,
  template,
  useControllerPlane,
} from '../harness/controller-plane.js';
import { createReadyNode } from '../harness/fake-nodes.js';

const NS = 'rs';
const cp = useControllerPlane(['replicaset']);

test('a ReplicaSet keeps 3 owned pods, reports them ready, replaces a deleted one and scales down', async () => {
  const { client } = cp;
  await createNamespace(client, NS);
  await createReadyNode(client, 'n1');
  const rs = await client.create(
    CR.replicasets,
    {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'web' },
      spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: template('web') },
    },
    { namespace: NS },
  );
  await eventually(async () => (await livePods(client, NS, 'web')).length === 3, { what: '3 pods' });
  const pods = await livePods(client, NS, 'web');
  for (const p of pods) {
    const owner = p.metadata.ownerReferences?.find((o) => o.controller === true);
    assert.equal(owner?.uid, rs.metadata.uid, 'owned by the ReplicaSet');
    await runPod(client, p, 'n1');
  }
  await eventually(
    async () => {
      const cur = await client.get(CR.replicasets, 'web', { namespace: NS });
      return (
        statusCount(cur, 'replicas') === 3 &&
        statusCount(cur, 'readyReplicas') === 3 &&
        statusCount(cur, 'availableReplicas') === 3
      );
    },
    { what: 'status counts 3 ready' },
  );

  const victim = (await livePods(client, NS, 'web'))[0];
  await client.delete(CR.pods, victim?.metadata.name ?? '', { namespace: NS, gracePeriodSeconds: 0 });
  await eventually(
    async () => {
      const names = (await livePods(client, NS, 'web')).map((p) => p.metadata.name);
      return names.length === 3 && !names.includes(victim?.metadata.name);
    },
    { what: 'deleted pod replaced' },
  );

  await client.patch(CR.replicasets, 'web', { type: 'merge', body: { spec: { replicas: 1 } }, namespace: NS });
  await eventually(async () => (await livePods(client, NS, 'web')).length === 1, { what: 'scaled down to 1' });
  await eventually(
    async () => statusCount(await client.get(CR.replicasets, 'web', { namespace: NS }), 'replicas') === 1,
    { what: 'status.replicas 1' },
  );
});
