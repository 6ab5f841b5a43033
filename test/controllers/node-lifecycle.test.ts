// Node lifecycle controller below end to end (grace period 3 s): a Node whose Lease is not
// renewed becomes Ready=Unknown and gets the unreachable NoSchedule and NoExecute taints; a
// Node whose Lease the test keeps renewing stays Ready and untainted; once the silent Node
// reports Ready again (what its kubelet would do) the taints go.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { microTime, rfc3339, type KubeObject } from '../../pkg/api/meta.js';
import { eventually } from '../harness/clients.js';
import { conditionStatus, CR, field, items, useControllerPlane } from '../harness/controller-plane.js';
import { createReadyNode } from '../harness/fake-nodes.js';

const cp = useControllerPlane(['nodelifecycle'], ['--node-monitor-grace-period', '3']);
const UNREACHABLE = 'node.kubernetes.io/unreachable';

async function renew(name: string): Promise<void> {
  await cp.client.patch(CR.leases, name, {
    type: 'merge',
    body: { spec: { renewTime: microTime(new Date()) } },
    namespace: 'kube-node-lease',
  });
}

function taintEffects(node: KubeObject, key: string): string[] {
  return items(field(node, 'spec', 'taints'))
    .filter((t) => field(t, 'key') === key)
    .map((t) => String(field(t, 'effect')))
    .sort();
}

test('a Node that stops renewing its Lease turns Unknown and is tainted; a renewing one is left alone', async () => {
  const { client } = cp;
  await createReadyNode(client, 'silent');
  await createReadyNode(client, 'alive');
  await eventually(
    async () => {
      await renew('alive');
      const silent = await client.get(CR.nodes, 'silent');
      return (
        conditionStatus(silent, 'Ready') === 'Unknown' &&
        taintEffects(silent, UNREACHABLE).join() === 'NoExecute,NoSchedule'
      );
    },
    { timeoutMs: 60_000, intervalMs: 250, what: 'silent Unknown and tainted unreachable' },
  );
  const alive = await client.get(CR.nodes, 'alive');
  assert.equal(conditionStatus(alive, 'Ready'), 'True');
  assert.deepEqual(taintEffects(alive, UNREACHABLE), []);

  // The agent comes back: renews and reports Ready.
  await eventually(
    async () => {
      await renew('silent');
      await renew('alive');
      const now = rfc3339(new Date());
      const node = await client.get(CR.nodes, 'silent');
      if (conditionStatus(node, 'Ready') !== 'True') {
        await client.patch(CR.nodes, 'silent', {
          type: 'merge',
          body: {
            status: {
              conditions: [
                {
                  type: 'Ready',
                  status: 'True',
                  reason: 'KubeletReady',
                  lastHeartbeatTime: now,
                  lastTransitionTime: now,
                },
              ],
            },
          },
          subresource: 'status',
        });
      }
      return conditionStatus(node, 'Ready') === 'True' && taintEffects(node, UNREACHABLE).length === 0;
    },
    { timeoutMs: 60_000, intervalMs: 250, what: 'silent Ready again, taints removed' },
  );
});
