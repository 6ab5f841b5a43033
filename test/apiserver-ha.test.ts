// Several apiservers on one etcd (real etcd, real apiserver processes):
// - bootstrap objects are created once, by whichever starts first; concurrent starts succeed
//   and cluster-info does not flap between them;
// - ClusterIPs and NodePorts come from bitmaps in etcd changed by compare-and-swap: Services
//   created concurrently through two apiservers never share one, a refused create gives its
//   address back, hostile values get 422 and change nothing;
// - identity Leases drive the `kubernetes` Endpoints: both listed, kill -9 of one drops it
//   once its lease expires, a restart brings it back, a clean stop removes it at once;
// - a read through B right after a write through A sees it (consistent reads from cache);
// - an apiserver whose etcd cannot be reached listens, is live and not ready (503 with the
//   reason), becomes ready once etcd answers, and reports etcd going away again; a wrong etcd
//   CA stops it with one line naming --etcd-cafile.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { KubeObject } from '../pkg/api/meta.js';
import { isObject } from '../pkg/api/meta.js';
import { RESOURCES } from '../pkg/api/registry.js';
import type { Lease } from '../pkg/api/types/index.js';
import { ApiError } from '../pkg/errors/index.js';
import { loadKubeconfig, RestClient } from '../pkg/client/index.js';
import { R, eventually } from './harness/clients.js';
import {
  DIST,
  exited,
  freePort,
  kubectl,
  run,
  startControlPlane,
  type ControlPlane,
  type ExtraApiserver,
} from './harness/control-plane.js';
import { rawRequest } from './harness/https.js';
import { runRoot } from './harness/run-root.js';

/** Short leases, so an apiserver killed with -9 drops out within seconds. */
const LEASE_ARGS = ['--identity-lease-duration-seconds', '5', '--identity-lease-renew-interval-seconds', '1'];

let plane: ControlPlane;
let second: ExtraApiserver;
let home: string;
let clientA: RestClient;
let clientB: RestClient;

const clientFor = (server: string): RestClient =>
  new RestClient({ ...loadKubeconfig({ path: plane.pki.adminKubeconfig }), server });

before(async () => {
  home = mkdtempSync(join(runRoot(), 'home-'));
  plane = await startControlPlane({ etcd: true, extraArgs: LEASE_ARGS });
  clientA = clientFor(plane.server);
});

after(async () => {
  await plane.stop();
  rmSync(home, { recursive: true, force: true });
});

/** The (address, port) pairs the `kubernetes` Endpoints list. */
async function endpointPairs(client: RestClient): Promise<string[]> {
  const ep = await client.get(R.endpoints, 'kubernetes', { namespace: 'default' });
  return (ep.subsets ?? []).flatMap((s) =>
    (s.addresses ?? []).flatMap((a) => (s.ports ?? []).map((p) => `${a.ip}:${p.port}`)),
  );
}

test('two apiservers starting at once on one etcd both start; bootstrap objects exist once; cluster-info stays', async () => {
  const before1 = await clientA.get(R.configmaps, 'cluster-info', { namespace: 'kube-public' });
  const [b, c] = await Promise.all([plane.addApiserver(), plane.addApiserver()]);
  second = b;
  clientB = clientFor(b.server);
  const clientC = clientFor(c.server);
  for (const client of [clientA, clientB, clientC]) {
    const svc = await client.get(R.services, 'kubernetes', { namespace: 'default' });
    assert.equal(svc.spec?.clusterIP, '10.96.0.1');
    const ns = await client.list(R.namespaces);
    assert.deepEqual(
      ns.items.map((n) => n.metadata.name).filter((n) => n?.startsWith('kube-') || n === 'default'),
      ['default', 'kube-node-lease', 'kube-public', 'kube-system'],
    );
  }
  const leases = await clientA.list(RESOURCES.leases, {
    namespace: 'kube-system',
    labelSelector: 'apiserver.kubernetes.io/identity=kube-apiserver',
  });
  assert.equal(leases.items.length, 3, 'one identity lease per apiserver');
  for (const lease of leases.items) {
    assert.match(lease.metadata.name ?? '', /^apiserver-[0-9a-f]+$/);
    assert.ok(lease.spec?.holderIdentity?.startsWith(lease.metadata.name ?? '-'));
  }
  // The first apiserver is alive: the others leave its cluster-info alone.
  const after1 = await clientC.get(R.configmaps, 'cluster-info', { namespace: 'kube-public' });
  assert.equal(after1.metadata.resourceVersion, before1.metadata.resourceVersion, 'cluster-info did not flap');
  // The third goes away cleanly: its lease and its endpoint at once.
  c.child.kill('SIGTERM');
  await exited(c.child);
  assert.ok(!(await endpointPairs(clientA)).includes(`127.0.0.1:${c.port}`));
});

