// The apiserver on etcd (--etcd-servers, TLS with client certificates from the cluster PKI's
// etcd CA) with the real kubectl: create, get, watch and delete work; the value in etcd is
// the object's JSON under --etcd-prefix; a Secret is encrypted in etcd; kill -9 of the
// apiserver and a restart keep every acknowledged write, and so does kill -9 of etcd under
// a running apiserver (whose watches resume); bad etcd flags stop it at start.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DIST, exited, kubectl, run, startControlPlane, type ControlPlane } from './harness/control-plane.js';
import { runRoot } from './harness/run-root.js';

const SECRET_VALUE = 'etcd-at-rest-plugh-0815';

let plane: ControlPlane;
let home: string;
let configDir: string;

const k = (args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> =>
  kubectl(plane.pki.adminKubeconfig, args, { home, ...(input === undefined ? {} : { input }) });

function etcdOf(p: ControlPlane): NonNullable<ControlPlane['etcd']> {
  assert.ok(p.etcd, 'the plane runs on etcd');
  return p.etcd;
}

before(async () => {
  home = mkdtempSync(join(runRoot(), 'home-'));
  configDir = mkdtempSync(join(runRoot(), 'encryption-'));
  const configFile = join(configDir, 'encryption.yaml');
  const generated = await run(process.execPath, [
    join(DIST, 'cmd', 'coxctl.js'),
    'encryption-config',
    'generate',
    '-o',
    configFile,
  ]);
  assert.equal(generated.code, 0, generated.stderr);
  plane = await startControlPlane({ etcd: true, extraArgs: ['--encryption-provider-config', configFile] });
});

after(async () => {
  await plane.stop();
  if (home) rmSync(home, { recursive: true, force: true });
  rmSync(configDir, { recursive: true, force: true });
});

test('kubectl create, get, watch and delete on etcd; the value in etcd is the JSON', async () => {
  const watch = spawn(
    'kubectl',
    ['--kubeconfig', plane.pki.adminKubeconfig, 'get', 'configmaps', '-n', 'default', '--watch', '-o', 'name'],
    { env: { ...process.env, HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let seen = '';
  watch.stdout.on('data', (c: Buffer) => (seen += c.toString()));
  try {
    const created = await k(['create', 'configmap', 'on-etcd', '--from-literal=colour=teal']);
    assert.equal(created.code, 0, created.stderr);
    const got = await k(['get', 'configmap', 'on-etcd', '-o', 'jsonpath={.data.colour} {.metadata.resourceVersion}']);
    assert.equal(got.code, 0, got.stderr);
    const [colour, rv] = got.stdout.split(' ');
    assert.equal(colour, 'teal');
    const raw = await etcdOf(plane).rawGet('/registry/core/configmaps/default/on-etcd');
    assert.ok(raw, 'the object is one key under --etcd-prefix');
    const stored = JSON.parse(raw.toString()) as { data: Record<string, string>; metadata: Record<string, unknown> };
    assert.equal(stored.data['colour'], 'teal');
    assert.equal(stored.metadata['resourceVersion'], undefined, 'resourceVersion is etcd mod_revision, not stored');
    assert.ok(Number(rv) > 0);
    for (let i = 0; i < 100 && !seen.includes('configmap/on-etcd'); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(seen, /configmap\/on-etcd/, 'the watch saw the create');
    const deleted = await k(['delete', 'configmap', 'on-etcd']);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(await etcdOf(plane).rawGet('/registry/core/configmaps/default/on-etcd'), undefined);
    const gone = await k(['get', 'configmap', 'on-etcd']);
    assert.notEqual(gone.code, 0);
    assert.match(gone.stderr, /NotFound|not found/);
  } finally {
    watch.kill('SIGKILL');
    await exited(watch);
  }
});

test('a Secret is encrypted in etcd and reads back through kubectl', async () => {
  const created = await k(['create', 'secret', 'generic', 'sealed', `--from-literal=password=${SECRET_VALUE}`]);
  assert.equal(created.code, 0, created.stderr);
  const raw = await etcdOf(plane).rawGet('/registry/core/secrets/default/sealed');
  assert.ok(raw, 'the Secret is in etcd');
  assert.ok(raw.subarray(0, 20).toString().startsWith('k8s:enc:'), 'the stored value is an encrypted envelope');
  assert.ok(!raw.includes(Buffer.from(SECRET_VALUE)), 'no plaintext');
  assert.ok(!raw.includes(Buffer.from(Buffer.from(SECRET_VALUE).toString('base64'))), 'no base64 either');
  const got = await k(['get', 'secret', 'sealed', '-o', 'jsonpath={.data.password}']);
  assert.equal(got.code, 0, got.stderr);
  assert.equal(Buffer.from(got.stdout, 'base64').toString(), SECRET_VALUE);
});

test('kill -9 of the apiserver and a restart keep every acknowledged write', async () => {
  const names = Array.from({ length: 20 }, (_, i) => `durable-${i}`);
  const acked: string[] = [];
  for (const name of names) {
    const r = await k(['create', 'configmap', name, `--from-literal=n=${name}`]);
    if (r.code === 0) acked.push(name);
  }
  assert.equal(acked.length, names.length);
  await plane.crash();
  await plane.restart();
  const list = await k(['get', 'configmaps', '-o', 'jsonpath={.items[*].metadata.name}']);
  assert.equal(list.code, 0, list.stderr);
  const listed = new Set(list.stdout.split(' '));
  for (const name of acked) assert.ok(listed.has(name), `${name} survived`);
  // And writes work after the restart.
  const after = await k(['create', 'configmap', 'after-restart']);
  assert.equal(after.code, 0, after.stderr);
});

test('kill -9 of etcd under a running apiserver: acknowledged writes stay, a watch resumes, writes work again', async () => {
  const before1 = await k(['create', 'configmap', 'before-etcd-crash']);
  assert.equal(before1.code, 0, before1.stderr);
  const watch = spawn(
    'kubectl',
    ['--kubeconfig', plane.pki.adminKubeconfig, 'get', 'configmaps', '--watch-only', '-o', 'name'],
    { env: { ...process.env, HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let seen = '';
  watch.stdout.on('data', (c: Buffer) => (seen += c.toString()));
  try {
    // The watch is established before etcd goes (it reports nothing until a change).
    await new Promise((r) => setTimeout(r, 1000));
    await etcdOf(plane).crash();
    await etcdOf(plane).restart();
    let created = { code: -1, stdout: '', stderr: '' };
    for (let i = 0; i < 20 && created.code !== 0; i++) {
      created = await k(['create', 'configmap', 'after-etcd-crash']);
      if (created.code !== 0) await new Promise((r) => setTimeout(r, 500));
    }
    assert.equal(created.code, 0, created.stderr);
    const got = await k(['get', 'configmap', 'before-etcd-crash', '-o', 'name']);
    assert.equal(got.code, 0, got.stderr);
    for (let i = 0; i < 100 && !seen.includes('configmap/after-etcd-crash'); i++)
      await new Promise((r) => setTimeout(r, 100));
    assert.match(seen, /configmap\/after-etcd-crash/, 'the watch from before the crash saw the write after it');
  } finally {
    watch.kill('SIGKILL');
    await exited(watch);
  }
});

test('bad etcd flags stop the apiserver at start with one clear line', async () => {
  const base = [
    join(DIST, 'cmd', 'apiserver.js'),
    '--tls-cert-file',
    plane.pki.apiserverCert,
    '--tls-private-key-file',
    plane.pki.apiserverKey,
    '--client-ca-file',
    plane.pki.caCert,
    '--secure-port',
    '0',
  ];
  const cases: [string[], RegExp][] = [
    [[], /--data-dir is required/],
    [['--etcd-servers', 'not a url'], /--etcd-servers: "not a url" is not a URL/],
    [['--etcd-servers', 'https://127.0.0.1:2379'], /--etcd-cafile is required/],
    [
      ['--etcd-servers', 'https://127.0.0.1:2379', '--etcd-cafile', '/nonexistent/ca.crt'],
      /--etcd-cafile: cannot read/,
    ],
  ];
  for (const [args, message] of cases) {
    const r = await run(process.execPath, [...base, ...args], { timeoutMs: 30_000 });
    assert.notEqual(r.code, 0, args.join(' '));
    assert.match(r.stderr, message);
  }
  // The cluster CA is not etcd's CA: the handshake fails, clearly, and the apiserver exits.
  const wrongCa = await run(
    process.execPath,
    [
      ...base,
      '--etcd-servers',
      etcdOf(plane).clientUrl,
      '--etcd-cafile',
      plane.pki.caCert,
      '--etcd-certfile',
      plane.pki.etcd.apiserverClientCert,
      '--etcd-keyfile',
      plane.pki.etcd.apiserverClientKey,
    ],
    { timeoutMs: 60_000 },
  );
  assert.notEqual(wrongCa.code, 0);
  assert.match(wrongCa.stderr, /failed to start: .*etcd.*(certificate|handshake|TLS|SSL)/i);
});
