// Identity and access against a real apiserver: RBAC with Kubernetes' default policy, the node
// authorizer, escalation prevention, ServiceAccount tokens (TokenRequest, bound to a pod, OIDC
// discovery), the review APIs and impersonation — each asserted as the status code (and, where
// users read it, the message) kube-apiserver answers with.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { issueCertificate, type KeyPairPem } from '../pkg/pki/index.js';
import { startControlPlane, type ControlPlane } from './harness/control-plane.js';
import { rawRequest, type RawResponse } from './harness/https.js';

let plane: ControlPlane;
let ca: string;
const who = new Map<string, KeyPairPem>();

interface Call {
  method?: string;
  path: string;
  body?: unknown;
  as?: string;
  token?: string;
  headers?: Record<string, string>;
}

/** One request as an identity: a certificate name from `who`, a bearer token, or nobody at all. */
async function call(c: Call): Promise<RawResponse> {
  const cert = c.as === undefined ? undefined : who.get(c.as);
  if (c.as !== undefined) assert.ok(cert, `no certificate for ${c.as}`);
  const headers: Record<string, string> = { ...(c.headers ?? {}) };
  if (c.token !== undefined) headers['Authorization'] = `Bearer ${c.token}`;
  if (c.body !== undefined) headers['Content-Type'] = 'application/json';
  return rawRequest({
    port: plane.port,
    method: c.method ?? 'GET',
    path: c.path,
    ca,
    ...(cert === undefined ? {} : { cert: cert.certPem, key: cert.keyPem }),
    headers,
    ...(c.body === undefined ? {} : { body: JSON.stringify(c.body) }),
  });
}

/** The JSON reply of a request that must answer `code`. */
async function expect(code: number, c: Call): Promise<Record<string, unknown>> {
  const res = await call(c);
  assert.equal(res.status, code, `${c.method ?? 'GET'} ${c.path} as ${c.as ?? 'a token'}: ${res.body.slice(0, 400)}`);
  const parsed: unknown = JSON.parse(res.body);
  assert.ok(typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed));
  return Object.fromEntries(Object.entries(parsed));
}

const at = (obj: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>(
    (o, k) =>
      typeof o === 'object' && o !== null && !Array.isArray(o) ? Object.fromEntries(Object.entries(o))[k] : undefined,
    obj,
  );

const RBAC = '/apis/rbac.authorization.k8s.io/v1';
const RBAC_GROUP = 'rbac.authorization.k8s.io';

function roleBinding(name: string, role: { kind: 'Role' | 'ClusterRole'; name: string }, subject: object): object {
  return {
    apiVersion: `${RBAC_GROUP}/v1`,
    kind: 'RoleBinding',
    metadata: { name, namespace: 'team' },
    roleRef: { apiGroup: RBAC_GROUP, ...role },
    subjects: [subject],
  };
}

const user = (name: string): object => ({ kind: 'User', apiGroup: RBAC_GROUP, name });

before(async () => {
  plane = await startControlPlane({ withControllers: true, serviceAccountTokens: true });
  ca = readFileSync(plane.pki.caCert, 'utf8');
  const caPair = { certPem: ca, keyPem: readFileSync(plane.pki.caKey, 'utf8') };
  const identities: [string, string, string[]][] = [
    ['admin', 'kubernetes-admin', ['system:masters']],
    ['viewer', 'viewer', []],
    ['teamadmin', 'teamadmin', []],
    ['nobody', 'nobody', []],
    ['nodeA', 'system:node:a', ['system:nodes']],
    ['nodeB', 'system:node:b', ['system:nodes']],
    ['nodeNameOnly', 'system:node:a', []],
    ['nodeGroupOnly', 'mallory', ['system:nodes']],
  ];
  for (const [key, commonName, organizations] of identities) {
    who.set(key, await issueCertificate(caPair, { commonName, organizations, usages: ['client'] }));
  }
  const admin = (method: string, path: string, body: object): Promise<Record<string, unknown>> =>
    expect(201, { as: 'admin', method, path, body });
  await admin('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } });
  await admin('POST', '/api/v1/namespaces/team/secrets', {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'secret-a' },
    stringData: { password: 'hunter2' },
  });
  await admin('POST', '/api/v1/namespaces/team/pods', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'on-a' },
    spec: {
      nodeName: 'a',
      automountServiceAccountToken: false,
      containers: [{ name: 'c', image: 'busybox:latest' }],
      volumes: [{ name: 's', secret: { secretName: 'secret-a' } }],
    },
  });
  await admin(
    'POST',
    `${RBAC}/namespaces/team/rolebindings`,
    roleBinding('viewers', { kind: 'ClusterRole', name: 'view' }, user('viewer')),
  );
  await admin(
    'POST',
    `${RBAC}/namespaces/team/rolebindings`,
    roleBinding('admins', { kind: 'ClusterRole', name: 'admin' }, user('teamadmin')),
  );
});

