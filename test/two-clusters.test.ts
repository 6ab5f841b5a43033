// Two clusters on one machine and one dockerd, each with an agent of THE SAME node name in
// host-gw mode (its own pod network, routes, service and pod-network chains): for two
// minutes neither touches the other's containers, network, routes or chains; then one
// cluster stops and its teardown (what `npm run down` runs) removes only its own things. A
// third cluster given a pod CIDR in use is refused with one line.
// Needs root and Docker; runs under /tmp/coxswain-docker.lock with the other Docker tests.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Pod } from '../pkg/api/index.js';
import type { RestClient } from '../pkg/client/index.js';
import { clusterIdentity, type ClusterIdentity } from '../pkg/kubelet/cluster-identity.js';
import { adminClient, eventually, R } from './harness/clients.js';
import { isLive, isRunning } from './harness/pods.js';
import {
  DIST,
  freePort,
  run,
  runRefusedAgent,
  startControlPlane,
  startNodeAgent,
  type ControlPlane,
  type NodeAgent,
} from './harness/control-plane.js';

const NODE = 'twin';
const RUN_MS = 120_000;
const CHECK_EVERY_MS = 10_000;

interface Cluster {
  name: string;
  clusterCIDR: string;
  serviceCIDR: string;
  /** A made-up Node whose route every agent of the cluster programs (proto 77, inside the CIDR). */
  ghost: { podCIDR: string; ip: string };
  plane: ControlPlane;
  admin: RestClient;
  agent: NodeAgent | undefined;
  identity: ClusterIdentity;
  tornDown: boolean;
}

const clusters: Cluster[] = [];

/** What tells one test cluster from the other. */
type ClusterSetting = Pick<Cluster, 'name' | 'clusterCIDR' | 'serviceCIDR' | 'ghost'>;

async function startCluster(setting: ClusterSetting): Promise<Cluster> {
  const { clusterCIDR, serviceCIDR } = setting;
  const plane = await startControlPlane({
    withControllers: true,
    withScheduler: true,
    extraArgs: ['--service-cluster-ip-range', serviceCIDR],
    controllerManagerArgs: ['--cluster-cidr', clusterCIDR],
  });
  const cluster: Cluster = {
    ...setting,
    plane,
    admin: adminClient(plane),
    agent: undefined,
    identity: clusterIdentity(readFileSync(plane.pki.caCert, 'utf8')),
    tornDown: false,
  };
  clusters.push(cluster);
  cluster.agent = await startNodeAgent(plane, {
    name: NODE,
    extraArgs: ['--network', 'host-gw', '--cluster-cidr', clusterCIDR],
  });
  return cluster;
}

/** The agent's teardown for this cluster's CA, as `npm run down` runs it. */
async function teardown(c: Cluster): Promise<void> {
  if (c.tornDown) return;
  c.tornDown = true;
  const res = await run(
    process.execPath,
    [
      join(DIST, 'cmd', 'kubelet.js'),
      '--teardown',
      '--client-ca-file',
      c.plane.pki.caCert,
      '--cluster-cidr',
      c.clusterCIDR,
    ],
    { timeoutMs: 120_000 },
  );
  assert.equal(res.code, 0, `teardown of ${c.name}: ${res.stderr}`);
}

before(async () => {
  // Outside the default 10.244.0.0/16 and 10.96.0.0/12, so a cluster of `npm run up` on this machine is not in the way.
  await startCluster({
    name: 'a',
    clusterCIDR: '10.251.0.0/16',
    serviceCIDR: '10.112.0.0/16',
    ghost: { podCIDR: '10.251.200.0/24', ip: '10.251.0.250' },
  });
  await startCluster({
    name: 'b',
    clusterCIDR: '10.252.0.0/16',
    serviceCIDR: '10.113.0.0/16',
    ghost: { podCIDR: '10.252.200.0/24', ip: '10.252.0.250' },
  });
  assert.notEqual(clusters[0]?.identity.id, clusters[1]?.identity.id);
});

after(async () => {
  for (const c of clusters) {
    await c.agent?.stop();
    await teardown(c).catch((err: unknown) => process.stderr.write(`${String(err)}\n`));
    c.admin.close();
    await c.plane.stop();
  }
});

function must(i: number): Cluster {
  const c = clusters[i];
  assert.ok(c !== undefined);
  return c;
}

const deployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'sleepers' },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'sleepers' } },
    template: {
      metadata: { labels: { app: 'sleepers' } },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [
          { name: 'sleep', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] },
        ],
      },
    },
  },
};

