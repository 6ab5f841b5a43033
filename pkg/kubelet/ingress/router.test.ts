import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HTTPIngressPath, Ingress, IngressRule } from '../../api/index.js';
import { compileRoutes, hostOf, pathOf, prefixMatches, route } from './router.js';

function path(p: string, pathType: HTTPIngressPath['pathType'], service: string): HTTPIngressPath {
  return { path: p, pathType, backend: { service: { name: service, port: { number: 80 } } } };
}

function ingress(
  name: string,
  rules: IngressRule[],
  more: { spec?: Partial<Ingress['spec']>; created?: string } = {},
): Ingress {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: 'web', creationTimestamp: more.created ?? '2026-01-01T00:00:00Z' },
    spec: { ingressClassName: 'coxswain', rules, ...more.spec },
  };
}

const serviceAt = (table: ReturnType<typeof compileRoutes>, host: string, p: string): string | undefined =>
  route(table, host, p)?.service;

test('hosts route to their own services; an unknown host with no default backend is not routed (404)', () => {
  const table = compileRoutes([
    ingress('a', [{ host: 'a.example', http: { paths: [path('/', 'Prefix', 'svc-a')] } }]),
    ingress('b', [{ host: 'b.example', http: { paths: [path('/', 'Prefix', 'svc-b')] } }]),
  ]);
  assert.equal(serviceAt(table, 'a.example', '/path'), 'svc-a');
  assert.equal(serviceAt(table, 'b.example', '/'), 'svc-b');
  assert.equal(serviceAt(table, 'c.example', '/'), undefined);
});

test('Prefix matches element-wise, ignores a trailing slash, and the longest path wins', () => {
  const table = compileRoutes([
    ingress('x', [
      {
        host: 'h',
        http: {
          paths: [path('/', 'Prefix', 'root'), path('/foo', 'Prefix', 'foo'), path('/foo/bar/', 'Prefix', 'bar')],
        },
      },
    ]),
  ]);
  assert.equal(serviceAt(table, 'h', '/foo'), 'foo');
  assert.equal(serviceAt(table, 'h', '/foo/'), 'foo');
  assert.equal(serviceAt(table, 'h', '/foo/baz'), 'foo');
  assert.equal(serviceAt(table, 'h', '/foobar'), 'root');
  assert.equal(serviceAt(table, 'h', '/foo/bar'), 'bar');
  assert.equal(serviceAt(table, 'h', '/foo/bar/x'), 'bar');
  assert.equal(prefixMatches('/aaa/bb', '/aaa/bbb'), false);
  assert.equal(prefixMatches('', '/anything'), true);
});

test('Exact matches the whole path only and beats a Prefix of the same path', () => {
  const table = compileRoutes([
    ingress('x', [{ http: { paths: [path('/foo', 'Prefix', 'prefix'), path('/foo', 'Exact', 'exact')] } }]),
  ]);
  assert.equal(serviceAt(table, 'some.host', '/foo'), 'exact');
  assert.equal(serviceAt(table, 'some.host', '/foo/'), 'prefix');
  assert.equal(serviceAt(table, 'some.host', '/foo/x'), 'prefix');
});

test('an exact host beats a wildcard, a wildcard matches one label only, a host-less rule catches the rest', () => {
  const table = compileRoutes([
    ingress('x', [
      { host: '*.example', http: { paths: [path('/', 'Prefix', 'wild')] } },
      { host: 'a.example', http: { paths: [path('/', 'Prefix', 'exact')] } },
      { http: { paths: [path('/', 'Prefix', 'hostless')] } },
    ]),
  ]);
  assert.equal(serviceAt(table, 'a.example', '/'), 'exact');
  assert.equal(serviceAt(table, 'b.example', '/'), 'wild');
  assert.equal(serviceAt(table, 'c.b.example', '/'), 'hostless');
  assert.equal(serviceAt(table, 'example', '/'), 'hostless');
});

test('the default backend answers what no rule matches; the oldest Ingress wins a tie', () => {
  const backend = (name: string): NonNullable<Ingress['spec']>['defaultBackend'] => ({
    service: { name, port: { name: 'http' } },
  });
  const newer = ingress('newer', [{ host: 'h', http: { paths: [path('/x', 'Prefix', 'new')] } }], {
    spec: { defaultBackend: backend('new-default') },
    created: '2026-02-01T00:00:00Z',
  });
  const older = ingress('older', [{ host: 'h', http: { paths: [path('/x', 'Prefix', 'old')] } }], {
    spec: { defaultBackend: backend('old-default') },
    created: '2026-01-01T00:00:00Z',
  });
  const table = compileRoutes([newer, older]);
  assert.equal(serviceAt(table, 'h', '/x'), 'old');
  assert.deepEqual(route(table, 'nowhere', '/'), {
    namespace: 'web',
    service: 'old-default',
    port: { name: 'http' },
    ingress: 'web/older',
  });
});

test('host and path come from hostile request lines without surprises', () => {
  assert.equal(hostOf('A.Example:8080'), 'a.example');
  assert.equal(hostOf(undefined), '');
  assert.equal(hostOf('[::1]:80'), '[::1]');
  assert.equal(pathOf('/a/b?c=/d#e'), '/a/b');
  assert.equal(pathOf('http://evil/x'), '/');
  assert.equal(pathOf(undefined), '/');
  const table = compileRoutes([ingress('x', [{ host: 'h', http: { paths: [path('/', 'Prefix', 'root')] } }])]);
  assert.equal(serviceAt(table, '', '/'), undefined);
});