after(async () => {
  await plane.stop();
});

/** [what, request, identities that get 200/201]; every other identity must get 403. */
const MATRIX: [string, Call, string[]][] = [
  ['list secrets in team', { path: '/api/v1/namespaces/team/secrets' }, ['admin', 'teamadmin']],
  ['list pods in team', { path: '/api/v1/namespaces/team/pods' }, ['admin', 'viewer', 'teamadmin', 'nodeA', 'nodeB']],
  ['list pods everywhere', { path: '/api/v1/pods' }, ['admin', 'nodeA', 'nodeB']],
  [
    'get secret-a (used by a pod on node a)',
    { path: '/api/v1/namespaces/team/secrets/secret-a' },
    ['admin', 'teamadmin', 'nodeA'],
  ],
  [
    'create a secret in kube-system',
    {
      method: 'POST',
      path: '/api/v1/namespaces/kube-system/secrets',
      body: { apiVersion: 'v1', kind: 'Secret', metadata: { generateName: 'x-' } },
    },
    ['admin'],
  ],
  ['list nodes', { path: '/api/v1/nodes' }, ['admin', 'nodeA', 'nodeB']],
  ['list clusterroles', { path: `${RBAC}/clusterroles` }, ['admin']],
];

test('every identity gets exactly what Kubernetes would give it', async () => {
  for (const [what, request, allowed] of MATRIX) {
    for (const id of who.keys()) {
      const res = await call({ ...request, as: id });
      const expected = allowed.includes(id) ? (request.method === 'POST' ? 201 : 200) : 403;
      assert.equal(res.status, expected, `${id}: ${what}: ${res.body.slice(0, 300)}`);
    }
  }
  const anonymous = await call({ path: '/api/v1/namespaces/team/pods' });
  assert.equal(anonymous.status, 403);
});

test('a refusal names the user, the verb, the resource and the scope; a node refusal says why', async () => {
  const s = await expect(403, { as: 'nobody', path: '/api/v1/namespaces/team/secrets' });
  assert.equal(
    s['message'],
    'secrets is forbidden: User "nobody" cannot list resource "secrets" in API group "" in the namespace "team"',
  );
  const n = await expect(403, { as: 'nodeB', path: '/api/v1/namespaces/team/secrets/secret-a' });
  assert.match(String(n['message']), /no relationship found between node 'b' and this object/);
  await expect(403, { as: 'nobody', method: 'POST', path: '/api/v1/namespaces/team/pods/on-a/exec?command=id' });
  await expect(403, { as: 'nodeB', method: 'DELETE', path: '/api/v1/nodes/a' });
});

test('escalation: a namespace admin cannot grant what it does not hold, nor bind cluster-wide', async () => {
  const escalate = await expect(403, {
    as: 'teamadmin',
    method: 'POST',
    path: `${RBAC}/namespaces/team/rolebindings`,
    body: roleBinding('root', { kind: 'ClusterRole', name: 'cluster-admin' }, user('teamadmin')),
  });
  assert.match(String(escalate['message']), /is attempting to grant RBAC permissions not currently held/);
  await expect(403, {
    as: 'teamadmin',
    method: 'POST',
    path: `${RBAC}/namespaces/team/roles`,
    body: {
      apiVersion: `${RBAC_GROUP}/v1`,
      kind: 'Role',
      metadata: { name: 'node-reader' },
      rules: [{ verbs: ['get'], apiGroups: [''], resources: ['nodes'] }],
    },
  });
  // What it holds, it may hand on: read access to this namespace's Secrets.
  await expect(201, {
    as: 'teamadmin',
    method: 'POST',
    path: `${RBAC}/namespaces/team/roles`,
    body: {
      apiVersion: `${RBAC_GROUP}/v1`,
      kind: 'Role',
      metadata: { name: 'secret-reader' },
      rules: [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['secrets'] }],
    },
  });
  await expect(201, {
    as: 'teamadmin',
    method: 'POST',
    path: `${RBAC}/namespaces/team/rolebindings`,
    body: roleBinding('read-secrets', { kind: 'Role', name: 'secret-reader' }, user('viewer')),
  });
  await expect(200, { as: 'viewer', path: '/api/v1/namespaces/team/secrets' });
  await expect(403, {
    as: 'teamadmin',
    method: 'POST',
    path: `${RBAC}/clusterrolebindings`,
    body: {
      apiVersion: `${RBAC_GROUP}/v1`,
      kind: 'ClusterRoleBinding',
      metadata: { name: 'root' },
      roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: 'view' },
      subjects: [user('teamadmin')],
    },
  });
});