async function runningPods(c: Cluster): Promise<Pod[]> {
  const pods = (await c.admin.list(R.pods, { namespace: 'default', labelSelector: 'app=sleepers' })).items;
  return pods.filter((p) => isLive(p) && isRunning(p));
}

function restartCounts(p: Pod): number[] {
  return (p.status?.containerStatuses ?? []).map((s) => s.restartCount ?? -1);
}

/** This cluster's containers on the dockerd: id → state (by the cluster label alone). */
async function containers(c: Cluster): Promise<Map<string, string>> {
  const res = await run('docker', [
    'ps',
    '-a',
    '--no-trunc',
    '--filter',
    `label=io.coxswain.cluster=${c.identity.id}`,
    '--format',
    '{{.ID}} {{.State}}',
  ]);
  assert.equal(res.code, 0, res.stderr);
  return new Map(
    res.stdout
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => l.split(' ') as [string, string]),
  );
}

async function networkExists(c: Cluster): Promise<boolean> {
  const res = await run('docker', [
    'network',
    'ls',
    '--filter',
    `label=io.coxswain.cluster=${c.identity.id}`,
    '--format',
    '{{.Name}}',
  ]);
  return res.stdout.split('\n').includes(c.identity.podNetwork);
}

/** The cluster's chains and the built-in chains' jumps to them, as iptables-save shows them. */
async function rules(c: Cluster): Promise<{ chains: string[]; jumps: string[] }> {
  const out: { chains: string[]; jumps: string[] } = { chains: [], jumps: [] };
  for (const table of ['nat', 'filter']) {
    const save = (await run('iptables-save', ['-t', table])).stdout.split('\n');
    out.chains.push(
      ...save
        .filter((l) => l.startsWith(`:${c.identity.chainPrefix}`))
        .map((l) => `${table}/${l.slice(1).split(' ')[0] ?? ''}`),
    );
    out.jumps.push(
      ...save
        .filter(
          (l) =>
            /^-A [A-Z-]+ /.test(l) &&
            !l.startsWith(`-A ${c.identity.chainPrefix}`) &&
            l.includes(`-j ${c.identity.chainPrefix}`),
        )
        .map((l) => `${table}/${l}`),
    );
  }
  return { chains: out.chains.sort(), jumps: out.jumps.sort() };
}

async function ghostRoute(c: Cluster): Promise<string> {
  return (await run('ip', ['route', 'show', c.ghost.podCIDR, 'proto', '77'])).stdout.trim();
}

/** Everything of one cluster that must stay as it was. */
interface Snapshot {
  containers: Map<string, string>;
  rules: { chains: string[]; jumps: string[] };
}

async function snapshot(c: Cluster): Promise<Snapshot> {
  return { containers: await containers(c), rules: await rules(c) };
}

async function assertIntact(c: Cluster, before: Snapshot, when: string): Promise<void> {
  const now = await containers(c);
  assert.deepEqual(
    [...now.keys()].sort(),
    [...before.containers.keys()].sort(),
    `${c.name} ${when}: the same containers`,
  );
  assert.ok(
    [...now.values()].every((s) => s === 'running'),
    `${c.name} ${when}: all running: ${JSON.stringify([...now])}`,
  );
  const pods = await runningPods(c);
  assert.equal(pods.length, 2, `${c.name} ${when}: 2 pods Running`);
  for (const p of pods)
    assert.deepEqual(restartCounts(p), [0], `${c.name} ${when}: ${p.metadata.name} never restarted`);
  assert.ok(await networkExists(c), `${c.name} ${when}: pod network ${c.identity.podNetwork} present`);
  assert.deepEqual(await rules(c), before.rules, `${c.name} ${when}: chains and jumps unchanged`);
  assert.match(
    await ghostRoute(c),
    new RegExp(`via ${c.ghost.ip.replace(/\./g, '\\.')}`),
    `${c.name} ${when}: its route present`,
  );
}

