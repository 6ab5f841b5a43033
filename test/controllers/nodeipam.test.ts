// Node IPAM controller below end to end: every new Node gets a distinct /24 pod CIDR from
// the cluster CIDR in spec.podCIDR and spec.podCIDRs.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../pkg/api/meta.js';
import { eventually } from '../harness/clients.js';
import { CR, field, useControllerPlane } from '../harness/controller-plane.js';
import { createReadyNode } from '../harness/fake-nodes.js';

const cp = useControllerPlane(['nodeipam'], ['--cluster-cidr', '10.77.0.0/16', '--node-cidr-mask-size', '24']);

function podCidrs(node: KubeObject): { one: unknown; all: unknown } {
  return { one: field(node, 'spec', 'podCIDR'), all: field(node, 'spec', 'podCIDRs') };
}

test('nodes get distinct /24 pod CIDRs inside the cluster CIDR', async () => {
  const { client } = cp;
  const names = ['n1', 'n2', 'n3', 'n4'];
  for (const name of names) await createReadyNode(client, name);
  await eventually(
    async () => {
      const nodes = await Promise.all(names.map((n) => client.get(CR.nodes, n)));
      return nodes.every((n) => typeof podCidrs(n).one === 'string');
    },
    { what: 'every node has a podCIDR' },
  );
  const cidrs: string[] = [];
  for (const name of names) {
    const { one, all } = podCidrs(await client.get(CR.nodes, name));
    assert.equal(typeof one, 'string');
    const cidr = String(one);
    assert.match(cidr, /^10\.77\.\d{1,3}\.0\/24$/, `${name}: ${cidr} is a /24 of 10.77.0.0/16`);
    assert.deepEqual(all, [cidr], 'podCIDRs agrees');
    cidrs.push(cidr);
  }
  assert.equal(new Set(cidrs).size, names.length, `distinct: ${cidrs.join(' ')}`);
});
