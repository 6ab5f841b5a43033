// coxctl's kubectl verbs against a real cluster (a control plane and one node agent running
// busybox pods in Docker): each verb's real effect is checked through the API, its output
// beside the real kubectl's where both print the same thing, and bad input next to good
// input (one line of error, a non-zero exit, nothing changed).
// Needs root and Docker; runs under /tmp/coxswain-docker.lock with the other Docker tests.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import yaml from 'js-yaml';
import { RESOURCES, type Endpoints } from '../pkg/api/index.js';
import type { RestClient } from '../pkg/client/index.js';
import { isNotFound } from '../pkg/errors/index.js';
import { startAgentCluster, type AgentCluster } from './harness/agent-cluster.js';
import { eventually, R } from './harness/clients.js';
import { coxctl, DIST, kubectl, run, waitForLine, type ControlPlane } from './harness/control-plane.js';

const NS = 'verbs';
/**
 * The local busybox under a tag of its own: the generators (like kubectl's) leave
 * imagePullPolicy unset, and for `:latest` that means Always, which cannot pull offline.
 */
const IMAGE = 'busybox:coxctl-verbs';
const PAGE = 'served-by-verbs';
const HTTPD = `mkdir -p /www && echo ${PAGE} > /www/index.html && exec httpd -f -p 80 -h /www`;

let cluster: AgentCluster | undefined;
let plane: ControlPlane;
let client: RestClient;
let work: string;
let home: string;

before(async () => {
  const tagged = await run('docker', ['tag', 'busybox:latest', IMAGE]);
  assert.equal(tagged.code, 0, tagged.stderr);
  cluster = await startAgentCluster({ plane: { withControllers: true, withScheduler: true } });
  ({ plane, client } = cluster);
  work = mkdtempSync(join(tmpdir(), 'coxctl-verbs-'));
  home = mkdtempSync(join(tmpdir(), 'coxctl-verbs-kubectl-'));
});