test(
  "two clusters with agents of the same node name run side by side for two minutes without touching each other; one's teardown leaves the other intact",
  { timeout: 600_000 },
  async () => {
    const [a, b] = [must(0), must(1)];
    for (const c of [a, b]) await c.admin.create(R.deployments, deployment, { namespace: 'default' });
    for (const c of [a, b]) {
      await eventually(async () => (await runningPods(c)).length === 2 && (await containers(c)).size === 4, {
        timeoutMs: 90_000,
        intervalMs: 500,
        what: `${c.name}: 2 sleepers Running`,
      });
      // A Node of no agent, so that every agent of the cluster programs one route of it.
      await c.admin.create(R.nodes, {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name: 'ghost' },
        spec: {
          podCIDR: c.ghost.podCIDR,
          podCIDRs: [c.ghost.podCIDR],
          unschedulable: true,
          taints: [{ key: 'ghost', effect: 'NoSchedule' }],
        },
      });
      await c.admin.patch(R.nodes, 'ghost', {
        type: 'merge',
        body: { status: { addresses: [{ type: 'InternalIP', address: c.ghost.ip }] } },
        subresource: 'status',
      });
      await eventually(async () => (await ghostRoute(c)) !== '', {
        timeoutMs: 30_000,
        what: `${c.name}: the ghost's route`,
      });
    }
    const snapA = await snapshot(a);
    const snapB = await snapshot(b);
    for (const [c, s] of [
      [a, snapA],
      [b, snapB],
    ] as const) {
      assert.ok(
        s.rules.chains.includes(`nat/${c.identity.chainPrefix}SERVICES`) &&
          s.rules.chains.includes(`filter/${c.identity.chainPrefix}NET-FORWARD`),
        `${c.name}: proxy and pod-network chains: ${JSON.stringify(s.rules.chains)}`,
      );
      assert.ok(
        s.rules.jumps.some((j) => j.startsWith('nat/-A PREROUTING')),
        `${c.name}: jumped to from PREROUTING`,
      );
    }

    // A third cluster given a's pod CIDR: its agent stops with one line naming a's network and
    // makes nothing (the two minutes below show a untouched).
    const c = await startControlPlane({
      withControllers: true,
      controllerManagerArgs: ['--cluster-cidr', a.clusterCIDR],
    });
    try {
      const res = await runRefusedAgent(c, {
        name: NODE,
        rootDir: join(c.dir, 'kubelet'),
        extraArgs: ['--port', String(await freePort()), '--network', 'host-gw', '--cluster-cidr', a.clusterCIDR],
        timeoutMs: 120_000,
      });
      assert.notEqual(res.code, 0);
      assert.match(
        res.stderr,
        new RegExp(
          `^kubelet: failed to start: the pod subnet 10\\.251\\.0\\.0/24 overlaps Docker network ${a.identity.podNetwork} \\(10\\.251\\.0\\.0/24, cluster ${a.identity.id}\\)`,
        ),
      );
      assert.equal(res.stderr.trim().split('\n').length, 1, `one line: ${res.stderr}`);
      const cId = clusterIdentity(readFileSync(c.pki.caCert, 'utf8'));
      const made = await run('docker', ['ps', '-aq', '--filter', `label=io.coxswain.cluster=${cId.id}`]);
      assert.equal(made.stdout.trim(), '', 'the refused agent made no container');
      assert.equal((await run('iptables-save', [])).stdout.includes(cId.chainPrefix), false, 'nor any chain');
    } finally {
      await c.stop();
    }

    // Two minutes side by side, looked at every 10 s (bounded: 12 looks).
    const looks = Math.ceil(RUN_MS / CHECK_EVERY_MS);
    for (let i = 1; i <= looks; i++) {
      await new Promise((r) => setTimeout(r, CHECK_EVERY_MS));
      await assertIntact(a, snapA, `after ${i * 10} s`);
      await assertIntact(b, snapB, `after ${i * 10} s`);
    }

    // Cluster a goes: its agent stops, its teardown runs with its CA.
    await a.agent?.stop();
    await teardown(a);
    assert.equal((await containers(a)).size, 0, 'a: no container left');
    assert.equal(await networkExists(a), false, 'a: no pod network left');
    assert.deepEqual(await rules(a), { chains: [], jumps: [] }, 'a: no chain or jump left');
    assert.equal(await ghostRoute(a), '', 'a: no route left');
    await assertIntact(b, snapB, "after a's teardown");

    // b's agent still works: one more replica runs next to the two untouched ones.
    await b.admin.patch(R.deployments, 'sleepers', {
      type: 'merge',
      body: { spec: { replicas: 3 } },
      namespace: 'default',
    });
    await eventually(async () => (await runningPods(b)).length === 3, {
      timeoutMs: 60_000,
      intervalMs: 500,
      what: 'b: a third sleeper Running',
    });
    const now = await containers(b);
    for (const id of snapB.containers.keys())
      assert.equal(now.get(id), 'running', `b: container ${id.slice(0, 12)} still running`);
  },
);
