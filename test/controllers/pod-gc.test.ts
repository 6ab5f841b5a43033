// Pod garbage collector below end to end (the fuller test is test/pod-gc.test.ts): a pod
// bound to a Node that does not exist is deleted after the quarantine; one on an existing
// Node is kept; terminated pods beyond the threshold are deleted.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually } from '../harness/clients.js';
import {
  bindPod,
  createNamespace,
  CR,
  isGone,
  podSpec,
  setPodStatus,
  useControllerPlane,
} from '../harness/controller-plane.js';
import { createReadyNode } from '../harness/fake-nodes.js';

const NS = 'podgc';
const cp = useControllerPlane(
  ['podgc'],
  ['--pod-gc-quarantine', '1', '--pod-gc-period', '1', '--terminated-pod-gc-threshold', '2'],
);

async function pod(name: string, node: string): Promise<void> {
  await cp.client.create(
    CR.pods,
    { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: podSpec() },
    { namespace: NS },
  );
  await bindPod(cp.client, name, { namespace: NS, node });
}

test('a pod on a missing Node is deleted, one on an existing Node kept', async () => {
  const { client } = cp;
  await createNamespace(client, NS);
  await createReadyNode(client, 'real');
  await pod('on-ghost', 'ghost');
  await pod('on-real', 'real');
  await eventually(() => isGone(client, CR.pods, { name: 'on-ghost', namespace: NS }), {
    timeoutMs: 30_000,
    intervalMs: 200,
    what: 'pod on the missing node deleted',
  });
  assert.equal(await isGone(client, CR.pods, { name: 'on-real', namespace: NS }), false);
});

test('terminated pods beyond the threshold (2) are deleted; running ones are not counted', async () => {
  const { client } = cp;
  for (let i = 0; i < 4; i++) {
    await pod(`done-${i}`, 'real');
    await setPodStatus(client, `done-${i}`, { namespace: NS, phase: i % 2 === 0 ? 'Succeeded' : 'Failed' });
  }
  const terminated = async (): Promise<number> => {
    let n = 0;
    for (let i = 0; i < 4; i++) if (!(await isGone(client, CR.pods, { name: `done-${i}`, namespace: NS }))) n++;
    return n;
  };
  await eventually(async () => (await terminated()) === 2, {
    timeoutMs: 30_000,
    intervalMs: 200,
    what: '2 terminated pods left',
  });
  assert.equal(await isGone(client, CR.pods, { name: 'on-real', namespace: NS }), false, 'the running pod kept');
});
