// pods/portforward end to end: the real kubectl (websocket-tunnelled SPDY, and plain SPDY),
// the Python and JS clients (websocket channel protocol) reach a busybox httpd in a real
// Docker pod through the apiserver and the node agent, also a server listening on the pod's
// 127.0.0.1 only; svc/ and deploy/ targets; several connections at once; and hostile input
// (unknown pod, pod not running, bad or missing ports, a closed port, garbage frames, a
// forward cut mid-way, a node's identity) gets Kubernetes' answers and leaves the servers healthy.
// Needs root and Docker; runs under /tmp/coxswain-docker.lock with the other Docker tests.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import type { Duplex } from 'node:stream';
import { KubeConfig, PortForward } from '@kubernetes/client-node';
import type { Container, Pod } from '../pkg/api/index.js';
import type { RestClient } from '../pkg/client/index.js';
import { startAgentCluster, type AgentCluster } from './harness/agent-cluster.js';
import { eventually, R } from './harness/clients.js';
import { isRunning } from './harness/pods.js';
import { freePort, run, waitForLine, type ControlPlane, type NodeAgent } from './harness/control-plane.js';
import { rawRequest } from './harness/https.js';

let cluster: AgentCluster | undefined;
let plane: ControlPlane;
let agent: NodeAgent;
let client: RestClient;
let home: string;
const NS = 'default';
const PAGE = 'hello-from-the-pod';

/** busybox httpd serving PAGE on `listen` ([ip:]port). */
function httpd(listen: string): Container {
  return {
    name: 'web',
    image: 'busybox:latest',
    imagePullPolicy: 'IfNotPresent',
    command: ['sh', '-c', `mkdir -p /www && echo ${PAGE} > /www/index.html && exec httpd -f -p ${listen} -h /www`],
  };
}

function podOf(name: string, containers: Container[], labels: Record<string, string> = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels },
    spec: { nodeName: agent.name, terminationGracePeriodSeconds: 1, containers },
  };
}

async function runningPod(name: string): Promise<void> {
  await eventually(async () => isRunning(await client.get(R.pods, name, { namespace: NS })), {
    timeoutMs: 60_000,
    intervalMs: 250,
    what: `${name} running`,
  });
}

before(async () => {
  cluster = await startAgentCluster({ plane: { withControllers: true, withScheduler: true } });
  ({ plane, agent, client } = cluster);
  home = mkdtempSync(join(tmpdir(), 'port-forward-test-'));
  await client.create(R.pods, podOf('web', [httpd('80')], { app: 'web' }), { namespace: NS });
  await client.create(R.pods, podOf('local', [httpd('127.0.0.1:8081')]), { namespace: NS });
  await client.create(
    R.services,
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web' },
      spec: { selector: { app: 'web' }, ports: [{ port: 8080, targetPort: 80 }] },
    },
    { namespace: NS },
  );
  await client.create(
    R.deployments,
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'webd' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'webd' } },
        template: {
          metadata: { labels: { app: 'webd' } },
          spec: { terminationGracePeriodSeconds: 1, containers: [httpd('80')] },
        },
      },
    },
    { namespace: NS },
  );
  await runningPod('web');
  await runningPod('local');
});

after(async () => {
  await cluster?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

/** `kubectl port-forward TARGET LOCAL:REMOTE`, once it says it forwards. */
async function portForward(
  target: string,
  ports: string,
  opts: { websockets?: boolean } = {},
): Promise<{ child: ChildProcess; stderr: () => string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, KUBECONFIG: plane.pki.adminKubeconfig };
  if (opts.websockets === false) env['KUBECTL_PORT_FORWARD_WEBSOCKETS'] = 'false';
  const child = spawn('kubectl', ['port-forward', target, ports], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-20_000)));
  try {
    await waitForLine(child, /Forwarding from 127\.0\.0\.1:\d+/, 60_000);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`kubectl port-forward ${target} ${ports}: ${String(err)}; stderr: ${stderr}`);
  }
  return { child, stderr: () => stderr };
}

