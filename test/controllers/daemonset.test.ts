// DaemonSet controller below end to end: one pod per eligible Node, placed by spec.nodeName;
// none on a Node with a NoSchedule taint the pods do not tolerate; a Node that joins later
// gets its pod; status counts desired, scheduled and ready pods; a failed daemon pod is
// replaced, with Kubernetes' events.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../pkg/api/meta.js';
import { RESOURCES } from '../../pkg/api/registry.js';
import { eventually } from '../harness/clients.js';
import {
  createNamespace,
  CR,
  field,
  livePods,
  setPodStatus,
  statusCount,
  template,
  useControllerPlane,
} from '../harness/controller-plane.js';
import { createReadyNode } from '../harness/fake-nodes.js';

const NS = 'ds';
const cp = useControllerPlane(['daemonset']);

function nodeOf(p: KubeObject): string {
  const nodeName = field(p, 'spec', 'nodeName');
  return typeof nodeName === 'string' ? nodeName : '';
}

test('a DaemonSet runs one pod per Ready node, none on a tainted one, and follows a new node', async () => {
  const { client } = cp;
  await createNamespace(client, NS);
  await createReadyNode(client, 'a');
  await createReadyNode(client, 'b');
  await createReadyNode(client, 'tainted');
  await client.patch(CR.nodes, 'tainted', {
    type: 'merge',
    body: {
      spec: { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] },
    },
  });
  await client.create(
    CR.daemonsets,
    {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'agent' },
      spec: { selector: { matchLabels: { app: 'agent' } }, template: template('agent') },
    },
    { namespace: NS },
  );

  const placed = async (): Promise<string[]> => (await livePods(client, NS, 'agent')).map((p) => nodeOf(p)).sort();
  await eventually(async () => (await placed()).join() === 'a,b', { what: 'pods on a and b' });
  for (const p of await livePods(client, NS, 'agent'))
    await setPodStatus(client, p.metadata.name ?? '', { namespace: NS, phase: 'Running', ready: true });
  await eventually(
    async () => {
      const ds = await client.get(CR.daemonsets, 'agent', { namespace: NS });
      return (
        statusCount(ds, 'desiredNumberScheduled') === 2 &&
        statusCount(ds, 'currentNumberScheduled') === 2 &&
        statusCount(ds, 'numberReady') === 2
      );
    },
    { what: 'status: 2 desired, 2 scheduled, 2 ready' },
  );

  await createReadyNode(client, 'c');
  await eventually(async () => (await placed()).join() === 'a,b,c', { what: 'a pod on the new node c' });
  assert.ok(!(await placed()).includes('tainted'), 'nothing on the tainted node');
});

test('a failed daemon pod is replaced, with FailedDaemonPod and SuccessfulCreate events on the DaemonSet', async () => {
  const { client } = cp;
  const onA = (await livePods(client, NS, 'agent')).find((p) => nodeOf(p) === 'a');
  assert.ok(onA, 'a pod on node a');
  const failedName = onA.metadata.name ?? '';
  await setPodStatus(client, failedName, { namespace: NS, phase: 'Failed' });
  await eventually(
    async () => {
      const onNodeA = (await livePods(client, NS, 'agent')).filter((p) => nodeOf(p) === 'a');
      return onNodeA.length === 1 && onNodeA[0]?.metadata.name !== failedName;
    },
    { timeoutMs: 30_000, what: 'a new pod on node a' },
  );
  const events = await client.list(RESOURCES.events, {
    namespace: NS,
    fieldSelector: 'involvedObject.kind=DaemonSet,involvedObject.name=agent',
  });
  const seen = events.items.map((e) => `${e.reason ?? ''}: ${e.message ?? ''}`);
  assert.ok(
    seen.includes(`FailedDaemonPod: Found failed daemon pod ${NS}/${failedName} on node a, will try to kill it`),
    seen.join('; '),
  );
  assert.ok(seen.includes(`SuccessfulDelete: Deleted pod: ${failedName}`), seen.join('; '));
  assert.ok(seen.filter((r) => r.startsWith('SuccessfulCreate: Created pod: agent-')).length >= 4, seen.join('; '));
});
