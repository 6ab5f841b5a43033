// Clients that fail over between apiservers (two apiservers on one etcd): kill -9 the one a
// client uses and its next write succeeds on the other (the time from kill to that write is
// printed); a watch resumes on the other from its resourceVersion, without a relist; a POST
// whose connection broke after it was sent is not replayed (the apiserver had made the
// object: a replay would have made a second one), a GET is; a scheduler, a controller-manager
// and a node agent given both apiservers keep working, and keep their leases, when the one
// they used dies.

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { RESOURCES, type Lease, type Pod } from '../pkg/api/index.js';
import type { KubeObject, WatchEvent } from '../pkg/api/meta.js';
import { loadKubeconfig, Reflector, RestClient, withApiservers } from '../pkg/client/index.js';
import { isNotFound } from '../pkg/errors/index.js';
import { eventually, R } from './harness/clients.js';
import {
  coxctl,
  freePort,
  killHard,
  removeNodeContainers,
  startComponent,
  startControlPlane,
  startNodeAgent,
  type ControlPlane,
  type ExtraApiserver,
  type NodeAgent,
} from './harness/control-plane.js';
import { cuttingProxy } from './harness/cutting-proxy.js';
import { createReadyNode } from './harness/fake-nodes.js';
import { isRunning } from './harness/pods.js';

let plane: ControlPlane;
let second: ExtraApiserver;

before(async () => {
  plane = await startControlPlane({ etcd: true, serviceAccountTokens: true });
  second = await plane.addApiserver();
});
after(async () => {
  await plane?.stop();
});

/** An admin client given `servers` (first preferred). */
function clientFor(servers: string[]): RestClient {
  return new RestClient(withApiservers(loadKubeconfig({ path: plane.pki.adminKubeconfig }), servers));
}

function alive(child: ChildProcess | undefined): boolean {
  return child !== undefined && child.exitCode === null && child.signalCode === null;
}

/** Starts the plane's first apiserver again if a test killed it. */
async function restoreFirst(): Promise<void> {
  if (!alive(plane.apiserver)) await plane.restart();
}

function configMap(namespace: string, name: string): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data: { at: new Date().toISOString() } };
}

async function ensureNamespace(client: RestClient, name: string): Promise<void> {
  await client.create(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }).catch(() => undefined);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

test('kill -9 the apiserver a client uses: its next write succeeds on the other (time printed)', async () => {
  const servers = [plane.server, second.server];
  const client = clientFor(servers);
  const ns = 'failover-writes';
  const samples: number[] = [];
  try {
    await ensureNamespace(client, ns);
    // Rounds alternate the victim: kill the current one, write, start it again.
    for (let round = 0; round < 8; round++) {
      const victimIsFirst = round % 2 === 0;
      const victim = victimIsFirst ? plane.server : second.server;
      client.apiservers.succeeded(victim);
      await client.create(R.configmaps, configMap(ns, `warm-${round}`), { namespace: ns });
      const killedAt = performance.now();
      if (victimIsFirst) await plane.crash();
      else await second.crash();
      await client.create(R.configmaps, configMap(ns, `after-kill-${round}`), { namespace: ns });
      samples.push(performance.now() - killedAt);
      assert.notEqual(client.apiservers.current, victim, 'the write went to the other apiserver');
      if (victimIsFirst) await plane.restart();
      else await second.restart();
    }
    const sorted = [...samples].sort((a, b) => a - b);
    console.log(
      `failover kill -9 -> next successful write (ms, ${samples.length} rounds): ${samples.map((s) => s.toFixed(1)).join(', ')}; p50 ${percentile(sorted, 50).toFixed(1)}, p99 ${percentile(sorted, 99).toFixed(1)}, max ${(sorted[sorted.length - 1] ?? NaN).toFixed(1)}`,
    );
    const listed = await client.list(R.configmaps, { namespace: ns });
    for (let round = 0; round < 8; round++)
      assert.ok(
        listed.items.some((c) => c.metadata.name === `after-kill-${round}`),
        `after-kill-${round} is stored`,
      );
  } finally {
    client.close();
    await restoreFirst();
  }
});