test('the kubernetes Endpoints list every live apiserver; kill -9 drops one after its lease expires; a restart adds it back', async () => {
  const a = `127.0.0.1:${plane.port}`;
  const b = `127.0.0.1:${second.port}`;
  await eventually(async () => {
    const pairs = await endpointPairs(clientA);
    return pairs.includes(a) && pairs.includes(b);
  });
  // And kubectl sees the same.
  const shown = await kubectl(
    plane.pki.adminKubeconfig,
    ['get', 'endpoints', 'kubernetes', '-o', 'jsonpath={.subsets[*].ports[0].port}'],
    { home },
  );
  assert.equal(shown.code, 0, shown.stderr);
  assert.deepEqual(shown.stdout.split(' ').map(Number).sort(), [plane.port, second.port].sort());
  await second.crash();
  await eventually(async () => !(await endpointPairs(clientA)).includes(b), {
    timeoutMs: 30_000,
    what: 'the killed apiserver leaves the Endpoints',
  });
  assert.ok((await endpointPairs(clientA)).includes(a));
  await second.restart();
  await eventually(async () => (await endpointPairs(clientA)).includes(b), { what: 'back after restart' });
});

test('the identity lease of an apiserver gone for ten lease durations is deleted; a recently expired one stays', async () => {
  const lease = (name: string, renewedSecondsAgo: number): Lease => ({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name,
      namespace: 'kube-system',
      labels: { 'apiserver.kubernetes.io/identity': 'kube-apiserver' },
    },
    spec: {
      holderIdentity: `${name}_gone`,
      leaseDurationSeconds: 5,
      renewTime: new Date(Date.now() - renewedSecondsAgo * 1000).toISOString().replace('Z', '000Z'),
    },
  });
  await clientA.create(RESOURCES.leases, lease('apiserver-long-gone', 3600), { namespace: 'kube-system' });
  await clientA.create(RESOURCES.leases, lease('apiserver-just-expired', 10), { namespace: 'kube-system' });
  await eventually(
    async () =>
      (await clientA.list(RESOURCES.leases, { namespace: 'kube-system' })).items.every(
        (l) => l.metadata.name !== 'apiserver-long-gone',
      ),
    { timeoutMs: 20_000, what: 'the abandoned lease is deleted' },
  );
  const left = await clientA.get(RESOURCES.leases, 'apiserver-just-expired', { namespace: 'kube-system' });
  assert.equal(left.metadata.name, 'apiserver-just-expired', 'a lease expired for less than ten durations stays');
  await clientA.delete(RESOURCES.leases, 'apiserver-just-expired', { namespace: 'kube-system' });
});

function serviceBody(name: string, spec: Record<string, unknown>): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec };
}

function specOf(svc: KubeObject): Record<string, unknown> {
  const spec = svc['spec'];
  return isObject(spec) ? spec : {};
}

function nodePortsOf(svc: KubeObject): number[] {
  const ports = specOf(svc)['ports'];
  return Array.isArray(ports)
    ? ports.flatMap((p: unknown) => (isObject(p) && typeof p['nodePort'] === 'number' ? [p['nodePort']] : []))
    : [];
}

async function rejectsInvalid(promise: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof ApiError, String(err));
    assert.equal(err.code, 422, err.message);
    assert.match(err.message, message);
    return true;
  });
}

