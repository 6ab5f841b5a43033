// The node authorizer: what node A may and may not do, with node B's pods beside its own.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Pod } from '../../api/index.js';
import type { ResourceAttributes } from '../rbac/rules.js';
import { authorizeNode, nodeName } from './authorizer.js';
import { NodeGraph, podReferences } from './graph.js';

function pod(name: string, node: string | undefined, spec: Partial<Pod['spec']> = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'app' },
    spec: { containers: [{ name: 'c', image: 'busybox' }], ...(node === undefined ? {} : { nodeName: node }), ...spec },
  };
}

const withRefs = pod('web', 'a', {
  serviceAccountName: 'web-sa',
  imagePullSecrets: [{ name: 'pull' }],
  volumes: [
    { name: 'cfg', configMap: { name: 'web-config' } },
    { name: 'tls', secret: { secretName: 'web-tls' } },
    { name: 'data', persistentVolumeClaim: { claimName: 'web-data' } },
    { name: 'proj', projected: { sources: [{ secret: { name: 'proj-secret' } }, { configMap: { name: 'proj-cm' } }] } },
  ],
  containers: [
    {
      name: 'c',
      image: 'busybox',
      env: [{ name: 'PW', valueFrom: { secretKeyRef: { name: 'db-password', key: 'pw' } } }],
      envFrom: [{ configMapRef: { name: 'env-cm' } }],
    },
  ],
  initContainers: [{ name: 'i', image: 'busybox', envFrom: [{ secretRef: { name: 'init-secret' } }] }],
});

function req(verb: string, resource: string, more: Partial<ResourceAttributes> = {}): ResourceAttributes {
  return { kind: 'resource', verb, apiGroup: '', resource, namespace: 'app', ...more };
}

describe('node identity', () => {
  test('needs both the system:node: name and the system:nodes group', () => {
    assert.equal(nodeName({ name: 'system:node:a', groups: ['system:nodes'] }), 'a');
    assert.equal(nodeName({ name: 'system:node:a', groups: [] }), undefined);
    assert.equal(nodeName({ name: 'alice', groups: ['system:nodes'] }), undefined);
    assert.equal(nodeName({ name: 'system:node:', groups: ['system:nodes'] }), undefined);
  });
});

describe('the graph', () => {
  test('finds every object a pod refers to, the default ServiceAccount included', () => {
    const names = podReferences(withRefs)
      .map((r) => `${r.kind}/${r.name}`)
      .sort();
    assert.deepEqual(names, [
      'configmaps/env-cm',
      'configmaps/proj-cm',
      'configmaps/web-config',
      'persistentvolumeclaims/web-data',
      'secrets/db-password',
      'secrets/init-secret',
      'secrets/proj-secret',
      'secrets/pull',
      'secrets/web-tls',
      'serviceaccounts/web-sa',
    ]);
    assert.deepEqual(
      podReferences(pod('bare', 'a')).map((r) => r.name),
      ['default'],
    );
  });

  test('a reference lasts while some pod on the node needs it, and follows rebinding and deletion', () => {
    const g = new NodeGraph();
    const secret = { kind: 'secrets' as const, namespace: 'app', name: 'shared' };
    const uses = (name: string, node: string | undefined): Pod =>
      pod(name, node, { volumes: [{ name: 'v', secret: { secretName: 'shared' } }] });
    g.setPod(uses('p1', undefined));
    assert.equal(g.related('a', secret), false, 'an unbound pod ties no node');
    g.setPod(uses('p1', 'a'));
    g.setPod(uses('p2', 'a'));
    g.deletePod('app', 'p1');
    assert.equal(g.related('a', secret), true);
    g.deletePod('app', 'p2');
    assert.equal(g.related('a', secret), false);
    g.setPod(uses('p3', 'a'));
    g.setPod(pod('p3', 'a'));
    assert.equal(g.related('a', secret), false, 'an update that drops the reference drops it');
  });
});