/** apiserver_request_total of `verb` on `resource`, summed over codes, from one apiserver's /metrics. */
async function requestCount(server: string, what: { verb: string; resource: string }): Promise<number> {
  const client = clientFor([server]);
  try {
    const res = await client.request({ method: 'GET', path: '/metrics', accept: 'text/plain' });
    let total = 0;
    for (const line of res.body.toString('utf8').split('\n')) {
      if (!line.startsWith('apiserver_request_total{')) continue;
      if (!line.includes(`verb="${what.verb}"`) || !line.includes(`resource="${what.resource}"`)) continue;
      total += Number(line.split(' ').pop());
    }
    return total;
  } finally {
    client.close();
  }
}

test('a watch broken by a dying apiserver resumes on the other from its resourceVersion, without a relist', async () => {
  const ns = 'failover-watch';
  const writer = clientFor([second.server]);
  const client = clientFor([plane.server, second.server]);
  const ac = new AbortController();
  let lists = 0;
  const seen: string[] = [];
  try {
    await ensureNamespace(writer, ns);
    await writer.create(R.configmaps, configMap(ns, 'before'), { namespace: ns });
    const listsOnSecond = await requestCount(second.server, { verb: 'list', resource: 'configmaps' });
    const reflector = new Reflector(
      client,
      { resource: R.configmaps, namespace: ns },
      {
        onList: (items) => {
          lists++;
          for (const c of items) seen.push(`list ${c.metadata.name ?? ''}`);
        },
        onEvent: (ev: WatchEvent<KubeObject>) => seen.push(`${ev.type} ${ev.object.metadata.name ?? ''}`),
      },
    );
    reflector.start(ac.signal);
    await eventually(() => seen.includes('list before'), { what: 'the first list' });
    await writer.create(R.configmaps, configMap(ns, 'watched-1'), { namespace: ns });
    await eventually(() => seen.includes('ADDED watched-1'), { what: 'an event through the first apiserver' });
    await plane.crash();
    for (let i = 2; i <= 4; i++) await writer.create(R.configmaps, configMap(ns, `watched-${i}`), { namespace: ns });
    await eventually(() => seen.includes('ADDED watched-4'), { timeoutMs: 20_000, what: 'events after the kill' });
    assert.deepEqual(
      seen.filter((s) => s.startsWith('ADDED')),
      ['ADDED watched-1', 'ADDED watched-2', 'ADDED watched-3', 'ADDED watched-4'],
      'every event once, in order',
    );
    assert.equal(lists, 1, 'no relist: the watch resumed from its resourceVersion');
    assert.equal(client.apiservers.current, second.server);
    assert.equal(
      await requestCount(second.server, { verb: 'list', resource: 'configmaps' }),
      listsOnSecond,
      'the second apiserver served no LIST of configmaps',
    );
  } finally {
    ac.abort();
    client.close();
    writer.close();
    await restoreFirst();
  }
});

test('a POST whose connection is reset after it was sent is not replayed on the other apiserver; a GET is', async () => {
  const ns = 'failover-post';
  const proxy = await cuttingProxy(plane.server);
  const client = clientFor([proxy.url, second.server]);
  const checker = clientFor([second.server]);
  try {
    await ensureNamespace(checker, ns);
    // A connection through the proxy is open (keep-alive) before the cut is armed.
    await client.list(R.configmaps, { namespace: ns });
    proxy.arm();
    const made = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { generateName: 'reset-', namespace: ns, labels: { test: 'reset' } },
    };
    await assert.rejects(client.create(R.configmaps, made, { namespace: ns }), (err: Error) => {
      assert.match(err.message, /broke after the request was sent/);
      return true;
    });
    const stored = await checker.list(R.configmaps, { namespace: ns, labelSelector: 'test=reset' });
    assert.equal(stored.items.length, 1, 'the first apiserver made the object; nobody made a second one');
    // The same cut under a GET: replayed on the other apiserver.
    client.apiservers.succeeded(proxy.url);
    await client.list(R.configmaps, { namespace: ns });
    proxy.arm();
    const got = await client.list(R.configmaps, { namespace: ns, labelSelector: 'test=reset' });
    assert.equal(got.items.length, 1);
    assert.equal(client.apiservers.current, second.server);
  } finally {
    proxy.close();
    client.close();
    checker.close();
  }
});

