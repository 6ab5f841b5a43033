// The real kubectl (1.32, as installed) with its default flags against Coxswain, using the
// admin kubeconfig and a fresh HOME (kubectl caches /version and discovery there).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { eventually } from './harness/clients.js';
import { kubectl, REPO, startControlPlane, type ControlPlane } from './harness/control-plane.js';

let plane: ControlPlane;
let home: string;
const manifests = join(REPO, 'manifests');

before(async () => {
  plane = await startControlPlane({ withControllers: true });
  home = mkdtempSync(join(tmpdir(), 'kubectl-home-'));
});
after(async () => {
  await plane.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

async function k(...args: string[]): Promise<string> {
  const res = await kubectl(plane.pki.adminKubeconfig, args, { home });
  assert.equal(res.code, 0, `kubectl ${args.join(' ')} failed: ${res.stderr}`);
  return res.stdout;
}

test('kubectl version sees a 1.32 server', async () => {
  const out = JSON.parse(await k('version', '-o', 'json')) as { serverVersion: { major: string; minor: string } };
  assert.equal(out.serverVersion.minor, '32');
});

test('kubectl api-resources lists every served kind', async () => {
  const out = await k('api-resources');
  for (const line of [
    /^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m,
    /^pods\s+po\s+v1\s+true\s+Pod$/m,
    /^cronjobs\s+cj\s+batch\/v1\s+true\s+CronJob$/m,
  ]) {
    assert.match(out, line);
  }
});

test('kubectl apply -f manifests/ creates, then reports unchanged', async () => {
  const first = await k('apply', '-f', manifests);
  assert.match(first, /namespace\/demo created/);
  assert.match(first, /deployment.apps\/web created/);
  assert.match(first, /cronjob.batch\/tick created/);
  const second = await k('apply', '-f', manifests);
  assert.doesNotMatch(second, /created|configured/);
  assert.equal(
    second
      .trim()
      .split('\n')
      .filter((l) => l.endsWith(' unchanged')).length,
    second.trim().split('\n').length,
  );
});

test('kubectl get all -A and get deploy -o yaml', async () => {
  const all = await k('get', 'all', '-A');
  assert.match(all, /NAMESPACE\s+NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE/);
  assert.match(all, /demo\s+deployment.apps\/web\s+0\/3/);
  assert.match(all, /demo\s+service\/web\s+ClusterIP/);
  const yaml = await k('get', 'deploy', 'web', '-n', 'demo', '-o', 'yaml');
  assert.match(yaml, /kind: Deployment/);
  assert.match(yaml, /replicas: 3/);
  assert.match(yaml, /kubectl.kubernetes.io\/last-applied-configuration/);
});

test('kubectl get pods -w streams new events', async () => {
  const first = join(home, 'first.yaml');
  writeFileSync(
    first,
    'apiVersion: v1\nkind: Pod\nmetadata:\n  name: first\n  namespace: demo\nspec:\n  containers:\n  - name: c\n    image: busybox:latest\n',
  );
  await k('apply', '-f', first);
  const child = spawn('kubectl', ['--kubeconfig', plane.pki.adminKubeconfig, 'get', 'pods', '-n', 'demo', '-w'], {
    env: { ...process.env, HOME: home },
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  try {
    await eventually(() => /first\s+0\/1\s+Pending/.test(out), { timeoutMs: 20_000, what: 'initial listing' });
    const pod = join(home, 'pod.yaml');
    writeFileSync(
      pod,
      'apiVersion: v1\nkind: Pod\nmetadata:\n  name: watched\n  namespace: demo\nspec:\n  containers:\n  - name: c\n    image: busybox:latest\n',
    );
    await k('apply', '-f', pod);
    await eventually(() => /watched\s+0\/1\s+Pending/.test(out), {
      timeoutMs: 20_000,
      what: 'the new pod in the watch output',
    });
    await k('delete', 'pod', 'watched', 'first', '-n', 'demo');
  } finally {
    child.kill('SIGTERM');
  }
});

test('kubectl scale, label, annotate, patch (merge, json, strategic)', async () => {
  assert.match(await k('scale', 'deploy/web', '-n', 'demo', '--replicas=5'), /deployment.apps\/web scaled/);
  assert.equal(await k('get', 'deploy', 'web', '-n', 'demo', '-o', 'jsonpath={.spec.replicas}'), '5');
  await k('label', 'deploy', 'web', '-n', 'demo', 'tier=front');
  await k('annotate', 'deploy', 'web', '-n', 'demo', 'owner=team-a');
  await k('patch', 'deploy', 'web', '-n', 'demo', '--type=merge', '-p', '{"spec":{"minReadySeconds":2}}');
  await k(
    'patch',
    'deploy',
    'web',
    '-n',
    'demo',
    '--type=json',
    '-p',
    '[{"op":"replace","path":"/spec/replicas","value":4}]',
  );
  await k(
    'patch',
    'deploy',
    'web',
    '-n',
    'demo',
    '-p',
    '{"spec":{"template":{"spec":{"containers":[{"name":"httpd","image":"busybox:2"}]}}}}',
  );
  const d = JSON.parse(await k('get', 'deploy', 'web', '-n', 'demo', '-o', 'json')) as {
    metadata: { labels: Record<string, string>; annotations: Record<string, string> };
    spec: {
      replicas: number;
      minReadySeconds: number;
      template: { spec: { containers: { name: string; image: string }[] } };
    };
  };
  assert.equal(d.metadata.labels['tier'], 'front');
  assert.equal(d.metadata.annotations['owner'], 'team-a');
  assert.equal(d.spec.replicas, 4);
  assert.equal(d.spec.minReadySeconds, 2);
  assert.deepEqual(
    d.spec.template.spec.containers.map((c) => [c.name, c.image]),
    [['httpd', 'busybox:2']],
  );
});

test('kubectl apply --server-side creates and updates', async () => {
  const file = join(home, 'ssa.yaml');
  writeFileSync(
    file,
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\n  namespace: demo\ndata:\n  a: "1"\n  b: "2"\n',
  );
  assert.match(await k('apply', '--server-side', '-f', file), /configmap\/ssa serverside-applied/);
  writeFileSync(file, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\n  namespace: demo\ndata:\n  a: "3"\n');
  await k('apply', '--server-side', '-f', file);
  const cm = JSON.parse(await k('get', 'cm', 'ssa', '-n', 'demo', '-o', 'json')) as { data: Record<string, string> };
  assert.deepEqual(cm.data, { a: '3' });
});

test('kubectl delete -f manifests/ removes everything', async () => {
  const out = await k('delete', '-f', manifests);
  assert.match(out, /namespace "demo" deleted/);
  const res = await kubectl(plane.pki.adminKubeconfig, ['get', 'ns', 'demo'], { home });
  assert.notEqual(res.code, 0);
  assert.match(res.stderr, /NotFound/);
});
