// Moving a cluster from SQLite to etcd with `coxctl store migrate`, with the real kubectl:
// a control plane on SQLite (Secrets encrypted at rest) gets namespaces, ConfigMaps, a
// Secret, a Deployment, RBAC objects and a Service; the migration is refused while its
// apiserver runs, then (stopped) for bad flags, an unreadable source, an unreachable etcd
// and a wrong CA, each with one line and nothing written; then it copies into a real etcd.
// An apiserver started on that etcd serves every object as it was (same uid, data, the
// Secret still encrypted in etcd), takes writes above every migrated resourceVersion, and
// a watch from a listed resourceVersion gets the new write. A second run is refused; an
// interrupted run is finished by the next one.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Etcd3 } from 'etcd3';
import { noop } from 'cockatiel';
import { migrate } from '../pkg/storage/migrate.js';
import { EtcdTarget } from '../pkg/storage/migrate/etcd-target.js';
import { SqliteSource } from '../pkg/storage/migrate/sqlite-source.js';
import {
  coxctl,
  freePort,
  kubectl,
  startControlPlane,
  stopBounded,
  type ControlPlane,
} from './harness/control-plane.js';
import { startEtcd, type EtcdProcess } from './harness/etcd.js';
import { runRoot } from './harness/run-root.js';

const SECRET_VALUE = 'moving-house-xyzzy-4711';
const CONFIGMAPS = 400;

let sqlitePlane: ControlPlane;
let etcdPlane: ControlPlane | undefined;
let etcd: EtcdProcess;
let home: string;
let configDir: string;
let encryptionConfig: string;

type Result = { code: number; stdout: string; stderr: string };

const k = (plane: ControlPlane, args: string[], input?: string): Promise<Result> =>
  kubectl(plane.pki.adminKubeconfig, args, { home, ...(input === undefined ? {} : { input }) });

function dataDir(): string {
  return join(sqlitePlane.dir, 'data');
}

/** `coxctl store migrate` from the SQLite plane's data folder to the etcd, with its TLS flags. */
function storeMigrate(extra: string[] = [], overrides: { from?: string; to?: string } = {}): Promise<Result> {
  return coxctl(
    sqlitePlane.pki.adminKubeconfig,
    [
      'store',
      'migrate',
      '--from',
      overrides.from ?? `sqlite:${dataDir()}`,
      '--to',
      overrides.to ?? `etcd:${etcd.clientUrl}`,
      '--etcd-cafile',
      etcd.pki.caCert,
      '--etcd-certfile',
      etcd.pki.apiserverClientCert,
      '--etcd-keyfile',
      etcd.pki.apiserverClientKey,
      '--encryption-provider-config',
      encryptionConfig,
      ...extra,
    ],
    { timeoutMs: 120_000 },
  );
}

function etcdClient(): Etcd3 {
  return new Etcd3({
    hosts: [etcd.clientUrl],
    credentials: {
      rootCertificate: readFileSync(etcd.pki.caCert),
      certChain: readFileSync(etcd.pki.apiserverClientCert),
      privateKey: readFileSync(etcd.pki.apiserverClientKey),
    },
    faultHandling: { host: () => noop, global: noop },
  });
}

/** Every key in etcd (keys only), to see what a refused run left. */
async function etcdKeys(): Promise<string[]> {
  const c = etcdClient();
  try {
    const res = await c.kv.range(
      { key: Buffer.from([0]), range_end: Buffer.from([0]), keys_only: true },
      { deadline: new Date(Date.now() + 5000) },
    );
    return res.kvs.map((kv) => kv.key.toString());
  } finally {
    c.close();
  }
}

function oneErrorLine(r: Result, pattern: RegExp): void {
  assert.notEqual(r.code, 0, `exit code; stdout: ${r.stdout}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line: ${r.stderr}`);
  assert.match(lines[0] ?? '', pattern);
}

interface Snapshot {
  uid: string;
  data: string;
  rv: number;
}

