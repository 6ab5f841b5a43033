import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from './meta.js';
import { RESOURCES } from './registry.js';
import { validateObject, validateUpdate } from './validation.js';

function slice(extra: Record<string, unknown>): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 's', namespace: 'default' },
    addressType: 'IPv4',
    endpoints: [],
    ...extra,
  };
}

test('an EndpointSlice of the controller kind is valid', () => {
  const ok = slice({
    endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: true }, hostname: 'web-0', nodeName: 'n1' }],
    ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
  });
  assert.deepEqual(validateObject(ok, RESOURCES.endpointslices), []);
});

test('more than 1000 endpoints are refused as Kubernetes does, by the count alone', () => {
  const endpoints = Array.from({ length: 1001 }, () => ({ addresses: ['x'] }));
  const causes = validateObject(slice({ endpoints }), RESOURCES.endpointslices);
  assert.deepEqual(causes, [
    { reason: 'FieldValueTooMany', field: 'endpoints', message: 'Too many: 1001: must have at most 1000 items' },
  ]);
});

test('bad address types, addresses, ports and an addressType change are refused', () => {
  const causes = validateObject(
    slice({
      addressType: 'IPv5',
      endpoints: [{ addresses: [] }],
      ports: [
        { name: 'a', protocol: 'TCP' },
        { name: 'a', protocol: 'XTP', port: 70000 },
      ],
    }),
    RESOURCES.endpointslices,
  );
  assert.deepEqual(
    causes.map((c) => c.field),
    ['addressType', 'endpoints[0].addresses', 'ports[1].name', 'ports[1].protocol', 'ports[1].port'],
  );
  const v4 = validateObject(slice({ endpoints: [{ addresses: ['fe80::1'] }] }), RESOURCES.endpointslices);
  assert.match(v4[0]?.message ?? '', /must be a valid IPv4 address/);
  const changed = validateUpdate(slice({ addressType: 'IPv6' }), slice({}), RESOURCES.endpointslices);
  assert.match(changed[0]?.message ?? '', /field is immutable/);
});

test('a ControllerRevision needs data and a non-negative revision; its data is immutable', () => {
  const revision = (extra: Record<string, unknown>): KubeObject => ({
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: { name: 'web-1', namespace: 'default' },
    ...extra,
  });
  assert.deepEqual(validateObject(revision({ data: {}, revision: 1 }), RESOURCES.controllerrevisions), []);
  const bad = validateObject(revision({ revision: -1 }), RESOURCES.controllerrevisions);
  assert.deepEqual(
    bad.map((c) => c.field),
    ['data', 'revision'],
  );
  assert.match(bad[1]?.message ?? '', /must be greater than or equal to 0/);
  const update = validateUpdate(
    revision({ data: { a: 2 }, revision: 3 }),
    revision({ data: { a: 1 }, revision: 1 }),
    RESOURCES.controllerrevisions,
  );
  assert.deepEqual(
    update.map((c) => c.field),
    ['data'],
  );
});
