// The API proxy subresources, attach and ephemeral containers with the real kubectl 1.32 and
// the JavaScript client against a control plane and a node agent running busybox pods in
// Docker: `kubectl proxy` to a service and a pod, the node proxy, `kubectl attach` (output,
// and stdin to a `cat`), `kubectl debug` (an ephemeral container in the pod's network
// namespace), and the Kubernetes errors for what cannot work, with the server left healthy.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, test } from 'node:test';
import { Attach, KubeConfig } from '@kubernetes/client-node';
import type { Container, Pod, Service } from '../pkg/api/index.js';
import type { RestClient } from '../pkg/client/index.js';
import { startAgentCluster, type AgentCluster } from './harness/agent-cluster.js';
import { eventually, R } from './harness/clients.js';
import { kubectl, type ControlPlane, type NodeAgent } from './harness/control-plane.js';
import { isRunning } from './harness/pods.js';

let cluster: AgentCluster | undefined;
let plane: ControlPlane;
let agent: NodeAgent;
let client: RestClient;
let home: string;
const NS = 'default';
const children: ChildProcess[] = [];

function pod(name: string, container: Omit<Container, 'name' | 'image'>, labels: Record<string, string> = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels },
    spec: {
      nodeName: agent.name,
      terminationGracePeriodSeconds: 1,
      restartPolicy: 'Never',
      containers: [{ name: 'main', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', ...container }],
    },
  };
}

function service(name: string, app: string): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name },
    spec: { selector: { app }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
  };
}

async function waitForPod(name: string, until: (p: Pod) => boolean, what: string): Promise<Pod> {
  let last: Pod | undefined;
  await eventually(
    async () => {
      last = await client.get(R.pods, name, { namespace: NS });
      return until(last);
    },
    { timeoutMs: 60_000, intervalMs: 250, what: `${name}: ${what}` },
  ).catch((err: Error) => {
    throw new Error(`${err.message}; last status: ${JSON.stringify(last?.status)}`);
  });
  if (last === undefined) throw new Error(`${name} never read`);
  return last;
}

async function k(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return kubectl(plane.pki.adminKubeconfig, args, { home, timeoutMs: 60_000, ...(input !== undefined && { input }) });
}

