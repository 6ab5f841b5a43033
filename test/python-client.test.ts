// The official Python client (Debian's python3-kubernetes 22.6, which scripts/setup-host.sh
// installs) against a real cluster, unmodified: Watch().stream sees ADDED, MODIFIED and
// DELETED; a followed log streams lines as the container writes them; an exec with stdin
// echoes what is written; a Deployment and a DaemonSet go through create, read, patch,
// replace, list and delete, the client's models checking every required field. The client
// sends its booleans as `True`: each of these failed when the server read only `true`.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { RESOURCES } from '../pkg/api/index.js';
import type { RestClient } from '../pkg/client/index.js';
import { startAgentCluster, type AgentCluster } from './harness/agent-cluster.js';
import { eventually } from './harness/clients.js';
import { run, type ControlPlane, type NodeAgent } from './harness/control-plane.js';
import { startBusyboxPod, TICKING } from './harness/pods.js';

/** Debian's interpreter, whose dist-packages hold python3-kubernetes (not a pyenv shim's). */
const PYTHON = '/usr/bin/python3';
const NS = 'default';

let cluster: AgentCluster | undefined;
let plane: ControlPlane;
let agent: NodeAgent;
let client: RestClient;
let dir: string;

const PRELUDE = `
import sys, time
from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException
from kubernetes.stream import stream
config.load_kube_config(config_file=sys.argv[1])
ns = sys.argv[2]
v1 = client.CoreV1Api()
apps = client.AppsV1Api()
`;

/** Writes a script (the prelude, then body) and returns its path. */
function script(name: string, body: string): string {
  const path = join(dir, `${name}.py`);
  writeFileSync(path, PRELUDE + body);
  return path;
}

async function python(path: string, args: string[], timeoutMs = 60_000): Promise<string> {
  const res = await run(PYTHON, [path, plane.pki.adminKubeconfig, NS, ...args], { timeoutMs });
  assert.equal(res.code, 0, `${path} exited ${res.code}: ${res.stdout}\n${res.stderr}`);
  return res.stdout;
}

/** A running pod on the agent whose container prints `tick N` every 0.3 s. */
function tickingPod(name: string): Promise<void> {
  return startBusyboxPod(client, { name, namespace: NS, nodeName: agent.name }, TICKING);
}

