// The node agent's Docker runtime against the real dockerd: a pod's sandbox and app
// containers share localhost, a host folder and DNS settings; memory limits end in an OOM
// kill; stop sends SIGTERM before SIGKILL; logs, exec, labels, images and networks. Needs
// Docker and the local images (scripts/setup-host.sh): fails, never skips, without them.
// Every name carries a per-run id, and everything created is removed at the end.

import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, chmodSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import {
  DockerRuntime,
  ImagePullError,
  type ContainerIdentity,
  type ContainerSpec,
  type ContainerState,
} from '../pkg/kubelet/index.js';

const RUN = randomBytes(4).toString('hex');
/** Another cluster on the same dockerd, with agents of the same node name. */
const OTHER_CLUSTER = randomBytes(4).toString('hex');
const NODE = `rt-test-${RUN}`;
const NETWORK = `cx-rt-${RUN}`;
const SOCKET = process.env['DOCKER_SOCKET'] ?? '/var/run/docker.sock';
const BUSYBOX = 'busybox:latest';
const PAUSE = 'coxswain/pause:latest';
const POD = { uid: randomUUID(), namespace: 'rt-test', name: `pod-${RUN}` };

let runtime: DockerRuntime;
let hostDir: string;
let subnetPrefix = '';
let sandboxId = '';
let webId = '';
let clientId = '';
let hostPort = 0;

function identity(containerName: string, type: ContainerIdentity['type'], attempt = 0): ContainerIdentity {
  return { ...POD, containerName, attempt, type, specHash: 'h' };
}

function spec(extra: Partial<ContainerSpec>): ContainerSpec {
  return { image: BUSYBOX, env: [], mounts: [], ...extra };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls (bounded in count) until check returns a value. */
async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  pace: { tries?: number; everyMs?: number } = {},
): Promise<T> {
  const { tries = 150, everyMs = 100 } = pace;
  for (let i = 0; i < tries; i++) {
    const v = await check();
    if (v !== undefined) return v;
    await sleep(everyMs);
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function exited(id: string): Promise<ContainerState> {
  return eventually(
    `container ${id.slice(0, 12)} to exit`,
    async () => {
      const s = await runtime.inspect(id);
      assert.ok(s, `container ${id.slice(0, 12)} is gone`);
      return s.running || s.status === 'created' ? undefined : s;
    },
    { tries: 300 },
  );
}

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks).toString();
}

async function run(id: string, cmd: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  const s = await runtime.exec(id, { cmd, tty: false, stdin: false });
  const [stdout, stderr, code] = await Promise.all([readAll(s.stdout), readAll(s.stderr), s.exitCode]);
  return { stdout, stderr, code };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  await new Promise<void>((r) => server.close(() => r()));
  assert.ok(address !== null && typeof address === 'object');
  return address.port;
}