/** A long-running kubectl whose output the test watches and whose stdin it writes. */
function startKubectl(args: string[]): { child: ChildProcess; output: () => string } {
  const child = spawn('kubectl', ['--kubeconfig', plane.pki.adminKubeconfig, ...args], {
    env: { ...process.env, HOME: home, KUBECONFIG: plane.pki.adminKubeconfig },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  child.stdin?.on('error', () => undefined);
  return { child, output: () => out };
}

async function serverHealthy(): Promise<void> {
  const res = await k(['get', '--raw', '/healthz']);
  assert.equal(res.stdout.trim(), 'ok');
}

before(async () => {
  cluster = await startAgentCluster({ plane: { withControllers: true } });
  ({ plane, agent, client } = cluster);
  home = mkdtempSync(join(tmpdir(), 'kubectl-px-'));
  const httpd = 'mkdir -p /www && echo hello-from-web > /www/index.html && exec httpd -f -p 8080 -h /www';
  await client.create(
    R.pods,
    pod('web', { command: ['sh', '-c', httpd], ports: [{ name: 'http', containerPort: 8080 }] }, { app: 'web' }),
    { namespace: NS },
  );
  const ticker = 'i=0; while true; do echo tick-$i; i=$((i+1)); sleep 0.5; done';
  await client.create(R.pods, pod('ticker', { command: ['sh', '-c', ticker] }), { namespace: NS });
  await client.create(R.pods, pod('echoer', { command: ['cat'], stdin: true }), { namespace: NS });
  await client.create(R.pods, pod('done', { command: ['true'] }), { namespace: NS });
  // Answers any connection with a 101 and a few bytes after it.
  const switching =
    'HTTP/1.1 101 Switching Protocols\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\n\\r\\nhello-upgraded';
  await client.create(
    R.pods,
    pod('upgrader', { command: ['sh', '-c', `while true; do printf '${switching}' | nc -l -p 9000; done`] }),
    { namespace: NS },
  );
  await client.create(R.pods, pod('shell', { command: ['sh'], stdin: true, tty: true }), { namespace: NS });
  await client.create(R.services, service('web', 'web'), { namespace: NS });
  await client.create(R.services, service('empty', 'nothing-matches'), { namespace: NS });
  for (const name of ['web', 'ticker', 'echoer', 'shell', 'upgrader']) await waitForPod(name, isRunning, 'running');
  await waitForPod('done', (p) => p.status?.phase === 'Succeeded', 'succeeded');
  await eventually(
    async () =>
      ((await client.get(R.endpoints, 'web', { namespace: NS })).subsets ?? []).some(
        (s) => (s.addresses ?? []).length > 0,
      ),
    { timeoutMs: 30_000, intervalMs: 250, what: 'web has a ready endpoint' },
  );
});

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await cluster?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

test('kubectl proxy: a service and a pod answer through the API proxy', async () => {
  const proxy = startKubectl(['proxy', '--port=0']);
  let port = 0;
  await eventually(
    () => {
      const m = /Starting to serve on 127\.0\.0\.1:(\d+)/.exec(proxy.output());
      port = Number(m?.[1] ?? 0);
      return port > 0;
    },
    { timeoutMs: 20_000, what: `kubectl proxy to start: ${proxy.output()}` },
  );
  const base = `http://127.0.0.1:${port}/api/v1/namespaces/${NS}`;
  for (const path of ['/services/web:80/proxy/', '/services/web:http/proxy/index.html', '/pods/web:8080/proxy/']) {
    const res = await fetch(base + path);
    assert.equal(res.status, 200, path);
    assert.equal((await res.text()).trim(), 'hello-from-web', path);
  }
  // A bare …/proxy goes to …/proxy/, as Kubernetes redirects it.
  const bare = await fetch(`${base}/services/web:80/proxy`, { redirect: 'manual' });
  assert.equal(bare.status, 301);
  assert.match(bare.headers.get('location') ?? '', /\/services\/web:80\/proxy\/$/);
  // A missing file is the pod's own 404, passed through.
  assert.equal((await fetch(`${base}/pods/web:8080/proxy/missing.html`)).status, 404);
  proxy.child.kill('SIGTERM');
});

test('an upgrade goes through the pod proxy: the pod answers 101 and its bytes follow', async () => {
  const url = new URL(plane.server);
  const req = https.request({
    host: url.hostname,
    port: Number(url.port),
    path: `/api/v1/namespaces/${NS}/pods/upgrader:9000/proxy/ws?x=1`,
    headers: {
      Connection: 'Upgrade',
      Upgrade: 'websocket',
      'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
      'Sec-WebSocket-Version': '13',
    },
    cert: readFileSync(plane.pki.adminCert),
    key: readFileSync(plane.pki.adminKey),
    ca: readFileSync(plane.pki.caCert),
  });
  const { code, first } = await new Promise<{ code: number; first: string }>((resolve, reject) => {
    req.once('upgrade', (res, socket, head) => {
      let got = head.toString();
      const done = (): void => {
        socket.destroy();
        resolve({ code: res.statusCode ?? 0, first: got });
      };
      if (got.includes('hello-upgraded')) return done();
      socket.on('data', (c: Buffer) => {
        got += c.toString();
        if (got.includes('hello-upgraded')) done();
      });
      socket.write('from-client\n');
    });
    req.once('response', (res) => reject(new Error(`no upgrade: HTTP ${res.statusCode ?? 0}`)));
    req.once('error', reject);
    req.end();
  });
  assert.equal(code, 101);
  assert.match(first, /hello-upgraded/);
  await serverHealthy();
});

test('kubectl get --raw reaches the node agent through nodes/N/proxy', async () => {
  const res = await k(['get', '--raw', `/api/v1/nodes/${agent.name}/proxy/healthz`]);
  assert.equal(res.code, 0, res.stderr);
  assert.equal(res.stdout.trim(), 'ok');
});

test('proxy errors are the Kubernetes ones, and the server stays healthy', async () => {
  const raw = async (path: string): Promise<string> => {
    const res = await k(['get', '--raw', `/api/v1/namespaces/${NS}/${path}`]);
    assert.notEqual(res.code, 0, `${path} should fail: ${res.stdout}`);
    return res.stderr;
  };
  assert.match(await raw('services/web:81/proxy/'), /no service port 81 found for service "web"/);
  assert.match(await raw('services/empty:80/proxy/'), /no endpoints available for service "empty"/);
  assert.match(await raw('services/missing:80/proxy/'), /NotFound|not found/);
  assert.match(await raw('pods/web:9/proxy/'), /connection refused/);
  assert.match(await raw('pods/done/proxy/'), /pod "done" is not running/);
  assert.match(await raw('pods/a:b:c:d/proxy/'), /invalid pod request/);
  await serverHealthy();
});

test('kubectl attach streams the main process output', async () => {
  const attach = startKubectl(['attach', 'ticker']);
  await eventually(() => /tick-\d+\n[^]*tick-\d+/.test(attach.output()), {
    timeoutMs: 20_000,
    what: `ticks through attach: ${attach.output()}`,
  });
  attach.child.kill('SIGTERM');
  // Detaching leaves the process running.
  await waitForPod('ticker', isRunning, 'still running after detach');
});

test('kubectl attach -i sends input to a stdin: true container', async () => {
  const attach = startKubectl(['attach', '-i', 'echoer']);
  await eventually(
    () => {
      attach.child.stdin?.write('ping-123\n');
      return attach.output().includes('ping-123');
    },
    { timeoutMs: 20_000, intervalMs: 500, what: `the echo through attach: ${attach.output()}` },
  );
  attach.child.kill('SIGTERM');
});

test('kubectl attach -i -t reaches the shell of a stdin and tty container', async () => {
  const attach = startKubectl(['attach', '-i', '-t', 'shell']);
  await eventually(
    () => {
      attach.child.stdin?.write('echo tty-$((1+1))\n');
      return /tty-2/.test(attach.output());
    },
    { timeoutMs: 20_000, intervalMs: 500, what: `the shell's answer through attach -it: ${attach.output()}` },
  );
  attach.child.kill('SIGTERM');
  await waitForPod('shell', isRunning, 'the shell runs on after detach');
});

test('kubectl attach -i to a container without stdin streams output; input goes nowhere', async () => {
  const attach = startKubectl(['attach', '-i', 'ticker']);
  attach.child.stdin?.write('never-echoed\n');
  await eventually(() => /tick-\d+/.test(attach.output()), { timeoutMs: 20_000, what: attach.output() });
  assert.doesNotMatch(attach.output(), /never-echoed/);
  attach.child.kill('SIGTERM');
  const done = await k(['attach', 'done']);
  assert.notEqual(done.code, 0);
  assert.match(done.stderr, /cannot attach a container in a completed pod; current phase is Succeeded/);
  await serverHealthy();
});

test('the JavaScript client attaches with stdin', async () => {
  const kc = new KubeConfig();
  kc.loadFromFile(plane.pki.adminKubeconfig);
  const stdout = new PassThrough();
  const stdin = new PassThrough();
  let out = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  const ws = await new Attach(kc).attach(NS, 'echoer', 'main', stdout, null, stdin, false);
  try {
    await eventually(
      () => {
        stdin.write('js-attach-7\n');
        return out.includes('js-attach-7');
      },
      { timeoutMs: 20_000, intervalMs: 500, what: `echo through the JS client: ${out}` },
    );
  } finally {
    ws.close();
  }
});

test('kubectl debug adds an ephemeral container in the pod network namespace', async () => {
  const res = await k([
    'debug',
    'web',
    '--image=busybox:latest',
    '--image-pull-policy=IfNotPresent',
    '-c',
    'dbg',
    '--',
    'sh',
    '-c',
    'wget -qO- http://localhost:8080/; sleep 3600',
  ]);
  assert.equal(res.code, 0, res.stderr);
  const p = await waitForPod(
    'web',
    (x) => (x.status?.ephemeralContainerStatuses ?? []).some((s) => s.name === 'dbg' && s.state?.running !== undefined),
    'dbg running',
  );
  assert.equal(p.spec?.ephemeralContainers?.[0]?.name, 'dbg');
  await eventually(async () => (await k(['logs', 'web', '-c', 'dbg'])).stdout.includes('hello-from-web'), {
    timeoutMs: 20_000,
    what: 'dbg reached the main container on localhost',
  });
  // The main container is untouched.
  assert.equal((await client.get(R.pods, 'web', { namespace: NS })).status?.phase, 'Running');
});

test('kubectl debug -i runs an interactive shell in the pod', async () => {
  const res = await k(
    ['debug', 'web', '-i', '--image=busybox:latest', '--image-pull-policy=IfNotPresent', '-c', 'dbg2', '--', 'sh'],
    'echo dbg2-$((40+2))\nexit\n',
  );
  assert.match(res.stdout, /dbg2-42/, res.stderr);
  await waitForPod(
    'web',
    (x) =>
      (x.status?.ephemeralContainerStatuses ?? []).some((s) => s.name === 'dbg2' && s.state?.terminated !== undefined),
    'dbg2 terminated, not restarted',
  );
  // Attaching to the ended container is refused by the agent, with a message that says why.
  const late = await k(['attach', 'web', '-c', 'dbg2']);
  assert.notEqual(late.code, 0);
  assert.match(late.stderr, /container dbg2 is not running/);
});

test('ephemeral container changes Kubernetes refuses get 422', async () => {
  const current = await client.get(R.pods, 'web', { namespace: NS });
  const file = join(home, 'ephemeral.json');
  const put = async (ephemeralContainers: unknown[]): Promise<string> => {
    // Read afresh: the agent's status writes move the resourceVersion (a stale one is a 409).
    const live = await client.get(R.pods, 'web', { namespace: NS });
    writeFileSync(file, JSON.stringify({ ...live, spec: { ...live.spec, ephemeralContainers } }));
    const path = `/api/v1/namespaces/${NS}/pods/web/ephemeralcontainers`;
    const res = await k(['replace', '--raw', path, '-f', file]);
    assert.notEqual(res.code, 0, res.stdout);
    return res.stderr;
  };
  const existing = current.spec?.ephemeralContainers ?? [];
  assert.match(
    await put([...existing, { name: 'bad', image: 'busybox:latest', ports: [{ containerPort: 80 }] }]),
    /spec.ephemeralContainers\[2\].ports: Forbidden: cannot be set for an Ephemeral Container/,
  );
  assert.match(
    await put(existing.map((c) => ({ ...c, image: 'other:1' }))),
    /existing ephemeral containers "dbg" may not be changed/,
  );
  assert.match(await put([]), /existing ephemeral containers "dbg" may not be removed/);
  assert.match(await put([...existing, { name: 'main', image: 'busybox:latest' }]), /Duplicate value: "main"/);
  const after = await client.get(R.pods, 'web', { namespace: NS });
  assert.deepEqual(after.spec?.ephemeralContainers, existing);
  await serverHealthy();
});

test('Pod Security looks at ephemeral containers: a privileged debug container in a baseline namespace is refused', async () => {
  await client.create(R.namespaces, {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'guarded', labels: { 'pod-security.kubernetes.io/enforce': 'baseline' } },
  });
  await client.create(R.pods, pod('plain', { command: ['sleep', '3600'] }), { namespace: 'guarded' });
  const debug = (profile: string, name: string): Promise<{ code: number; stdout: string; stderr: string }> =>
    k([
      'debug',
      '-n',
      'guarded',
      'plain',
      '--image=busybox:latest',
      '--image-pull-policy=IfNotPresent',
      `--profile=${profile}`,
      '-c',
      name,
      '--',
      'true',
    ]);
  const refused = await debug('sysadmin', 'priv');
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /violates PodSecurity "baseline:latest": privileged/);
  const allowed = await debug('legacy', 'calm');
  assert.equal(allowed.code, 0, allowed.stderr);
  const names = (await client.get(R.pods, 'plain', { namespace: 'guarded' })).spec?.ephemeralContainers?.map(
    (c) => c.name,
  );
  assert.deepEqual(names, ['calm']);
});
