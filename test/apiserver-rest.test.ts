// The REST semantics of the apiserver, through the real client over mTLS: CRUD,
// optimistic concurrency, generation and status, finalizers, graceful pod deletion,
// binding, scale, namespaces, watches, and clean rejection of bad input.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { KubeObject, WatchEvent } from '../pkg/api/meta.js';
import { watchStream, type RestClient } from '../pkg/client/index.js';
import { ApiError } from '../pkg/errors/index.js';
import { adminClient, eventually, R } from './harness/clients.js';
import { startControlPlane, type ControlPlane } from './harness/control-plane.js';
import { rawRequest } from './harness/https.js';

let plane: ControlPlane;
let client: RestClient;
let creds: { ca: string; cert: string; key: string };

before(async () => {
  plane = await startControlPlane();
  client = adminClient(plane);
  creds = {
    ca: readFileSync(plane.pki.caCert, 'utf8'),
    cert: readFileSync(plane.pki.adminCert, 'utf8'),
    key: readFileSync(plane.pki.adminKey, 'utf8'),
  };
  await client.create(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'rest' } });
});
after(async () => {
  client.close();
  await plane.stop();
});

async function rejected(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected the request to be rejected');
}

function deployment(name: string, replicas = 1): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'busybox:latest' }] } },
    },
  };
}

const ns = { namespace: 'rest' };

