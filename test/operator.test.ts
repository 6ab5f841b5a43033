// An operator, end to end, the way one ships: a CustomResourceDefinition (WebApp), a
// controller script in a ConfigMap run by a Deployment in the coxswain/node image, with its
// own ServiceAccount and the least RBAC it needs (manifests/operator/). On one simulated host
// with the pod network, the operator reaches the API through the `kubernetes` Service with
// its mounted token, watches WebApps and keeps a Deployment for each; real containers run.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { eventually } from './harness/clients.js';
import { kubectl, REPO, type ControlPlane } from './harness/control-plane.js';
import { hostDocker, startSimCluster, type SimCluster, type SimHost } from './harness/sim-hosts.js';
import { runRoot } from './harness/run-root.js';

/** Host numbers of this file (multi-host.test.ts uses 1 to 3, run-roots.test.ts 200). */
const FIRST_HOST = 7;
const OPERATOR = join(REPO, 'manifests', 'operator');

let cluster: SimCluster | undefined;
let plane: ControlPlane;
let host: SimHost;
let home: string;

async function k(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return kubectl(plane.pki.adminKubeconfig, args, { home, timeoutMs: 60_000, ...(input !== undefined && { input }) });
}

async function ok(args: string[], input?: string): Promise<string> {
  const res = await k(args, input);
  assert.equal(res.code, 0, `kubectl ${args.join(' ')}: ${res.stderr}`);
  return res.stdout;
}

/** `kubectl get … -o jsonpath=…`, '' when the object is missing. */
async function jsonpath(args: string[], path: string): Promise<string> {
  const res = await k(['get', ...args, '-o', `jsonpath=${path}`]);
  return res.code === 0 ? res.stdout.trim() : '';
}

/** Running app containers of the WebApp's pods on the host's dockerd. */
async function runningContainers(webapp: string): Promise<number> {
  const ps = await hostDocker(host, ['ps', '-q', '--filter', 'label=io.coxswain.container.type=app']);
  let n = 0;
  for (const id of ps.stdout.split('\n').filter((l) => l.trim() !== '')) {
    const pod = await hostDocker(host, ['inspect', '-f', '{{ index .Config.Labels "io.coxswain.pod.name" }}', id]);
    if (pod.stdout.trim().startsWith(`${webapp}-`)) n++;
  }
  return n;
}

async function operatorLog(): Promise<string> {
  return (await k(['logs', '-n', 'webapp-operator', 'deployment/webapp-operator', '--tail', '40'])).stdout;
}

/** eventually(), and on failure the operator's own log beside the message. */
async function until(check: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  await eventually(check, { timeoutMs, intervalMs: 1000, what }).catch(async (err: unknown) =>
    assert.fail(`${String(err)}\noperator log:\n${await operatorLog()}`),
  );
}

before(async () => {
  cluster = await startSimCluster({ hosts: 1, graceSeconds: 20, first: FIRST_HOST });
  plane = cluster.plane;
  const [only] = cluster.hosts;
  assert.ok(only !== undefined);
  host = only;
  home = mkdtempSync(join(runRoot(), 'operator-home-'));
});

after(async () => {
  await cluster?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

test('the operator runs as a pod with its ServiceAccount, and keeps a Deployment for each WebApp', async () => {
  await ok(['apply', '-f', join(OPERATOR, 'crd.yaml')]);
  await ok(['wait', '--for', 'condition=Established', '--timeout', '60s', 'crd/webapps.demo.coxswain.io']);
  await ok(['create', 'namespace', 'webapp-operator']);
  const code = `--from-file=${join(OPERATOR, 'main.mjs')}`;
  await ok(['create', 'configmap', 'webapp-operator-code', '-n', 'webapp-operator', code]);
  await ok(['apply', '-f', join(OPERATOR, 'operator.yaml')]);
  const operatorPod = ['pods', '-n', 'webapp-operator', '-l', 'app=webapp-operator'];
  await until(
    async () => (await jsonpath(operatorPod, '{.items[0].status.phase}')) === 'Running',
    'the operator pod runs',
    90_000,
  );
  // Least privilege: what the operator was not granted, it cannot do.
  const as = ['--as', 'system:serviceaccount:webapp-operator:webapp-operator'];
  assert.equal((await k(['auth', 'can-i', 'list', 'secrets', ...as])).stdout.trim(), 'no');
  assert.equal((await k(['auth', 'can-i', 'delete', 'webapps.demo.coxswain.io', ...as])).stdout.trim(), 'no');
  assert.equal((await k(['auth', 'can-i', 'watch', 'webapps.demo.coxswain.io', ...as])).stdout.trim(), 'yes');

  await ok(['apply', '-f', join(OPERATOR, 'webapp.yaml')]);
  const replicas = (): Promise<string> => jsonpath(['deployment', 'hello'], '{.spec.replicas}');
  await until(async () => (await replicas()) === '2', 'the operator creates the Deployment hello with 2 replicas');
  const owner = '{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}';
  assert.equal(await jsonpath(['deployment', 'hello'], owner), 'WebApp/hello');
  await until(
    async () => (await runningContainers('hello')) === 2,
    "two containers of hello's pods run on the host",
    90_000,
  );
  await until(
    async () => (await jsonpath(['webapp', 'hello'], '{.status.readyReplicas}')) === '2',
    'the WebApp reports 2 ready replicas',
  );
  const table = await ok(['get', 'webapps']);
  assert.match(table, /NAME\s+IMAGE\s+DESIRED\s+READY\s+AGE/);
  assert.match(table, /hello\s+busybox:latest\s+2\s+2\s+/);

  // A spec change reaches the Deployment; `kubectl scale` goes through the scale subresource.
  await ok(['patch', 'webapp', 'hello', '--type', 'merge', '-p', '{"spec":{"replicas":3}}']);
  await until(async () => (await replicas()) === '3', 'the Deployment follows the WebApp to 3 replicas');
  await ok(['scale', 'webapp', 'hello', '--replicas', '1']);
  await until(async () => (await replicas()) === '1', 'kubectl scale webapp reaches the Deployment');

  // A Deployment deleted by hand comes back while its WebApp lives.
  const uid = await jsonpath(['deployment', 'hello'], '{.metadata.uid}');
  await ok(['delete', 'deployment', 'hello', '--wait=false']);
  await until(async () => {
    const now = await jsonpath(['deployment', 'hello'], '{.metadata.uid}');
    return now !== '' && now !== uid;
  }, 'the operator puts the deleted Deployment back');
});

test('a WebApp the schema refuses changes nothing; deleting a WebApp removes its Deployment and containers', async () => {
  const bad = await k(
    ['apply', '-f', '-'],
    'apiVersion: demo.coxswain.io/v1\nkind: WebApp\nmetadata: {name: bad}\nspec: {image: busybox:latest, replicas: -1}\n',
  );
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /spec\.replicas/);
  assert.equal(await jsonpath(['deployment', 'bad'], '{.metadata.name}'), '');

  assert.notEqual(await jsonpath(['deployment', 'hello'], '{.metadata.name}'), '', 'hello has its Deployment');
  await ok(['delete', 'webapp', 'hello']);
  await until(
    async () => (await jsonpath(['deployment', 'hello'], '{.metadata.name}')) === '',
    'the garbage collector deletes the Deployment of the deleted WebApp',
  );
  await until(
    async () => (await runningContainers('hello')) === 0,
    "hello's containers are gone from the host",
    90_000,
  );
});
