import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readyNodeAddresses, sameIngress } from '../../api/load-balancer.js';
import type { Node, Service } from '../../api/types/index.js';
import { wantedAddresses } from './servicelb-controller.js';

function node(name: string, ip: string, ready: 'True' | 'False' | 'Unknown'): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name },
    status: { addresses: [{ type: 'InternalIP', address: ip }], conditions: [{ type: 'Ready', status: ready }] },
  };
}

const nodes = [node('c', '198.18.0.16', 'True'), node('a', '198.18.0.14', 'True'), node('b', '198.18.0.15', 'Unknown')];

test('a LoadBalancer Service gets the Ready nodes addresses, sorted; other types none', () => {
  const svc = (type: NonNullable<Service['spec']>['type']): Service => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 's', namespace: 'default' },
    spec: { type, ports: [{ port: 80 }] },
  });
  assert.deepEqual(wantedAddresses(svc('LoadBalancer'), nodes), ['198.18.0.14', '198.18.0.16']);
  assert.deepEqual(wantedAddresses(svc('NodePort'), nodes), []);
  assert.deepEqual(readyNodeAddresses([]), []);
});

test('the recorded status counts as current only when it says exactly those addresses', () => {
  assert.equal(sameIngress([{ ip: '198.18.0.14' }], ['198.18.0.14']), true);
  assert.equal(sameIngress([{ ip: '198.18.0.14' }, { ip: '198.18.0.15' }], ['198.18.0.14']), false);
  assert.equal(sameIngress([{ ip: '198.18.0.14', hostname: 'x' }], ['198.18.0.14']), false);
  assert.equal(sameIngress(undefined, []), true);
});
