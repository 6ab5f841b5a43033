// Per-pod DNS from EndpointSlices: the records the agent answers when its endpoints view is
// joined from slices (as the agent runs), for a StatefulSet behind a headless Service.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EndpointSlice, Service } from '../../api/types/index.js';
import { serviceKeyOf, SliceEndpoints, type SliceSource } from '../proxy/slice-endpoints.js';
import { ClusterRecords } from './records.js';

const slices: EndpointSlice[] = [
  {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'nginx-abc', namespace: 'default', labels: { 'kubernetes.io/service-name': 'nginx' } },
    addressType: 'IPv4',
    endpoints: [
      { addresses: ['10.244.1.5'], hostname: 'web-0', conditions: { ready: true } },
      { addresses: ['10.244.1.6'], hostname: 'web-1', conditions: { ready: false, terminating: true } },
    ],
    ports: [{ name: 'web', port: 80, protocol: 'TCP' }],
  },
];
const source: SliceSource = {
  list: () => slices,
  byIndex: (_index, key) => slices.filter((s) => serviceKeyOf(s).includes(key)),
  addHandler: () => undefined,
};
const nginx: Service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'nginx', namespace: 'default' },
  spec: { clusterIP: 'None', selector: { app: 'web' } },
};
const records = new ClusterRecords({
  services: { get: (k) => (k === 'default/nginx' ? nginx : undefined) },
  endpoints: new SliceEndpoints(source),
});

test('web-0.nginx.<ns>.svc answers the ready pod with that hostname; a terminating one is not answered', () => {
  assert.deepEqual(records.resolve('web-0.nginx.default.svc.cluster.local', 'A'), {
    rcode: 'NOERROR',
    answers: [{ type: 'A', name: 'web-0.nginx.default.svc.cluster.local', ttl: 5, data: '10.244.1.5' }],
  });
  assert.equal(records.resolve('web-1.nginx.default.svc.cluster.local', 'A').rcode, 'NXDOMAIN');
  assert.equal(records.resolve('web-9.nginx.default.svc.cluster.local', 'A').rcode, 'NXDOMAIN');
  assert.deepEqual(
    records.resolve('nginx.default.svc.cluster.local', 'A').answers.map((a) => a.data),
    ['10.244.1.5'],
  );
});
