// Pod Security Admission against a real apiserver: a namespace's `enforce` level refuses pods
// with Kubernetes' message, `warn` answers with Warning headers, and an unlabelled namespace
// takes the default level (privileged).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { startControlPlane, type ControlPlane } from './harness/control-plane.js';
import { rawRequest, type RawResponse } from './harness/https.js';

let plane: ControlPlane;
let creds: { ca: string; cert: string; key: string };

before(async () => {
  plane = await startControlPlane();
  creds = {
    ca: readFileSync(plane.pki.caCert, 'utf8'),
    cert: readFileSync(plane.pki.adminCert, 'utf8'),
    key: readFileSync(plane.pki.adminKey, 'utf8'),
  };
  const labels = (level: string, mode = 'enforce'): Record<string, string> => ({
    [`pod-security.kubernetes.io/${mode}`]: level,
  });
  for (const [name, l] of [
    ['base', labels('baseline')],
    ['strict', labels('restricted')],
    ['warned', labels('restricted', 'warn')],
    ['open', {}],
  ] as const) {
    const res = await post('/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name, labels: l },
    });
    assert.equal(res.status, 201, res.body);
  }
});

after(async () => {
  await plane.stop();
});

function send(method: string, path: string, body: object): Promise<RawResponse> {
  const contentType = method === 'PATCH' ? 'application/strategic-merge-patch+json' : 'application/json';
  return rawRequest({
    port: plane.port,
    method,
    path,
    ca: creds.ca,
    cert: creds.cert,
    key: creds.key,
    headers: { 'Content-Type': contentType },
    body: JSON.stringify(body),
  });
}

const post = (path: string, body: object): Promise<RawResponse> => send('POST', path, body);
const patch = (path: string, body: object): Promise<RawResponse> => send('PATCH', path, body);

/** A pod that breaks the baseline level three ways. */
function hostPod(name: string): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: {
      hostNetwork: true,
      containers: [{ name: 'c', image: 'busybox:latest', securityContext: { privileged: true } }],
      volumes: [{ name: 'root', hostPath: { path: '/' } }],
    },
  };
}

const plain = (name: string): object => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: { containers: [{ name: 'c', image: 'busybox:latest' }] },
});

test('enforce baseline refuses host namespaces, privileged and hostPath with Kubernetes message', async () => {
  const res = await post('/api/v1/namespaces/base/pods', hostPod('host'));
  assert.equal(res.status, 403, res.body);
  const status = JSON.parse(res.body) as { reason: string; message: string };
  assert.equal(status.reason, 'Forbidden');
  assert.equal(
    status.message,
    'pods "host" is forbidden: violates PodSecurity "baseline:latest": host namespaces (hostNetwork=true), hostPath volumes (volume "root"), privileged (container "c" must not set securityContext.privileged=true)',
  );
  // Nothing was stored.
  const list = await rawRequest({ port: plane.port, method: 'GET', path: '/api/v1/namespaces/base/pods', ...creds });
  assert.equal((JSON.parse(list.body) as { items: unknown[] }).items.length, 0);
  assert.equal((await post('/api/v1/namespaces/base/pods', plain('fine'))).status, 201);
});

test('enforce restricted refuses a plain pod, naming every restricted check it fails', async () => {
  const res = await post('/api/v1/namespaces/strict/pods', plain('plain'));
  assert.equal(res.status, 403, res.body);
  const message = (JSON.parse(res.body) as { message: string }).message;
  assert.match(message, /violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false/);
  assert.match(message, /runAsNonRoot != true/);
  assert.match(message, /seccompProfile/);
});

test('warn answers with Warning headers and admits; an unlabelled namespace is privileged', async () => {
  const warned = await post('/api/v1/namespaces/warned/pods', hostPod('host'));
  assert.equal(warned.status, 201, warned.body);
  const warning = String(warned.headers['warning'] ?? '');
  assert.match(
    warning,
    /^299 - "would violate PodSecurity \\"restricted:latest\\": host namespaces \(hostNetwork=true\)/,
  );
  assert.equal((await post('/api/v1/namespaces/open/pods', hostPod('host'))).status, 201);
});

test('a workload whose pod template breaks the level is admitted with a warning, on create and on update', async () => {
  const deployment = (): object => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'hosty' },
    spec: {
      selector: { matchLabels: { app: 'hosty' } },
      template: { metadata: { labels: { app: 'hosty' } }, spec: (hostPod('x') as { spec: object }).spec },
    },
  });
  const created = await post('/apis/apps/v1/namespaces/warned/deployments', deployment());
  assert.equal(created.status, 201, created.body);
  assert.match(
    String(created.headers['warning'] ?? ''),
    /^299 - "would violate PodSecurity \\"restricted:latest\\": host namespaces \(hostNetwork=true\)/,
  );
  const updated = await patch('/apis/apps/v1/namespaces/warned/deployments/hosty', {
    spec: { template: { metadata: { annotations: { touched: 'yes' } } } },
  });
  assert.equal(updated.status, 200, updated.body);
  assert.match(String(updated.headers['warning'] ?? ''), /would violate PodSecurity/);
  // A workload is never refused, even where pods would be: its pods are.
  const enforced = await post('/apis/apps/v1/namespaces/base/deployments', deployment());
  assert.equal(enforced.status, 201, enforced.body);
});

test('tightening a namespace warns about its running pods; a pod update there is then checked', async () => {
  assert.equal(
    (await post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'later' } })).status,
    201,
  );
  assert.equal((await post('/api/v1/namespaces/later/pods', hostPod('host'))).status, 201);
  const relabelled = await patch('/api/v1/namespaces/later', {
    metadata: { labels: { 'pod-security.kubernetes.io/enforce': 'baseline' } },
  });
  assert.equal(relabelled.status, 200, relabelled.body);
  const warning = String(relabelled.headers['warning'] ?? '');
  assert.match(
    warning,
    /existing pods in namespace \\"later\\" violate the new PodSecurity enforce level \\"baseline:latest\\"/,
  );
  assert.match(warning, /host: host namespaces, hostPath volumes, privileged/);
  // The running pod stays; changing its image is a new admission, and it fails.
  const repatched = await patch('/api/v1/namespaces/later/pods/host', {
    spec: { containers: [{ name: 'c', image: 'busybox:1' }] },
  });
  assert.equal(repatched.status, 403, repatched.body);
  assert.match(repatched.body, /violates PodSecurity \\"baseline:latest\\"/);
  // An update that changes nothing the policy checks passes.
  const labelled = await patch('/api/v1/namespaces/later/pods/host', { metadata: { labels: { a: 'b' } } });
  assert.equal(labelled.status, 200, labelled.body);
  // A label value the policy cannot read is refused, and changes nothing.
  const bad = await patch('/api/v1/namespaces/later', {
    metadata: { labels: { 'pod-security.kubernetes.io/enforce': 'strictest' } },
  });
  assert.equal(bad.status, 422, bad.body);
});