describe('objects', () => {
  test('an update that leaves managedFields out keeps them; an empty list resets them', async () => {
    const managers = (o: KubeObject): string[] =>
      (o.metadata.managedFields ?? []).map((e) => String((e as { manager?: unknown }).manager)).sort();
    const cm: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'owners' }, data: { a: '1' } };
    const created = await client.create(R.configmaps, cm, { ...ns, fieldManager: 'first' });
    assert.deepEqual(managers(created), ['first']);
    // What a controller sends from an informer that strips managedFields.
    const stripped = { ...created, metadata: { ...created.metadata, managedFields: undefined }, data: { a: '2' } };
    const kept = await client.update(R.configmaps, stripped, { ...ns, fieldManager: 'second' });
    assert.deepEqual(managers(kept), ['first', 'second']);
    const reset = { ...kept, metadata: { ...kept.metadata, managedFields: [] }, data: { a: '3' } };
    assert.deepEqual(managers(await client.update(R.configmaps, reset, { ...ns, fieldManager: 'third' })), ['third']);
  });

  test('create fills identity and defaults; get and list return it', async () => {
    const created = await client.create(R.deployments, deployment('web', 2), ns);
    assert.ok(created.metadata.uid);
    assert.ok(created.metadata.creationTimestamp);
    assert.match(created.metadata.resourceVersion ?? '', /^\d+$/);
    assert.equal(created.metadata.generation, 1);
    const spec = created['spec'] as { strategy?: { type?: string }; revisionHistoryLimit?: number };
    assert.equal(spec.strategy?.type, 'RollingUpdate');
    assert.equal(spec.revisionHistoryLimit, 10);
    const got = await client.get(R.deployments, 'web', ns);
    assert.equal(got.metadata.uid, created.metadata.uid);
    const list = await client.list(R.deployments, { namespace: 'rest', labelSelector: 'app=web' });
    assert.equal(list.items.length, 1);
    assert.ok(Number(list.metadata.resourceVersion) >= Number(created.metadata.resourceVersion));
  });

  test('creating a name twice is 409 AlreadyExists', async () => {
    const err = await rejected(client.create(R.deployments, deployment('web'), ns));
    assert.equal(err.code, 409);
    assert.equal(err.reason, 'AlreadyExists');
    assert.match(err.message, /deployments.apps "web" already exists/);
  });

  test('two updates from the same resourceVersion: one wins, the other gets 409 Conflict', async () => {
    const base = await client.get(R.deployments, 'web', ns);
    const a = structuredClone(base);
    const b = structuredClone(base);
    (a['spec'] as { replicas: number }).replicas = 4;
    (b['spec'] as { replicas: number }).replicas = 5;
    const results = await Promise.allSettled([
      client.update(R.deployments, a, ns),
      client.update(R.deployments, b, ns),
    ]);
    const ok = results.filter((r) => r.status === 'fulfilled');
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    assert.equal(ok.length, 1);
    assert.equal(failed.length, 1);
    const err = failed[0]?.reason as ApiError;
    assert.equal(err.code, 409);
    assert.equal(err.reason, 'Conflict');
    assert.match(err.message, /the object has been modified/);
  });

  test('a spec change bumps generation; a status update does not and keeps spec', async () => {
    const before = await client.get(R.deployments, 'web', ns);
    const patched = await client.patch(R.deployments, 'web', { type: 'merge', body: { spec: { replicas: 7 } }, ...ns });
    assert.equal(patched.metadata.generation, (before.metadata.generation ?? 0) + 1);
    const withStatus = structuredClone(patched);
    withStatus['status'] = { replicas: 7, observedGeneration: patched.metadata.generation };
    (withStatus['spec'] as { replicas: number }).replicas = 99;
    const afterStatus = await client.updateStatus(R.deployments, withStatus, ns);
    assert.equal((afterStatus['spec'] as { replicas: number }).replicas, 7);
    assert.equal((afterStatus['status'] as { replicas: number }).replicas, 7);
    assert.equal(afterStatus.metadata.generation, patched.metadata.generation);
    // The main resource cannot write status.
    const sneaky = structuredClone(afterStatus);
    sneaky['status'] = { replicas: 1 };
    const updated = await client.update(R.deployments, sneaky, ns);
    assert.equal((updated['status'] as { replicas: number }).replicas, 7);
  });

  test('a no-op update keeps the resourceVersion', async () => {
    const cur = await client.get(R.deployments, 'web', ns);
    const same = await client.update(R.deployments, cur, ns);
    assert.equal(same.metadata.resourceVersion, cur.metadata.resourceVersion);
  });

  test('strategic merge patch merges containers by name; json patch and merge patch work', async () => {
    await client.patch(R.deployments, 'web', {
      type: 'strategic',
      body: { spec: { template: { spec: { containers: [{ name: 'side', image: 'busybox:1' }] } } } },
      ...ns,
    });
    let d = await client.get(R.deployments, 'web', ns);
    let containers = (d['spec'] as { template: { spec: { containers: { name: string; image: string }[] } } }).template
      .spec.containers;
    assert.deepEqual(
      containers.map((c) => c.name),
      ['c', 'side'],
    );
    await client.patch(R.deployments, 'web', {
      type: 'strategic',
      body: { spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox:2' }] } } } },
      ...ns,
    });
    d = await client.get(R.deployments, 'web', ns);
    containers = (d['spec'] as { template: { spec: { containers: { name: string; image: string }[] } } }).template.spec
      .containers;
    assert.equal(containers.find((c) => c.name === 'c')?.image, 'busybox:2');
    assert.equal(containers.length, 2);
    await client.patch(R.deployments, 'web', {
      type: 'json',
      body: [{ op: 'replace', path: '/spec/replicas', value: 3 }],
      ...ns,
    });
    await client.patch(R.deployments, 'web', {
      type: 'merge',
      body: { metadata: { labels: { tier: 'front' } } },
      ...ns,
    });
    d = await client.get(R.deployments, 'web', ns);
    assert.equal((d['spec'] as { replicas: number }).replicas, 3);
    assert.equal(d.metadata.labels?.['tier'], 'front');
  });

  test('the scale subresource reads and writes spec.replicas', async () => {
    const scale = await client.getSubresource(R.deployments, 'web', { subresource: 'scale', ...ns });
    assert.equal(scale.kind, 'Scale');
    assert.equal((scale['spec'] as { replicas: number }).replicas, 3);
    await client.patch(R.deployments, 'web', {
      type: 'merge',
      body: { spec: { replicas: 5 } },
      ...ns,
      subresource: 'scale',
    });
    const d = await client.get(R.deployments, 'web', ns);
    assert.equal((d['spec'] as { replicas: number }).replicas, 5);
  });

  test('finalizers block removal until cleared', async () => {
    await client.create(
      R.configmaps,
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'held', finalizers: ['example.com/hold'] },
        data: { a: 'b' },
      },
      ns,
    );
    await client.delete(R.configmaps, 'held', ns);
    const held = await client.get(R.configmaps, 'held', ns);
    assert.ok(held.metadata.deletionTimestamp, 'deletionTimestamp set');
    await client.patch(R.configmaps, 'held', { type: 'merge', body: { metadata: { finalizers: null } }, ...ns });
    const err = await rejected(client.get(R.configmaps, 'held', ns));
    assert.equal(err.code, 404);
  });

  test('a scheduled pod is deleted gracefully: deletionTimestamp first, gone after the final delete', async () => {
    await client.create(
      R.pods,
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'p1' },
        spec: { containers: [{ name: 'c', image: 'busybox:latest' }] },
      },
      ns,
    );
    await client.createSubresource(R.pods, 'p1', {
      subresource: 'binding',
      body: { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'p1' }, target: { kind: 'Node', name: 'node-a' } },
      ...ns,
    });
    const bound = await client.get(R.pods, 'p1', ns);
    assert.equal((bound['spec'] as { nodeName: string }).nodeName, 'node-a');
    const again = await rejected(
      client.createSubresource(R.pods, 'p1', {
        subresource: 'binding',
        body: { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'p1' }, target: { kind: 'Node', name: 'node-b' } },
        ...ns,
      }),
    );
    assert.equal(again.code, 409);
    await client.delete(R.pods, 'p1', { ...ns, gracePeriodSeconds: 30 });
    const terminating = await client.get(R.pods, 'p1', ns);
    assert.ok(terminating.metadata.deletionTimestamp);
    assert.equal(terminating.metadata.deletionGracePeriodSeconds, 30);
    await client.delete(R.pods, 'p1', { ...ns, gracePeriodSeconds: 0 });
    assert.equal((await rejected(client.get(R.pods, 'p1', ns))).code, 404);
  });

  test('propagationPolicy is recorded as the garbage collector finalizer', async () => {
    await client.create(R.deployments, deployment('orphaned'), ns);
    await client.delete(R.deployments, 'orphaned', { ...ns, propagationPolicy: 'Orphan' });
    const d = await client.get(R.deployments, 'orphaned', ns);
    assert.deepEqual(d.metadata.finalizers, ['orphan']);
    assert.ok(d.metadata.deletionTimestamp);
  });

  test('secrets fold stringData into base64 data', async () => {
    const s = await client.create(
      R.secrets,
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's1' }, stringData: { user: 'admin' } },
      ns,
    );
    assert.deepEqual(s['data'], { user: Buffer.from('admin').toString('base64') });
    assert.equal(s['stringData'], undefined);
  });
});

