// Encryption at rest against a real apiserver (--encryption-provider-config from `coxctl
// encryption-config generate`): a Secret's value is nowhere in the data directory yet reads
// back; after `coxctl encryption-config rotate` and a restart it still reads, and rewriting
// it unchanged re-encrypts it with the new key; with a wrong key that Secret is a 500
// and the apiserver keeps serving; a bad config file stops the apiserver at start.

import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DIST, kubectl, run, startControlPlane, stopBounded, type ControlPlane } from './harness/control-plane.js';
import { rawRequest, type RawResponse } from './harness/https.js';
import { runRoot } from './harness/run-root.js';

const VALUE = 'xyzzy-plugh-encryption-at-rest-4711';
const SECRET_PATH = '/api/v1/namespaces/default/secrets';

let plane: ControlPlane;
let configDir: string;
let configFile: string;
let creds: { ca: string; cert: string; key: string };

function coxctlOffline(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, [join(DIST, 'cmd', 'coxctl.js'), ...args]);
}

function request(method: string, path: string, body?: unknown): Promise<RawResponse> {
  return rawRequest({
    port: plane.port,
    method,
    path,
    ...creds,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
}

/** The data directory's files that contain needle (grep -l, bytes). */
function filesContaining(needle: string): string[] {
  const data = join(plane.dir, 'data');
  return readdirSync(data).filter((f) => readFileSync(join(data, f)).includes(Buffer.from(needle, 'utf8')));
}

async function restartApiserver(): Promise<void> {
  await stopBounded(plane.apiserver);
  await plane.restart();
}

function secretValue(res: RawResponse): string {
  assert.equal(res.status, 200, res.body);
  const secret = JSON.parse(res.body) as { data: Record<string, string> };
  return Buffer.from(secret.data['password'] ?? '', 'base64').toString('utf8');
}

before(async () => {
  configDir = mkdtempSync(join(runRoot(), 'encryption-'));
  configFile = join(configDir, 'encryption.yaml');
  const generated = await coxctlOffline(['encryption-config', 'generate', '-o', configFile]);
  assert.equal(generated.code, 0, generated.stderr);
  plane = await startControlPlane({ extraArgs: ['--encryption-provider-config', configFile] });
  creds = {
    ca: readFileSync(plane.pki.caCert, 'utf8'),
    cert: readFileSync(plane.pki.adminCert, 'utf8'),
    key: readFileSync(plane.pki.adminKey, 'utf8'),
  };
});
after(async () => {
  await plane.stop();
  rmSync(configDir, { recursive: true, force: true });
});

test('the generated config is 0600 and names a secretbox key for secrets', () => {
  assert.equal(statSync(configFile).mode & 0o777, 0o600);
  const text = readFileSync(configFile, 'utf8');
  assert.match(text, /secretbox:\s+keys:\s+- name: key1/);
  assert.match(text, /identity: \{\}/);
});

test('a Secret reads back, and neither its value nor its base64 is in any file of the data directory', async () => {
  const created = await request('POST', SECRET_PATH, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'db' },
    data: { password: Buffer.from(VALUE).toString('base64') },
  });
  assert.equal(created.status, 201, created.body);
  assert.equal(secretValue(await request('GET', `${SECRET_PATH}/db`)), VALUE);
  const list = await request('GET', SECRET_PATH);
  assert.equal(list.status, 200, list.body);
  assert.ok(list.body.includes(Buffer.from(VALUE).toString('base64')));

  assert.deepEqual(filesContaining(VALUE), []);
  assert.deepEqual(filesContaining(Buffer.from(VALUE).toString('base64')), []);
  assert.ok(filesContaining('k8s:enc:secretbox:v1:key1:').length > 0, 'stored with key1');
  const data = join(plane.dir, 'data');
  assert.equal(statSync(data).mode & 0o777, 0o700);
  for (const f of readdirSync(data)) assert.equal(statSync(join(data, f)).mode & 0o777, 0o600, f);
});

