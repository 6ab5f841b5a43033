import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '../../api/types/index.js';
import { policyPod } from './enforcer.js';

function pod(status: Pod['status'], spec: Partial<NonNullable<Pod['spec']>> = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace: 'np', name: 'p', labels: { app: 'a' } },
    spec: { containers: [{ name: 'c', image: 'busybox', ports: [{ name: 'http', containerPort: 80 }] }], ...spec },
    status,
  };
}

test('a pod counts with an IPv4 address, running on the pod network', () => {
  assert.deepEqual(policyPod(pod({ phase: 'Running', podIP: '10.244.1.5' })), {
    namespace: 'np',
    name: 'p',
    ip: '10.244.1.5',
    labels: { app: 'a' },
    ports: [{ name: 'http', containerPort: 80 }],
  });
  assert.equal(policyPod(pod({ phase: 'Pending' })), undefined, 'no address yet');
  assert.equal(policyPod(pod({ phase: 'Succeeded', podIP: '10.244.1.5' })), undefined, 'finished');
  assert.equal(policyPod(pod({ phase: 'Running', podIP: '10.0.0.1' }, { hostNetwork: true })), undefined);
  assert.equal(policyPod(pod({ phase: 'Running', podIP: '10.244.1.5/32 -j ACCEPT' })), undefined, 'hostile status');
});