before(async () => {
  const found = await run(PYTHON, ['-c', 'import kubernetes; print(kubernetes.__version__)']);
  assert.equal(
    found.code,
    0,
    `python3-kubernetes is not installed (scripts/setup-host.sh installs it): ${found.stderr}`,
  );
  cluster = await startAgentCluster({ plane: { withControllers: true } });
  ({ plane, agent, client } = cluster);
  dir = mkdtempSync(join(tmpdir(), 'python-client-'));
  await tickingPod('py-ticker');
});
after(async () => {
  await cluster?.stop();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe('the official Python client', () => {
  test('Watch().stream(list_namespaced_pod) sees ADDED, MODIFIED and DELETED', async () => {
    const path = script(
      'watch',
      `
pod = sys.argv[3]
w = watch.Watch()
print('watching', flush=True)
for ev in w.stream(v1.list_namespaced_pod, namespace=ns, timeout_seconds=60):
    if ev['object'].metadata.name != pod:
        continue
    print(ev['type'], pod, flush=True)
    if ev['type'] == 'DELETED':
        w.stop()
        sys.exit(0)
print('the watch ended without DELETED', flush=True)
sys.exit(3)
`,
    );
    const child: ChildProcess = spawn(PYTHON, [path, plane.pki.adminKubeconfig, NS, 'py-watched'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      await eventually(() => out.includes('watching'), { timeoutMs: 20_000, what: 'the script started' });
      // Unscheduled: it stays Pending and is deleted at once.
      await client.create(
        RESOURCES.pods,
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'py-watched' },
          spec: { containers: [{ name: 'c', image: 'busybox:latest' }] },
        },
        { namespace: NS },
      );
      await eventually(() => out.includes('ADDED py-watched'), { timeoutMs: 20_000, what: `ADDED in ${out}` });
      await client.patch(RESOURCES.pods, 'py-watched', {
        namespace: NS,
        type: 'merge',
        body: { metadata: { labels: { seen: 'yes' } } },
      });
      await eventually(() => out.includes('MODIFIED py-watched'), { timeoutMs: 20_000, what: `MODIFIED in ${out}` });
      await client.delete(RESOURCES.pods, 'py-watched', { namespace: NS });
      assert.equal(await exited, 0, out);
      assert.match(out, /ADDED py-watched\n(MODIFIED py-watched\n)+DELETED py-watched\n/);
    } finally {
      child.kill('SIGKILL');
    }
  });

  test('read_namespaced_pod_log(follow=True) streams lines as the container writes them', async () => {
    const path = script(
      'follow',
      `
resp = v1.read_namespaced_pod_log(name=sys.argv[3], namespace=ns, follow=True, tail_lines=1, _preload_content=False)
first = None
buf = ''
deadline = time.time() + 30
for chunk in resp.stream():
    buf += chunk.decode()
    while '\\n' in buf:
        line, buf = buf.split('\\n', 1)
        n = int(line.split()[1])
        first = n if first is None else first
        print(line, flush=True)
        if n >= first + 3:
            resp.release_conn()
            sys.exit(0)
    if time.time() > deadline:
        sys.exit(5)
print('the log stream ended: follow was not honoured', flush=True)
sys.exit(2)
`,
    );
    const out = await python(path, ['py-ticker']);
    const ticks = out
      .trim()
      .split('\n')
      .map((l) => Number(l.split(' ')[1]));
    assert.ok(ticks.length >= 4, out);
    // Consecutive lines, each written after the request began (tail_lines=1 gave only the first).
    for (let i = 1; i < ticks.length; i++) assert.equal(ticks[i], (ticks[i - 1] ?? 0) + 1, out);
  });

  test('stream(connect_get_namespaced_pod_exec, stdin=True) echoes what is written', async () => {
    const path = script(
      'exec',
      `
resp = stream(v1.connect_get_namespaced_pod_exec, sys.argv[3], ns, command=['cat'],
              stderr=True, stdin=True, stdout=True, tty=False, _preload_content=False)
resp.write_stdin('hello from python\\n')
out = ''
deadline = time.time() + 30
while resp.is_open() and time.time() < deadline and 'hello from python' not in out:
    resp.update(timeout=1)
    if resp.peek_stdout():
        out += resp.read_stdout()
resp.close()
print(out, end='', flush=True)
sys.exit(0 if 'hello from python' in out else 4)
`,
    );
    assert.equal(await python(path, ['py-ticker']), 'hello from python\n');
  });

  test('a Deployment and a DaemonSet: create, read, patch, replace, list, delete (every model field checked)', async () => {
    const path = script(
      'crud',
      `
labels = {'app': 'py-web'}
template = client.V1PodTemplateSpec(
    metadata=client.V1ObjectMeta(labels=labels),
    spec=client.V1PodSpec(containers=[client.V1Container(name='c', image='busybox:latest')]))
body = client.V1Deployment(
    metadata=client.V1ObjectMeta(name='py-web'),
    spec=client.V1DeploymentSpec(replicas=1, selector=client.V1LabelSelector(match_labels=labels), template=template))
created = apps.create_namespaced_deployment(ns, body)
assert created.metadata.uid, created
assert apps.read_namespaced_deployment('py-web', ns).spec.replicas == 1
assert apps.patch_namespaced_deployment('py-web', ns, {'spec': {'replicas': 2}}).spec.replicas == 2
# The controller writes the status meanwhile: a replace of a stale read is 409, retried as clients do.
for attempt in range(10):
    current = apps.read_namespaced_deployment('py-web', ns)
    current.spec.replicas = 3
    try:
        assert apps.replace_namespaced_deployment('py-web', ns, current).spec.replicas == 3
        break
    except ApiException as e:
        assert e.status == 409 and attempt < 9, e
assert 'py-web' in [d.metadata.name for d in apps.list_namespaced_deployment(ns).items]
try:
    apps.create_namespaced_deployment(ns, body)
    sys.exit(6)
except ApiException as e:
    assert e.status == 409, e
status = apps.delete_namespaced_deployment('py-web', ns)
assert status.status == 'Success', status
try:
    apps.read_namespaced_deployment('py-web', ns)
    sys.exit(7)
except ApiException as e:
    assert e.status == 404, e

ds = client.V1DaemonSet(
    metadata=client.V1ObjectMeta(name='py-ds'),
    spec=client.V1DaemonSetSpec(selector=client.V1LabelSelector(match_labels=labels), template=template))
made = apps.create_namespaced_daemon_set(ns, ds)
assert made.status.number_ready == 0, made.status
assert apps.read_namespaced_daemon_set('py-ds', ns).status.desired_number_scheduled >= 0
apps.delete_namespaced_daemon_set('py-ds', ns)
print('ok', flush=True)
`,
    );
    assert.equal((await python(path, [])).trim(), 'ok');
  });
});
