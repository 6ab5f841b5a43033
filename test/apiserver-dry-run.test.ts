// Server-side dry run: every write verb and subresource with dryRun answers as the real
// write would (including 409 for a name that exists) and changes nothing — the store's
// revision stays put and every object reads back as before. Also the real kubectl's
// `delete --dry-run=server` and `drain --dry-run=server`.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createCsr } from '../pkg/pki/index.js';
import { kubectl, startControlPlane, type ControlPlane } from './harness/control-plane.js';
import { rawRequest } from './harness/https.js';

let plane: ControlPlane;
let home: string;
let creds: { ca: string; cert: string; key: string };

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

interface Request {
  method: string;
  path: string;
  body?: unknown;
  /** Of the body; JSON unless said. */
  contentType?: string;
}

async function send(req: Request): Promise<Answer> {
  const { method, path, body, contentType = 'application/json' } = req;
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const res = await rawRequest({
    port: plane.port,
    method,
    path,
    ...creds,
    // Node sends a DELETE body without framing unless told its length.
    headers:
      payload !== undefined
        ? { 'Content-Type': contentType, 'Content-Length': String(Buffer.byteLength(payload)) }
        : {},
    ...(payload !== undefined ? { body: payload } : {}),
  });
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(res.body) as Record<string, unknown>;
  } catch {
    parsed = { raw: res.body };
  }
  return { status: res.status, body: parsed };
}

/** `send` of a JSON body (or none). */
function call(method: string, path: string, body?: unknown): Promise<Answer> {
  return send({ method, path, body });
}

