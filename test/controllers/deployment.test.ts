// Deployment controller (with the ReplicaSet controller it drives) below end to end: a new
// Deployment gets a ReplicaSet; a new template rolls to a second ReplicaSet while the test,
// standing in for scheduler and kubelet, makes each new pod Running and Ready; in the end
// the old ReplicaSet is at 0 and the Deployment's status counts the new pods.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../pkg/api/meta.js';
import { eventually } from '../harness/clients.js';
import {
  createNamespace,
  CR,
  field,
  isPodReady,
  livePods,
  runPod,
  statusCount,
  template,
  useControllerPlane,
} from '../harness/controller-plane.js';
import { createReadyNode } from '../harness/fake-nodes.js';

const NS = 'deploy';
const cp = useControllerPlane(['deployment', 'replicaset']);

/** The kubelet's part: every pod of the app not yet Ready becomes Running and Ready. */
async function runAll(app: string): Promise<void> {
  for (const p of await livePods(cp.client, NS, app)) if (!isPodReady(p)) await runPod(cp.client, p, 'n1');
}

async function replicaSets(): Promise<KubeObject[]> {
  return (await cp.client.list(CR.replicasets, { namespace: NS, labelSelector: 'app=web' })).items;
}

function specReplicas(rs: KubeObject): number {
  const replicas = field(rs, 'spec', 'replicas');
  return typeof replicas === 'number' ? replicas : -1;
}

test('a Deployment rolls a new template to a new ReplicaSet and reports its counts', async () => {
  const { client } = cp;
  await createNamespace(client, NS);
  await createReadyNode(client, 'n1');
  await client.create(
    CR.deployments,
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: template('web'),
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      },
    },
    { namespace: NS },
  );
  await eventually(
    async () => {
      await runAll('web');
      const d = await client.get(CR.deployments, 'web', { namespace: NS });
      return statusCount(d, 'availableReplicas') === 2 && statusCount(d, 'updatedReplicas') === 2;
    },
    { timeoutMs: 60_000, intervalMs: 200, what: 'first rollout available' },
  );
  const first = await replicaSets();
  assert.equal(first.length, 1);
  const firstName = first[0]?.metadata.name;

  await client.patch(CR.deployments, 'web', {
    type: 'merge',
    body: { spec: { template: { metadata: { annotations: { rev: '2' } } } } },
    namespace: NS,
  });
  await eventually(
    async () => {
      await runAll('web');
      const d = await client.get(CR.deployments, 'web', { namespace: NS });
      const sets = await replicaSets();
      const old = sets.find((rs) => rs.metadata.name === firstName);
      return (
        sets.length === 2 &&
        old !== undefined &&
        specReplicas(old) === 0 &&
        statusCount(d, 'updatedReplicas') === 2 &&
        statusCount(d, 'availableReplicas') === 2 &&
        statusCount(d, 'replicas') === 2
      );
    },
    { timeoutMs: 90_000, intervalMs: 200, what: 'second rollout complete' },
  );

  const sets = await replicaSets();
  const fresh = sets.find((rs) => rs.metadata.name !== firstName);
  assert.equal(fresh === undefined ? -1 : specReplicas(fresh), 2, 'the new ReplicaSet holds both replicas');
  const hash = fresh?.metadata.labels?.['pod-template-hash'];
  assert.ok(hash !== undefined && hash !== '', 'the new ReplicaSet is labelled with its template hash');
  const pods = await livePods(client, NS, 'web');
  assert.equal(pods.length, 2);
  for (const p of pods)
    assert.equal(p.metadata.labels?.['pod-template-hash'], hash, 'every live pod is of the new template');
});