describe('services', () => {
  test('ClusterIPs come from 10.96.0.0/12; the kubernetes Service holds 10.96.0.1; NodePorts from 30000-32767', async () => {
    const k8s = await client.get(R.services, 'kubernetes', { namespace: 'default' });
    assert.equal(k8s.spec?.clusterIP, '10.96.0.1');
    const svc = await client.create(
      R.services,
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'np' },
        spec: { type: 'NodePort', selector: { app: 'x' }, ports: [{ port: 80 }] },
      },
      ns,
    );
    const spec = svc.spec ?? {};
    const clusterIP = spec.clusterIP ?? '';
    const [a, b] = clusterIP.split('.').map(Number);
    assert.equal(a, 10);
    assert.ok((b ?? 0) >= 96 && (b ?? 0) <= 111, clusterIP);
    assert.deepEqual(spec.clusterIPs, [clusterIP]);
    assert.ok((spec.ports?.[0]?.nodePort ?? 0) >= 30000 && (spec.ports?.[0]?.nodePort ?? 0) <= 32767);
    assert.equal(spec.ports?.[0]?.targetPort, 80);
    const clash = await rejected(
      client.create(
        R.services,
        {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name: 'clash' },
          spec: { clusterIP, ports: [{ port: 80 }] },
        },
        ns,
      ),
    );
    assert.equal(clash.code, 422);
    assert.match(clash.message, /already allocated/);
    const headless = await client.create(
      R.services,
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'headless' },
        spec: { clusterIP: 'None', selector: { app: 'x' }, ports: [{ port: 80 }] },
      },
      ns,
    );
    assert.equal(headless.spec?.clusterIP, 'None');
    // An update that leaves clusterIP out keeps it; deleting frees it for reuse.
    const updated = await client.update(
      R.services,
      { ...svc, spec: { ...spec, clusterIP: undefined, clusterIPs: undefined } },
      ns,
    );
    assert.equal(updated.spec?.clusterIP, clusterIP);
    await client.delete(R.services, 'np', ns);
    const reuse = await client.create(
      R.services,
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'reuse' },
        spec: { clusterIP, ports: [{ port: 80 }] },
      },
      ns,
    );
    assert.equal(reuse.spec?.clusterIP, clusterIP);
  });
});