async function ok(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await call(method, path, body);
  assert.ok(res.status >= 200 && res.status < 300, `${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** The store's revision: a list's resourceVersion is the global one. */
async function revision(): Promise<string> {
  const list = await ok('GET', '/api/v1/namespaces');
  const meta = list['metadata'] as { resourceVersion: string };
  return meta.resourceVersion;
}

const PATHS = {
  ns: '/api/v1/namespaces/dry',
  cm: '/api/v1/namespaces/dry/configmaps/cm',
  pod: '/api/v1/namespaces/dry/pods/p',
  pending: '/api/v1/namespaces/dry/pods/pending',
  deploy: '/apis/apps/v1/namespaces/dry/deployments/d',
  node: '/api/v1/nodes/n1',
  csr: '/apis/certificates.k8s.io/v1/certificatesigningrequests/c1',
  doomed: '/api/v1/namespaces/doomed',
};

/** Every object the test touches, as read now. */
async function snapshot(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [k, p] of Object.entries(PATHS)) out[k] = await ok('GET', p);
  return out;
}

function pod(name: string, nodeName?: string): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'dry', labels: { app: 'dry' } },
    spec: { ...(nodeName !== undefined ? { nodeName } : {}), containers: [{ name: 'c', image: 'busybox:latest' }] },
  };
}

before(async () => {
  plane = await startControlPlane();
  home = mkdtempSync(join(tmpdir(), 'kubectl-home-'));
  creds = {
    ca: readFileSync(plane.pki.caCert, 'utf8'),
    cert: readFileSync(plane.pki.adminCert, 'utf8'),
    key: readFileSync(plane.pki.adminKey, 'utf8'),
  };
  await ok('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'dry' } });
  await ok('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'doomed' } });
  await ok('POST', '/api/v1/namespaces/dry/configmaps', {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'cm', labels: { app: 'dry' } },
    data: { a: '1' },
  });
  await ok('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } });
  await ok('POST', '/api/v1/namespaces/dry/pods', pod('p', 'n1'));
  await ok('POST', '/api/v1/namespaces/dry/pods', pod('pending'));
  await ok('POST', '/apis/apps/v1/namespaces/dry/deployments', {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'd' },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'd' } },
      template: { metadata: { labels: { app: 'd' } }, spec: { containers: [{ name: 'c', image: 'busybox:latest' }] } },
    },
  });
  const { csrPem } = await createCsr('system:node:n1', ['system:nodes']);
  await ok('POST', '/apis/certificates.k8s.io/v1/certificatesigningrequests', {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { name: 'c1' },
    spec: {
      request: Buffer.from(csrPem).toString('base64'),
      signerName: 'kubernetes.io/kube-apiserver-client-kubelet',
      usages: ['digital signature', 'client auth'],
    },
  });
});
after(async () => {
  await plane.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('every write path with dryRun leaves the store as it was', () => {
  const dry = '?dryRun=All';
  const cases: { what: string; method: string; path: string; body?: unknown; contentType?: string; expect: number }[] =
    [
      {
        what: 'create',
        method: 'POST',
        path: `/api/v1/namespaces/dry/configmaps${dry}`,
        body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'new' } },
        expect: 201,
      },
      {
        what: 'create a Service (allocates, then gives back)',
        method: 'POST',
        path: `/api/v1/namespaces/dry/services${dry}`,
        body: { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { ports: [{ port: 80 }] } },
        expect: 201,
      },
      {
        what: 'update',
        method: 'PUT',
        path: `${PATHS.cm}${dry}`,
        body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'dry' }, data: { a: '2' } },
        expect: 200,
      },
      {
        what: 'merge patch',
        method: 'PATCH',
        path: `${PATHS.cm}${dry}`,
        body: { data: { b: '3' } },
        contentType: 'application/merge-patch+json',
        expect: 200,
      },
      {
        what: 'JSON patch',
        method: 'PATCH',
        path: `${PATHS.cm}${dry}`,
        body: [{ op: 'add', path: '/data/c', value: '4' }],
        contentType: 'application/json-patch+json',
        expect: 200,
      },
      {
        what: 'strategic merge patch',
        method: 'PATCH',
        path: `${PATHS.deploy}${dry}`,
        body: { spec: { replicas: 3 } },
        contentType: 'application/strategic-merge-patch+json',
        expect: 200,
      },
      {
        what: 'server-side apply of an existing object',
        method: 'PATCH',
        path: `${PATHS.cm}${dry}&fieldManager=test`,
        body: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  a: "9"\n',
        contentType: 'application/apply-patch+yaml',
        expect: 200,
      },
      {
        what: 'server-side apply creating an object',
        method: 'PATCH',
        path: `/api/v1/namespaces/dry/configmaps/applied${dry}&fieldManager=test`,
        body: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\n',
        contentType: 'application/apply-patch+yaml',
        expect: 201,
      },
      { what: 'delete (query)', method: 'DELETE', path: `${PATHS.cm}${dry}`, expect: 200 },
      {
        what: 'delete (DeleteOptions body)',
        method: 'DELETE',
        path: PATHS.cm,
        body: { kind: 'DeleteOptions', apiVersion: 'v1', dryRun: ['All'] },
        expect: 200,
      },
      // Staged deletes answer 200 as in Kubernetes (202 only with an explicit orphanDependents=false).
      { what: 'delete a scheduled pod (graceful)', method: 'DELETE', path: `${PATHS.pod}${dry}`, expect: 200 },
      { what: 'delete a node', method: 'DELETE', path: `${PATHS.node}${dry}`, expect: 200 },
      { what: 'delete a namespace', method: 'DELETE', path: `${PATHS.doomed}${dry}`, expect: 200 },
      {
        what: 'deletecollection (query)',
        method: 'DELETE',
        path: `/api/v1/namespaces/dry/configmaps${dry}`,
        expect: 200,
      },
      {
        what: 'deletecollection (body)',
        method: 'DELETE',
        path: '/api/v1/namespaces/dry/pods',
        body: { dryRun: ['All'], gracePeriodSeconds: 0 },
        expect: 200,
      },
      {
        what: 'pods/eviction (deleteOptions)',
        method: 'POST',
        path: `${PATHS.pod}/eviction`,
        body: {
          apiVersion: 'policy/v1',
          kind: 'Eviction',
          metadata: { name: 'p', namespace: 'dry' },
          deleteOptions: { dryRun: ['All'] },
        },
        expect: 201,
      },
      {
        what: 'pods/eviction (query)',
        method: 'POST',
        path: `${PATHS.pod}/eviction${dry}`,
        body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'p', namespace: 'dry' } },
        expect: 201,
      },
      {
        what: 'pods/binding',
        method: 'POST',
        path: `${PATHS.pending}/binding${dry}`,
        body: {
          apiVersion: 'v1',
          kind: 'Binding',
          metadata: { name: 'pending' },
          target: { kind: 'Node', name: 'n1' },
        },
        expect: 201,
      },
      {
        what: 'pods/status',
        method: 'PUT',
        path: `${PATHS.pod}/status${dry}`,
        body: { ...pod('p', 'n1'), status: { phase: 'Running' } },
        expect: 200,
      },
      {
        what: 'deployments/scale (PUT)',
        method: 'PUT',
        path: `${PATHS.deploy}/scale${dry}`,
        body: {
          apiVersion: 'autoscaling/v1',
          kind: 'Scale',
          metadata: { name: 'd', namespace: 'dry' },
          spec: { replicas: 5 },
        },
        expect: 200,
      },
      {
        what: 'deployments/scale (PATCH)',
        method: 'PATCH',
        path: `${PATHS.deploy}/scale${dry}`,
        body: { spec: { replicas: 6 } },
        contentType: 'application/merge-patch+json',
        expect: 200,
      },
      {
        what: 'namespaces/finalize',
        method: 'PUT',
        path: `${PATHS.doomed}/finalize${dry}`,
        body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'doomed' }, spec: { finalizers: [] } },
        expect: 200,
      },
      {
        what: 'CSR approval',
        method: 'PUT',
        path: `${PATHS.csr}/approval${dry}`,
        body: {
          apiVersion: 'certificates.k8s.io/v1',
          kind: 'CertificateSigningRequest',
          metadata: { name: 'c1' },
          status: { conditions: [{ type: 'Approved', status: 'True', reason: 'Test', message: 'dry' }] },
        },
        expect: 200,
      },
      {
        what: 'node cordon (patch)',
        method: 'PATCH',
        path: `${PATHS.node}${dry}`,
        body: { spec: { unschedulable: true } },
        contentType: 'application/strategic-merge-patch+json',
        expect: 200,
      },
    ];
  for (const c of cases) {
    test(c.what, async () => {
      const before = await snapshot();
      const rv = await revision();
      const res = await send(c);
      assert.equal(res.status, c.expect, JSON.stringify(res.body));
      assert.equal(await revision(), rv, 'the store revision moved');
      assert.deepEqual(await snapshot(), before);
      assert.equal((await call('GET', '/api/v1/namespaces/dry/configmaps/new')).status, 404);
      assert.equal((await call('GET', '/api/v1/namespaces/dry/configmaps/applied')).status, 404);
      assert.equal((await call('GET', '/api/v1/namespaces/dry/services/s')).status, 404);
    });
  }

  test('the dry-run answer is what the write would have stored', async () => {
    const updated = await ok('PUT', `${PATHS.cm}${dry}`, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'cm', namespace: 'dry' },
      data: { a: '2' },
    });
    assert.deepEqual(updated['data'], { a: '2' });
    const svc = await ok('POST', `/api/v1/namespaces/dry/services${dry}`, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 's' },
      spec: { ports: [{ port: 80 }] },
    });
    assert.match(String((svc['spec'] as { clusterIP?: string }).clusterIP), /^10\./);
    const deleted = await call('DELETE', `${PATHS.pod}${dry}`);
    const meta = deleted.body['metadata'] as { deletionTimestamp?: string };
    assert.ok(meta.deletionTimestamp, 'a dry-run graceful delete shows the deletionTimestamp it would set');
  });

  test('create --dry-run=server of an existing name is 409 AlreadyExists', async () => {
    const rv = await revision();
    const res = await call('POST', `/api/v1/namespaces/dry/configmaps${dry}`, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'cm' },
    });
    assert.equal(res.status, 409);
    assert.equal(res.body['reason'], 'AlreadyExists');
    assert.equal(await revision(), rv);
  });

  test('an unknown dryRun value is refused (422, as Kubernetes) on every verb', async () => {
    const rv = await revision();
    const refusals: [string, string, unknown, string | undefined, string][] = [
      [
        'POST',
        '/api/v1/namespaces/dry/configmaps?dryRun=x',
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } },
        undefined,
        'CreateOptions',
      ],
      [
        'PUT',
        `${PATHS.cm}?dryRun=x`,
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' } },
        undefined,
        'UpdateOptions',
      ],
      ['PATCH', `${PATHS.cm}?dryRun=x`, { data: { z: '1' } }, 'application/merge-patch+json', 'PatchOptions'],
      ['DELETE', `${PATHS.cm}?dryRun=x`, undefined, undefined, 'DeleteOptions'],
      ['DELETE', PATHS.cm, { dryRun: ['All', 'x'] }, undefined, 'DeleteOptions'],
      ['DELETE', '/api/v1/namespaces/dry/configmaps?dryRun=x', undefined, undefined, 'DeleteOptions'],
      [
        'POST',
        `${PATHS.pod}/eviction`,
        { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'p' }, deleteOptions: { dryRun: ['x'] } },
        undefined,
        'DeleteOptions',
      ],
    ];
    for (const [method, path, body, type, kind] of refusals) {
      const res = await send({ method, path, body, contentType: type });
      assert.equal(res.status, 422, `${method} ${path}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body['reason'], 'Invalid');
      assert.equal(
        res.body['message'],
        `${kind}.meta.k8s.io "" is invalid: dryRun: Unsupported value: "x": supported values: "All"`,
      );
    }
    assert.equal(await revision(), rv);
    assert.equal((await call('GET', PATHS.cm)).status, 200);
  });
});

