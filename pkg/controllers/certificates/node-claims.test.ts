// What a node may claim: its own names and addresses only.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Node } from '../../api/types/index.js';
import { bootstrapNameIsFree, servingNamesBelongToNode } from './node-claims.js';

const nodeA: Node = {
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name: 'a' },
  status: {
    addresses: [
      { type: 'InternalIP', address: '198.18.0.11' },
      { type: 'Hostname', address: 'host-a' },
    ],
  },
};

const request = (dnsNames: string[], ipAddresses: string[]): Parameters<typeof servingNamesBelongToNode>[0] => ({
  commonName: 'system:node:a',
  organizations: ['system:nodes'],
  dnsNames,
  ipAddresses,
});

test('a serving request for the node own names and addresses passes', () => {
  assert.deepEqual(servingNamesBelongToNode(request(['a', 'host-a'], ['198.18.0.11']), nodeA), { ok: true });
});

test('the apiserver names, another address or an unregistered node are refused, naming what is foreign', () => {
  const posing = servingNamesBelongToNode(
    request(['a', 'kubernetes', 'kubernetes.default.svc'], ['127.0.0.1', '10.96.0.1', '198.18.0.11']),
    nodeA,
  );
  assert.deepEqual(posing, {
    ok: false,
    reason: 'names not owned by node "a": "kubernetes", "kubernetes.default.svc", "127.0.0.1", "10.96.0.1"',
  });
  assert.equal(servingNamesBelongToNode(request(['a'], ['198.18.0.12']), nodeA).ok, false);
  assert.equal(servingNamesBelongToNode(request(['a'], []), undefined).ok, false);
});

test('a bootstrap token gets a client certificate only for a name no Node has', () => {
  assert.deepEqual(bootstrapNameIsFree(request([], []), undefined), { ok: true });
  const taken = bootstrapNameIsFree(request([], []), nodeA);
  assert.equal(taken.ok, false);
  assert.match(taken.ok ? '' : taken.reason, /already registered/);
});