/** A new forward to `remote` of target serves the page; the forward ends afterwards. */
async function servesPage(target: string, remote: string): Promise<void> {
  const local = await freePort();
  const pf = await portForward(target, `${local}:${remote}`);
  try {
    assert.equal((await fetchPage(local)).trim(), PAGE);
  } finally {
    await stop(pf.child);
  }
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** GET / through the local port (a fresh connection each time). */
async function fetchPage(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/`, {
    headers: { connection: 'close' },
    signal: AbortSignal.timeout(15_000),
  });
  return res.text();
}

async function fetchConcurrently(port: number, count: number): Promise<string[]> {
  return Promise.all(Array.from({ length: count }, () => fetchPage(port)));
}

describe('kubectl port-forward', () => {
  for (const websockets of [true, false]) {
    test(`pod/, svc/ and deploy/ with several connections at once (${websockets ? 'websocket-tunnelled SPDY' : 'plain SPDY'})`, async () => {
      await eventually(
        async () => (await client.list(R.pods, { namespace: NS, labelSelector: 'app=webd' })).items.some(isRunning),
        { timeoutMs: 90_000, intervalMs: 500, what: 'the deployment has a running pod' },
      );
      for (const [target, remote] of [
        ['pod/web', '80'],
        ['svc/web', '8080'],
        ['deploy/webd', '80'],
      ] as const) {
        const local = await freePort();
        const pf = await portForward(target, `${local}:${remote}`, { websockets });
        try {
          const pages = await fetchConcurrently(local, 8);
          for (const page of pages) assert.equal(page.trim(), PAGE, `${target}: ${pf.stderr()}`);
          // And again on the same forward, one after another.
          for (let i = 0; i < 3; i++) assert.equal((await fetchPage(local)).trim(), PAGE);
        } finally {
          await stop(pf.child);
        }
      }
    });
  }
});

describe('kubectl port-forward: what else a pod serves, and what goes wrong', () => {
  test('a server listening on the pod’s 127.0.0.1 only is reachable', async () => {
    await servesPage('pod/local', '8081');
  });

  test('a closed port: the error stream carries the agent’s message and the servers stay healthy', async () => {
    const local = await freePort();
    const pf = await portForward('pod/web', `${local}:81`, { websockets: false });
    try {
      await assert.rejects(fetchPage(local));
      await eventually(() => pf.stderr().includes('error forwarding port 81 to pod web'), {
        timeoutMs: 15_000,
        what: `kubectl shows the error: ${pf.stderr()}`,
      });
      assert.match(
        pf.stderr(),
        /failed to connect to localhost:81 inside the pod's network namespace: .*connect: connection refused/,
      );
    } finally {
      await stop(pf.child);
    }
    await servesPage('pod/web', '80');
  });

  test('a forward cut mid-way (kubectl killed during a download) leaves the servers healthy', async () => {
    await run(
      'kubectl',
      [
        '--kubeconfig',
        plane.pki.adminKubeconfig,
        'exec',
        'web',
        '--',
        'sh',
        '-c',
        'head -c 20000000 /dev/zero > /www/big',
      ],
      {
        env: { ...process.env, HOME: home },
      },
    );
    const local = await freePort();
    const pf = await portForward('pod/web', `${local}:80`);
    const res = await fetch(`http://127.0.0.1:${local}/big`);
    const reader = res.body?.getReader();
    await reader?.read();
    pf.child.kill('SIGKILL');
    await reader?.cancel().catch(() => undefined);
    await servesPage('pod/web', '80');
  });
});

describe('the official clients (websocket channel protocol)', () => {
  test('Python kubernetes.stream.portforward reaches the pod', async () => {
    const script = join(home, 'pf.py');
    writeFileSync(
      script,
      [
        'import sys',
        'from kubernetes import client, config',
        'from kubernetes.stream import portforward',
        'config.load_kube_config(config_file=sys.argv[1])',
        'api = client.CoreV1Api()',
        "pf = portforward(api.connect_get_namespaced_pod_portforward, 'web', 'default', ports='80')",
        'sock = pf.socket(80)',
        "sock.sendall(b'GET / HTTP/1.0\\r\\nHost: x\\r\\n\\r\\n')",
        "data = b''",
        'while True:',
        '    chunk = sock.recv(65536)',
        '    if not chunk: break',
        '    data += chunk',
        'sys.stdout.write(data.decode())',
        "sys.stdout.write('ERROR:' + str(pf.error(80)))",
      ].join('\n'),
    );
    const res = await run('/usr/bin/python3', [script, plane.pki.adminKubeconfig], { timeoutMs: 60_000 });
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /200 OK/);
    assert.match(res.stdout, new RegExp(PAGE));
    assert.match(res.stdout, /ERROR:None/);
  });

  test('@kubernetes/client-node PortForward reaches the pod', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(plane.pki.adminKubeconfig);
    const forward = new PortForward(kc);
    const output = new PassThrough();
    let received = '';
    output.on('data', (c: Buffer) => (received += c.toString()));
    // Left open: the client closes the websocket when its input ends (v4 cannot half-close).
    const input = new PassThrough();
    input.write('GET / HTTP/1.0\r\nHost: x\r\n\r\n');
    const ws = await forward.portForward(NS, 'web', [80], output, null, input);
    try {
      await eventually(() => received.includes(PAGE), { timeoutMs: 20_000, what: `the page; got ${received}` });
      assert.match(received, /200 OK/);
    } finally {
      input.end();
      if ('close' in ws) ws.close();
    }
  });
});