describe('the real kubectl with --dry-run=server', () => {
  async function k(...args: string[]): Promise<string> {
    const res = await kubectl(plane.pki.adminKubeconfig, args, { home });
    assert.equal(res.code, 0, `kubectl ${args.join(' ')} failed: ${res.stderr}`);
    return res.stdout;
  }

  test('kubectl delete --dry-run=server deletes nothing (a Node among the objects)', async () => {
    const before = await snapshot();
    const rv = await revision();
    const out = await k('delete', 'configmap/cm', 'pod/p', '-n', 'dry', '--dry-run=server');
    assert.match(out, /configmap "cm" deleted \(server dry run\)/);
    const node = await k('delete', 'node', 'n1', '--dry-run=server');
    assert.match(node, /node "n1" deleted \(server dry run\)/);
    const all = await k('delete', 'configmaps', '--all', '-n', 'dry', '--dry-run=server');
    assert.match(all, /configmap "cm" deleted \(server dry run\)/);
    assert.equal(await revision(), rv);
    assert.deepEqual(await snapshot(), before);
  });

  test('kubectl drain --dry-run=server neither cordons nor evicts', async () => {
    const before = await snapshot();
    const rv = await revision();
    const res = await kubectl(
      plane.pki.adminKubeconfig,
      ['drain', 'n1', '--dry-run=server', '--force', '--ignore-daemonsets', '--timeout=30s'],
      { home },
    );
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout + res.stderr, /node\/n1 cordoned \(server dry run\)/);
    assert.match(res.stdout + res.stderr, /evicting pod dry\/p|pod\/p evicted/);
    assert.equal(await revision(), rv);
    assert.deepEqual(await snapshot(), before);
    const node = await ok('GET', PATHS.node);
    assert.equal((node['spec'] as { unschedulable?: boolean } | undefined)?.unschedulable, undefined);
  });
});
