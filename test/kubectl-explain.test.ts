// The real kubectl (1.32) against the OpenAPI documents a real apiserver serves: explain prints
// our descriptions and types, client-side validation names unknown fields and unknown kinds
// as it does against Kubernetes, valid manifests create and re-apply without warnings, and a bad
// document path is a 404 Status that leaves the server serving.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { kubectl, REPO, startControlPlane, type ControlPlane } from './harness/control-plane.js';
import { rawRequest } from './harness/https.js';

let plane: ControlPlane;
let home: string;
let creds: { ca: string; cert: string; key: string };

before(async () => {
  plane = await startControlPlane({ withControllers: false });
  home = mkdtempSync(join(tmpdir(), 'kubectl-explain-'));
  creds = {
    ca: readFileSync(plane.pki.caCert, 'utf8'),
    cert: readFileSync(plane.pki.adminCert, 'utf8'),
    key: readFileSync(plane.pki.adminKey, 'utf8'),
  };
});
after(async () => {
  await plane.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

function k(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return kubectl(plane.pki.adminKubeconfig, args, { home });
}

async function ok(...args: string[]): Promise<string> {
  const res = await k(...args);
  assert.equal(res.code, 0, `kubectl ${args.join(' ')} failed: ${res.stderr}`);
  return res.stdout;
}

function get(path: string, headers: Record<string, string> = {}): ReturnType<typeof rawRequest> {
  return rawRequest({ port: plane.port, method: 'GET', path, headers, ...creds });
}

test('explain pod.spec.containers prints the type, its description and its fields', async () => {
  const out = await ok('explain', 'pod.spec.containers');
  assert.match(out, /^KIND:\s+Pod$/m);
  assert.match(out, /^VERSION:\s+v1$/m);
  assert.match(out, /^FIELD: containers <\[\]Container>$/m);
  assert.match(out, /The containers of the pod\. At least one\./);
  assert.match(out, /^ {2}image\t<string>$/m);
  assert.match(out, /The container image to run/);
  assert.match(out, /^ {2}livenessProbe\t<Probe>$/m);
  assert.match(out, /^ {2}ports\t<\[\]ContainerPort>$/m);
});

test('explain deployment.spec.strategy --recursive walks the nested fields', async () => {
  const out = await ok('explain', 'deployment.spec.strategy', '--recursive');
  assert.match(out, /^GROUP:\s+apps$/m);
  assert.match(out, /^FIELD: strategy <DeploymentStrategy>$/m);
  assert.match(out, /^ {2}rollingUpdate\t<RollingUpdateDeployment>$/m);
  assert.match(out, /^ {4}maxSurge\t<IntOrString>$/m);
  assert.match(out, /^ {4}maxUnavailable\t<IntOrString>$/m);
  assert.match(out, /^ {2}type\t<string>$/m);
});

test('explain svc describes the kind and lists its top-level fields', async () => {
  const out = await ok('explain', 'svc');
  assert.match(out, /^KIND:\s+Service$/m);
  assert.match(out, /A stable virtual address and name in front of a set of pods/);
  assert.match(out, /^ {2}spec\t<ServiceSpec>$/m);
  assert.match(out, /^ {2}metadata\t<ObjectMeta>$/m);
  const field = await k('explain', 'svc.spec.nosuchfield');
  assert.notEqual(field.code, 0);
  assert.match(field.stderr, /field "nosuchfield" does not exist/);
});

test('create -f refuses an unknown field, naming it', async () => {
  const file = join(home, 'bad.yaml');
  writeFileSync(
    file,
    'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: bad\nspec:\n  foo: 1\n  selector:\n    matchLabels: {app: bad}\n  template:\n    metadata:\n      labels: {app: bad}\n    spec:\n      containers:\n      - name: c\n        image: busybox\n',
  );
  const res = await k('create', '-f', file);
  assert.notEqual(res.code, 0);
  assert.match(res.stderr, /unknown field "spec\.foo"/);
  const got = await k('get', 'deployment', 'bad');
  assert.notEqual(got.code, 0, 'the refused deployment must not exist');
});

test('an unknown kind gets "no matches for kind", not an OpenAPI download failure', async () => {
  const file = join(home, 'widget.yaml');
  writeFileSync(file, 'apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n');
  const res = await k('create', '-f', file);
  assert.notEqual(res.code, 0);
  assert.match(res.stderr, /no matches for kind "Widget" in version "example\.com\/v1"/);
  assert.doesNotMatch(res.stderr, /failed to download openapi/);
  const known = join(home, 'gadget.yaml');
  writeFileSync(known, 'apiVersion: apps/v1\nkind: Gadget\nmetadata:\n  name: g\n');
  const res2 = await k('apply', '-f', known);
  assert.match(res2.stderr, /no matches for kind "Gadget" in version "apps\/v1"/);
});

test('every manifest in manifests/ creates with default validation, and a second apply patches cleanly', async () => {
  const dir = join(REPO, 'manifests');
  assert.ok(readdirSync(dir).some((f) => f.endsWith('.yaml')));
  const first = await k('apply', '-f', dir);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /deployment\.apps\/web created/);
  assert.doesNotMatch(first.stderr, /warning|error/i);
  // Change the deployment so client-side apply computes and sends a strategic merge patch.
  const changed = readFileSync(join(dir, 'deployment.yaml'), 'utf8').replace(/replicas: \d+/, 'replicas: 5');
  const file = join(home, 'deployment.yaml');
  writeFileSync(file, changed);
  const second = await k('apply', '-f', file);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /deployment\.apps\/web configured/);
  assert.doesNotMatch(second.stderr, /error calculating patch/);
  const replicas = await ok('get', 'deployment', 'web', '-n', 'demo', '-o', 'jsonpath={.spec.replicas}');
  assert.equal(replicas, '5');
});

