import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod, Service } from '../../api/types/index.js';
import { desiredSlices, MAX_ENDPOINTS_PER_SLICE, mirroredSlices } from './endpointslice-controller.js';

const svc: Service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'nginx', namespace: 'ns' },
  spec: { clusterIP: 'None', selector: { app: 'web' }, ports: [{ name: 'web', port: 80, targetPort: 'http' }] },
};

function pod(i: number, opts: { ready?: boolean; deleting?: boolean } = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `web-${String(i).padStart(3, '0')}`,
      namespace: 'ns',
      uid: `u${i}`,
      labels: { app: 'web' },
      ...(opts.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
    },
    spec: {
      hostname: `web-${i}`,
      subdomain: 'nginx',
      nodeName: 'n1',
      containers: [{ name: 'c', image: 'i', ports: [{ name: 'http', containerPort: 8080 }] }],
    },
    status: {
      phase: 'Running',
      podIP: `10.1.${Math.floor(i / 250)}.${(i % 250) + 1}`,
      conditions: [
        { type: 'Ready', status: opts.ready === false ? 'False' : 'True', lastTransitionTime: '2026-01-01T00:00:00Z' },
      ],
    },
  };
}

test('one endpoint per pod with conditions, hostname for pods of this subdomain, the resolved target port', () => {
  const [slice] = desiredSlices(svc, [pod(0), pod(1, { ready: false }), pod(2, { deleting: true })]);
  assert.deepEqual(slice?.ports, [{ name: 'web', port: 8080, protocol: 'TCP' }]);
  assert.deepEqual(
    slice?.endpoints.map((e) => [e.hostname, e.conditions]),
    [
      ['web-0', { ready: true, serving: true, terminating: false }],
      ['web-1', { ready: false, serving: false, terminating: false }],
      ['web-2', { ready: false, serving: true, terminating: true }],
    ],
  );
  assert.equal(slice?.endpoints[0]?.targetRef?.name, 'web-000');
  assert.equal(slice?.endpoints[0]?.nodeName, 'n1');
});

test('at most 100 endpoints per slice; no pods still keeps one empty slice', () => {
  const many = Array.from({ length: 250 }, (_, i) => pod(i));
  assert.deepEqual(
    desiredSlices(svc, many).map((s) => s.endpoints.length),
    [MAX_ENDPOINTS_PER_SLICE, MAX_ENDPOINTS_PER_SLICE, 50],
  );
  assert.deepEqual(desiredSlices(svc, []), [{ ports: [], endpoints: [] }]);
});

test('mirrored Endpoints keep ready and not-ready addresses', () => {
  const slices = mirroredSlices({
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: 'ext', namespace: 'ns' },
    subsets: [{ addresses: [{ ip: '1.2.3.4' }], notReadyAddresses: [{ ip: '1.2.3.5' }], ports: [{ port: 443 }] }],
  });
  assert.deepEqual(slices, [
    {
      ports: [{ name: '', port: 443, protocol: 'TCP' }],
      endpoints: [
        { addresses: ['1.2.3.4'], conditions: { ready: true, serving: true, terminating: false } },
        { addresses: ['1.2.3.5'], conditions: { ready: false, serving: false, terminating: false } },
      ],
    },
  ]);
});
