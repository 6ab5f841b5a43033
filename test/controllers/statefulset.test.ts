// StatefulSet controller below end to end (OrderedReady): pods <set>-0, -1, -2 are created
// one at a time, each only after the one before is Running and Ready (the test marks them),
// and a scale-down removes the highest ordinal first.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually } from '../harness/clients.js';
import {
  createNamespace,
  CR,
  field,
  livePods,
  runPod,
  statusCount,
  template,
  useControllerPlane,
} from '../harness/controller-plane.js';
import { createReadyNode } from '../harness/fake-nodes.js';

const NS = 'sts';
const cp = useControllerPlane(['statefulset']);

const names = async (): Promise<string[]> => (await livePods(cp.client, NS, 'db')).map((p) => p.metadata.name ?? '');

test('a StatefulSet creates ordinal pods one at a time, each after the previous is Ready', async () => {
  const { client } = cp;
  await createNamespace(client, NS);
  await createReadyNode(client, 'n1');
  await client.create(
    CR.services,
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'db' },
      spec: { clusterIP: 'None', selector: { app: 'db' }, ports: [{ port: 5432 }] },
    },
    { namespace: NS },
  );
  await client.create(
    CR.statefulsets,
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'db' },
      spec: { replicas: 3, serviceName: 'db', selector: { matchLabels: { app: 'db' } }, template: template('db') },
    },
    { namespace: NS },
  );

  for (let i = 0; i < 3; i++) {
    const expected = Array.from({ length: i + 1 }, (_, k) => `db-${k}`);
    await eventually(async () => (await names()).join() === expected.join(), { what: `pods ${expected.join()}` });
    // Not Ready yet: the next ordinal must not appear (re-read after the controller has seen this pod).
    const pod = await client.get(CR.pods, `db-${i}`, { namespace: NS });
    assert.equal(field(pod, 'spec', 'hostname'), `db-${i}`);
    assert.equal(field(pod, 'spec', 'subdomain'), 'db');
    assert.deepEqual(await names(), expected, `only ${expected.join()} before db-${i} is Ready`);
    await runPod(client, pod, 'n1');
  }
  await eventually(
    async () => statusCount(await client.get(CR.statefulsets, 'db', { namespace: NS }), 'readyReplicas') === 3,
    { what: 'status.readyReplicas 3' },
  );

  await client.patch(CR.statefulsets, 'db', { type: 'merge', body: { spec: { replicas: 2 } }, namespace: NS });
  // Bound pods are deleted gracefully (no agent confirms): db-2 is the one being deleted.
  await eventually(async () => (await names()).join() === 'db-0,db-1', { what: 'db-2 removed first' });
});
