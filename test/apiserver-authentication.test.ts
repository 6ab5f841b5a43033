// Who may talk to the apiserver: clients with a certificate from the cluster CA; without
// one, the anonymous user may read only the public cluster-info, and a bearer token must be
// a live bootstrap token.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { createCA, issueCertificate } from '../pkg/pki/index.js';
import { startControlPlane, type ControlPlane } from './harness/control-plane.js';
import { rawRequest } from './harness/https.js';

let plane: ControlPlane;
let ca: string;

before(async () => {
  plane = await startControlPlane();
  ca = readFileSync(plane.pki.caCert, 'utf8');
});
after(async () => {
  await plane.stop();
});

test('a request without credentials is the anonymous user: 403 Status and no data', async () => {
  const res = await rawRequest({ port: plane.port, method: 'GET', path: '/api/v1/namespaces', ca });
  assert.equal(res.status, 403);
  const status = JSON.parse(res.body) as { kind: string; reason: string; code: number; message: string };
  assert.equal(status.kind, 'Status');
  assert.equal(status.reason, 'Forbidden');
  assert.equal(status.code, 403);
  assert.match(status.message, /User "system:anonymous" cannot list resource "namespaces"/);
  assert.doesNotMatch(res.body, /kube-system/);
  const discovery = await rawRequest({ port: plane.port, method: 'GET', path: '/api', ca });
  assert.equal(discovery.status, 403);
});

test('the anonymous user may read kube-public/cluster-info, which names the CA and the server', async () => {
  const res = await rawRequest({
    port: plane.port,
    method: 'GET',
    path: '/api/v1/namespaces/kube-public/configmaps/cluster-info',
    ca,
  });
  assert.equal(res.status, 200, res.body);
  const cm = JSON.parse(res.body) as { data: Record<string, string> };
  assert.match(cm.data['kubeconfig'] ?? '', new RegExp(`server: https://127.0.0.1:${plane.port}`));
  assert.ok((cm.data['kubeconfig'] ?? '').includes(Buffer.from(ca).toString('base64')));
  const other = await rawRequest({
    port: plane.port,
    method: 'GET',
    path: '/api/v1/namespaces/kube-public/configmaps',
    ca,
  });
  assert.equal(other.status, 403);
});

test('a bearer token that is not a live bootstrap token gets 401', async () => {
  for (const token of ['abcdef.0123456789abcdef', 'not-a-token']) {
    const res = await rawRequest({
      port: plane.port,
      method: 'GET',
      path: '/apis/certificates.k8s.io/v1/certificatesigningrequests',
      ca,
      headers: { Authorization: `Bearer ${token}` },
    });
    assert.equal(res.status, 401, res.body);
    assert.equal((JSON.parse(res.body) as { reason: string }).reason, 'Unauthorized');
  }
});

test('a certificate from another CA is refused', async () => {
  const otherCa = await createCA('someone-else');
  const intruder = await issueCertificate(otherCa, {
    commonName: 'admin',
    organizations: ['system:masters'],
    usages: ['client'],
  });
  const outcome = await rawRequest({
    port: plane.port,
    method: 'GET',
    path: '/api/v1/namespaces',
    ca,
    cert: intruder.certPem,
    key: intruder.keyPem,
  }).then(
    (res) => ({ status: res.status, body: res.body }),
    (err: Error) => ({ status: 0, body: err.message }),
  );
  // Either the handshake fails or the server answers 401; it never serves data.
  assert.ok(outcome.status === 0 || outcome.status === 401, `unexpected ${outcome.status}: ${outcome.body}`);
  assert.doesNotMatch(outcome.body, /kube-system/);
});

test('the admin certificate is served, and /version reports Kubernetes minor 32', async () => {
  const admin = { cert: readFileSync(plane.pki.adminCert, 'utf8'), key: readFileSync(plane.pki.adminKey, 'utf8') };
  const res = await rawRequest({ port: plane.port, method: 'GET', path: '/api/v1/namespaces', ca, ...admin });
  assert.equal(res.status, 200);
  const names = (JSON.parse(res.body) as { items: { metadata: { name: string } }[] }).items
    .map((i) => i.metadata.name)
    .sort();
  assert.deepEqual(names, ['default', 'kube-node-lease', 'kube-public', 'kube-system']);
  const version = JSON.parse(
    (await rawRequest({ port: plane.port, method: 'GET', path: '/version', ca, ...admin })).body,
  ) as { major: string; minor: string };
  assert.equal(version.major, '1');
  assert.equal(version.minor, '32');
});

