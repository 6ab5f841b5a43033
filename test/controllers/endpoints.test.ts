// Endpoints controller below end to end: a Service's Endpoints list the IPs of the Ready
// pods it selects in `addresses`, not-yet-Ready ones in `notReadyAddresses`, none without
// an IP or being deleted, and follow readiness as the "kubelet" (the test) reports it.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../pkg/api/meta.js';
import { eventually } from '../harness/clients.js';
import {
  bindPod,
  createNamespace,
  CR,
  field,
  items,
  podSpec,
  setPodStatus,
  useControllerPlane,
} from '../harness/controller-plane.js';
import { createReadyNode } from '../harness/fake-nodes.js';

const NS = 'ep';
const cp = useControllerPlane(['endpoints']);

/** IPs in `addresses` and `notReadyAddresses` over all subsets, sorted. */
function ips(ep: KubeObject): { ready: string[]; notReady: string[] } {
  const subsets = items(ep['subsets']);
  const pick = (list: string): string[] =>
    subsets.flatMap((s) => items(field(s, list))).map((a) => String(field(a, 'ip')));
  return { ready: pick('addresses').sort(), notReady: pick('notReadyAddresses').sort() };
}

async function endpointIps(): Promise<{ ready: string[]; notReady: string[] } | undefined> {
  try {
    return ips(await cp.client.get(CR.endpoints, 'web', { namespace: NS }));
  } catch {
    return undefined;
  }
}

test("Endpoints hold the Ready pods' IPs and follow readiness and deletion", async () => {
  const { client } = cp;
  await createNamespace(client, NS);
  await createReadyNode(client, 'n1');
  await client.create(
    CR.services,
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web' },
      spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] },
    },
    { namespace: NS },
  );
  for (const name of ['ready', 'starting', 'pending', 'other']) {
    await client.create(
      CR.pods,
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, labels: { app: name === 'other' ? 'db' : 'web' } },
        spec: podSpec(),
      },
      { namespace: NS },
    );
    await bindPod(client, name, { namespace: NS, node: 'n1' });
  }
  await setPodStatus(client, 'ready', { namespace: NS, phase: 'Running', ready: true, podIP: '10.244.0.11' });
  await setPodStatus(client, 'starting', { namespace: NS, phase: 'Running', ready: false, podIP: '10.244.0.12' });
  await setPodStatus(client, 'other', { namespace: NS, phase: 'Running', ready: true, podIP: '10.244.0.13' });
  // "pending" has no IP yet: it is not listed at all.

  await eventually(
    async () => {
      const got = await endpointIps();
      return got !== undefined && got.ready.join() === '10.244.0.11' && got.notReady.join() === '10.244.0.12';
    },
    { what: 'ready IP in addresses, starting one in notReadyAddresses' },
  );
  const ep = await client.get(CR.endpoints, 'web', { namespace: NS });
  const ports = items(ep['subsets'])
    .flatMap((s) => items(field(s, 'ports')))
    .map((p) => field(p, 'port'));
  assert.deepEqual(ports, [8080], 'the target port');

  await setPodStatus(client, 'starting', { namespace: NS, phase: 'Running', ready: true, podIP: '10.244.0.12' });
  await eventually(async () => (await endpointIps())?.ready.join() === '10.244.0.11,10.244.0.12', {
    what: 'starting pod now Ready',
  });

  // A pod being deleted leaves the Endpoints at once (it stays terminating: no agent).
  await client.delete(CR.pods, 'ready', { namespace: NS });
  await eventually(
    async () => {
      const got = await endpointIps();
      return got !== undefined && got.ready.join() === '10.244.0.12' && got.notReady.length === 0;
    },
    { what: 'deleted pod removed from Endpoints' },
  );
});