test('Services created concurrently through two apiservers never share a ClusterIP or a NodePort', async () => {
  const started = Date.now();
  const created = await Promise.all(
    Array.from({ length: 60 }, (_, i) =>
      (i % 2 === 0 ? clientA : clientB).create(
        R.services,
        serviceBody(`spread-${i}`, {
          type: i % 3 === 0 ? 'ClusterIP' : 'NodePort',
          ports: [{ port: 80 }, ...(i % 5 === 0 ? [{ name: 'b', port: 81 }] : [])].map((p, n) => ({
            name: `p${n}`,
            ...p,
          })),
        }),
      ),
    ),
  );
  const elapsed = Date.now() - started;
  process.stdout.write(`# 60 Services through two apiservers in ${elapsed} ms\n`);
  const listed = await clientB.list(R.services);
  const ips = listed.items.map((s) => String(specOf(s)['clusterIP']));
  assert.equal(new Set(ips).size, ips.length, `no duplicate ClusterIP: ${ips.join(' ')}`);
  const ports = listed.items.flatMap(nodePortsOf);
  assert.equal(new Set(ports).size, ports.length, `no duplicate NodePort: ${ports.join(' ')}`);
  assert.ok(ports.length >= 40);
  assert.equal(created.length, 60);
});

test('a refused Service create gives its address back; hostile values get 422 and change nothing', async () => {
  const taken = await clientA.create(R.services, serviceBody('holder', { type: 'NodePort', ports: [{ port: 80 }] }));
  const takenIP = String(specOf(taken)['clusterIP']);
  const [takenPort] = nodePortsOf(taken);
  assert.ok(takenPort !== undefined);
  await rejectsInvalid(
    clientB.create(R.services, serviceBody('same-ip', { clusterIP: takenIP, ports: [{ port: 80 }] })),
    /provided IP is already allocated/,
  );
  // The IP is free, the node port is not: refused, and the IP it took is given back.
  const wanted = '10.96.200.200';
  await rejectsInvalid(
    clientB.create(
      R.services,
      serviceBody('half', { clusterIP: wanted, type: 'NodePort', ports: [{ port: 80, nodePort: takenPort }] }),
    ),
    /provided port is already allocated/,
  );
  const reused = await clientA.create(R.services, serviceBody('reuse', { clusterIP: wanted, ports: [{ port: 80 }] }));
  assert.equal(specOf(reused)['clusterIP'], wanted);
  for (const [name, spec, message] of [
    ['banana', { clusterIP: 'banana', ports: [{ port: 80 }] }, /clusterIP|Invalid value/],
    ['outside', { clusterIP: '192.168.1.1', ports: [{ port: 80 }] }, /not in the valid range/],
    ['far-port', { type: 'NodePort', ports: [{ port: 80, nodePort: 80 }] }, /nodePort|valid range/],
  ] as const) {
    const before1 = await clientB.list(R.services);
    await rejectsInvalid(clientB.create(R.services, serviceBody(name, spec)), message);
    const after1 = await clientB.list(R.services);
    assert.equal(after1.items.length, before1.items.length);
  }
  // Deleting gives the address back: another Service can have it.
  await clientB.delete(R.services, 'reuse', { namespace: 'default' });
  const again = await clientB.create(R.services, serviceBody('reuse-2', { clusterIP: wanted, ports: [{ port: 80 }] }));
  assert.equal(specOf(again)['clusterIP'], wanted);
});

test('a write through one apiserver is seen by a get and a list through the other at once', async () => {
  const rounds = 40;
  const started = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) {
    const name = `seen-${i}`;
    await clientA.create(R.configmaps, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, namespace: 'default' },
      data: { i: String(i) },
    });
    const got = await clientB.get(R.configmaps, name, { namespace: 'default' });
    assert.equal(got.data?.['i'], String(i));
    const listed = await clientB.list(R.configmaps, { namespace: 'default' });
    assert.ok(
      listed.items.some((c) => c.metadata.name === name),
      `list ${i} through B sees the write through A`,
    );
  }
  const perRoundMs = Number(process.hrtime.bigint() - started) / 1e6 / rounds;
  process.stdout.write(`# create via A + get and list via B: ${perRoundMs.toFixed(1)} ms per round\n`);
});

interface ProxyToEtcd {
  port: number;
  /** Starts forwarding to etcd. */
  open(): Promise<void>;
  /** Stops listening and cuts every connection. */
  close(): Promise<void>;
}

/** A TCP relay on a port of its own to the test etcd: closed until opened (etcd "down"). */
async function relayToEtcd(target: URL): Promise<ProxyToEtcd> {
  const port = await freePort();
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  return {
    port,
    open: () =>
      new Promise((resolve, reject) => {
        const s = net.createServer((client) => {
          const upstream = net.connect(Number(target.port), target.hostname);
          for (const sock of [client, upstream]) {
            sockets.add(sock);
            sock.on('close', () => sockets.delete(sock));
            sock.on('error', () => sock.destroy());
          }
          client.pipe(upstream).pipe(client);
        });
        s.once('error', reject);
        s.listen(port, '127.0.0.1', () => resolve());
        server = s;
      }),
    close: () =>
      new Promise((resolve) => {
        for (const sock of sockets) sock.destroy();
        if (server === undefined) resolve();
        else server.close(() => resolve());
        server = undefined;
      }),
  };
}