test('client-side apply patches fields the schema accepts without listing them (open objects)', async () => {
  const file = join(home, 'open.yaml');
  const manifest = (replicas: number): string =>
    `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: open\nspec:\n  replicas: ${replicas}\n  selector:\n    matchLabels: {app: open}\n  template:\n    metadata:\n      labels: {app: open}\n    spec:\n      volumes:\n      - name: share\n        nfs: {server: nfs.example, path: /exports${replicas}}\n      containers:\n      - name: c\n        image: busybox\n        volumeMounts:\n        - {name: share, mountPath: /share}\n`;
  writeFileSync(file, manifest(1));
  await ok('apply', '-f', file);
  writeFileSync(file, manifest(2));
  const second = await k('apply', '-f', file);
  assert.equal(second.code, 0, second.stderr);
  assert.doesNotMatch(second.stderr, /warning/i);
  assert.equal(await ok('get', 'deployment', 'open', '-o', 'jsonpath={.spec.replicas}'), '2');
  const nfs = await ok('get', 'deployment', 'open', '-o', 'jsonpath={.spec.template.spec.volumes[0].nfs.server}');
  assert.equal(nfs, 'nfs.example');
});

test('documents are addressed by content hash and cached; a bad path is a 404 Status', async () => {
  const index = await get('/openapi/v3');
  assert.equal(index.status, 200);
  const paths = (JSON.parse(index.body) as { paths: Record<string, { serverRelativeURL: string }> }).paths;
  const apps = paths['apis/apps/v1']?.serverRelativeURL ?? '';
  assert.match(apps, /^\/openapi\/v3\/apis\/apps\/v1\?hash=[0-9A-F]{128}$/);
  const doc = await get(apps);
  assert.equal(doc.status, 200);
  assert.equal(doc.headers['cache-control'], 'public, immutable');
  const etag = String(doc.headers['etag']);
  assert.equal(etag, `"${apps.split('hash=')[1] ?? ''}"`);
  assert.equal((await get(apps, { 'If-None-Match': etag })).status, 304);
  const stale = await get('/openapi/v3/apis/apps/v1?hash=0123');
  assert.equal(stale.status, 301);
  assert.equal(stale.headers['location'], apps);

  for (const bad of ['/openapi/v3/apis/nosuch/v1', '/openapi/v3/api/v9', '/openapi/v3/%2e%2e/%2e%2e/etc/passwd']) {
    const res = await get(bad);
    assert.equal(res.status, 404, bad);
    const status = JSON.parse(res.body) as { kind: string; reason: string; code: number; details?: unknown };
    assert.equal(status.kind, 'Status');
    assert.equal(status.reason, 'NotFound');
    assert.equal(status.code, 404);
    assert.ok(status.details !== undefined, 'kubectl dereferences details');
  }
  const v2 = await get('/openapi/v2');
  assert.equal(v2.status, 200);
  assert.equal((JSON.parse(v2.body) as { swagger: string }).swagger, '2.0');
  assert.equal((await get('/readyz')).status, 200);
  assert.match(await ok('explain', 'configmap.data'), /UTF-8 values by key/);
});
