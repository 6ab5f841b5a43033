// The whole chain against a matrix of identities, with the default policy and one `view`
// binding: the answers kube-apiserver gives, including the identities that used to be admin.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod } from '../api/index.js';
import { ApiError } from '../errors/index.js';
import type { UserInfo } from './authn.js';
import { authorizeRequest, decide, type AuthorizerSources } from './authorizer.js';
import { NodeGraph } from './nodeauth/graph.js';
import type { BindingRef, PolicySource } from './rbac/authorizer.js';
import { defaultClusterRoleBindings, defaultClusterRoles } from './rbac/bootstrap-policy.js';
import type { Attributes, ResourceAttributes } from './rbac/rules.js';

function sources(): AuthorizerSources {
  const roles = defaultClusterRoles();
  const viewInTeam: BindingRef = {
    metadata: { name: 'viewers', namespace: 'team' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
    subjects: [
      { kind: 'User', name: 'viewer' },
      { kind: 'ServiceAccount', name: 'robot', namespace: 'team' },
    ],
  };
  const rbac: PolicySource = {
    role: () => undefined,
    clusterRole: (name) => roles.find((r) => r.metadata.name === name),
    roleBindings: (ns) => (ns === 'team' ? [viewInTeam] : []),
    clusterRoleBindings: () => defaultClusterRoleBindings(),
  };
  const nodes = new NodeGraph();
  const pod = (name: string, node: string, secret: string): Pod => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'team' },
    spec: {
      nodeName: node,
      containers: [{ name: 'c', image: 'i' }],
      volumes: [{ name: 's', secret: { secretName: secret } }],
    },
  });
  nodes.setPod(pod('on-a', 'a', 'secret-a'));
  nodes.setPod(pod('on-b', 'b', 'secret-b'));
  return { rbac, nodes };
}

const AUTH = 'system:authenticated';
const who: Record<string, UserInfo> = {
  admin: { name: 'kubernetes-admin', groups: ['system:masters', AUTH] },
  viewer: { name: 'viewer', groups: [AUTH] },
  nobody: { name: 'nobody', groups: [AUTH] },
  nodeA: { name: 'system:node:a', groups: ['system:nodes', AUTH] },
  nodeB: { name: 'system:node:b', groups: ['system:nodes', AUTH] },
  nodeNameOnly: { name: 'system:node:a', groups: [AUTH] },
  nodeGroupOnly: { name: 'mallory', groups: ['system:nodes', AUTH] },
  robot: {
    name: 'system:serviceaccount:team:robot',
    groups: ['system:serviceaccounts', 'system:serviceaccounts:team', AUTH],
  },
  bootstrap: { name: 'system:bootstrap:abcdef', groups: ['system:bootstrappers', AUTH] },
  anonymous: { name: 'system:anonymous', groups: ['system:unauthenticated'] },
};

function user(key: string): UserInfo {
  const u = who[key];
  assert.ok(u, key);
  return u;
}

const r = (verb: string, resource: string, more: Partial<ResourceAttributes> = {}): Attributes => ({
  kind: 'resource',
  verb,
  apiGroup: '',
  resource,
  ...more,
});

/** [request, identities allowed]; every identity not listed must be refused. */
const MATRIX: [string, Attributes, string[]][] = [
  ['list pods in team', r('list', 'pods', { namespace: 'team' }), ['admin', 'viewer', 'nodeA', 'nodeB', 'robot']],
  ['list pods in default', r('list', 'pods', { namespace: 'default' }), ['admin', 'nodeA', 'nodeB']],
  ['list secrets in team', r('list', 'secrets', { namespace: 'team' }), ['admin']],
  ['get secret-a', r('get', 'secrets', { namespace: 'team', name: 'secret-a' }), ['admin', 'nodeA']],
  ['create secret in kube-system', r('create', 'secrets', { namespace: 'kube-system' }), ['admin']],
  ['exec into a pod', r('create', 'pods', { namespace: 'team', name: 'on-a', subresource: 'exec' }), ['admin']],
  [
    'logs of on-a',
    r('get', 'pods', { namespace: 'team', name: 'on-a', subresource: 'log' }),
    ['admin', 'viewer', 'nodeA', 'robot'],
  ],
  ['delete node a', r('delete', 'nodes', { name: 'a' }), ['admin', 'nodeA']],
  ['update node b status', r('update', 'nodes', { name: 'b', subresource: 'status' }), ['admin', 'nodeB']],
  [
    'create a CSR',
    r('create', 'certificatesigningrequests', { apiGroup: 'certificates.k8s.io' }),
    ['admin', 'nodeA', 'nodeB', 'bootstrap'],
  ],
  ['create a deployment in team', r('create', 'deployments', { apiGroup: 'apps', namespace: 'team' }), ['admin']],
  [
    'create a rolebinding in team',
    r('create', 'rolebindings', { apiGroup: 'rbac.authorization.k8s.io', namespace: 'team' }),
    ['admin'],
  ],
  [
    'discovery',
    { kind: 'nonResource', verb: 'get', path: '/apis' },
    ['admin', 'viewer', 'nobody', 'nodeA', 'nodeB', 'nodeNameOnly', 'nodeGroupOnly', 'robot', 'bootstrap'],
  ],
  ['version', { kind: 'nonResource', verb: 'get', path: '/version' }, Object.keys(who)],
];

test('the identity matrix', () => {
  const s = sources();
  for (const [what, attrs, allowed] of MATRIX) {
    for (const [name, user] of Object.entries(who)) {
      assert.equal(decide(s, user, attrs).allowed, allowed.includes(name), `${name}: ${what}`);
    }
  }
});

test('refusals are 403s worded as kube-apiserver words them, with the node authorizer reason', () => {
  const s = sources();
  assert.throws(
    () => authorizeRequest(s, user('nobody'), r('list', 'secrets', { namespace: 'team' })),
    (err: unknown) =>
      err instanceof ApiError &&
      err.code === 403 &&
      err.message ===
        'secrets is forbidden: User "nobody" cannot list resource "secrets" in API group "" in the namespace "team"',
  );
  assert.throws(
    () => authorizeRequest(s, user('nodeB'), r('get', 'secrets', { namespace: 'team', name: 'secret-a' })),
    (err: unknown) =>
      err instanceof ApiError &&
      err.message ===
        'secrets "secret-a" is forbidden: User "system:node:b" cannot get resource "secrets" in API group "" in the namespace "team": no relationship found between node \'b\' and this object',
  );
  assert.throws(
    () => authorizeRequest(s, user('anonymous'), { kind: 'nonResource', verb: 'get', path: '/metrics' }),
    (err: unknown) =>
      err instanceof ApiError && err.message === 'forbidden: User "system:anonymous" cannot get path "/metrics"',
  );
});