function httpGet(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** A one-off container of the test pod, started; returns its id. */
async function runContainer(name: string, extra: Partial<ContainerSpec>, attempt = 0): Promise<string> {
  const id = await runtime.createContainer(sandboxId, identity(name, 'app', attempt), spec(extra));
  await runtime.start(id);
  return id;
}

before(async () => {
  runtime = new DockerRuntime({ socketPath: SOCKET, nodeName: NODE, clusterId: RUN });
  try {
    await runtime.version();
  } catch (err) {
    throw new Error(`Docker does not answer on ${SOCKET} (run scripts/setup-host.sh as root): ${String(err)}`);
  }
  for (const image of [BUSYBOX, PAUSE]) {
    assert.ok(await runtime.imagePresent(image), `image ${image} is missing: run scripts/setup-host.sh`);
  }
  hostDir = mkdtempSync(join(tmpdir(), `rt-test-${RUN}-`));
  chmodSync(hostDir, 0o777);
  writeFileSync(join(hostDir, 'index.html'), `hello from ${RUN}\n`);
  // A random /24 that overlaps nothing else on this daemon (retried a few times).
  let lastErr: unknown;
  for (let i = 0; i < 8 && subnetPrefix === ''; i++) {
    const prefix = `10.213.${Math.floor(Math.random() * 250) + 1}`;
    try {
      await runtime.ensureNetwork(NETWORK, { subnet: `${prefix}.0/24`, gateway: `${prefix}.1` });
      subnetPrefix = prefix;
    } catch (err) {
      lastErr = err;
    }
  }
  if (subnetPrefix === '') throw new Error(`could not create the test network: ${String(lastErr)}`);
});

after(async () => {
  // Everything carries this run's node label: remove it all, even after a failure.
  if (runtime === undefined) return;
  const left = await runtime.listManaged();
  await Promise.all(left.map((c) => runtime.remove(c.id)));
  await runtime.removeNetwork(NETWORK);
  if (hostDir !== undefined) rmSync(hostDir, { recursive: true, force: true });
  assert.deepEqual(await runtime.listManaged(), [], 'the test left containers behind');
});

describe('Docker runtime', { concurrency: false }, () => {
  test('the network is created once and keeps its subnet', async () => {
    await runtime.ensureNetwork(NETWORK, { subnet: `${subnetPrefix}.0/24`, gateway: `${subnetPrefix}.1` });
    await assert.rejects(
      runtime.ensureNetwork(NETWORK, { subnet: '10.214.0.0/24', gateway: '10.214.0.1' }),
      /exists with subnet/,
    );
    const nets = await runtime.docker.listNetworks({ filters: { name: [NETWORK] } });
    assert.equal(nets.find((n) => n.Name === NETWORK)?.Labels?.['io.coxswain.cluster'], RUN);
  });

  test("another cluster's network may not overlap this one's subnet, nor take over its name", async () => {
    const twin = new DockerRuntime({ socketPath: SOCKET, nodeName: NODE, clusterId: OTHER_CLUSTER });
    await assert.rejects(
      twin.ensureNetwork(`${NETWORK}-twin`, { subnet: `${subnetPrefix}.128/25`, gateway: `${subnetPrefix}.129` }),
      (err: unknown) => {
        assert.ok(err instanceof Error);
        assert.match(
          err.message,
          new RegExp(
            `^the pod subnet ${subnetPrefix}\\.128/25 overlaps Docker network ${NETWORK} \\(${subnetPrefix}\\.0/24, cluster ${RUN}\\): give this cluster another cluster CIDR`,
          ),
        );
        assert.equal(err.message.split('\n').length, 1, 'one line');
        return true;
      },
    );
    await assert.rejects(
      twin.ensureNetwork(NETWORK, { subnet: `${subnetPrefix}.0/24`, gateway: `${subnetPrefix}.1`, replace: true }),
      /is not this cluster's/,
    );
    // Nor may another node of this cluster on the same dockerd replace it (with this node's pods).
    const sibling = new DockerRuntime({ socketPath: SOCKET, nodeName: `${NODE}-other`, clusterId: RUN });
    await assert.rejects(
      sibling.ensureNetwork(NETWORK, { subnet: '10.214.0.0/24', gateway: '10.214.0.1', replace: true }),
      new RegExp(`belongs to node ${NODE} of this cluster`),
    );
    assert.equal(
      (await runtime.docker.listNetworks({ filters: { name: [`${NETWORK}-twin`] } })).length,
      0,
      'nothing made',
    );
  });

  test('a pod network left by an older agent (no cluster label) is named with the command that removes it', async () => {
    const legacy = `${NETWORK}-legacy`;
    const third = subnetPrefix.split('.')[2] ?? '1';
    await runtime.docker.createNetwork({
      Name: legacy,
      Driver: 'bridge',
      IPAM: { Config: [{ Subnet: `10.215.${third}.0/24`, Gateway: `10.215.${third}.1` }] },
      Labels: { 'io.coxswain.node': NODE },
    });
    try {
      await assert.rejects(
        runtime.ensureNetwork(`${NETWORK}-new`, { subnet: `10.215.${third}.0/24`, gateway: `10.215.${third}.1` }),
        new RegExp(
          `overlaps Docker network ${legacy} \\(10\\.215\\.${third}\\.0/24\\) of an older node agent: unless that cluster still runs, remove it with "docker network rm ${legacy}"`,
        ),
      );
    } finally {
      await runtime.removeNetwork(legacy);
    }
  });

  test('a sandbox holds the pod IP on the network', async () => {
    hostPort = await freePort();
    sandboxId = await runtime.runSandbox(identity('POD', 'sandbox'), {
      image: PAUSE,
      network: NETWORK,
      hostname: POD.name,
      dns: {
        servers: ['10.96.0.10'],
        searches: ['rt-test.svc.cluster.local', 'svc.cluster.local'],
        options: ['ndots:5'],
      },
      portBindings: [{ containerPort: 8080, hostPort, protocol: 'TCP', hostIP: '127.0.0.1' }],
      labels: { 'io.coxswain.test': RUN },
    });
    const s = await runtime.inspect(sandboxId);
    assert.ok(s);
    assert.equal(s.running, true);
    assert.equal(s.identity.type, 'sandbox');
    assert.ok(s.ip?.startsWith(`${subnetPrefix}.`), `sandbox ip ${String(s.ip)} is not in ${subnetPrefix}.0/24`);
    assert.ok(typeof s.pid === 'number' && s.pid > 0);
    assert.ok(s.startedAt !== undefined && !s.startedAt.startsWith('0001'));
  });

  test('two app containers of the pod share localhost, a host folder, hostname and DNS', async () => {
    webId = await runContainer('web', {
      command: ['sh', '-c', 'echo from-web > /data/from-web; exec httpd -f -p 8080 -h /data'],
      mounts: [{ hostPath: hostDir, containerPath: '/data', readOnly: false }],
    });
    clientId = await runContainer('client', {
      command: ['sleep'],
      args: ['3600'],
      env: ['GREETING=hi there'],
      workingDir: '/shared',
      mounts: [{ hostPath: hostDir, containerPath: '/shared', readOnly: true }],
    });
    const page = await eventually('httpd on localhost', async () => {
      const r = await run(clientId, ['wget', '-qO-', 'http://127.0.0.1:8080/index.html']);
      return r.code === 0 ? r.stdout : undefined;
    });
    assert.equal(page, `hello from ${RUN}\n`);
    // What one container wrote into the shared folder the other (and the host) sees.
    assert.equal((await run(clientId, ['cat', '/shared/from-web'])).stdout, 'from-web\n');
    assert.equal(readFileSync(join(hostDir, 'from-web'), 'utf8'), 'from-web\n');
    // Read-only mounts are read-only.
    assert.notEqual((await run(clientId, ['touch', '/shared/nope'])).code, 0);
    assert.equal((await run(clientId, ['sh', '-c', 'echo "$GREETING"; pwd'])).stdout, 'hi there\n/shared\n');
    assert.equal((await run(clientId, ['hostname'])).stdout.trim(), POD.name);
    const resolv = (await run(clientId, ['cat', '/etc/resolv.conf'])).stdout;
    // On a user-defined network Docker's embedded resolver (127.0.0.11) forwards to the servers.
    assert.match(resolv, /nameserver (10\.96\.0\.10|127\.0\.0\.11)/);
    assert.match(resolv, /search rt-test\.svc\.cluster\.local svc\.cluster\.local/);
    assert.match(resolv, /ndots:5/);
    // Each container has its own PID namespace (the sandbox's is not shared).
    assert.equal((await run(clientId, ['sh', '-c', 'cat /proc/1/cmdline | tr "\\0" " "'])).stdout.trim(), 'sleep 3600');
    // The sandbox's host port reaches the pod.
    assert.equal(await httpGet(hostPort, '/index.html'), `hello from ${RUN}\n`);
  });

  test('exec returns stdout, stderr and the exit code, and takes stdin', async () => {
    const r = await run(clientId, ['sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.deepEqual(r, { stdout: 'out\n', stderr: 'err\n', code: 3 });

    const s = await runtime.exec(clientId, { cmd: ['sh', '-c', 'tr a-z A-Z; exit 4'], tty: false, stdin: true });
    assert.ok(s.stdin);
    const out = readAll(s.stdout);
    s.stdin.write('hello stdin\n');
    s.stdin.end();
    assert.equal(await out, 'HELLO STDIN\n');
    assert.equal(await s.exitCode, 4);

    const missing = await run(clientId, ['/no/such/command']);
    assert.notEqual(missing.code, 0);
  });

  test('exec with a tty can be resized', async () => {
    const s = await runtime.exec(clientId, { cmd: ['sh'], tty: true, stdin: true });
    assert.ok(s.stdin);
    await s.resize(123, 45);
    const out = readAll(s.stdout);
    s.stdin.write('stty size; exit 7\n');
    assert.match(await out, /45 123/);
    assert.equal(await s.exitCode, 7);
  });

  test('logs return what the container wrote, stdout and stderr in one stream', async () => {
    const id = await runContainer('logger', { command: ['sh', '-c', 'echo one; echo two >&2; echo three'] });
    await exited(id);
    const all = await readAll(await runtime.logs(id, {}));
    assert.deepEqual(all.split('\n').filter(Boolean).sort(), ['one', 'three', 'two']);
    // Lines of one stream keep their order.
    assert.ok(all.indexOf('one') < all.indexOf('three'));
    const last = await readAll(await runtime.logs(id, { tailLines: 1 }));
    assert.equal(last.split('\n').filter(Boolean).length, 1);
    const stamped = (await readAll(await runtime.logs(id, { timestamps: true }))).split('\n').filter(Boolean);
    assert.equal(stamped.length, 3);
    for (const line of stamped) assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z (one|two|three)$/);
    const hourAgo = new Date(Date.now() - 3600_000);
    assert.equal((await readAll(await runtime.logs(id, { since: hourAgo }))).split('\n').filter(Boolean).length, 3);
    const later = new Date(Date.now() + 60_000);
    assert.equal((await readAll(await runtime.logs(id, { since: later }))).split('\n').filter(Boolean).length, 0);
  });

  test('following logs streams until the container exits', async () => {
    const id = await runContainer('follower', {
      command: ['sh', '-c', 'for i in 1 2 3; do echo line$i; sleep 0.2; done; echo done >&2'],
    });
    const text = await readAll(await runtime.logs(id, { follow: true }));
    assert.equal(text, 'line1\nline2\nline3\ndone\n');
  });

  test('a tty container logs raw bytes', async () => {
    const id = await runContainer('tty', { command: ['sh', '-c', 'echo on-a-tty'], tty: true });
    await exited(id);
    assert.equal((await readAll(await runtime.logs(id, {}))).replace(/\r/g, ''), 'on-a-tty\n');
  });

  test('a container over its memory limit is OOM killed with 137', async () => {
    const id = await runContainer('hog', {
      // The allocating process must be the container's main process: Docker only flags
      // OOMKilled reliably when PID 1 is the one the kernel kills. It starts allocating a
      // few seconds after start: containerd arms its OOM watch on the new cgroup only after
      // the task starts, and an OOM before that is never reported (seen on a busy CI machine,
      // once even with a 1 s wait).
      command: ['sh', '-c', 'sleep 3; exec tail /dev/zero'],
      memoryLimitBytes: 8 * 1024 * 1024,
      nanoCpus: 500_000_000,
      cpuShares: 512,
    });
    const first = await exited(id);
    assert.equal(first.exitCode, 137);
    // dockerd records OOMKilled from containerd's OOM event, which may land just after the
    // exit event when the machine is busy: look again, bounded.
    const s = first.oomKilled
      ? first
      : await eventually(
          `container ${id.slice(0, 12)} flagged OOMKilled`,
          async () => {
            const now = await runtime.inspect(id);
            return now?.oomKilled === true ? now : undefined;
          },
          { tries: 100 },
        );
    assert.equal(s.oomKilled, true);
    assert.equal(s.exitCode, 137);
    assert.ok(s.finishedAt !== undefined);
  });

  test('stop sends SIGTERM first, and SIGKILL after the grace period', async () => {
    const mounts = [{ hostPath: hostDir, containerPath: '/data', readOnly: false }];
    const polite = await runContainer('polite', {
      command: [
        'sh',
        '-c',
        `trap 'echo got-term > /data/term-${RUN}; exit 0' TERM; touch /data/ready-polite-${RUN}; while :; do sleep 1 & wait $!; done`,
      ],
      mounts,
    });
    const stubborn = await runContainer('stubborn', {
      command: ['sh', '-c', `trap '' TERM; touch /data/ready-stubborn-${RUN}; while :; do sleep 1; done`],
      mounts,
    });
    // Both shells must have set their traps before the signal comes.
    await eventually('the traps to be set', async () =>
      existsSync(join(hostDir, `ready-polite-${RUN}`)) && existsSync(join(hostDir, `ready-stubborn-${RUN}`))
        ? true
        : undefined,
    );
    await Promise.all([runtime.stop(polite, 30), runtime.stop(stubborn, 1)]);
    assert.equal(readFileSync(join(hostDir, `term-${RUN}`), 'utf8'), 'got-term\n');
    const p = await runtime.inspect(polite);
    assert.equal(p?.exitCode, 0);
    const s = await runtime.inspect(stubborn);
    assert.equal(s?.exitCode, 137);
    assert.equal(s?.oomKilled, false);
    // Stopping what is stopped is fine.
    await runtime.stop(polite, 1);
  });

  test('the sandbox stops at once on SIGTERM', async () => {
    const id = await runtime.runSandbox(identity('POD', 'sandbox', 1), {
      image: PAUSE,
      network: NETWORK,
      hostname: 'second',
    });
    // A PID 1 drops signals it has no handler for: wait until the pause process has its traps
    // (SigCgt in /proc), as a signal sent in the first instants after start would be lost.
    const pid = (await runtime.inspect(id))?.pid;
    assert.ok(pid !== undefined);
    await eventually('the pause process to catch TERM and INT', async () => {
      const caught = /^SigCgt:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
      const mask = BigInt(`0x${caught ?? '0'}`);
      const bit = (signal: number): bigint => 1n << BigInt(signal - 1);
      return (mask & bit(15)) !== 0n && (mask & bit(2)) !== 0n ? true : undefined;
    });
    await runtime.stop(id, 60);
    const s = await runtime.inspect(id);
    assert.equal(s?.running, false);
    assert.equal(s?.exitCode, 0, 'the pause process should exit 0 on SIGTERM, not be killed');
    await runtime.remove(id);
  });

  test('listManaged finds the containers by their labels', async () => {
    const all = await runtime.listManaged();
    const byName = new Map(all.map((c) => [`${c.identity.type}/${c.identity.containerName}`, c]));
    for (const key of ['sandbox/POD', 'app/web', 'app/client', 'app/logger', 'app/hog', 'app/polite'])
      assert.ok(byName.has(key), `${key} not listed`);
    const web = byName.get('app/web');
    assert.ok(web);
    assert.equal(web.id, webId);
    assert.deepEqual(
      {
        uid: web.identity.uid,
        namespace: web.identity.namespace,
        name: web.identity.name,
        attempt: web.identity.attempt,
      },
      { ...POD, attempt: 0 },
    );
    assert.equal(web.running, true);
    assert.equal(web.image, BUSYBOX);
    assert.equal(byName.get('app/hog')?.running, false);
    assert.equal((await runtime.listManaged(POD.uid)).length, all.length);
    assert.deepEqual(await runtime.listManaged(randomUUID()), []);
    const summary = await runtime.listManagedSummary();
    assert.deepEqual(summary.map((c) => c.id).sort(), all.map((c) => c.id).sort());
    assert.equal(summary.find((c) => c.id === clientId)?.status, 'running');
    // Another node's agent sees none of them.
    const other = new DockerRuntime({ socketPath: SOCKET, nodeName: `${NODE}-other`, clusterId: RUN });
    assert.deepEqual(await other.listManaged(), []);
    // Nor does an agent of another cluster with the same node name.
    const twin = new DockerRuntime({ socketPath: SOCKET, nodeName: NODE, clusterId: OTHER_CLUSTER });
    assert.deepEqual(await twin.listManaged(), []);
    assert.deepEqual(await twin.listManagedSummary(), []);
    // The sandbox carries the extra labels too.
    const info = await runtime.docker.getContainer(sandboxId).inspect();
    assert.equal(info.Config.Labels['io.coxswain.test'], RUN);
    assert.equal(info.Config.Labels['io.coxswain.node'], NODE);
    assert.equal(info.Config.Labels['io.coxswain.cluster'], RUN);
  });

  test('a container whose executable is missing reports why', async () => {
    const id = await runtime.createContainer(
      sandboxId,
      identity('broken', 'app'),
      spec({ command: ['/no/such/binary'] }),
    );
    await assert.rejects(runtime.start(id));
    const s = await runtime.inspect(id);
    assert.ok(s);
    assert.equal(s.running, false);
    assert.match(s.error ?? '', /no such file|not found/i);
  });

  test('images: present ones are used, missing ones are ImagePullErrors', async () => {
    await runtime.ensureImage(BUSYBOX, 'IfNotPresent');
    await runtime.ensureImage(BUSYBOX, 'Never');
    await assert.rejects(runtime.ensureImage(`coxswain-test/missing-${RUN}:v1`, 'Never'), ImagePullError);
    // A registry on a closed loopback port: the pull fails without leaving this machine.
    await assert.rejects(
      runtime.ensureImage(`127.0.0.1:1/coxswain-test/missing-${RUN}:v1`, 'IfNotPresent'),
      (err: unknown) => {
        assert.ok(err instanceof ImagePullError);
        assert.match(err.message, /failed to pull image "127\.0\.0\.1:1\/coxswain-test/);
        return true;
      },
    );
  });

  test('removeCluster takes every container and network of its cluster and nothing of another', async () => {
    const twin = new DockerRuntime({ socketPath: SOCKET, nodeName: NODE, clusterId: OTHER_CLUSTER });
    const twinId = await twin.runSandbox(
      { ...identity('POD', 'sandbox'), uid: randomUUID() },
      { image: PAUSE, network: 'bridge', hostname: 'twin' },
    );
    const mine = (await runtime.listManaged()).map((c) => c.id).sort();
    assert.deepEqual(await twin.removeCluster(), { containers: 1, networks: 0 });
    assert.equal(await twin.inspect(twinId), undefined);
    assert.deepEqual(
      (await runtime.listManaged()).map((c) => c.id).sort(),
      mine,
      "the other cluster's teardown left these alone",
    );
  });

  test('remove takes running containers, and is idempotent', async () => {
    await runtime.remove(clientId);
    assert.equal(await runtime.inspect(clientId), undefined);
    await runtime.remove(clientId);
    await runtime.stop(clientId, 1);
    assert.equal(existsSync(hostDir), true, 'removing a container must leave bind-mounted host folders alone');
  });
});
