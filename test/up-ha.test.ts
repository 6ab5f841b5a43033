// `npm run up -- --ha` as a user runs it (scripts/up.sh and down.sh, own state, certificates
// and ports, COXSWAIN_SKIP_SETUP=1): 3 etcd members, 3 apiservers, 2 schedulers, 2
// controller-managers and a node agent all run; the node is Ready and a pod runs; after kill -9
// of the etcd leader and of the apiserver the kubeconfig points at, the real kubectl pointed at
// a surviving apiserver still creates objects, and every apiserver reads them; under a steady
// create load through a failover client, kill -9 of the etcd leader, of that client's
// apiserver and of the active scheduler and controller-manager loses no acknowledged write,
// makes no duplicate pod, lets a Deployment scaled meanwhile converge, and its watch resumes
// without relisting, while kubectl on a surviving apiserver works throughout; `down` leaves no
// process of the cluster and leaves another etcd on this machine running. Needs root and Docker.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { RESOURCES, type Deployment, type Lease } from '../pkg/api/index.js';
import type { KubeObject } from '../pkg/api/meta.js';
import { loadKubeconfig, Reflector, RestClient, withApiservers } from '../pkg/client/index.js';
import { eventually, R } from './harness/clients.js';
import { freePort, kubectl, REPO, removeNodeContainers, run } from './harness/control-plane.js';
import { awaitLeader, startEtcd, type EtcdProcess } from './harness/etcd.js';
import { processesUnder, runRoot, startTime } from './harness/run-root.js';

let state: string;
let home: string;
let env: NodeJS.ProcessEnv;
let apiPort: number;
let etcdPort: number;
/** An etcd of "another cluster" on this machine: down must leave it alone. */
let neighbour: EtcdProcess | undefined;
const node = `ha-${process.pid}`;
const COMPONENTS = [
  'etcd-1',
  'etcd-2',
  'etcd-3',
  'apiserver-1',
  'apiserver-2',
  'apiserver-3',
  'scheduler-1',
  'scheduler-2',
  'controller-manager-1',
  'controller-manager-2',
  'kubelet',
];

const script = (name: string, args: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> =>
  run('bash', [join(REPO, 'scripts', name), ...args], { env, timeoutMs: 300_000 });

const apiserverUrl = (i: number): string => `https://127.0.0.1:${apiPort + i}`;
const kubeconfig = (): string => join(state, 'certs', 'admin.kubeconfig');

function pidOf(name: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(state, 'pids', name), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 && startTime(pid) !== undefined ? pid : undefined;
  } catch {
    return undefined;
  }
}

function listens(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createServer();
    s.once('error', () => res(false));
    s.listen({ port, host: '127.0.0.1', exclusive: true }, () => s.close(() => res(true)));
  });
}

/** A base port whose next `count` ports are all free (bounded tries). */
async function freeRun(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = await freePort();
    const free = await Promise.all(Array.from({ length: count }, (_, i) => listens(base + i)));
    if (free.every(Boolean)) return base;
  }
  throw new Error(`no ${count} consecutive free ports found`);
}

/** The member index (0-based) etcd's members name as leader. */
function etcdLeader(): Promise<number> {
  const certs = join(state, 'certs');
  const tls = {
    ca: readFileSync(join(certs, 'etcd', 'ca.crt')),
    cert: readFileSync(join(certs, 'apiserver-etcd-client.crt')),
    key: readFileSync(join(certs, 'apiserver-etcd-client.key')),
  };
  return awaitLeader(
    [0, 1, 2].map((i) => `https://127.0.0.1:${etcdPort + 2 * i}`),
    tls,
  );
}

/** kubectl against one apiserver (a fresh HOME per cluster: its caches live there). */
const kubectlAt = (server: string, args: string[]): ReturnType<typeof kubectl> =>
  kubectl(kubeconfig(), ['--server', server, '--request-timeout=10s', ...args], { home, timeoutMs: 30_000 });

