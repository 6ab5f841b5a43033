import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from './meta.js';
import { RESOURCES } from './registry.js';
import { validateObject, validateUpdate } from './validation.js';

function ingress(spec: Record<string, unknown>): KubeObject {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'i', namespace: 'default' }, spec };
}

const backend = { service: { name: 'web', port: { number: 80 } } };
const fields = (obj: KubeObject): string[] => validateObject(obj, RESOURCES.ingresses).map((c) => c.field ?? '');

test('a valid Ingress with hosts, wildcard, Exact, Prefix, TLS and a default backend passes', () => {
  const ok = ingress({
    defaultBackend: { service: { name: 'fallback', port: { name: 'http' } } },
    tls: [{ hosts: ['a.example', '*.b.example'], secretName: 'tls' }],
    rules: [
      { host: 'a.example', http: { paths: [{ path: '/x', pathType: 'Exact', backend }] } },
      { host: '*.b.example', http: { paths: [{ path: '/', pathType: 'Prefix', backend }] } },
      { http: { paths: [{ pathType: 'ImplementationSpecific', backend }] } },
    ],
  });
  assert.deepEqual(validateObject(ok, RESOURCES.ingresses), []);
});

test('pathType is required and must be one Kubernetes knows', () => {
  const causes = validateObject(
    ingress({ rules: [{ http: { paths: [{ path: '/', backend }] } }] }),
    RESOURCES.ingresses,
  );
  assert.deepEqual(causes, [
    {
      reason: 'FieldValueRequired',
      field: 'spec.rules[0].http.paths[0].pathType',
      message: 'Required value: pathType must be specified',
    },
  ]);
  const bad = validateObject(
    ingress({ rules: [{ http: { paths: [{ path: '/', pathType: 'Regex', backend }] } }] }),
    RESOURCES.ingresses,
  );
  assert.equal(
    bad[0]?.message,
    'Unsupported value: "Regex": supported values: "Exact", "ImplementationSpecific", "Prefix"',
  );
});

test('paths must be absolute and normalised; hosts DNS names (a leading wildcard only), not IPs', () => {
  assert.deepEqual(fields(ingress({ rules: [{ http: { paths: [{ path: 'x', pathType: 'Prefix', backend }] } }] })), [
    'spec.rules[0].http.paths[0].path',
  ]);
  assert.deepEqual(fields(ingress({ rules: [{ http: { paths: [{ path: '/a//b', pathType: 'Exact', backend }] } }] })), [
    'spec.rules[0].http.paths[0].path',
  ]);
  for (const host of ['A.example', 'a.*.example', '*', '10.0.0.1', 'a_b.example'])
    assert.deepEqual(
      fields(ingress({ rules: [{ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend }] } }] })),
      ['spec.rules[0].host'],
      host,
    );
  assert.deepEqual(fields(ingress({ defaultBackend: backend, tls: [{ hosts: ['bad host'] }] })), [
    'spec.tls[0].hosts[0]',
  ]);
});

test('a backend is a service with one port, or a resource, never both nor neither', () => {
  const both = { ...backend, resource: { kind: 'Bucket', name: 'b' } };
  assert.equal(
    validateObject(ingress({ defaultBackend: both }), RESOURCES.ingresses)[0]?.message,
    'Invalid value: "": cannot set both resource and service backends',
  );
  assert.deepEqual(fields(ingress({ defaultBackend: {} })), ['spec.defaultBackend']);
  assert.deepEqual(fields(ingress({ defaultBackend: { service: { name: 'web', port: {} } } })), [
    'spec.defaultBackend.service.port',
  ]);
  assert.deepEqual(fields(ingress({ defaultBackend: { service: { name: 'web', port: { number: 70000 } } } })), [
    'spec.defaultBackend.service.port.number',
  ]);
  assert.deepEqual(fields(ingress({})), ['spec']);
});

test('hostile shapes are refused, not crashed on', () => {
  assert.ok(fields(ingress({ rules: 'x' })).length > 0);
  assert.ok(fields(ingress({ rules: [null, 7] })).length > 0);
  assert.ok(fields(ingress({ rules: new Array(2000).fill({}) })).includes('spec.rules'));
});

test('an IngressClass names a domain-prefixed controller that cannot change', () => {
  const cls = (controller: unknown): KubeObject => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'IngressClass',
    metadata: { name: 'c' },
    spec: { controller },
  });
  assert.deepEqual(validateObject(cls('coxswain.dev/ingress'), RESOURCES.ingressclasses), []);
  assert.equal(validateObject(cls(undefined), RESOURCES.ingressclasses)[0]?.field, 'spec.controller');
  assert.equal(validateObject(cls('nodomain'), RESOURCES.ingressclasses)[0]?.field, 'spec.controller');
  assert.equal(
    validateUpdate(cls('x.io/b'), cls('coxswain.dev/ingress'), RESOURCES.ingressclasses)[0]?.message,
    'Invalid value: "x.io/b": field is immutable',
  );
});