/** kind/name → uid, data (or spec) and resourceVersion of everything the test made. */
async function snapshot(plane: ControlPlane): Promise<Map<string, Snapshot>> {
  const out = new Map<string, Snapshot>();
  const namespaced = await k(plane, [
    'get',
    'configmaps,secrets,deployments,roles,rolebindings,services,serviceaccounts',
    '-n',
    'shop',
    '-o',
    'json',
  ]);
  assert.equal(namespaced.code, 0, namespaced.stderr);
  const cluster = await k(plane, ['get', 'namespace/shop', 'clusterrole/shop-reader', '-o', 'json']);
  assert.equal(cluster.code, 0, cluster.stderr);
  for (const text of [namespaced.stdout, cluster.stdout]) {
    const list = JSON.parse(text) as {
      items: {
        kind: string;
        metadata: { name: string; uid: string; resourceVersion: string };
        data?: unknown;
        spec?: unknown;
        rules?: unknown;
      }[];
    };
    for (const item of list.items) {
      const data = JSON.stringify(item.data ?? item.spec ?? item.rules ?? null);
      out.set(`${item.kind}/${item.metadata.name}`, {
        uid: item.metadata.uid,
        data,
        rv: Number(item.metadata.resourceVersion),
      });
    }
  }
  return out;
}

let before_: Map<string, Snapshot>;

before(async () => {
  home = mkdtempSync(join(runRoot(), 'home-'));
  configDir = mkdtempSync(join(runRoot(), 'encryption-'));
  encryptionConfig = join(configDir, 'encryption.yaml');
  const generated = await coxctl('/nonexistent', ['encryption-config', 'generate', '-o', encryptionConfig]);
  assert.equal(generated.code, 0, generated.stderr);
  sqlitePlane = await startControlPlane({ extraArgs: ['--encryption-provider-config', encryptionConfig] });
  etcd = await startEtcd();
  const objects = [
    ['create', 'namespace', 'shop'],
    ['create', 'secret', 'generic', 'db', '-n', 'shop', `--from-literal=password=${SECRET_VALUE}`],
    ['create', 'deployment', 'web', '-n', 'shop', '--image=nginx:1.27', '--replicas=2'],
    ['create', 'service', 'clusterip', 'web', '-n', 'shop', '--tcp=80:8080'],
    ['create', 'serviceaccount', 'robot', '-n', 'shop'],
    ['create', 'role', 'shop-editor', '-n', 'shop', '--verb=get,update', '--resource=configmaps'],
    ['create', 'rolebinding', 'robot-edits', '-n', 'shop', '--role=shop-editor', '--serviceaccount=shop:robot'],
    ['create', 'clusterrole', 'shop-reader', '--verb=get,list', '--resource=deployments'],
  ];
  for (const args of objects) {
    const r = await k(sqlitePlane, args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  }
  const items = Array.from({ length: CONFIGMAPS }, (_, i) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `cm-${i}`, namespace: 'shop', labels: { batch: 'moved' } },
    data: { index: String(i), text: 'x'.repeat(i % 50) },
  }));
  const created = await k(
    sqlitePlane,
    ['create', '-f', '-'],
    JSON.stringify({ apiVersion: 'v1', kind: 'List', items }),
  );
  assert.equal(created.code, 0, created.stderr);
  // One updated and one deleted: the copy holds each key's latest state only.
  assert.equal((await k(sqlitePlane, ['label', 'configmap', 'cm-1', '-n', 'shop', 'edited=yes'])).code, 0);
  assert.equal((await k(sqlitePlane, ['delete', 'configmap', 'cm-2', '-n', 'shop'])).code, 0);
  before_ = await snapshot(sqlitePlane);
});

after(async () => {
  await etcdPlane?.stop();
  await etcd?.stop();
  await sqlitePlane?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
  if (configDir) rmSync(configDir, { recursive: true, force: true });
});