describe('namespaces', () => {
  test('creating in a missing namespace is 404 naming the namespace', async () => {
    const err = await rejected(
      client.create(
        R.configmaps,
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } },
        { namespace: 'nope' },
      ),
    );
    assert.equal(err.code, 404);
    assert.match(err.message, /namespaces "nope" not found/);
  });

  test('a terminating namespace accepts no new content', async () => {
    await client.create(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'doomed' } });
    await client.delete(R.namespaces, 'doomed', {});
    const ns1 = await client.get(R.namespaces, 'doomed', {});
    assert.equal((ns1['status'] as { phase: string }).phase, 'Terminating');
    const err = await rejected(
      client.create(
        R.configmaps,
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } },
        { namespace: 'doomed' },
      ),
    );
    assert.equal(err.code, 403);
  });
});

describe('bad input is rejected and changes nothing', () => {
  const post = (path: string, body: string | Buffer, contentType = 'application/json') =>
    rawRequest({ port: plane.port, method: 'POST', path, body, headers: { 'Content-Type': contentType }, ...creds });

  test('an invalid name → 422 naming metadata.name', async () => {
    const err = await rejected(
      client.create(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'Bad_Name' } }, ns),
    );
    assert.equal(err.code, 422);
    assert.equal(err.reason, 'Invalid');
    assert.ok(err.details?.causes?.some((c) => c.field === 'metadata.name'));
  });

  test('a missing required field → 422 naming it', async () => {
    const bad = deployment('noimage');
    (bad['spec'] as { template: { spec: { containers: { image?: string }[] } } }).template.spec.containers[0] = {
      name: 'c',
    } as { image?: string };
    const err = await rejected(client.create(R.deployments, bad, ns));
    assert.equal(err.code, 422);
    assert.ok(
      err.details?.causes?.some((c) => c.field === 'spec.template.spec.containers[0].image'),
      JSON.stringify(err.details),
    );
  });

  test('a wrong type → 400', async () => {
    const bad = deployment('wrongtype');
    (bad['spec'] as Record<string, unknown>)['replicas'] = 'three';
    const err = await rejected(client.create(R.deployments, bad, ns));
    assert.equal(err.code, 400);
    assert.match(err.message, /replicas/);
  });

  test('an unknown field with fieldValidation=Strict → 400; with Warn → a Warning header', async () => {
    const body = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'strict' }, dta: { a: 'b' } });
    const strict = await post('/api/v1/namespaces/rest/configmaps?fieldValidation=Strict', body);
    assert.equal(strict.status, 400);
    assert.match(strict.body, /unknown field \\"dta\\"/);
    const warn = await post(
      '/api/v1/namespaces/rest/configmaps?fieldValidation=Warn',
      body.replace('"strict"', '"warned"'),
    );
    assert.equal(warn.status, 201);
    assert.match(String(warn.headers['warning']), /unknown field/);
  });

  test('an unknown resource → 404; a kind mismatch → 400', async () => {
    const res = await post('/api/v1/namespaces/rest/widgets', '{}');
    assert.equal(res.status, 404);
    assert.equal((JSON.parse(res.body) as { kind: string }).kind, 'Status');
    const mismatch = await post(
      '/api/v1/namespaces/rest/configmaps',
      JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'm' } }),
    );
    assert.equal(mismatch.status, 400);
  });

  test('malformed JSON → 400 Status', async () => {
    const res = await post('/api/v1/namespaces/rest/configmaps', '{"apiVersion": "v1", "kind": ');
    assert.equal(res.status, 400);
    const status = JSON.parse(res.body) as { reason: string };
    assert.equal(status.reason, 'BadRequest');
  });

  test('an oversize body → 413', async () => {
    const big = JSON.stringify({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'big' },
      data: { a: 'x'.repeat(4 * 1024 * 1024) },
    });
    const res = await post('/api/v1/namespaces/rest/configmaps', big);
    assert.equal(res.status, 413);
    assert.equal((await rejected(client.get(R.configmaps, 'big', ns))).code, 404);
  });

  test('rejected writes left nothing behind', async () => {
    const list = await client.list(R.configmaps, ns);
    const names = list.items.map((i) => i.metadata.name);
    for (const n of ['Bad_Name', 'strict', 'm', 'big', 'x']) assert.ok(!names.includes(n), `${n} should not exist`);
  });
});

