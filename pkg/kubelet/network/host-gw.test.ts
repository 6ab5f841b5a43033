import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Node } from '../../api/types/index.js';
import { baseRules, desiredRoutes, netChains, withinCidr } from './host-gw.js';

function node(name: string, opts: { cidr?: string; ip?: string; deleting?: boolean }): Node {
  const { cidr, ip, deleting = false } = opts;
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, ...(deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
    spec: cidr === undefined ? {} : { podCIDR: cidr },
    status: {
      addresses:
        ip === undefined
          ? []
          : [
              { type: 'InternalIP', address: ip },
              { type: 'Hostname', address: name },
            ],
    },
  };
}

test('routes go to every other node with a podCIDR and an address, never to itself or a node being deleted', () => {
  const nodes = [
    node('a', { cidr: '10.244.0.0/24', ip: '198.18.0.11' }),
    node('b', { cidr: '10.244.1.0/24', ip: '198.18.0.12' }),
    node('c', { ip: '198.18.0.13' }),
    node('d', { cidr: '10.244.3.0/24' }),
    node('e', { cidr: '10.244.4.0/24', ip: '198.18.0.15', deleting: true }),
  ];
  assert.deepEqual(desiredRoutes(nodes, 'a'), [{ dst: '10.244.1.0/24', via: '198.18.0.12' }]);
  assert.deepEqual(desiredRoutes(nodes, 'b'), [{ dst: '10.244.0.0/24', via: '198.18.0.11' }]);
});

test('the base rules accept cluster traffic and masquerade only what leaves the cluster CIDR', () => {
  const rules = baseRules(netChains('CX0A1B2C3D-'), {
    clusterCIDR: '10.244.0.0/16',
    podCIDR: '10.244.2.0/24',
    bridge: 'coxp0a1b2c3d',
  });
  assert.match(rules, /-A CX0A1B2C3D-NET-FORWARD -s 10\.244\.0\.0\/16 .*-j ACCEPT/);
  assert.match(rules, /-A CX0A1B2C3D-NET-FORWARD -d 10\.244\.0\.0\/16 .*-j ACCEPT/);
  assert.match(
    rules,
    /-A CX0A1B2C3D-NET-POSTROUTING -s 10\.244\.2\.0\/24 ! -d 10\.244\.0\.0\/16 ! -o coxp0a1b2c3d .*-j MASQUERADE/,
  );
  for (const c of Object.values(netChains('CX0A1B2C3D-')))
    assert.ok(c.length <= 28, `${c} fits iptables' 28 characters`);
});

test("a route is this cluster's only when it lies inside the cluster CIDR", () => {
  assert.equal(withinCidr('10.244.3.0/24', '10.244.0.0/16'), true);
  assert.equal(withinCidr('10.244.3.7', '10.244.0.0/16'), true);
  assert.equal(withinCidr('10.245.3.0/24', '10.244.0.0/16'), false, "another cluster's");
  assert.equal(withinCidr('10.0.0.0/8', '10.244.0.0/16'), false, 'wider than the cluster');
  assert.equal(withinCidr('default', '10.244.0.0/16'), false);
});
