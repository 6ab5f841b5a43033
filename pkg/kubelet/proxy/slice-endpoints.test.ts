import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EndpointSlice } from '../../api/types/index.js';
import { endpointsFromSlices } from './slice-endpoints.js';

function slice(
  name: string,
  endpoints: EndpointSlice['endpoints'],
  addressType: EndpointSlice['addressType'] = 'IPv4',
): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace: 'ns', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType,
    endpoints,
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  };
}

test('slices join into the Endpoints the proxy and DNS read: ready (or unset) vs not ready, hostname kept', () => {
  const ep = endpointsFromSlices('ns/web', [
    slice('web-a', [
      { addresses: ['10.0.0.1'], conditions: { ready: true }, hostname: 'web-0', nodeName: 'n1' },
      { addresses: ['10.0.0.2'] },
    ]),
    slice('web-b', [{ addresses: ['10.0.0.3'], conditions: { ready: false, serving: true, terminating: true } }]),
    slice('web-fqdn', [{ addresses: ['example.com'] }], 'FQDN'),
  ]);
  assert.deepEqual(ep?.metadata, { namespace: 'ns', name: 'web' });
  assert.deepEqual(ep?.subsets, [
    {
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      addresses: [{ ip: '10.0.0.1', hostname: 'web-0', nodeName: 'n1' }, { ip: '10.0.0.2' }],
    },
    { ports: [{ name: 'http', port: 8080, protocol: 'TCP' }], notReadyAddresses: [{ ip: '10.0.0.3' }] },
  ]);
  assert.equal(endpointsFromSlices('ns/none', []), undefined);
});

test('hostile slices (endpoints without addresses, ports without numbers) give no backends and no crash', () => {
  const ep = endpointsFromSlices('ns/web', [{ ...slice('x', [{ addresses: [] }]), ports: [{ name: 'p' }] }]);
  assert.deepEqual(ep?.subsets, [{ ports: [] }]);
});