function record(child: ChildProcess): () => string {
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out = (out + c.toString()).slice(-200_000)));
  child.stderr?.on('data', (c: Buffer) => (out = (out + c.toString()).slice(-200_000)));
  return () => out;
}

test('a scheduler and a controller-manager given both apiservers keep leading and working when theirs dies', async () => {
  const both = ['--apiservers', `${plane.server},${second.server}`];
  const client = clientFor([second.server]);
  const cm = await startComponent(plane, 'controller-manager', { args: both, ready: /controllers started/ });
  const scheduler = await startComponent(plane, 'scheduler', { args: both, ready: /scheduler started/ });
  const cmOut = record(cm);
  const schedulerOut = record(scheduler);
  const labels = { app: 'failover-web' };
  const bound = async (want: number): Promise<boolean> => {
    const pods = (await client.list(R.pods, { namespace: 'default', labelSelector: 'app=failover-web' })).items;
    const live = pods.filter((p) => p.metadata.deletionTimestamp === undefined);
    return live.length === want && live.every((p: Pod) => p.spec?.nodeName === 'failover-node');
  };
  try {
    await createReadyNode(client, 'failover-node');
    await client.create(
      R.deployments,
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'failover-web', namespace: 'default' },
        spec: {
          replicas: 1,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: { containers: [{ name: 'c', image: 'busybox:latest', command: ['sleep', '3600'] }] },
          },
        },
      },
      { namespace: 'default' },
    );
    await eventually(() => bound(1), { timeoutMs: 60_000, intervalMs: 200, what: 'one pod made and bound' });
    await plane.crash();
    await client.patch(R.deployments, 'failover-web', {
      type: 'merge',
      namespace: 'default',
      body: { spec: { replicas: 3 } },
    });
    await eventually(() => bound(3), {
      timeoutMs: 60_000,
      intervalMs: 200,
      what: 'three pods made and bound after the kill',
    });
    await eventually(
      async () => {
        const d = await client.get(R.deployments, 'failover-web', { namespace: 'default' });
        return d.status?.replicas === 3;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: 'the Deployment status says 3 replicas' },
    );
    // Past a whole renew deadline (10 s) on the other apiserver: both still lead.
    await new Promise((r) => setTimeout(r, 12_000));
    assert.ok(alive(cm) && alive(scheduler));
    assert.doesNotMatch(cmOut(), /lost leadership/);
    assert.doesNotMatch(schedulerOut(), /lost leadership/);
    for (const name of ['kube-controller-manager', 'kube-scheduler']) {
      const lease = await client.get(RESOURCES.leases, name, { namespace: 'kube-system' });
      const renewed = Date.parse(lease.spec?.renewTime ?? '');
      assert.ok(Date.now() - renewed < 5_000, `${name} renewed through the other apiserver`);
    }
  } finally {
    await killHard(cm);
    await killHard(scheduler);
    client.close();
    await restoreFirst();
  }
});