function apiserverArgs(etcdUrl: string, port: number, caFile: string): string[] {
  return [
    join(DIST, 'cmd', 'apiserver.js'),
    `--etcd-servers=${etcdUrl}`,
    `--etcd-cafile=${caFile}`,
    `--etcd-certfile=${plane.pki.etcd.apiserverClientCert}`,
    `--etcd-keyfile=${plane.pki.etcd.apiserverClientKey}`,
    '--secure-port',
    String(port),
    '--bind-address',
    '127.0.0.1',
    '--advertise-address',
    '127.0.0.1',
    '--tls-cert-file',
    plane.pki.apiserverCert,
    '--tls-private-key-file',
    plane.pki.apiserverKey,
    '--client-ca-file',
    plane.pki.caCert,
    ...LEASE_ARGS,
  ];
}

test('an apiserver whose etcd is unreachable is live, not ready (503 with the reason), and turns ready when etcd answers', async () => {
  const etcd = plane.etcd;
  assert.ok(etcd);
  const relay = await relayToEtcd(new URL(etcd.clientUrl));
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    apiserverArgs(`https://127.0.0.1:${relay.port}`, port, plane.pki.etcd.caCert),
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const ca = readFileSync(plane.pki.caCert, 'utf8');
  const admin = { cert: readFileSync(plane.pki.adminCert, 'utf8'), key: readFileSync(plane.pki.adminKey, 'utf8') };
  const get = (path: string): ReturnType<typeof rawRequest> => rawRequest({ port, method: 'GET', path, ca, ...admin });
  try {
    await eventually(async () => (await get('/livez').catch(() => ({ status: 0 }))).status === 200, {
      what: 'listening and live without etcd',
    });
    await eventually(async () => /\[-\]etcd failed: /.test((await get('/readyz')).body), { what: 'reason' });
    const readyz = await get('/readyz');
    assert.equal(readyz.status, 503);
    assert.match(readyz.body, /readyz check failed/);
    const api = await get('/api/v1/namespaces');
    assert.equal(api.status, 503);
    const status: unknown = JSON.parse(api.body);
    assert.ok(isObject(status));
    assert.equal(status['kind'], 'Status');
    assert.equal(status['reason'], 'ServiceUnavailable');
    // Hostile input while not ready changes nothing and gets the same answer.
    const post = await rawRequest({ port, method: 'POST', path: '/api/v1/namespaces', ca, ...admin, body: '{"x' });
    assert.equal(post.status, 503);
    assert.equal(child.exitCode, null, 'still running');
    // etcd comes back: the apiserver completes its start.
    await relay.open();
    await eventually(async () => (await get('/readyz')).status === 200, { timeoutMs: 60_000, what: 'ready' });
    assert.equal((await get('/api/v1/namespaces/default')).status, 200);
    // etcd goes away again: /readyz says so, /livez does not.
    await relay.close();
    await eventually(async () => (await get('/readyz')).status === 503, { timeoutMs: 30_000, what: 'not ready' });
    assert.match((await get('/readyz')).body, /\[-\]etcd failed: /);
    assert.equal((await get('/livez')).status, 200);
    await relay.open();
    await eventually(async () => (await get('/readyz')).status === 200, { timeoutMs: 30_000, what: 'ready again' });
  } finally {
    child.kill('SIGKILL');
    await exited(child);
    await relay.close();
  }
  assert.doesNotMatch(stderr, /failed to start/);
});

test('a wrong etcd CA stops the apiserver with one line naming --etcd-cafile', async () => {
  const etcd = plane.etcd;
  assert.ok(etcd);
  const r = await run(process.execPath, apiserverArgs(etcd.clientUrl, 0, plane.pki.caCert), { timeoutMs: 60_000 });
  assert.notEqual(r.code, 0);
  const lines = r.stderr.split('\n').filter((l) => /failed to start/.test(l));
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0] ?? '', /--etcd-cafile/);
});