after(async () => {
  await cluster?.stop();
  await run('docker', ['rmi', IMAGE]);
  rmSync(work, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

type Result = { code: number; stdout: string; stderr: string };

function cx(args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<Result> {
  return coxctl(plane.pki.adminKubeconfig, args, opts);
}

async function ok(...args: string[]): Promise<string> {
  const res = await cx(args, { timeoutMs: 150_000 });
  assert.equal(res.code, 0, `coxctl ${args.join(' ')} failed: ${res.stderr}`);
  return res.stdout;
}

/** Runs coxctl expecting a failure: one line on stderr, returned. */
async function fails(args: string[], code = 1): Promise<string> {
  const res = await cx(args);
  assert.equal(res.code, code, `coxctl ${args.join(' ')}: stdout ${res.stdout} stderr ${res.stderr}`);
  const lines = res.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line of error, got: ${res.stderr}`);
  return res.stderr.trim();
}

function kc(args: string[]): Promise<Result> {
  return kubectl(plane.pki.adminKubeconfig, args, { home });
}

async function deploymentOf(name: string): Promise<{ replicas: number; labels: Record<string, string> }> {
  const d = await client.get(R.deployments, name, { namespace: NS });
  return { replicas: d.spec?.replicas ?? -1, labels: d.metadata.labels ?? {} };
}

function httpGet(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

describe('coxctl kubectl verbs', () => {
  test('create namespace and deployment: pods run; wait --for=condition=Available returns', async () => {
    assert.equal((await ok('create', 'namespace', NS)).trim(), `namespace/${NS} created`);
    assert.match(
      await fails(['create', 'namespace', NS]),
      /^Error from server \(AlreadyExists\): namespaces "verbs" already exists$/,
    );
    const created = await ok(
      'create',
      'deployment',
      'web',
      '-n',
      NS,
      `--image=${IMAGE}`,
      '--replicas=2',
      '--port=80',
      '--',
      'sh',
      '-c',
      HTTPD,
    );
    assert.equal(created.trim(), 'deployment.apps/web created');
    assert.equal(
      await fails(['create', 'deployment', 'web', '-n', NS, `--image=${IMAGE}`]),
      'error: failed to create deployment: deployments.apps "web" already exists',
    );
    const met = await ok('wait', '-n', NS, 'deploy/web', '--for=condition=Available', '--timeout=120s');
    assert.equal(met.trim(), 'deployment.apps/web condition met');
    const pods = await client.list(R.pods, { namespace: NS, labelSelector: 'app=web' });
    assert.equal(pods.items.filter((p) => p.status?.phase === 'Running').length, 2);
    const ready = await ok('wait', '-n', NS, 'pod', '-l', 'app=web', '--for=condition=Ready', '--timeout=60s');
    assert.equal(ready.trim().split('\n').length, 2);
  });

  test("wait times out with kubectl's message; jsonpath and delete waits", async () => {
    assert.equal(
      await fails(['wait', '-n', NS, 'deploy/web', '--for=condition=Bogus', '--timeout=1s']),
      'error: timed out waiting for the condition on deployments/web',
    );
    assert.equal(
      await fails(['wait', '-n', NS, 'deploy/nope', '--for=condition=Available', '--timeout=1s']),
      'Error from server (NotFound): deployments.apps "nope" not found',
    );
    assert.equal(
      await fails(['wait', '-n', NS, 'deploy/web', '--for=bogus']),
      'error: unrecognized condition: "bogus"',
    );
    assert.match(
      await ok('wait', '-n', NS, 'deploy/web', '--for=jsonpath={.spec.replicas}=2', '--timeout=5s'),
      /^deployment.apps\/web condition met$/m,
    );
    // A finalizer holds the object while the wait starts; removing it lets the deletion finish.
    await client.create(
      R.configmaps,
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'doomed', finalizers: ['example.com/hold'] } },
      { namespace: NS },
    );
    const waiting = cx(['wait', '-n', NS, 'cm/doomed', '--for=delete', '--timeout=60s']);
    await ok('delete', 'cm', 'doomed', '-n', NS, '--wait=false');
    await new Promise((r) => setTimeout(r, 3000));
    await client.patch(R.configmaps, 'doomed', {
      type: 'merge',
      body: { metadata: { finalizers: null } },
      namespace: NS,
    });
    const res = await waiting;
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout.trim(), 'configmap/doomed condition met');
  });

  test('expose deployment: a Service whose endpoints fill; port-forward svc/ and pod/ carry HTTP', async () => {
    assert.equal(
      (await ok('expose', 'deployment', 'web', '-n', NS, '--port=8080', '--target-port=80')).trim(),
      'service/web exposed',
    );
    const svc = await client.get(R.services, 'web', { namespace: NS });
    assert.deepEqual(svc.spec?.selector, { app: 'web' });
    assert.equal(svc.spec?.ports?.[0]?.targetPort, 80);
    await eventually(
      async () => {
        const ep: Endpoints = await client.get(R.endpoints, 'web', { namespace: NS });
        return (ep.subsets ?? []).flatMap((s) => s.addresses ?? []).length === 2;
      },
      { timeoutMs: 60_000, what: 'two ready endpoints' },
    );
    assert.equal(
      await fails(['expose', 'deploy', 'nope', '-n', NS, '--port=80']),
      'Error from server (NotFound): deployments.apps "nope" not found',
    );
    const pod = (await client.list(R.pods, { namespace: NS, labelSelector: 'app=web' })).items[0]?.metadata.name ?? '';
    for (const target of ['svc/web', `pod/${pod}`]) {
      const remote = target === 'svc/web' ? '8080' : '80';
      const child = spawn(process.execPath, [
        join(DIST, 'cmd', 'coxctl.js'),
        '--kubeconfig',
        plane.pki.adminKubeconfig,
        '-n',
        NS,
        'port-forward',
        target,
        `:${remote}`,
      ]);
      try {
        const line = await waitForLine(child, /Forwarding from 127\.0\.0\.1:(\d+) -> 80/, 30_000);
        const port = Number(/127\.0\.0\.1:(\d+)/.exec(line)?.[1]);
        assert.equal((await httpGet(port)).trim(), PAGE);
        assert.equal((await httpGet(port)).trim(), PAGE, 'a second connection works too');
      } finally {
        child.kill('SIGTERM');
      }
    }
    assert.equal(
      await fails(['port-forward', '-n', NS, 'pod/nope', '8080:80']),
      'Error from server (NotFound): pods "nope" not found',
    );
    assert.match(
      await fails(['port-forward', '-n', NS, 'svc/web', '9999']),
      /^error: Service web does not have a service port 9999$/,
    );
  });

  test('run: a pod from an image with args, env and labels; it runs to completion', async () => {
    const out = await ok(
      'run',
      'once',
      '-n',
      NS,
      `--image=${IMAGE}`,
      '--restart=Never',
      '--env=WHO=verbs',
      '--labels=job=once',
      '--command',
      '--',
      'sh',
      '-c',
      'echo hello $WHO',
    );
    assert.equal(out.trim(), 'pod/once created');
    assert.match(
      await ok('wait', '-n', NS, 'pod/once', '--for=jsonpath={.status.phase}=Succeeded', '--timeout=90s'),
      /pod\/once condition met/,
    );
    const pod = await client.get(R.pods, 'once', { namespace: NS });
    assert.deepEqual(pod.metadata.labels, { job: 'once' });
    assert.equal((await ok('logs', 'once', '-n', NS)).trim(), 'hello verbs');
    assert.equal(
      await fails(['run', 'bad', '-n', NS, '--image=x', '--restart=Foo']),
      'error: invalid restart policy: Foo',
    );
    await assert.rejects(client.get(R.pods, 'bad', { namespace: NS }), isNotFound);
  });

  test('label and annotate: set, refuse without --overwrite, remove, selectors; bad syntax changes nothing', async () => {
    assert.equal((await ok('label', 'deploy', 'web', '-n', NS, 'tier=front')).trim(), 'deployment.apps/web labeled');
    assert.equal((await deploymentOf('web')).labels['tier'], 'front');
    assert.equal(
      await fails(['label', 'deploy', 'web', '-n', NS, 'tier=back']),
      "error: 'tier' already has a value (front), and --overwrite is false",
    );
    assert.equal((await deploymentOf('web')).labels['tier'], 'front');
    assert.equal(
      (await ok('label', 'deploy/web', '-n', NS, 'tier=back', '--overwrite')).trim(),
      'deployment.apps/web labeled',
    );
    assert.equal(
      (await ok('label', 'deploy/web', '-n', NS, 'tier=back', '--overwrite')).trim(),
      'deployment.apps/web not labeled',
    );
    assert.equal((await ok('label', 'deploy/web', '-n', NS, 'tier-')).trim(), 'deployment.apps/web unlabeled');
    assert.equal((await deploymentOf('web')).labels['tier'], undefined);
    const before = await deploymentOf('web');
    assert.match(await fails(['label', 'deploy', 'web', '-n', NS, 'a=b=c']), /^error: invalid label spec: a=b=c$/);
    assert.match(
      await fails(['label', 'deploy', 'web', '-n', NS, 'bad key=1']),
      /^The Deployment "web" is invalid: metadata.labels/,
    );
    assert.equal(
      await fails(['label', 'foos', 'x', '-n', NS, 'a=1']),
      'error: the server doesn\'t have a resource type "foos"',
    );
    assert.deepEqual(await deploymentOf('web'), before, 'nothing changed');
    const labeled = await ok('label', 'pods', '-n', NS, '-l', 'app=web', 'checked=yes');
    assert.equal(labeled.trim().split('\n').length, 2);
    const pods = await client.list(R.pods, { namespace: NS, labelSelector: 'checked=yes' });
    assert.equal(pods.items.length, 2);
    assert.equal(
      (await ok('annotate', 'deploy', 'web', '-n', NS, 'note=first')).trim(),
      'deployment.apps/web annotated',
    );
    assert.equal(
      await fails(['annotate', 'deploy', 'web', '-n', NS, 'note=second']),
      "error: --overwrite is false but found the following declared annotation(s): 'note' already has a value (first)",
    );
    const d = await client.get(R.deployments, 'web', { namespace: NS });
    assert.equal(d.metadata.annotations?.['note'], 'first');
  });

  test('patch: strategic, merge and json; bad patches and unknown types change nothing', async () => {
    assert.equal(
      (await ok('patch', 'deploy', 'web', '-n', NS, '-p', '{"spec":{"replicas":3}}')).trim(),
      'deployment.apps/web patched',
    );
    assert.equal((await deploymentOf('web')).replicas, 3);
    assert.equal(
      (await ok('patch', 'deploy', 'web', '-n', NS, '-p', '{"spec":{"replicas":3}}')).trim(),
      'deployment.apps/web patched (no change)',
    );
    await ok('patch', 'deploy/web', '-n', NS, '--type=merge', '-p', 'spec: {replicas: 2}');
    await ok(
      'patch',
      'deploy/web',
      '-n',
      NS,
      '--type=json',
      '-p',
      '[{"op":"add","path":"/spec/minReadySeconds","value":1}]',
    );
    const d = await client.get(R.deployments, 'web', { namespace: NS });
    assert.equal(d.spec?.replicas, 2);
    assert.equal(d.spec?.minReadySeconds, 1);
    assert.match(
      await fails(['patch', 'deploy', 'web', '-n', NS, '-p', '{bad']),
      /^Error from server \(BadRequest\): /,
    );
    assert.match(
      await fails([
        'patch',
        'deploy',
        'web',
        '-n',
        NS,
        '--type=json',
        '-p',
        '[{"op":"replace","path":"/spec/nope/x","value":3}]',
      ]),
      /^The request is invalid: .*\/spec\/nope\/x/,
    );
    assert.equal(
      await fails(['patch', 'deploy', 'web', '-n', NS, '--type=foo', '-p', '{}']),
      'error: --type must be one of [json merge strategic], not "foo"',
    );
    assert.equal(
      await fails(['patch', 'foos', 'web', '-p', '{}']),
      'error: the server doesn\'t have a resource type "foos"',
    );
    const after = await client.get(R.deployments, 'web', { namespace: NS });
    assert.equal(after.metadata.resourceVersion, d.metadata.resourceVersion, 'nothing changed');
  });

  test('edit with a scripted EDITOR: a change is saved; no change cancels; an invalid one reopens and gives up', async () => {
    const editor = (name: string, body: string): string => {
      const file = join(work, name);
      writeFileSync(file, `#!/bin/sh\n${body}\n`);
      chmodSync(file, 0o755);
      return file;
    };
    const withEditor = (file: string, args: string[]): Promise<Result> =>
      run(process.execPath, [join(DIST, 'cmd', 'coxctl.js'), '--kubeconfig', plane.pki.adminKubeconfig, ...args], {
        env: { ...process.env, KUBE_EDITOR: file },
      });
    const good = await withEditor(editor('good.sh', `sed -i 's/^  minReadySeconds: .*/  minReadySeconds: 2/' "$1"`), [
      'edit',
      'deploy/web',
      '-n',
      NS,
    ]);
    assert.equal(good.code, 0, good.stderr);
    assert.equal(good.stdout.trim(), 'deployment.apps/web edited');
    assert.equal((await client.get(R.deployments, 'web', { namespace: NS })).spec?.minReadySeconds, 2);
    const noop = await withEditor(editor('noop.sh', 'true'), ['edit', 'deploy/web', '-n', NS]);
    assert.equal(noop.code, 0);
    assert.equal(noop.stderr.trim(), 'Edit cancelled, no changes made.');
    const seen = join(work, 'seen.yaml');
    const bad = await withEditor(editor('bad.sh', `sed -i 's/^  replicas: .*/  replicas: -5/' "$1"; cp "$1" ${seen}`), [
      'edit',
      'deploy/web',
      '-n',
      NS,
    ]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /error: deployments.apps "web" is invalid/);
    assert.match(bad.stderr.trim(), /error: Edit cancelled, no valid changes were saved.$/);
    const copy = /A copy of your changes has been stored to "([^"]+)"/.exec(bad.stderr)?.[1];
    assert.ok(copy !== undefined && readFileSync(copy, 'utf8').includes('replicas: -5'), 'the refused text is kept');
    rmSync(copy, { force: true });
    assert.match(readFileSync(seen, 'utf8'), /^# \* spec.replicas: .*-5/m, 'the reopened file shows the reason');
    assert.equal((await deploymentOf('web')).replicas, 2, 'nothing changed');
  });

  test('set image: the named container changes; an unknown container is refused', async () => {
    await ok('create', 'deployment', 'other', '-n', NS, `--image=${IMAGE}`, '--replicas=0');
    assert.equal(
      (await ok('set', 'image', 'deployment/other', '-n', NS, 'busybox=busybox:1.36')).trim(),
      'deployment.apps/other image updated',
    );
    const d = await client.get(R.deployments, 'other', { namespace: NS });
    assert.equal(d.spec?.template.spec?.containers[0]?.image, 'busybox:1.36');
    assert.equal(
      await ok('set', 'image', 'deployment/other', '-n', NS, 'busybox=busybox:1.36'),
      '',
      'no change, no line',
    );
    assert.equal(
      await fails(['set', 'image', 'deployment/other', '-n', NS, 'nope=x']),
      'error: unable to find container named "nope"',
    );
  });

  test('create configmap and secrets from literals, files and env files; dry runs persist nothing', async () => {
    writeFileSync(join(work, 'app.ini'), 'debug=true\n');
    writeFileSync(join(work, 'vars.env'), '# settings\nA=1\nB=two\n');
    await ok(
      'create',
      'configmap',
      'conf',
      '-n',
      NS,
      '--from-literal=k=v',
      `--from-file=${join(work, 'app.ini')}`,
      `--from-env-file=${join(work, 'vars.env')}`,
    );
    const cm = await client.get(R.configmaps, 'conf', { namespace: NS });
    assert.deepEqual(cm.data, { k: 'v', 'app.ini': 'debug=true\n', A: '1', B: 'two' });
    assert.equal(
      await fails(['create', 'configmap', 'x', '-n', NS, '--from-literal=foo']),
      'error: invalid literal source foo, expected key=value',
    );
    assert.equal(
      await fails(['create', 'configmap', 'x', '-n', NS, '--from-file=/nonexistent']),
      'error: error reading /nonexistent: no such file or directory',
    );
    await ok('create', 'secret', 'generic', 'creds', '-n', NS, '--from-literal=password=s3cret');
    const secret = await client.get(R.secrets, 'creds', { namespace: NS });
    assert.equal(Buffer.from(secret.data?.['password'] ?? '', 'base64').toString(), 's3cret');
    await ok(
      'create',
      'secret',
      'tls',
      'tls',
      '-n',
      NS,
      `--cert=${plane.pki.adminCert}`,
      `--key=${plane.pki.adminKey}`,
    );
    assert.equal((await client.get(R.secrets, 'tls', { namespace: NS })).type, 'kubernetes.io/tls');
    assert.equal(
      await fails([
        'create',
        'secret',
        'tls',
        'bad',
        '-n',
        NS,
        `--cert=${plane.pki.adminCert}`,
        `--key=${plane.pki.apiserverKey}`,
      ]),
      'error: tls: private key does not match public key',
    );
    assert.equal(
      (await ok('create', 'deployment', 'dry', '-n', NS, `--image=${IMAGE}`, '--dry-run=server')).trim(),
      'deployment.apps/dry created (server dry run)',
    );
    await assert.rejects(client.get(R.deployments, 'dry', { namespace: NS }), isNotFound);
    for (const [args, rest] of [
      [['create', 'deployment', 'dry', '--image=nginx', '--replicas=2', '--port=80'], []],
      [['create', 'configmap', 'dry', '--from-literal=a=1'], []],
      [['create', 'secret', 'generic', 'dry', '--from-literal=a=1'], []],
      [
        ['run', 'dry', '--image=nginx', '--restart=Never', '--env=A=1', '--labels=x=y'],
        ['--', 'sleep', '10'],
      ],
      [['create', 'namespace', 'dry'], []],
    ]) {
      const line = [...(args ?? []), '--dry-run=client', '-o', 'yaml', ...(rest ?? [])];
      const ours = yaml.load(await ok(...line));
      const theirs = await kc(line);
      assert.equal(theirs.code, 0, theirs.stderr);
      assert.deepEqual(ours, yaml.load(theirs.stdout), `coxctl ${line.join(' ')} builds what kubectl builds`);
    }
    await assert.rejects(client.get(R.pods, 'dry', { namespace: NS }), isNotFound);
  });

  test('auth can-i: yes for the admin, no for a restricted ServiceAccount (as kubectl answers)', async () => {
    await client.create(
      RESOURCES.serviceaccounts,
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'restricted' } },
      { namespace: NS },
    );
    assert.equal((await ok('auth', 'can-i', 'create', 'pods', '-n', NS)).trim(), 'yes');
    const as = `--as=system:serviceaccount:${NS}:restricted`;
    const no = await cx(['auth', 'can-i', 'create', 'pods', '-n', NS, as]);
    assert.equal(no.code, 1);
    assert.equal(no.stdout.trim(), 'no');
    const theirs = await kc(['auth', 'can-i', 'create', 'pods', '-n', NS, as]);
    assert.equal(theirs.code, 1);
    assert.equal(theirs.stdout.trim(), 'no');
    const rules = await ok('auth', 'can-i', '--list', '-n', NS, as);
    assert.match(rules, /^Resources\s+Non-Resource URLs\s+Resource Names\s+Verbs$/m);
    assert.match(rules, /^selfsubjectaccessreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]$/m);
    assert.doesNotMatch(rules, /^pods/m);
    // The impersonated identity is used for real requests too.
    assert.match(await fails(['get', 'pods', '-n', NS, as]), /^Error from server \(Forbidden\): /);
  });

  test("events: kubectl events columns; --for keeps one object's events", async () => {
    const ours = await ok('events', '-n', NS, '--for', 'deployment/web');
    const theirs = await kc(['events', '-n', NS, '--for', 'deployment/web']);
    assert.equal(theirs.code, 0, theirs.stderr);
    const header = (text: string): string[] => (text.split('\n')[0] ?? '').split(/\s{2,}/);
    assert.deepEqual(header(ours), header(theirs.stdout));
    assert.deepEqual(header(ours), ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE']);
    assert.match(ours, /Normal\s+ScalingReplicaSet\s+Deployment\/web\s+Scaled up replica set web-/);
    const none = await cx(['events', '-n', 'kube-public']);
    assert.equal(none.code, 0);
    assert.equal(none.stderr.trim(), 'No events found in kube-public namespace.');
  });

  test('top pod and top node show figures from metrics.k8s.io', async () => {
    let out = '';
    await eventually(
      async () => {
        const res = await cx(['top', 'pod', '-n', NS, '-l', 'app=web']);
        out = res.stdout;
        return res.code === 0 && /^web-\S+\s+\d+m\s+\d+Mi$/m.test(out);
      },
      { timeoutMs: 90_000, intervalMs: 2000, what: 'top pod shows the web pods' },
    );
    assert.match(out, /^NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)$/m);
    const nodes = await ok('top', 'node');
    assert.match(nodes, /^NAME\s+CPU\(cores\)\s+CPU\(%\)\s+MEMORY\(bytes\)\s+MEMORY\(%\)$/m);
    assert.match(nodes, new RegExp(`^${cluster?.agent.name ?? ''}\\s+\\d+m\\s+\\d+%\\s+\\d+Mi\\s+\\d+%$`, 'm'));
  });

  test('config: view redacts as kubectl does; contexts listed and switched on the file', async () => {
    const file = join(work, 'kubeconfig');
    copyFileSync(plane.pki.adminKubeconfig, file);
    const config = (args: string[]): Promise<Result> =>
      run(process.execPath, [join(DIST, 'cmd', 'coxctl.js'), '--kubeconfig', file, ...args]);
    const view = await config(['config', 'view']);
    const theirs = await kubectl(file, ['config', 'view'], { home });
    assert.deepEqual(yaml.load(view.stdout), yaml.load(theirs.stdout));
    assert.doesNotMatch(view.stdout, /BEGIN|LS0t/, 'no credential is shown');
    assert.match((await config(['config', 'view', '--raw'])).stdout, /client-key-data: LS0t/);
    const current = (await config(['config', 'current-context'])).stdout.trim();
    assert.equal(current, (await kubectl(file, ['config', 'current-context'], { home })).stdout.trim());
    assert.match(
      (await config(['config', 'get-contexts'])).stdout,
      new RegExp(
        `^CURRENT\\s+NAME\\s+CLUSTER\\s+AUTHINFO\\s+NAMESPACE\\n\\*\\s+${current.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s`,
      ),
    );
    const bad = await config(['config', 'use-context', 'nope']);
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr.trim(), 'error: no context exists with the name: "nope"');
    assert.equal((await config(['config', 'use-context', current])).stdout.trim(), `Switched to context "${current}".`);
  });

  test('completion bash completes verbs, types and the names of live objects', async () => {
    const bin = join(work, 'bin');
    rmSync(bin, { recursive: true, force: true });
    await run('mkdir', ['-p', bin]);
    writeFileSync(
      join(bin, 'coxctl'),
      `#!/bin/sh\nexec ${process.execPath} ${join(DIST, 'cmd', 'coxctl.js')} --kubeconfig ${plane.pki.adminKubeconfig} "$@"\n`,
    );
    chmodSync(join(bin, 'coxctl'), 0o755);
    const complete = async (line: string): Promise<string> => {
      const script = `source <(coxctl completion bash)\nCOMP_WORDS=(${line})\nCOMP_CWORD=$((\${#COMP_WORDS[@]} - 1))\n_coxctl\necho "\${COMPREPLY[*]}"`;
      const res = await run('bash', ['-c', script], {
        env: { ...process.env, PATH: `${bin}:${process.env['PATH'] ?? ''}` },
      });
      assert.equal(res.code, 0, res.stderr);
      return res.stdout.trim();
    };
    assert.equal(await complete('coxctl expo'), 'expose');
    assert.equal(await complete(`coxctl -n ${NS} get deploy o`), 'other');
    assert.equal(await complete(`coxctl -n ${NS} describe deployment/w`), 'deployment/web');
  });
});