describe('watch', () => {
  test('a websocket watch streams ADDED, MODIFIED, DELETED in order, filtered by label', async () => {
    const start = await client.list(R.configmaps, ns);
    const events: WatchEvent[] = [];
    const stream = watchStream(
      client,
      {
        resource: R.configmaps,
        namespace: 'rest',
        labelSelector: 'w=1',
        resourceVersion: start.metadata.resourceVersion ?? '0',
      },
      {
        onEvent: (ev) => events.push(ev),
        onClose: () => undefined,
      },
    );
    try {
      await client.create(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'other' } }, ns);
      await client.create(
        R.configmaps,
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'w1', labels: { w: '1' } } },
        ns,
      );
      await client.patch(R.configmaps, 'w1', { type: 'merge', body: { data: { k: 'v' } }, ...ns });
      await client.patch(R.configmaps, 'w1', { type: 'merge', body: { metadata: { labels: { w: '2' } } }, ...ns });
      await eventually(() => events.length >= 3, { what: 'three events' });
      assert.deepEqual(
        events.map((e) => `${e.type}:${e.object.metadata.name ?? ''}`),
        ['ADDED:w1', 'MODIFIED:w1', 'DELETED:w1'],
      );
    } finally {
      stream.stop();
    }
  });

  test('chunked HTTP watch: headers flushed at once, newline-delimited events', async () => {
    const https = await import('node:https');
    const start = await client.list(R.configmaps, ns);
    const lines: string[] = [];
    const req = https.request({
      host: '127.0.0.1',
      port: plane.port,
      method: 'GET',
      agent: false,
      ...creds,
      path: `/api/v1/namespaces/rest/configmaps?watch=true&resourceVersion=${start.metadata.resourceVersion ?? '0'}&timeoutSeconds=20`,
    });
    const headersSeen = new Promise<number>((resolve) =>
      req.on('response', (res) => {
        res.on('data', (c: Buffer) =>
          lines.push(
            ...c
              .toString()
              .split('\n')
              .filter((l) => l !== ''),
          ),
        );
        resolve(res.statusCode ?? 0);
      }),
    );
    req.end();
    assert.equal(await headersSeen, 200); // before any event exists
    await client.create(R.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'chunked' } }, ns);
    await eventually(() => lines.length >= 1, { what: 'one event line' });
    const ev = JSON.parse(lines[0] ?? '{}') as WatchEvent;
    assert.equal(ev.type, 'ADDED');
    assert.equal(ev.object.metadata.name, 'chunked');
    req.destroy();
  });

  test('a kubectl-style Table list has kubectl columns and row objects', async () => {
    const res = await rawRequest({
      port: plane.port,
      method: 'GET',
      path: '/apis/apps/v1/namespaces/rest/deployments',
      ...creds,
      headers: { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' },
    });
    assert.equal(res.status, 200);
    const table = JSON.parse(res.body) as {
      kind: string;
      columnDefinitions: { name: string }[];
      rows: { cells: unknown[]; object: { metadata: { name: string } } }[];
    };
    assert.equal(table.kind, 'Table');
    assert.deepEqual(
      table.columnDefinitions.slice(0, 5).map((c) => c.name),
      ['Name', 'Ready', 'Up-to-date', 'Available', 'Age'],
    );
    assert.ok(table.rows.some((r) => r.cells[0] === 'web' && r.object.metadata.name === 'web'));
  });
});