test('refused while the apiserver runs on the SQLite store: one line, nothing written', async () => {
  const r = await storeMigrate();
  oneErrorLine(r, /^error: sqlite:.* is in use \(an apiserver holds .*coxswain\.db\): stop it before migrating$/);
  assert.deepEqual(await etcdKeys(), []);
});

test('bad input, an unreadable source, an unreachable etcd and a wrong CA: one line each, nothing written', async () => {
  await stopBounded(sqlitePlane.apiserver);
  const deadPort = await freePort();
  // One after another: each run that gets as far as the source holds its lock while it runs.
  const cases: [() => Promise<Result>, RegExp][] = [
    [() => storeMigrate([], { from: `mysql:${dataDir()}` }), /^error: --from must be sqlite:… \(e\.g\. sqlite:/],
    [() => storeMigrate([], { to: 'consul:https://127.0.0.1:8500' }), /^error: --to must be etcd:…/],
    [() => storeMigrate([], { to: 'etcd:not a url' }), /^error: --to: "not a url" is not a URL/],
    [() => storeMigrate(['--etcd-prefix', 'registry/']), /^error: --etcd-prefix must start with \//],
    [() => storeMigrate([], { from: `sqlite:${join(dataDir(), 'nope')}` }), /^error: sqlite:.*no Coxswain store there/],
    [() => storeMigrate(['--encryption-provider-config', '/nonexistent.yaml']), /^error: --encryption-provider-config/],
    [
      () => storeMigrate([], { to: `etcd:https://127.0.0.1:${deadPort}` }),
      /^error: etcd:https:\/\/127\.0\.0\.1:\d+ under \/registry: read failed after \d+ attempt\(s\)/,
    ],
    [
      // The cluster CA did not sign etcd's serving certificate.
      () => storeMigrate(['--etcd-cafile', sqlitePlane.pki.caCert]),
      /^error: etcd:.* failed after 1 attempt\(s\): .*certificate/i,
    ],
  ];
  for (const [run, pattern] of cases) oneErrorLine(await run(), pattern);
  assert.deepEqual(await etcdKeys(), []);
});

test('the migration copies every object, and an apiserver on etcd serves them as they were', async () => {
  const r = await storeMigrate();
  assert.equal(r.code, 0, r.stderr);
  const summary =
    /^migrated (\d+) objects from sqlite:\S+ to etcd:\S+ under \/registry in [\d.]+s \((\d+) objects\/s\): .*configmaps \d+.*secrets \d+.*; verified: \d+ keys read back, SHA-256 of every value matches/.exec(
      r.stdout.trim(),
    );
  assert.ok(summary, r.stdout);
  const copied = Number(summary[1]);
  assert.ok(copied >= before_.size, `${copied} objects copied (the test made ${before_.size})`);
  console.log(`store migrate: ${copied} objects at ${summary[2]} objects/s: ${r.stdout.trim()}`);
  const keys = await etcdKeys();
  assert.ok(!keys.includes('/registry.migrating'), 'no marker left');
  assert.ok(keys.includes('/registry/core/configmaps/shop/cm-0'));
  assert.ok(!keys.includes('/registry/core/configmaps/shop/cm-2'), 'the deleted ConfigMap stays deleted');
  const raw = await etcd.rawGet('/registry/core/secrets/shop/db');
  assert.ok(raw?.subarray(0, 8).toString() === 'k8s:enc:', 'the Secret is still encrypted at rest');
  assert.ok(!raw.includes(Buffer.from(SECRET_VALUE)));

  etcdPlane = await startControlPlane({ etcd, extraArgs: ['--encryption-provider-config', encryptionConfig] });
  const plane = etcdPlane;
  const moved = await snapshot(plane);
  assert.equal(moved.size, before_.size);
  for (const [name, was] of before_) {
    const now = moved.get(name);
    assert.ok(now, `${name} is there`);
    assert.equal(now.uid, was.uid, `${name} keeps its uid`);
    assert.equal(now.data, was.data, `${name} keeps its content`);
  }
  const password = await k(plane, ['get', 'secret', 'db', '-n', 'shop', '-o', 'jsonpath={.data.password}']);
  assert.equal(Buffer.from(password.stdout, 'base64').toString(), SECRET_VALUE);
  const edited = await k(plane, ['get', 'configmap', 'cm-1', '-n', 'shop', '-o', 'jsonpath={.metadata.labels.edited}']);
  assert.equal(edited.stdout, 'yes');

  // Writable: a new write is above every migrated resourceVersion, and a watch from a listed
  // resourceVersion gets it.
  const listed = await k(plane, ['get', '--raw', '/api/v1/namespaces/shop/configmaps']);
  assert.equal(listed.code, 0, listed.stderr);
  const listRv = Number(
    (JSON.parse(listed.stdout) as { metadata: { resourceVersion: string } }).metadata.resourceVersion,
  );
  const movedRvs = [...moved.values()].map((s) => s.rv);
  assert.equal(new Set(movedRvs).size, movedRvs.length, 'each object has its own resourceVersion');
  const highest = Math.max(...movedRvs);
  assert.ok(highest <= listRv, `migrated resourceVersions (up to ${highest}) are within the list's (${listRv})`);
  const created = await k(plane, [
    'create',
    'configmap',
    'after-move',
    '-n',
    'shop',
    '-o',
    'jsonpath={.metadata.resourceVersion}',
  ]);
  assert.equal(created.code, 0, created.stderr);
  assert.ok(Number(created.stdout) > highest, `the new write's resourceVersion ${created.stdout} > ${highest}`);
  const watched = await k(plane, [
    'get',
    '--raw',
    `/api/v1/namespaces/shop/configmaps?watch=1&resourceVersion=${listRv}&timeoutSeconds=2`,
  ]);
  assert.equal(watched.code, 0, watched.stderr);
  const events = watched.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; object: { metadata: { name: string } } });
  assert.deepEqual(
    events.map((e) => `${e.type} ${e.object.metadata.name}`),
    ['ADDED after-move'],
  );
  const relabel = await k(plane, ['label', 'configmap', 'cm-7', '-n', 'shop', 'moved=yes']);
  assert.equal(relabel.code, 0, relabel.stderr);
  const removed = await k(plane, ['delete', 'deployment', 'web', '-n', 'shop']);
  assert.equal(removed.code, 0, removed.stderr);
});