describe('node A against its own and node B objects', () => {
  const g = new NodeGraph();
  g.setPod(withRefs);
  g.setPod(pod('other', 'b', { volumes: [{ name: 'v', secret: { secretName: 'b-secret' } }] }));
  const decide = (a: ResourceAttributes): boolean | undefined => authorizeNode('a', a, g)?.allowed;

  test('Secrets and ConfigMaps: only those of its pods, only by get', () => {
    assert.equal(decide(req('get', 'secrets', { name: 'web-tls' })), true);
    assert.equal(decide(req('get', 'configmaps', { name: 'env-cm' })), true);
    assert.equal(decide(req('get', 'persistentvolumeclaims', { name: 'web-data' })), true);
    assert.equal(decide(req('get', 'secrets', { name: 'b-secret' })), false);
    assert.equal(decide(req('get', 'secrets', { name: 'web-tls', namespace: 'kube-system' })), false);
    assert.equal(decide(req('list', 'secrets')), false);
    assert.equal(decide(req('watch', 'secrets')), false);
    assert.equal(decide(req('update', 'secrets', { name: 'web-tls' })), false);
    assert.equal(
      authorizeNode('a', req('get', 'secrets', { name: 'b-secret' }), g)?.reason,
      "no relationship found between node 'a' and this object",
    );
  });

  test('ServiceAccount tokens only for its pods’ accounts', () => {
    assert.equal(decide(req('create', 'serviceaccounts', { name: 'web-sa', subresource: 'token' })), true);
    assert.equal(decide(req('create', 'serviceaccounts', { name: 'default', subresource: 'token' })), false);
  });

  test('pods: reads all, writes status, eviction and deletion of its own only; logs of its own only', () => {
    assert.equal(decide(req('list', 'pods', { namespace: undefined })), true);
    assert.equal(decide(req('patch', 'pods', { name: 'web', subresource: 'status' })), true);
    assert.equal(decide(req('patch', 'pods', { name: 'other', subresource: 'status' })), false);
    assert.equal(decide(req('delete', 'pods', { name: 'web' })), true);
    assert.equal(decide(req('delete', 'pods', { name: 'other' })), false);
    assert.equal(decide(req('create', 'pods')), false);
    assert.equal(decide(req('get', 'pods', { name: 'web', subresource: 'log' })), true);
    assert.equal(decide(req('get', 'pods', { name: 'other', subresource: 'log' })), false);
    assert.equal(decide(req('create', 'pods', { name: 'web', subresource: 'exec' })), false);
  });

  test('its own Node and Lease only', () => {
    const nodes = (verb: string, name?: string, subresource?: string): ResourceAttributes =>
      req(verb, 'nodes', { namespace: undefined, name, subresource });
    assert.equal(decide(nodes('create', 'a')), true);
    assert.equal(decide(nodes('create', 'b')), false);
    assert.equal(decide(nodes('patch', 'a', 'status')), true);
    assert.equal(decide(nodes('patch', 'b', 'status')), false);
    assert.equal(decide(nodes('delete', 'b')), false);
    assert.equal(decide(nodes('list')), true);
    const lease = (verb: string, name: string, namespace = 'kube-node-lease'): ResourceAttributes =>
      req(verb, 'leases', { apiGroup: 'coordination.k8s.io', namespace, name });
    assert.equal(decide(lease('update', 'a')), true);
    assert.equal(decide(lease('update', 'b')), false);
    assert.equal(decide(lease('create', 'b')), false);
    assert.equal(decide(lease('update', 'a', 'kube-system')), false);
  });

  test('events, CSRs and reviews are allowed; anything else is left to RBAC', () => {
    assert.equal(decide(req('create', 'events')), true);
    assert.equal(decide(req('delete', 'events', { name: 'e' })), false);
    const csrs = { apiGroup: 'certificates.k8s.io', namespace: undefined };
    assert.equal(decide(req('create', 'certificatesigningrequests', csrs)), true);
    assert.equal(
      decide(req('update', 'certificatesigningrequests', { ...csrs, name: 'x', subresource: 'approval' })),
      undefined,
    );
    assert.equal(decide(req('create', 'deployments', { apiGroup: 'apps' })), undefined);
  });

  test('NetworkPolicies and Namespaces: read only, for policy enforcement', () => {
    const policies = { apiGroup: 'networking.k8s.io' };
    for (const verb of ['get', 'list', 'watch']) {
      assert.equal(decide(req(verb, 'networkpolicies', policies)), true);
      assert.equal(decide(req(verb, 'namespaces', { namespace: undefined })), true);
    }
    for (const verb of ['create', 'update', 'patch', 'delete']) {
      assert.equal(decide(req(verb, 'networkpolicies', policies)), undefined);
      assert.equal(decide(req(verb, 'namespaces', { namespace: undefined, name: 'app' })), undefined);
    }
    assert.equal(decide(req('update', 'namespaces', { namespace: undefined, subresource: 'finalize' })), undefined);
  });
});

describe('the ingress proxy of every node', () => {
  const graph = new NodeGraph();
  const ingress = (
    className: string,
    secretName: string,
  ): Parameters<NodeGraph['ingressSecrets']['setIngress']>[0] => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: `ing-${secretName}`, namespace: 'app' },
    spec: { ingressClassName: className, tls: [{ hosts: ['a.example'], secretName }] },
  });
  graph.ingressSecrets.setIngress(ingress('coxswain', 'site-tls'));
  graph.ingressSecrets.setIngress(ingress('other', 'foreign-tls'));

  test('reads Ingresses and IngressClasses and writes Ingress status, nothing else of the group', () => {
    const net = (verb: string, resource: string, more: Partial<ResourceAttributes> = {}): boolean | undefined =>
      authorizeNode('a', req(verb, resource, { apiGroup: 'networking.k8s.io', ...more }), graph)?.allowed;
    assert.equal(net('watch', 'ingresses'), true);
    assert.equal(net('list', 'ingressclasses', { namespace: undefined }), true);
    assert.equal(net('update', 'ingresses', { name: 'x', subresource: 'status' }), true);
    assert.equal(net('update', 'ingresses', { name: 'x' }), false);
    assert.equal(net('delete', 'ingresses', { name: 'x' }), false);
    assert.equal(net('create', 'ingressclasses', { namespace: undefined }), false);
    assert.equal(net('create', 'networkpolicies'), undefined);
  });

  test('gets exactly the TLS Secrets the built-in class names, only by name, only while named', () => {
    const secret = (verb: string, name?: string): boolean | undefined =>
      authorizeNode('a', req(verb, 'secrets', { name }), graph)?.allowed;
    assert.equal(secret('get', 'site-tls'), true);
    assert.equal(secret('get', 'foreign-tls'), false);
    assert.equal(secret('list'), false);
    assert.equal(secret('update', 'site-tls'), false);
    graph.ingressSecrets.deleteIngress('app/ing-site-tls');
    assert.equal(secret('get', 'site-tls'), false);
  });
});