test('a node agent started with --apiservers a,b keeps its Node Ready and its Lease renewed when a dies', async () => {
  let agent: NodeAgent | undefined;
  const client = clientFor([second.server]);
  // The agent makes its Lease just after registering: on a slow machine the kill can come
  // first, and the Lease is then made (not renewed) through the other apiserver.
  const leaseRenewed = async (name: string, after: number): Promise<boolean> => {
    const lease: Lease | undefined = await client
      .get(RESOURCES.leases, name, { namespace: 'kube-node-lease' })
      .catch((err: unknown) => {
        if (isNotFound(err)) return undefined;
        throw err;
      });
    return Date.parse(lease?.spec?.renewTime ?? '') > after;
  };
  try {
    agent = await startNodeAgent(plane, {
      extraArgs: [
        '--apiservers',
        `${plane.server},${second.server}`,
        '--lease-renew-interval',
        '2',
        '--node-status-update-frequency',
        '4',
      ],
    });
    const name = agent.name;
    await plane.crash();
    const killedAt = Date.now();
    await eventually(() => leaseRenewed(name, killedAt + 1_000), {
      timeoutMs: 20_000,
      intervalMs: 250,
      what: 'the node Lease renewed through the other apiserver',
    });
    await eventually(
      async () => {
        const node = await client.get(R.nodes, name);
        const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
        return ready?.status === 'True' && Date.parse(ready.lastHeartbeatTime ?? '') > killedAt;
      },
      { timeoutMs: 30_000, intervalMs: 250, what: 'the Node Ready with a heartbeat after the kill' },
    );
    // Its pod watch resumed on the other apiserver: a pod bound after the kill runs.
    await client.create(
      R.pods,
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'after-failover', namespace: 'default' },
        spec: {
          nodeName: name,
          automountServiceAccountToken: false,
          terminationGracePeriodSeconds: 1,
          containers: [
            { name: 'c', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] },
          ],
        },
      },
      { namespace: 'default' },
    );
    await eventually(async () => isRunning(await client.get(R.pods, 'after-failover', { namespace: 'default' })), {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: 'a pod bound after the kill runs',
    });
    assert.ok(alive(agent.process), 'the agent kept running');
  } finally {
    await agent?.stop();
    if (agent !== undefined) await removeNodeContainers(agent.name);
    client.close();
    await restoreFirst();
  }
});

test('join --server tries each apiserver in turn; the joined agent keeps the list and fails over on a later start given one', async () => {
  const both = ['--apiservers', `${plane.server},${second.server}`];
  const cm = await startComponent(plane, 'controller-manager', { args: both, ready: /controllers started/ });
  const client = clientFor([second.server]);
  const dead = `https://127.0.0.1:${await freePort()}`;
  const agents: NodeAgent[] = [];
  try {
    const created = await coxctl(plane.pki.adminKubeconfig, ['token', 'create', '--ttl', '1h']);
    assert.equal(created.code, 0, created.stderr);
    const token = /--token (\S+)/.exec(created.stdout)?.[1] ?? '';
    const caHash = /--discovery-token-ca-cert-hash (\S+)/.exec(created.stdout)?.[1] ?? '';
    const joined = await startNodeAgent(plane, {
      join: { token, caHash },
      extraArgs: ['--server', `${dead},${second.server},${plane.server}`, '--lease-renew-interval', '2'],
    });
    agents.push(joined);
    assert.match(joined.output(), new RegExp(`discovery: cluster CA .* on ${second.server.replace(/[.]/g, '\\.')}`));
    const stored = readFileSync(join(joined.rootDir, 'pki', 'apiservers'), 'utf8')
      .trim()
      .split('\n');
    assert.deepEqual(stored, [dead, second.server, plane.server]);
    await joined.stop();
    // A later start names only the first apiserver: the stored list still offers the second.
    const later = await startNodeAgent(plane, {
      name: joined.name,
      join: { token, caHash },
      extraArgs: ['--server', plane.server, '--lease-renew-interval', '2'],
    });
    agents.push(later);
    assert.match(later.output(), /using the credentials stored in/);
    await plane.crash();
    const killedAt = Date.now();
    await eventually(
      async () => {
        const lease: Lease = await client.get(RESOURCES.leases, joined.name, { namespace: 'kube-node-lease' });
        return Date.parse(lease.spec?.renewTime ?? '') > killedAt + 1_000;
      },
      { timeoutMs: 20_000, intervalMs: 250, what: 'the Lease renewed through the stored second apiserver' },
    );
  } finally {
    for (const a of agents) await a.stop();
    for (const a of agents) await removeNodeContainers(a.name);
    await killHard(cm);
    client.close();
    await restoreFirst();
  }
});
