// The node agent against a real dockerd: registration and lease, multi-container pods,
// restarts with back-off, probes, OOM, graceful deletion, restart safety, image pull
// failures, logs and exec through the apiserver (kubectl and coxctl). Pods set
// spec.nodeName directly (the scheduler comes later).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { RESOURCES, type Container, type Pod, type PodSpec } from '../pkg/api/index.js';
import type { RestClient } from '../pkg/client/index.js';
import { ApiError } from '../pkg/errors/index.js';
import { startAgentCluster, type AgentCluster } from './harness/agent-cluster.js';
import { eventually, R } from './harness/clients.js';
import { containerStatus, isRunning } from './harness/pods.js';
import {
  coxctl,
  freePort,
  kubectl,
  removeNodeContainers,
  run,
  runRefusedAgent,
  startNodeAgent,
  type ControlPlane,
  type NodeAgent,
} from './harness/control-plane.js';

let cluster: AgentCluster | undefined;
let plane: ControlPlane;
let agent: NodeAgent;
let client: RestClient;
let home: string;
const NS = 'default';
const leases = RESOURCES.leases;

before(async () => {
  cluster = await startAgentCluster();
  ({ plane, agent, client } = cluster);
  home = mkdtempSync(join(tmpdir(), 'agent-test-'));
});
after(async () => {
  await cluster?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

function pod(name: string, containers: Container[], extra: Omit<PodSpec, 'containers'> = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: {
      nodeName: agent.name,
      terminationGracePeriodSeconds: 5,
      containers: containers.map((c) => ({ image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', ...c })),
      ...extra,
    },
  };
}

async function getPod(name: string): Promise<Pod> {
  return client.get(RESOURCES.pods, name, { namespace: NS });
}

/** Polls pod `name` until `until` holds for it (bounded); returns the pod as last read. */
async function waitFor(
  name: string,
  opts: { what: string; until: (p: Pod) => boolean; timeoutMs?: number },
): Promise<Pod> {
  let last: Pod | undefined;
  await eventually(
    async () => {
      last = await getPod(name);
      return opts.until(last);
    },
    { timeoutMs: opts.timeoutMs ?? 60_000, intervalMs: 250, what: `${name}: ${opts.what}` },
  ).catch((err: Error) => {
    throw new Error(`${err.message}; last status: ${JSON.stringify(last?.status)}`);
  });
  if (last === undefined) throw new Error(`${name}: ${opts.what}: never read`);
  return last;
}

async function dockerOf(uid: string): Promise<{ id: string; state: string; container: string; attempt: string }[]> {
  const out = await run('docker', [
    'ps',
    '-a',
    '--filter',
    `label=io.coxswain.pod.uid=${uid}`,
    '--format',
    '{{.ID}} {{.State}} {{.Label "io.coxswain.container.name"}} {{.Label "io.coxswain.container.attempt"}}',
  ]);
  return out.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [id = '', state = '', container = '', attempt = ''] = l.split(' ');
      return { id, state, container, attempt };
    });
}

describe('node registration', () => {
  test('the node is Ready with real capacity and renews its lease; a stopped agent stops renewing', async () => {
    const node = await client.get(R.nodes, agent.name);
    const status = node.status;
    assert.equal(status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
    assert.ok(Number(status?.capacity?.['cpu']) >= 1);
    assert.match(String(status?.capacity?.['memory'] ?? ''), /^\d+Ki$/);
    assert.match(status?.nodeInfo?.containerRuntimeVersion ?? '', /^docker:\/\//);
    const out = await kubectl(plane.pki.adminKubeconfig, ['get', 'nodes'], { home });
    assert.match(out.stdout, new RegExp(`${agent.name}\\s+Ready`));

    const quick = await startNodeAgent(plane, { extraArgs: ['--lease-renew-interval', '1'] });
    try {
      const renewTime = async (): Promise<string> =>
        String((await client.get(leases, quick.name, { namespace: 'kube-node-lease' })).spec?.renewTime);
      const first = await renewTime();
      await eventually(async () => (await renewTime()) !== first, { timeoutMs: 10_000, what: 'lease renewed' });
      await quick.stop();
      const stopped = await renewTime();
      await new Promise((r) => setTimeout(r, 3000)); // three renew intervals with no agent
      assert.equal(await renewTime(), stopped);
    } finally {
      await quick.stop();
      await removeNodeContainers(quick.name);
    }
  });
});

describe('pods', () => {
  test('two containers share localhost and an emptyDir', async () => {
    await client.create(
      R.pods,
      pod(
        'duo',
        [
          {
            name: 'web',
            command: ['httpd', '-f', '-p', '8080', '-h', '/shared'],
            volumeMounts: [{ name: 'shared', mountPath: '/shared' }],
          },
          {
            name: 'side',
            command: [
              'sh',
              '-c',
              'echo from-side > /shared/index.html; while true; do wget -qO- http://127.0.0.1:8080/index.html; sleep 1; done',
            ],
            volumeMounts: [{ name: 'shared', mountPath: '/shared' }],
          },
        ],
        { volumes: [{ name: 'shared', emptyDir: {} }] },
      ),
      { namespace: NS },
    );
    const p = await waitFor('duo', {
      what: 'both running',
      until: (x) =>
        isRunning(x) && containerStatus(x, 'web')?.ready === true && containerStatus(x, 'side')?.ready === true,
    });
    assert.match(p.status?.podIP ?? '', /^\d+\.\d+\.\d+\.\d+$/);
    const containers = await dockerOf(p.metadata.uid ?? '');
    assert.deepEqual(containers.map((c) => `${c.container}:${c.state}`).sort(), [
      'POD:running',
      'side:running',
      'web:running',
    ]);
    await eventually(
      async () =>
        (await kubectl(plane.pki.adminKubeconfig, ['logs', 'duo', '-c', 'side'], { home })).stdout.includes(
          'from-side',
        ),
      { timeoutMs: 20_000, what: 'the sidecar fetched the page over localhost' },
    );
  });

  test('a crashing container is restarted with growing delays and shows CrashLoopBackOff', async () => {
    await client.create(R.pods, pod('crasher', [{ name: 'c', command: ['sh', '-c', 'echo crashing; exit 1'] }]), {
      namespace: NS,
    });
    let sawBackoff = false;
    await waitFor('crasher', {
      what: 'restarted twice in CrashLoopBackOff',
      until: (x) => {
        const cs = containerStatus(x, 'c');
        if (cs?.state?.waiting?.reason === 'CrashLoopBackOff') sawBackoff = true;
        return (cs?.restartCount ?? 0) >= 2 && sawBackoff;
      },
      timeoutMs: 90_000,
    });
    const p = await getPod('crasher');
    const last = containerStatus(p, 'c')?.lastState?.terminated;
    assert.equal(last?.exitCode, 1);
    assert.equal(last?.reason, 'Error');
    const prev = await kubectl(plane.pki.adminKubeconfig, ['logs', 'crasher', '--previous'], { home });
    assert.equal(prev.code, 0, prev.stderr);
    assert.match(prev.stdout, /crashing/);
  });

  test('a failing liveness probe restarts the container; a failing readiness probe only flips Ready', async () => {
    await client.create(
      R.pods,
      pod('probed', [
        {
          name: 'live',
          command: ['sh', '-c', 'touch /tmp/healthy; sleep 3; rm /tmp/healthy; sleep 600'],
          livenessProbe: { exec: { command: ['cat', '/tmp/healthy'] }, periodSeconds: 1, failureThreshold: 1 },
        },
        {
          name: 'ready',
          command: ['sh', '-c', 'sleep 600'],
          readinessProbe: { exec: { command: ['cat', '/tmp/ready'] }, periodSeconds: 1 },
        },
      ]),
      { namespace: NS },
    );
    await waitFor('probed', {
      what: 'liveness restart',
      until: (x) => Number(containerStatus(x, 'live')?.restartCount ?? 0) >= 1,
      timeoutMs: 60_000,
    });
    let p = await getPod('probed');
    assert.equal(containerStatus(p, 'ready')?.ready, false);
    assert.equal(containerStatus(p, 'ready')?.restartCount, 0);
    assert.equal(p.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'False');
    const exec = await kubectl(
      plane.pki.adminKubeconfig,
      ['exec', 'probed', '-c', 'ready', '--', 'touch', '/tmp/ready'],
      { home },
    );
    assert.equal(exec.code, 0, exec.stderr);
    p = await waitFor('probed', {
      what: 'ready container Ready',
      until: (x) => containerStatus(x, 'ready')?.ready === true,
    });
    assert.equal(containerStatus(p, 'ready')?.restartCount, 0);
  });

  test('a container over its memory limit is OOMKilled with 137', async () => {
    await client.create(
      R.pods,
      pod(
        'hog',
        [
          {
            name: 'hog',
            command: ['sh', '-c', 'sleep 3; exec tail /dev/zero'],
            resources: { limits: { memory: '16Mi' } },
          },
        ],
        {
          restartPolicy: 'Never',
        },
      ),
      { namespace: NS },
    );
    const p = await waitFor('hog', {
      what: 'OOMKilled',
      until: (x) => containerStatus(x, 'hog')?.state?.terminated?.reason === 'OOMKilled',
    });
    assert.equal(containerStatus(p, 'hog')?.state?.terminated?.exitCode, 137);
    assert.equal(p.status?.phase, 'Failed');
  });

  test('deleting a pod sends SIGTERM first, and its containers are gone afterwards', async () => {
    const out = mkdtempSync(join(tmpdir(), 'term-'));
    await client.create(
      R.pods,
      pod(
        'graceful',
        [
          {
            name: 'c',
            command: [
              'sh',
              '-c',
              "trap 'echo got-term > /out/term; exit 0' TERM; while true; do sleep 1 & wait $!; done",
            ],
            volumeMounts: [{ name: 'out', mountPath: '/out' }],
          },
        ],
        { volumes: [{ name: 'out', hostPath: { path: out } }] },
      ),
      { namespace: NS },
    );
    const p = await waitFor('graceful', { what: 'running', until: isRunning });
    const res = await kubectl(plane.pki.adminKubeconfig, ['delete', 'pod', 'graceful'], { home });
    assert.equal(res.code, 0, res.stderr);
    assert.ok(existsSync(join(out, 'term')), 'the trap saw SIGTERM');
    assert.equal(readFileSync(join(out, 'term'), 'utf8').trim(), 'got-term');
    await eventually(async () => (await dockerOf(p.metadata.uid ?? '')).length === 0, {
      timeoutMs: 20_000,
      what: 'containers removed',
    });
    rmSync(out, { recursive: true, force: true });
  });

  test('a missing image shows ErrImagePull, then ImagePullBackOff, and never starts', async () => {
    await client.create(
      R.pods,
      pod('noimage', [{ name: 'c', image: 'coxswain/does-not-exist:1', imagePullPolicy: 'IfNotPresent' }]),
      { namespace: NS },
    );
    const reasons = new Set<string>();
    const p = await waitFor('noimage', {
      what: 'ErrImagePull then ImagePullBackOff',
      until: (x) => {
        const reason = containerStatus(x, 'c')?.state?.waiting?.reason;
        if (reason !== undefined) reasons.add(reason);
        return reasons.has('ErrImagePull') && reasons.has('ImagePullBackOff');
      },
      timeoutMs: 60_000,
    });
    assert.equal(p.status?.phase, 'Pending');
    assert.deepEqual(
      (await dockerOf(p.metadata.uid ?? '')).filter((c) => c.container !== 'POD'),
      [],
    );
  });
});

describe('configuration and events', () => {
  test('env from ConfigMap, Secret and fieldRef; configMap and secret volumes; events for the pod', async () => {
    await client.create(
      R.configmaps,
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'settings' },
        data: { mode: 'fast', 'app.conf': 'port=80' },
      },
      { namespace: NS },
    );
    await client.create(
      R.secrets,
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds' }, stringData: { password: 's3cret' } },
      { namespace: NS },
    );
    await client.create(
      R.pods,
      pod(
        'configured',
        [
          {
            name: 'c',
            command: ['sleep', '600'],
            env: [
              { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'settings', key: 'mode' } } },
              { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
              { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
              { name: 'GREETING', value: 'hello-$(MODE)' },
            ],
            volumeMounts: [
              { name: 'conf', mountPath: '/etc/app' },
              { name: 'secret', mountPath: '/etc/secret' },
            ],
          },
        ],
        {
          volumes: [
            { name: 'conf', configMap: { name: 'settings' } },
            { name: 'secret', secret: { secretName: 'creds' } },
          ],
        },
      ),
      { namespace: NS },
    );
    await waitFor('configured', { what: 'running', until: isRunning });
    const env = await kubectl(plane.pki.adminKubeconfig, ['exec', 'configured', '--', 'env'], { home });
    assert.match(env.stdout, /^MODE=fast$/m);
    assert.match(env.stdout, /^PASSWORD=s3cret$/m);
    assert.match(env.stdout, /^POD_NAME=configured$/m);
    assert.match(env.stdout, /^GREETING=hello-fast$/m);
    const files = await kubectl(
      plane.pki.adminKubeconfig,
      ['exec', 'configured', '--', 'sh', '-c', 'cat /etc/app/app.conf; echo; cat /etc/secret/password'],
      { home },
    );
    assert.equal(files.stdout, 'port=80\ns3cret');
    // Events are recorded asynchronously (fire and forget), so look for them a little while.
    await eventually(
      async () => {
        const events = await client.list(RESOURCES.events, {
          namespace: NS,
          fieldSelector: 'involvedObject.name=configured',
        });
        const reasons = new Set(events.items.map((e) => String(e['reason'])));
        return ['Pulled', 'Created', 'Started'].every((r) => reasons.has(r));
      },
      { timeoutMs: 10_000, what: 'Pulled, Created and Started events' },
    );
    const crasher = await client.list(RESOURCES.events, {
      namespace: NS,
      fieldSelector: 'involvedObject.name=crasher',
    });
    assert.ok(
      crasher.items.some((e) => e['reason'] === 'BackOff'),
      'BackOff event for the crash loop',
    );
    const probed = await client.list(RESOURCES.events, {
      namespace: NS,
      fieldSelector: 'involvedObject.name=probed',
    });
    assert.ok(
      probed.items.some((e) => e['reason'] === 'Unhealthy'),
      'Unhealthy event for probe failures',
    );
  });
});

describe('logs and exec', () => {
  test('kubectl and coxctl logs (incl. -f) and exec with exit codes and stdin', async () => {
    await client.create(
      R.pods,
      pod('talker', [
        { name: 'c', command: ['sh', '-c', 'i=0; while true; do echo line-$i; i=$((i+1)); sleep 1; done'] },
      ]),
      { namespace: NS },
    );
    await waitFor('talker', { what: 'running', until: isRunning });
    await eventually(
      async () => (await kubectl(plane.pki.adminKubeconfig, ['logs', 'talker'], { home })).stdout.includes('line-1'),
      { timeoutMs: 20_000, what: 'kubectl logs' },
    );
    const tail = await coxctl(plane.pki.adminKubeconfig, ['logs', 'talker', '--tail', '1']);
    assert.equal(tail.code, 0, tail.stderr);
    assert.equal(tail.stdout.trim().split('\n').length, 1);

    for (const cli of ['kubectl', 'coxctl'] as const) {
      const args =
        cli === 'kubectl'
          ? ['--kubeconfig', plane.pki.adminKubeconfig, 'logs', '-f', 'talker']
          : [join(plane.dir, '..'), 'x'];
      const child =
        cli === 'kubectl'
          ? spawn('kubectl', args, { env: { ...process.env, HOME: home } })
          : spawn(process.execPath, [
              join(process.cwd(), 'dist', 'cmd', 'coxctl.js'),
              '--kubeconfig',
              plane.pki.adminKubeconfig,
              'logs',
              '-f',
              'talker',
            ]);
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      try {
        const seen = (out.match(/line-\d+/g) ?? []).length;
        await eventually(() => (out.match(/line-\d+/g) ?? []).length >= seen + 3, {
          timeoutMs: 20_000,
          what: `${cli} logs -f streams`,
        });
      } finally {
        child.kill('SIGTERM');
      }
    }

    const k = await kubectl(
      plane.pki.adminKubeconfig,
      ['exec', 'talker', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3'],
      { home },
    );
    assert.equal(k.code, 3);
    assert.match(k.stdout, /out/);
    assert.match(k.stderr, /err/);
    const withStdin = await kubectl(plane.pki.adminKubeconfig, ['exec', '-i', 'talker', '--', 'cat'], {
      home,
      input: 'through-stdin\n',
    });
    assert.equal(withStdin.code, 0, withStdin.stderr);
    assert.equal(withStdin.stdout, 'through-stdin\n');
    const c = await coxctl(plane.pki.adminKubeconfig, [
      'exec',
      'talker',
      '--',
      'sh',
      '-c',
      'echo hi-from-coxctl; exit 4',
    ]);
    assert.equal(c.code, 4);
    assert.match(c.stdout, /hi-from-coxctl/);
    const ci = await coxctl(plane.pki.adminKubeconfig, ['exec', '-i', 'talker', '--', 'cat'], { input: 'piped\n' });
    assert.equal(ci.stdout, 'piped\n');
  });
});

describe('restart counting', () => {
  test('a docker rm of an app container brings it back with restartCount counting on', async () => {
    await client.create(R.pods, pod('removed', [{ name: 'c', command: ['sleep', '600'] }]), { namespace: NS });
    let p = await waitFor('removed', {
      what: 'running with restartCount 0',
      until: (x) => isRunning(x) && containerStatus(x, 'c')?.containerID !== undefined,
    });
    assert.equal(containerStatus(p, 'c')?.restartCount, 0);
    for (const expected of [1, 2]) {
      const id = String(containerStatus(p, 'c')?.containerID).replace('docker://', '');
      const rm = await run('docker', ['rm', '-f', id]);
      assert.equal(rm.code, 0, rm.stderr);
      p = await waitFor('removed', {
        what: `back with restartCount ${expected}`,
        until: (x) => {
          const cs = containerStatus(x, 'c');
          return (
            cs?.containerID !== `docker://${id}` && cs?.state?.running !== undefined && cs.restartCount === expected
          );
        },
      });
      const app = (await dockerOf(p.metadata.uid ?? '')).filter((c) => c.container === 'c');
      assert.deepEqual(
        app.map((c) => `${c.attempt}:${c.state}`),
        [`${expected}:running`],
        'one container, the new attempt',
      );
    }
  });
});

describe('node name ownership', () => {
  /** An agent process of another root dir (another identity) expected to exit. */
  function failingAgent(name: string, extra: string[]): Promise<{ code: number; stderr: string }> {
    return runRefusedAgent(plane, {
      name,
      rootDir: join(home, `other-${name}`),
      extraArgs: ['--network', 'none', ...extra],
      timeoutMs: 60_000,
    });
  }

  test('a second agent with a node name whose Lease is held fresh exits with one line naming the holder, and touches nothing', async () => {
    await client.create(R.pods, pod('guarded', [{ name: 'c', command: ['sleep', '600'] }]), { namespace: NS });
    const p = await waitFor('guarded', { what: 'running', until: isRunning });
    const before = await dockerOf(p.metadata.uid ?? '');
    const holder = readFileSync(join(agent.rootDir, 'agent-id'), 'utf8').trim();
    const lease = await client.get(leases, agent.name, { namespace: 'kube-node-lease' });
    assert.equal(lease.metadata.annotations?.['coxswain.io/agent-id'], holder, 'the Lease names its agent');
    const res = await failingAgent(agent.name, ['--port', String(await freePort())]);
    assert.notEqual(res.code, 0);
    assert.match(
      res.stderr,
      new RegExp(
        `^kubelet: failed to start: node name "${agent.name}" is in use: its Lease is held by agent ${holder}, renewed \\d+ s ago`,
      ),
    );
    assert.equal(res.stderr.trim().split('\n').length, 1, `one line: ${res.stderr}`);
    await new Promise((r) => setTimeout(r, 2000)); // what a wrongly started agent would do in its first relists
    assert.deepEqual(await dockerOf(p.metadata.uid ?? ''), before, 'the containers are untouched');
    assert.equal((await getPod('guarded')).status?.phase, 'Running');
  });

  test('an agent whose port is taken exits with one line saying so', async () => {
    const res = await failingAgent(`porty-${Math.random().toString(36).slice(2, 8)}`, ['--port', String(plane.port)]);
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, new RegExp(`^kubelet: failed to start: port ${plane.port} is taken`));
    assert.equal(res.stderr.trim().split('\n').length, 1, `one line: ${res.stderr}`);
  });
});

describe('restart safety', () => {
  test('kill -9 of the agent, a pod deleted meanwhile: no duplicates, survivors keep running, the deleted pod is cleaned up; it takes its own Lease back at once', async () => {
    await client.create(R.pods, pod('survivor', [{ name: 'c', command: ['sleep', '600'] }]), { namespace: NS });
    await client.create(R.pods, pod('doomed', [{ name: 'c', command: ['sleep', '600'] }]), { namespace: NS });
    const survivor = await waitFor('survivor', { what: 'running', until: isRunning });
    const doomed = await waitFor('doomed', { what: 'running', until: isRunning });
    const before = await dockerOf(survivor.metadata.uid ?? '');
    await agent.crash();
    await client.delete(R.pods, 'doomed', { namespace: NS });
    await agent.restart();
    await eventually(
      async () => {
        try {
          await getPod('doomed');
          return false;
        } catch (err) {
          return err instanceof ApiError && err.code === 404;
        }
      },
      { timeoutMs: 30_000, what: 'doomed pod deletion completed' },
    );
    await eventually(async () => (await dockerOf(doomed.metadata.uid ?? '')).length === 0, {
      timeoutMs: 20_000,
      what: 'doomed containers removed',
    });
    await new Promise((r) => setTimeout(r, 3000)); // a few relists
    const after = await dockerOf(survivor.metadata.uid ?? '');
    assert.deepEqual(after.map((c) => c.id).sort(), before.map((c) => c.id).sort(), 'same containers, none added');
    assert.ok(after.every((c) => c.state === 'running'));
    assert.equal((await getPod('survivor')).status?.phase, 'Running');
    // Restarted within its own Lease's lifetime, on its root dir: the same holder.
    const lease = await client.get(leases, agent.name, { namespace: 'kube-node-lease' });
    assert.equal(
      lease.metadata.annotations?.['coxswain.io/agent-id'],
      readFileSync(join(agent.rootDir, 'agent-id'), 'utf8').trim(),
    );
  });
});