test('a node agent writes only its own Node and Lease and the pods bound to it (node authorization)', async () => {
  const admin = { cert: readFileSync(plane.pki.adminCert, 'utf8'), key: readFileSync(plane.pki.adminKey, 'utf8') };
  const caPair = { certPem: ca, keyPem: readFileSync(plane.pki.caKey, 'utf8') };
  const n1 = await issueCertificate(caPair, {
    commonName: 'system:node:n1',
    organizations: ['system:nodes'],
    usages: ['client'],
  });
  const asNode = { cert: n1.certPem, key: n1.keyPem };
  const call = async (
    who: { cert: string; key: string },
    { method, path, body }: { method: string; path: string; body?: unknown },
  ): Promise<number> =>
    (
      await rawRequest({
        port: plane.port,
        method,
        path,
        ca,
        ...who,
        ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } } : {}),
      })
    ).status;
  const nodeBody = (name: string): unknown => ({ apiVersion: 'v1', kind: 'Node', metadata: { name } });
  assert.equal(
    await call(asNode, { method: 'POST', path: '/api/v1/nodes', body: nodeBody('n1') }),
    201,
    'registers itself',
  );
  assert.equal(await call(admin, { method: 'POST', path: '/api/v1/nodes', body: nodeBody('n2') }), 201);
  const merge = { 'Content-Type': 'application/merge-patch+json' };
  const patch = async (who: { cert: string; key: string }, path: string): Promise<number> =>
    (
      await rawRequest({
        port: plane.port,
        method: 'PATCH',
        path,
        ca,
        ...who,
        body: JSON.stringify({ metadata: { labels: { a: 'b' } } }),
        headers: merge,
      })
    ).status;
  assert.equal(await patch(asNode, '/api/v1/nodes/n1'), 200, 'its own Node');
  const other = await rawRequest({
    port: plane.port,
    method: 'PATCH',
    path: '/api/v1/nodes/n2',
    ca,
    ...asNode,
    body: '{"metadata":{"labels":{"a":"b"}}}',
    headers: merge,
  });
  assert.equal(other.status, 403, 'not another Node');
  assert.match(other.body, /User \\"system:node:n1\\" cannot patch resource \\"nodes\\"/);
  assert.equal(await call(asNode, { method: 'GET', path: '/api/v1/nodes' }), 200, 'reads are free');
  const pod = (name: string, node: string): unknown => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { nodeName: node, containers: [{ name: 'c', image: 'busybox' }] },
  });
  assert.equal(
    await call(admin, { method: 'POST', path: '/api/v1/namespaces/default/pods', body: pod('mine', 'n1') }),
    201,
  );
  assert.equal(
    await call(admin, { method: 'POST', path: '/api/v1/namespaces/default/pods', body: pod('theirs', 'n2') }),
    201,
  );
  const status = async (name: string): Promise<number> =>
    (
      await rawRequest({
        port: plane.port,
        method: 'PATCH',
        path: `/api/v1/namespaces/default/pods/${name}/status`,
        ca,
        ...asNode,
        body: '{"status":{"phase":"Running"}}',
        headers: merge,
      })
    ).status;
  assert.equal(await status('mine'), 200, 'status of a pod bound to it');
  assert.equal(await status('theirs'), 403, 'not of a pod bound elsewhere');
  assert.equal(await call(asNode, { method: 'DELETE', path: '/api/v1/namespaces/default/pods/theirs' }), 403);
  // A pod bound to a node is deleted gracefully: 200 with the pod, as Kubernetes answers.
  assert.equal(await call(asNode, { method: 'DELETE', path: '/api/v1/namespaces/default/pods/mine' }), 200);
  assert.equal(
    await call(asNode, { method: 'DELETE', path: '/api/v1/namespaces/default/services/kubernetes' }),
    403,
    'no other writes',
  );
  assert.equal(
    await call(asNode, {
      method: 'POST',
      path: '/api/v1/namespaces/default/configmaps',
      body: {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'x' },
      },
    }),
    403,
  );
});