test('after rotation and a restart the Secret reads; rewriting it unchanged stores it with the new key', async () => {
  const rotated = await coxctlOffline(['encryption-config', 'rotate', '-f', configFile]);
  assert.equal(rotated.code, 0, rotated.stderr);
  assert.match(readFileSync(configFile, 'utf8'), /keys:\s+- name: key2\s+secret: \S+\s+- name: key1/);
  assert.equal(statSync(configFile).mode & 0o777, 0o600);
  await restartApiserver();

  const before = await request('GET', `${SECRET_PATH}/db`);
  assert.equal(secretValue(before), VALUE);
  assert.deepEqual(filesContaining('k8s:enc:secretbox:v1:key2:'), []);

  // Kubernetes' rotation step, with the real kubectl (--validate=false: no OpenAPI schema here).
  const home = join(configDir, 'kubectl-home');
  const got = await kubectl(plane.pki.adminKubeconfig, ['get', 'secrets', '-A', '-o', 'json'], { home });
  assert.equal(got.code, 0, got.stderr);
  const replace = await kubectl(plane.pki.adminKubeconfig, ['replace', '--validate=false', '-f', '-'], {
    home,
    input: got.stdout,
  });
  assert.equal(replace.code, 0, replace.stderr);
  assert.match(replace.stdout, /secret\/db replaced/);
  const replaced = await request('GET', `${SECRET_PATH}/db`);
  const rv = (res: RawResponse): string =>
    (JSON.parse(res.body) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
  assert.notEqual(rv(replaced), rv(before), 'a stale value is written even when nothing changed');
  assert.ok(filesContaining('k8s:enc:secretbox:v1:key2:').length > 0, 'rewritten with key2');
  assert.equal(secretValue(replaced), VALUE);

  // Now current: a second unchanged replace is a no-op again.
  const again = await request('PUT', `${SECRET_PATH}/db`, JSON.parse(replaced.body));
  assert.equal(again.status, 200, again.body);
  assert.equal(rv(again), rv(replaced));
  assert.deepEqual(filesContaining(VALUE), []);
});

test('with a wrong key the Secret is a 500 Status and the apiserver keeps serving', async () => {
  // Same key name, other bytes: the value names key2 but no configured key2 opens it.
  const wrong = await coxctlOffline(['encryption-config', 'generate', '--key-name', 'key2', '-o', configFile]);
  assert.equal(wrong.code, 0, wrong.stderr);
  await restartApiserver();

  const res = await request('GET', `${SECRET_PATH}/db`);
  assert.equal(res.status, 500, res.body);
  const status = JSON.parse(res.body) as { kind: string; code: number; message: string };
  assert.equal(status.kind, 'Status');
  assert.equal(status.code, 500);
  assert.doesNotMatch(res.body, new RegExp(VALUE));
  const list = await request('GET', SECRET_PATH);
  assert.equal(list.status, 500, list.body);
  assert.match(status.message, /cannot decrypt \/registry\/core\/secrets\/default\/db/);

  assert.equal((await request('GET', '/api/v1/namespaces/default')).status, 200);
  const other = await request('POST', SECRET_PATH, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'fresh' },
    stringData: { token: 'abc' },
  });
  assert.equal(other.status, 201, other.body);
  assert.equal((await request('GET', `${SECRET_PATH}/fresh`)).status, 200);
  assert.equal(plane.apiserver.exitCode, null, 'the apiserver is still running');
});

test('a bad config file stops the apiserver at start with a one-line error', async () => {
  const bad = join(configDir, 'bad.yaml');
  const cases: [string, RegExp][] = [
    ['kind: EncryptionConfiguration\napiVersion: apiserver.config.k8s.io/v1\nresources: []\n', /resources/],
    [
      'kind: EncryptionConfiguration\napiVersion: apiserver.config.k8s.io/v1\nresources:\n- resources: [secrets]\n  providers:\n  - secretbox:\n      keys:\n      - name: k\n        secret: not-base64!\n',
      /base64/,
    ],
    ['{ not yaml', /pars/],
  ];
  for (const [text, pattern] of cases) {
    writeFileSync(bad, text);
    const started = await run(process.execPath, [
      join(DIST, 'cmd', 'apiserver.js'),
      '--data-dir',
      join(configDir, 'unused-data'),
      '--tls-cert-file',
      plane.pki.apiserverCert,
      '--tls-private-key-file',
      plane.pki.apiserverKey,
      '--client-ca-file',
      plane.pki.caCert,
      '--secure-port',
      '0',
      '--encryption-provider-config',
      bad,
    ]);
    assert.notEqual(started.code, 0);
    const lines = started.stderr.trim().split('\n');
    assert.equal(lines.length, 1, started.stderr);
    assert.match(lines[0] ?? '', /^apiserver: --encryption-provider-config /);
    assert.match(lines[0] ?? '', pattern);
  }
});