before(async () => {
  state = mkdtempSync(join(runRoot(), 'up-ha-'));
  home = mkdtempSync(join(runRoot(), 'up-ha-home-'));
  apiPort = await freeRun(3);
  etcdPort = await freeRun(6);
  env = {
    ...process.env,
    COXSWAIN_STATE: state,
    COXSWAIN_CERTS: join(state, 'certs'),
    COXSWAIN_PORT: String(apiPort),
    COXSWAIN_ETCD_PORT: String(etcdPort),
    COXSWAIN_NODE_NAME: node,
    COXSWAIN_SKIP_SETUP: '1',
    // The HA control plane is the subject: the agent leaves this machine's network and port 10250 alone.
    COXSWAIN_KUBELET_ARGS: `--network none --port ${await freePort()}`,
  };
  neighbour = await startEtcd();
  const res = await script('up.sh', ['--ha']);
  assert.equal(res.code, 0, `up --ha failed: ${res.stdout.slice(-3000)} ${res.stderr.slice(-3000)}`);
  assert.match(res.stdout, /up: etcd cluster of 3 members healthy/);
  assert.match(res.stdout, /up: 3 apiservers ready/);
  assert.match(res.stdout, new RegExp(`node ${node} is Ready`));
});

after(async () => {
  await script('down.sh', ['--purge']).catch(() => undefined);
  await removeNodeContainers(node).catch(() => undefined);
  await neighbour?.stop();
  rmSync(state, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

test('up --ha runs every member, the node is Ready on every apiserver, and a pod runs', async () => {
  const missing = COMPONENTS.filter((name) => pidOf(name) === undefined);
  assert.deepEqual(missing, [], 'every component runs');
  for (let i = 0; i < 3; i++) {
    const nodes = await kubectlAt(apiserverUrl(i), ['get', 'nodes', '--no-headers']);
    assert.equal(nodes.code, 0, nodes.stderr);
    assert.match(nodes.stdout, new RegExp(`^${node}\\s+Ready\\s`, 'm'), `apiserver ${i + 1}: ${nodes.stdout}`);
  }
  const pod = `apiVersion: v1
kind: Pod
metadata: {name: ha-pod}
spec:
  containers: [{name: c, image: busybox:latest, imagePullPolicy: IfNotPresent, command: [sleep, "3600"]}]
`;
  const applied = await kubectl(kubeconfig(), ['apply', '-f', '-'], { home, input: pod });
  assert.equal(applied.code, 0, applied.stderr);
  let phase = '';
  for (let i = 0; i < 120 && phase !== 'Running'; i++) {
    const got = await kubectl(kubeconfig(), ['get', 'pod', 'ha-pod', '-o', 'jsonpath={.status.phase}'], { home });
    phase = got.stdout.trim();
    if (phase !== 'Running') await sleep(500);
  }
  assert.equal(phase, 'Running', 'the pod runs on the node');
});

test('kill -9 of the etcd leader and of the first apiserver: kubectl on a surviving apiserver still creates', async () => {
  const leader = await etcdLeader();
  const etcdPid = pidOf(`etcd-${leader + 1}`);
  const apiPid = pidOf('apiserver-1');
  assert.ok(etcdPid !== undefined && apiPid !== undefined, 'both run');
  process.kill(etcdPid, 'SIGKILL');
  process.kill(apiPid, 'SIGKILL');
  // The two etcd members left elect a leader; the store retries meanwhile: bounded tries.
  let created: Awaited<ReturnType<typeof kubectl>> | undefined;
  for (let attempt = 0; attempt < 20; attempt++) {
    created = await kubectlAt(apiserverUrl(1), ['create', 'configmap', 'after-kills', '--from-literal=k=v']);
    if (created.code === 0 || /AlreadyExists/.test(created.stderr)) break;
    await sleep(500);
  }
  assert.ok(created !== undefined && (created.code === 0 || /AlreadyExists/.test(created.stderr)), created?.stderr);
  for (let n = 0; n < 5; n++) {
    const more = await kubectlAt(apiserverUrl(2), ['create', 'configmap', `after-kills-${n}`]);
    assert.equal(more.code, 0, `create ${n} on apiserver 3: ${more.stderr}`);
  }
  const read = await kubectlAt(apiserverUrl(1), ['get', 'configmap', 'after-kills-4', '-o', 'name']);
  assert.equal(read.stdout.trim(), 'configmap/after-kills-4', read.stderr);
  // The supervisor brings both back (etcd rejoins with its data, the apiserver catches up).
  let back = '';
  for (let i = 0; i < 60 && back !== 'configmap/after-kills-4'; i++) {
    const got = await kubectlAt(apiserverUrl(0), ['get', 'configmap', 'after-kills-4', '-o', 'name']);
    back = got.stdout.trim();
    if (back !== 'configmap/after-kills-4') await sleep(500);
  }
  assert.equal(back, 'configmap/after-kills-4', 'the first apiserver, restarted, serves what was written meanwhile');
});

/** The pid of the process holding leader Lease kube-system/`name` (its identity is host_pid), if it is one of `names`. */
async function leaderPid(client: RestClient, lease: string, names: string[]): Promise<number | undefined> {
  const held = await client.get<Lease>(RESOURCES.leases, lease, { namespace: 'kube-system' });
  const pid = Number(/_(\d+)$/.exec(held.spec?.holderIdentity ?? '')?.[1]);
  return names.map(pidOf).find((p) => p === pid);
}

/** Waits (bounded) until every apiserver answers /readyz. */
async function allApiserversReady(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await eventually(async () => (await kubectlAt(apiserverUrl(i), ['get', '--raw', '/readyz'])).code === 0, {
      timeoutMs: 60_000,
      intervalMs: 500,
      what: `apiserver ${i + 1} ready`,
    });
  }
}

test('under a steady create load, kill -9 of the etcd leader, an apiserver, the active scheduler and controller-manager: no acknowledged write lost, no duplicate pod, a Deployment scaled meanwhile converges, the watch does not relist', async () => {
  await allApiserversReady();
  const ns = 'chaos';
  const servers = [0, 1, 2].map(apiserverUrl);
  const client = new RestClient(withApiservers(loadKubeconfig({ path: kubeconfig() }), servers));
  const ac = new AbortController();
  const acknowledged = new Set<string>();
  const seen = new Set<string>();
  let failedWrites = 0;
  let lists = 0;
  try {
    await client.create(RESOURCES.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const deployment: Deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'chaos', namespace: ns },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'chaos' } },
        template: {
          metadata: { labels: { app: 'chaos' } },
          spec: {
            terminationGracePeriodSeconds: 1,
            containers: [
              { name: 'c', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] },
            ],
          },
        },
      },
    };
    await client.create(RESOURCES.deployments, deployment, { namespace: ns });
    const reflector = new Reflector(
      client,
      { resource: R.configmaps, namespace: ns },
      {
        onList: (items) => {
          lists++;
          for (const c of items) seen.add(c.metadata.name ?? '');
        },
        onEvent: (ev: { type: string; object: KubeObject }) => {
          if (ev.type === 'ADDED') seen.add(ev.object.metadata.name ?? '');
        },
      },
    );
    reflector.start(ac.signal);
    await eventually(() => lists === 1, { what: 'the first list' });
    // The load: 4 writers creating ConfigMaps through the failover client until told to stop.
    let next = 0;
    let loading = true;
    const writer = async (): Promise<void> => {
      while (loading && next < 5000) {
        const name = `load-${next++}`;
        try {
          await client.create(
            R.configmaps,
            { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { n: name } },
            { namespace: ns },
          );
          acknowledged.add(name);
        } catch {
          failedWrites++;
          await sleep(100);
        }
      }
    };
    const writers = Promise.all([writer(), writer(), writer(), writer()]);
    const kubectlWorks = async (i: number, what: string): Promise<void> => {
      const got = await kubectlAt(apiserverUrl(i), ['get', 'configmaps', '-n', ns, '-o', 'name']);
      assert.equal(got.code, 0, `kubectl at apiserver ${i + 1} after ${what}: ${got.stderr}`);
    };
    await sleep(2000);
    const leader = await etcdLeader();
    const etcdPid = pidOf(`etcd-${leader + 1}`);
    assert.ok(etcdPid !== undefined, 'the etcd leader runs');
    process.kill(etcdPid, 'SIGKILL');
    await sleep(3000);
    const current = servers.indexOf(client.apiservers.current);
    assert.ok(current >= 0, `the client talks to one of ${servers.join(', ')}`);
    const survivor = (current + 1) % 3;
    await kubectlWorks(survivor, 'the etcd leader died');
    const apiPid = pidOf(`apiserver-${current + 1}`);
    assert.ok(apiPid !== undefined, "the client's apiserver runs");
    process.kill(apiPid, 'SIGKILL');
    await sleep(2000);
    await kubectlWorks(survivor, "the client's apiserver died");
    const scaled = await kubectlAt(apiserverUrl(survivor), ['scale', 'deployment', 'chaos', '-n', ns, '--replicas=4']);
    assert.equal(scaled.code, 0, scaled.stderr);
    const schedulerPid = await leaderPid(client, 'kube-scheduler', ['scheduler-1', 'scheduler-2']);
    assert.ok(schedulerPid !== undefined, 'the active scheduler is one of ours');
    process.kill(schedulerPid, 'SIGKILL');
    const managerPid = await leaderPid(client, 'kube-controller-manager', [
      'controller-manager-1',
      'controller-manager-2',
    ]);
    assert.ok(managerPid !== undefined, 'the active controller-manager is one of ours');
    process.kill(managerPid, 'SIGKILL');
    await sleep(3000);
    await kubectlWorks(survivor, 'the scheduler and controller-manager died');
    loading = false;
    await writers;
    process.stdout.write(
      `chaos: ${acknowledged.size} creates acknowledged, ${failedWrites} failed (not acknowledged), ${lists} list(s) by the watch\n`,
    );
    assert.ok(acknowledged.size > 0, 'the load wrote something');
    // Every acknowledged write is there, read through an apiserver that never died.
    const stored = new Set(
      (await client.list(R.configmaps, { namespace: ns })).items.map((c) => c.metadata.name ?? ''),
    );
    const lost = [...acknowledged].filter((n) => !stored.has(n));
    assert.deepEqual(lost, [], 'no acknowledged write is lost');
    const unseen = (): string[] => [...acknowledged].filter((n) => !seen.has(n));
    await eventually(() => unseen().length === 0, {
      timeoutMs: 30_000,
      what: 'the watch saw every acknowledged write',
    }).catch((err: unknown) => {
      const missing = unseen();
      throw new Error(
        `${String(err)}: ${missing.length} of ${acknowledged.size} unseen (${missing.slice(0, 10).join(' ')}), ` +
          `${seen.size} seen, watching through ${client.apiservers.current}`,
      );
    });
    assert.ok(lists <= 2, `the watch resumed instead of relisting (${lists} lists)`);
    // The Deployment scaled during the faults converges, with exactly its 4 pods.
    const livePods = async (): Promise<string[]> =>
      (await client.list(RESOURCES.pods, { namespace: ns })).items
        .filter((p) => p.metadata.deletionTimestamp === undefined)
        .map((p) => p.metadata.name ?? '');
    await eventually(
      async () => {
        const d = await client.get<Deployment>(RESOURCES.deployments, 'chaos', { namespace: ns });
        return d.status?.readyReplicas === 4 && (await livePods()).length === 4;
      },
      { timeoutMs: 120_000, intervalMs: 1000, what: 'the Deployment has 4 ready pods' },
    );
    await sleep(3000);
    assert.equal((await livePods()).length, 4, 'no duplicate pods after the failovers');
  } finally {
    ac.abort();
    client.close();
  }
});

test('up --ha with fewer than 3 simulated hosts is refused with one line, starting nothing', async () => {
  const res = await run('bash', [join(REPO, 'scripts', 'up.sh'), '--ha', '--hosts', '2'], {
    env: { ...env, COXSWAIN_STATE: join(state, 'refused') },
    timeoutMs: 30_000,
  });
  assert.equal(res.code, 2);
  assert.equal(
    res.stderr.trim(),
    'up: --ha with --hosts needs at least 3 hosts (one control-plane member on each of the first 3)',
  );
});

test('down stops every process of the cluster and leaves another etcd on this machine running', async () => {
  const res = await script('down.sh', ['--purge']);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, /down: stopped the supervisor/);
  assert.deepEqual(processesUnder(state), [], 'no process of this cluster runs');
  const ports = [0, 1, 2].map((i) => apiPort + i).concat([0, 1, 2, 3, 4, 5].map((i) => etcdPort + i));
  const held = [];
  for (const port of ports) if (!(await listens(port))) held.push(port);
  assert.deepEqual(held, [], 'none of its ports is still held');
  assert.ok(neighbour !== undefined && neighbour.child.exitCode === null, 'the other etcd still runs');
  assert.ok((await neighbour.rawGet('anything')) === undefined, 'and answers');
});