/** An upgrade request as a client sends it; resolves with the status and body, or 101. */
function upgradeRequest(opts: {
  path: string;
  headers: Record<string, string>;
  method?: string;
  cert?: string;
  key?: string;
}): Promise<{ status: number; body: string; socket?: Duplex }> {
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: '127.0.0.1',
      port: plane.port,
      method: opts.method ?? 'GET',
      path: opts.path,
      ca: readFileSync(plane.pki.caCert),
      cert: opts.cert ?? readFileSync(plane.pki.adminCert),
      key: opts.key ?? readFileSync(plane.pki.adminKey),
      headers: { connection: 'Upgrade', ...opts.headers },
      agent: false,
      timeout: 20_000,
    });
    req.on('upgrade', (_res, socket: Duplex) => resolve({ status: 101, body: '', socket }));
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

const WS = {
  upgrade: 'websocket',
  'sec-websocket-version': '13',
  'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
  'sec-websocket-protocol': 'v4.channel.k8s.io',
};
const SPDY = { upgrade: 'SPDY/3.1', 'x-stream-protocol-version': 'portforward.k8s.io' };

function status(body: string): { code?: number; reason?: string; message?: string } {
  const parsed: unknown = JSON.parse(body);
  assert.ok(typeof parsed === 'object' && parsed !== null);
  return parsed;
}

describe('hostile port-forward requests', () => {
  const base = `/api/v1/namespaces/${NS}/pods`;
  test('unknown pod, pod not running, missing or bad ports: Kubernetes statuses', async () => {
    const unknown = await upgradeRequest({ path: `${base}/nope/portforward?ports=80`, headers: WS });
    assert.equal(unknown.status, 404);
    assert.equal(status(unknown.body).reason, 'NotFound');

    await client.create(
      R.pods,
      { ...podOf('stuck', [httpd('80')]), spec: { nodeName: 'no-such-node', containers: [httpd('80')] } },
      { namespace: NS },
    );
    const stuck = await upgradeRequest({ path: `${base}/stuck/portforward?ports=80`, headers: WS });
    assert.equal(stuck.status, 400);
    assert.match(status(stuck.body).message ?? '', /pod is not running/);

    const none = await upgradeRequest({ path: `${base}/web/portforward`, headers: WS });
    assert.equal(none.status, 400);
    assert.match(status(none.body).message ?? '', /"ports" is required/);
    for (const bad of ['0', '70000', 'abc', '80,', '-1']) {
      const res = await upgradeRequest({ path: `${base}/web/portforward?ports=${bad}`, headers: WS });
      assert.equal(res.status, 400, `ports=${bad}: ${res.body}`);
      assert.equal(status(res.body).reason, 'BadRequest');
    }
    const unknownProtocol = await upgradeRequest({
      path: `${base}/web/portforward`,
      method: 'POST',
      headers: { ...SPDY, 'x-stream-protocol-version': 'v4.channel.k8s.io' },
    });
    assert.equal(unknownProtocol.status, 403);
  });

  test('a node may not port-forward to pods', async () => {
    const dir = join(plane.pki.dir, 'nodes', agent.name);
    const res = await upgradeRequest({
      path: `${base}/web/portforward?ports=80`,
      headers: WS,
      cert: readFileSync(join(dir, 'kubelet-client.crt'), 'utf8'),
      key: readFileSync(join(dir, 'kubelet-client.key'), 'utf8'),
    });
    assert.equal(res.status, 403);
    assert.match(status(res.body).message ?? '', /cannot create resource "pods\/portforward"/);
  });

  test('garbage after the SPDY upgrade ends that connection only', async () => {
    for (const garbage of [
      Buffer.from('this is not SPDY at all, not even close\r\n'),
      Buffer.from([0x80, 0x03, 0x00, 0x01, 0x00, 0xff, 0xff, 0xff]), // a 16 MiB SYN_STREAM
      Buffer.from([0x80, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x0e, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6]), // bad zlib
    ]) {
      const res = await upgradeRequest({ path: `${base}/web/portforward`, method: 'POST', headers: SPDY });
      assert.equal(res.status, 101);
      const socket = res.socket;
      assert.ok(socket !== undefined);
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      socket.on('error', () => undefined);
      socket.resume();
      socket.write(garbage);
      await closed;
    }
    await servesPage('pod/web', '80');
    const healthz = await rawRequest({
      port: plane.port,
      method: 'GET',
      path: '/healthz',
      ca: readFileSync(plane.pki.caCert, 'utf8'),
      cert: readFileSync(plane.pki.adminCert, 'utf8'),
      key: readFileSync(plane.pki.adminKey, 'utf8'),
    });
    assert.equal(healthz.status, 200);
  });
});