test('a ServiceAccount token: 403 until a RoleBinding, bound to a pod it dies with the pod', async () => {
  await expect(201, {
    as: 'admin',
    method: 'POST',
    path: '/api/v1/namespaces/team/serviceaccounts',
    body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'robot' } },
  });
  const tr = await expect(201, {
    as: 'admin',
    method: 'POST',
    path: '/api/v1/namespaces/team/serviceaccounts/robot/token',
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 600 } },
  });
  const token = String(at(tr, 'status', 'token'));
  assert.match(token, /^ey[\w-]+\.[\w-]+\.[\w-]+$/);
  await expect(403, { token, path: '/api/v1/namespaces/team/pods' });
  await expect(201, {
    as: 'admin',
    method: 'POST',
    path: `${RBAC}/namespaces/team/rolebindings`,
    body: roleBinding(
      'robot-view',
      { kind: 'ClusterRole', name: 'view' },
      { kind: 'ServiceAccount', name: 'robot', namespace: 'team' },
    ),
  });
  await expect(200, { token, path: '/api/v1/namespaces/team/pods' });
  const whoami = await expect(201, {
    token,
    method: 'POST',
    path: '/apis/authentication.k8s.io/v1/selfsubjectreviews',
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
  });
  assert.equal(at(whoami, 'status', 'userInfo', 'username'), 'system:serviceaccount:team:robot');
  const oidc = await expect(200, { token, path: '/.well-known/openid-configuration' });
  assert.equal(oidc['issuer'], 'https://kubernetes.default.svc.cluster.local');

  const pod = await expect(201, {
    as: 'admin',
    method: 'POST',
    path: '/api/v1/namespaces/team/pods',
    body: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'worker' },
      spec: { serviceAccountName: 'robot', containers: [{ name: 'c', image: 'busybox:latest' }] },
    },
  });
  const mounts = at(pod, 'spec', 'containers');
  assert.match(JSON.stringify(mounts), /"mountPath":"\/var\/run\/secrets\/kubernetes.io\/serviceaccount"/);
  const bound = await expect(201, {
    as: 'admin',
    method: 'POST',
    path: '/api/v1/namespaces/team/serviceaccounts/robot/token',
    body: {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: 'worker', uid: at(pod, 'metadata', 'uid') } },
    },
  });
  const podToken = String(at(bound, 'status', 'token'));
  await expect(200, { token: podToken, path: '/api/v1/namespaces/team/pods' });
  await expect(200, {
    as: 'admin',
    method: 'DELETE',
    path: '/api/v1/namespaces/team/pods/worker?gracePeriodSeconds=0',
  });
  await expect(401, { token: podToken, path: '/api/v1/namespaces/team/pods' });
  await expect(401, { token: `${token.slice(0, -4)}AAAA`, path: '/api/v1/namespaces/team/pods' });
});

test('access reviews answer for the caller and for others; impersonation needs the impersonate verb', async () => {
  const review = (verb: string, resource: string): object => ({
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SelfSubjectAccessReview',
    spec: { resourceAttributes: { namespace: 'team', verb, resource } },
  });
  const path = '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews';
  const yes = await expect(201, { as: 'viewer', method: 'POST', path, body: review('list', 'pods') });
  assert.equal(at(yes, 'status', 'allowed'), true);
  const no = await expect(201, { as: 'viewer', method: 'POST', path, body: review('delete', 'pods') });
  assert.equal(at(no, 'status', 'allowed'), false);
  const rules = await expect(201, {
    as: 'viewer',
    method: 'POST',
    path: '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews',
    body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', spec: { namespace: 'team' } },
  });
  assert.match(JSON.stringify(at(rules, 'status', 'resourceRules')), /"pods"/);
  // Only admins may ask about others.
  const sar = {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SubjectAccessReview',
    spec: { user: 'viewer', resourceAttributes: { namespace: 'team', verb: 'list', resource: 'pods' } },
  };
  const other = await expect(201, {
    as: 'admin',
    method: 'POST',
    path: '/apis/authorization.k8s.io/v1/subjectaccessreviews',
    body: sar,
  });
  assert.equal(at(other, 'status', 'allowed'), true);
  await expect(403, {
    as: 'viewer',
    method: 'POST',
    path: '/apis/authorization.k8s.io/v1/subjectaccessreviews',
    body: sar,
  });

  await expect(403, {
    as: 'admin',
    path: '/api/v1/namespaces/kube-system/secrets',
    headers: { 'Impersonate-User': 'viewer' },
  });
  await expect(200, { as: 'admin', path: '/api/v1/namespaces/team/pods', headers: { 'Impersonate-User': 'viewer' } });
  const denied = await expect(403, {
    as: 'nobody',
    path: '/api/v1/namespaces/team/pods',
    headers: { 'Impersonate-User': 'kubernetes-admin', 'Impersonate-Group': 'system:masters' },
  });
  assert.match(String(denied['message']), /cannot impersonate resource "users"/);
});
