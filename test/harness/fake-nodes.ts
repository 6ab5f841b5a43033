// Node objects a test makes and marks Ready itself, with no agent behind them: enough for
// the scheduler to bind to and for controllers to reason about.

import { microTime, rfc3339 } from '../../pkg/api/meta.js';
import { RESOURCES } from '../../pkg/api/registry.js';
import type { RestClient } from '../../pkg/client/index.js';
import { R } from './clients.js';

const LEASES = RESOURCES.leases;

/** Creates Node `name`, Ready now with room for pods, and a fresh node Lease (so node lifecycle leaves it alone for its grace period). */
export async function createReadyNode(client: RestClient, name: string): Promise<void> {
  await client.create(R.nodes, {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name } },
    spec: {},
  });
  const now = rfc3339(new Date());
  const room = { cpu: '8', memory: '16Gi', pods: '110' };
  // A patch, not an update: node IPAM may be writing the new Node's podCIDR at the same moment.
  await client.patch(R.nodes, name, {
    type: 'merge',
    body: {
      status: {
        capacity: room,
        allocatable: room,
        conditions: [
          {
            type: 'Ready',
            status: 'True',
            reason: 'KubeletReady',
            message: 'test node',
            lastHeartbeatTime: now,
            lastTransitionTime: now,
          },
        ],
      },
    },
    subresource: 'status',
  });
  const renew = microTime(new Date());
  try {
    await client.create(
      LEASES,
      {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name, namespace: 'kube-node-lease' },
        spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: renew },
      },
      { namespace: 'kube-node-lease' },
    );
  } catch {
    // a Lease from an earlier Node of that name: renew it instead
    const lease = await client.get(LEASES, name, { namespace: 'kube-node-lease' });
    await client.update(
      LEASES,
      { ...lease, spec: { ...lease.spec, renewTime: renew } },
      { namespace: 'kube-node-lease' },
    );
  }
}
