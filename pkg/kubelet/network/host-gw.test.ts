import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../api/meta.js';
import { baseRules, desiredRoutes } from './host-gw.js';

function node(name: string, cidr: string | undefined, ip: string | undefined, deleting = false): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Node',
    metadata: { name, ...(deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
    spec: cidr === undefined ? {} : { podCIDR: cidr },
    status: { addresses: ip === undefined ? [] : [{ type: 'InternalIP', address: ip }, { type: 'Hostname', address: name }] },
  };
}

test('routes go to every other node with a podCIDR and an address, never to itself or a node being deleted', () => {
  const nodes = [node('a', '10.244.0.0/24', '198.18.0.11'), node('b', '10.244.1.0/24', '198.18.0.12'), node('c', undefined, '198.18.0.13'), node('d', '10.244.3.0/24', undefined), node('e', '10.244.4.0/24', '198.18.0.15', true)];
  assert.deepEqual(desiredRoutes(nodes, 'a'), [{ dst: '10.244.1.0/24', via: '198.18.0.12' }]);
  assert.deepEqual(desiredRoutes(nodes, 'b'), [{ dst: '10.244.0.0/24', via: '198.18.0.11' }]);
});

test('the base rules accept cluster traffic and masquerade only what leaves the cluster CIDR', () => {
  const rules = baseRules('10.244.0.0/16', '10.244.2.0/24', 'coxpods0');
  assert.match(rules, /-A COXNET-FORWARD -s 10\.244\.0\.0\/16 .*-j ACCEPT/);
  assert.match(rules, /-A COXNET-FORWARD -d 10\.244\.0\.0\/16 .*-j ACCEPT/);
  assert.match(rules, /-A COXNET-POSTROUTING -s 10\.244\.2\.0\/24 ! -d 10\.244\.0\.0\/16 ! -o coxpods0 .*-j MASQUERADE/);
});