test('a second migration into the same etcd is refused; an interrupted one is finished by the next', async () => {
  const again = await storeMigrate();
  oneErrorLine(
    again,
    /^error: etcd:.* under \/registry already holds \d+ key\(s\): refusing to mix two clusters' state/,
  );

  // Interrupted after the first batch (as by a crash), into another prefix.
  const source = SqliteSource.open(dataDir());
  const target = new EtcdTarget({
    endpoints: [etcd.clientUrl],
    tls: {
      ca: readFileSync(etcd.pki.caCert),
      cert: readFileSync(etcd.pki.apiserverClientCert),
      key: readFileSync(etcd.pki.apiserverClientKey),
    },
    prefix: '/moved',
    root: '/registry',
  });
  try {
    await assert.rejects(
      migrate(source, target, {
        pageSize: 50,
        onProgress: () => {
          throw new Error('power cut');
        },
      }),
      /power cut/,
    );
  } finally {
    target.close();
    source.close();
  }
  const partial = (await etcdKeys()).filter((key) => key.startsWith('/moved'));
  assert.ok(partial.includes('/moved.migrating'), 'the marker says the copy is unfinished');
  assert.equal(partial.length, 51);
  const finished = await storeMigrate(['--etcd-prefix', '/moved']);
  assert.equal(finished.code, 0, finished.stderr);
  assert.match(finished.stdout, /to etcd:\S+ under \/moved .*resumed: \d+ written, 0 removed/);
  const keys = (await etcdKeys()).filter((key) => key.startsWith('/moved'));
  assert.ok(!keys.includes('/moved.migrating'));
  assert.ok(keys.length > 400);
});
