// coxctl as a user runs it (a separate process) against a real control plane: the same
// verbs and outputs a kubectl user expects, and clean one-line errors for bad manifests.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { eventually } from './harness/clients.js';
import { coxctl, DIST, REPO, startControlPlane, type ControlPlane } from './harness/control-plane.js';

let plane: ControlPlane;
let work: string;
const manifests = join(REPO, 'manifests');

before(async () => {
  plane = await startControlPlane({ withControllers: true });
  work = mkdtempSync(join(tmpdir(), 'coxctl-'));
});
after(async () => {
  await plane.stop();
  rmSync(work, { recursive: true, force: true });
});

async function c(...args: string[]): Promise<string> {
  const res = await coxctl(plane.pki.adminKubeconfig, args);
  assert.equal(res.code, 0, `coxctl ${args.join(' ')} failed: ${res.stderr}`);
  return res.stdout;
}

async function fails(args: string[], input?: string): Promise<string> {
  const res = await coxctl(plane.pki.adminKubeconfig, args, input !== undefined ? { input } : {});
  assert.notEqual(res.code, 0, `expected coxctl ${args.join(' ')} to fail; stdout: ${res.stdout}`);
  const lines = res.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line of error, got: ${res.stderr}`);
  return res.stderr.trim();
}

describe('coxctl against a real apiserver', () => {
  test('version and api-resources', async () => {
    assert.match(await c('version'), /Server Version: v1\.32/);
    assert.match(await c('api-resources'), /^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m);
  });

  test('apply -f manifests/ creates, and a second apply reports unchanged', async () => {
    const first = await c('apply', '-f', manifests);
    assert.match(first, /^namespace\/demo created$/m);
    assert.match(first, /^deployment.apps\/web created$/m);
    assert.match(first, /^service\/web created$/m);
    const second = await c('apply', '-f', manifests);
    const lines = second.trim().split('\n');
    assert.ok(
      lines.every((l) => l.endsWith(' unchanged')),
      second,
    );
  });

  test('a changed manifest is configured', async () => {
    const file = join(work, 'cm.yaml');
    writeFileSync(
      file,
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: tune\n  namespace: demo\ndata:\n  a: "1"\n  b: "2"\n',
    );
    assert.match(await c('apply', '-f', file), /configmap\/tune created/);
    writeFileSync(
      file,
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: tune\n  namespace: demo\ndata:\n  a: "1"\n',
    );
    assert.match(await c('apply', '-f', file), /configmap\/tune configured/);
    const cm = JSON.parse(await c('get', 'cm', 'tune', '-n', 'demo', '-o', 'json')) as { data: Record<string, string> };
    assert.deepEqual(cm.data, { a: '1' }, 'the key dropped from the manifest is removed');
  });

  test('get: kubectl columns, -o wide|yaml|json|name, -l, -A', async () => {
    assert.match(
      await c('get', 'deploy', '-n', 'demo'),
      /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\nweb\s+0\/3\s+\d+\s+0\s+\d+s$/m,
    );
    assert.match(await c('get', 'deploy', '-n', 'demo', '-o', 'wide'), /CONTAINERS\s+IMAGES\s+SELECTOR/);
    assert.match(await c('get', 'deploy', 'web', '-n', 'demo', '-o', 'yaml'), /^kind: Deployment$/m);
    assert.equal((JSON.parse(await c('get', 'svc', '-n', 'demo', '-o', 'json')) as { kind: string }).kind, 'List');
    assert.equal((await c('get', 'deploy', '-n', 'demo', '-o', 'name')).trim(), 'deployment.apps/web');
    assert.match(await c('get', 'deploy', '-n', 'demo', '-l', 'app=web'), /web/);
    assert.match(await c('get', 'all', '-A'), /demo\s+deployment.apps\/web/);
  });

  test('get -w streams new objects', async () => {
    const child = spawn(process.execPath, [
      join(DIST, 'cmd', 'coxctl.js'),
      '--kubeconfig',
      plane.pki.adminKubeconfig,
      'get',
      'cm',
      '-n',
      'demo',
      '-w',
    ]);
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    try {
      await eventually(() => /web-content/.test(out), { timeoutMs: 20_000, what: 'initial list' });
      const file = join(work, 'w.yaml');
      writeFileSync(file, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: streamed\n  namespace: demo\n');
      await c('apply', '-f', file);
      await eventually(() => /streamed/.test(out), { timeoutMs: 20_000, what: 'streamed row' });
    } finally {
      child.kill('SIGTERM');
    }
  });

  test('scale and describe', async () => {
    assert.match(await c('scale', 'deploy/web', '-n', 'demo', '--replicas=5'), /deployment.apps\/web scaled/);
    const d = JSON.parse(await c('get', 'deploy', 'web', '-n', 'demo', '-o', 'json')) as { spec: { replicas: number } };
    assert.equal(d.spec.replicas, 5);
    const text = await c('describe', 'deploy', 'web', '-n', 'demo');
    assert.match(text, /^Name:\s+web$/m);
    assert.match(text, /^Namespace:\s+demo$/m);
    assert.match(text, /Events:/);
  });

  test('apply --server-side', async () => {
    const file = join(work, 'ssa.yaml');
    writeFileSync(
      file,
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\n  namespace: demo\ndata:\n  x: "1"\n',
    );
    assert.match(await c('apply', '--server-side', '-f', file), /configmap\/ssa serverside-applied/);
  });

  test('delete by -l, by name, and by -f', async () => {
    const file = join(work, 'pods.yaml');
    writeFileSync(
      file,
      ['a', 'b']
        .map(
          (n) =>
            `apiVersion: v1\nkind: Pod\nmetadata:\n  name: p-${n}\n  namespace: demo\n  labels: {batch: x}\nspec:\n  containers:\n  - name: c\n    image: busybox:latest\n`,
        )
        .join('---\n'),
    );
    await c('apply', '-f', file);
    const byLabel = await c('delete', 'pods', '-l', 'batch=x', '-n', 'demo');
    assert.match(byLabel, /pod "p-a" deleted/);
    assert.match(byLabel, /pod "p-b" deleted/);
    assert.match(await c('delete', 'cm', 'ssa', '-n', 'demo'), /configmap "ssa" deleted/);
    const all = await c('delete', '-f', manifests);
    assert.match(all, /namespace "demo" deleted/);
    const gone = await coxctl(plane.pki.adminKubeconfig, ['get', 'ns', 'demo']);
    assert.notEqual(gone.code, 0);
    assert.match(gone.stderr, /NotFound/);
  });
});

describe('coxctl rejects bad input with one clear line and sends nothing', () => {
  test('malformed YAML names the file, document and line', async () => {
    const file = join(work, 'broken.yaml');
    writeFileSync(
      file,
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok-one\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [unclosed\n',
    );
    const msg = await fails(['apply', '-f', file]);
    assert.match(msg, /broken\.yaml: document 2, line \d+: invalid YAML/);
    const res = await coxctl(plane.pki.adminKubeconfig, ['get', 'cm', 'ok-one']);
    assert.notEqual(res.code, 0, 'the valid first document was not sent either');
  });

  test('an unknown kind is named', async () => {
    const msg = await fails(['apply', '-f', '-'], 'apiVersion: v1\nkind: Gizmo\nmetadata:\n  name: g\n');
    assert.match(msg, /<stdin>: document 1, line 1: no matches for kind "Gizmo" in version "v1"/);
  });

  test('a wrong type is named with its field', async () => {
    const msg = await fails(
      ['apply', '-f', '-'],
      'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  replicas: three\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec: {containers: [{name: c, image: busybox}]}\n',
    );
    assert.match(msg, /spec\.replicas/);
  });

  test('an invalid object is refused by the server with the field', async () => {
    const msg = await fails(['apply', '-f', '-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Not_Valid\n');
    // kubectl's wording for a refused object: no "Error from server (Invalid)" prefix.
    assert.match(msg, /^The ConfigMap "Not_Valid" is invalid: metadata\.name: Invalid value/);
  });

  test('a missing namespace', async () => {
    const msg = await fails(
      ['apply', '-f', '-'],
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: lost\n  namespace: nowhere\n',
    );
    assert.match(msg, /namespaces "nowhere" not found/);
  });
});
