// Scheduler and controllers end to end, with a real node agent on the local dockerd:
// Deployments roll, scale and roll back, Services get Endpoints, deletion cascades, and a
// pod that fits nowhere says why.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  controllerOf,
  RESOURCES,
  type Deployment,
  type Job,
  type JobSpec,
  type KubeObject,
  type Pod,
} from '../pkg/api/index.js';
import { watchStream, type RestClient } from '../pkg/client/index.js';
import { startAgentCluster, type AgentCluster } from './harness/agent-cluster.js';
import { eventually, R } from './harness/clients.js';
import { hasReadyCondition, isLive, isRunning } from './harness/pods.js';
import { coxctl, kubectl, run, type ControlPlane, type NodeAgent } from './harness/control-plane.js';

let plane: ControlPlane;
let agent: NodeAgent;
let client: RestClient;
let home: string;
const NS = 'default';
const endpoints = RESOURCES.endpoints;
const events = RESOURCES.events;

let cluster: AgentCluster | undefined;

before(async () => {
  cluster = await startAgentCluster({ plane: { withControllers: true, withScheduler: true } });
  ({ plane, agent, client } = cluster);
  home = mkdtempSync(join(tmpdir(), 'workloads-'));
});
after(async () => {
  await cluster?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

/** An httpd Deployment named (and labelled `app=`) `name`, ready once it serves. */
function webDeployment(opts: { name?: string; replicas?: number } = {}): Deployment {
  const { name = 'web', replicas = 3 } = opts;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: 'httpd',
              image: 'busybox:latest',
              imagePullPolicy: 'IfNotPresent',
              command: ['sh', '-c', 'mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www'],
              ports: [{ name: 'http', containerPort: 8080 }],
              readinessProbe: { httpGet: { path: '/index.html', port: 8080 }, periodSeconds: 1 },
            },
          ],
        },
      },
    },
  };
}

async function pods(selector = 'app=web'): Promise<Pod[]> {
  return (await client.list(R.pods, { namespace: NS, labelSelector: selector })).items;
}

function ready(p: Pod): boolean {
  return hasReadyCondition(p) && isLive(p);
}

async function exactly(n: number, what: string): Promise<void> {
  await eventually(
    async () => {
      const list = (await pods()).filter((p) => p.metadata.deletionTimestamp === undefined);
      return list.length === n && list.every(ready);
    },
    { timeoutMs: 90_000, intervalMs: 250, what },
  );
}

describe('deployments', () => {
  test('3 replicas with a readiness probe become Ready; the Service Endpoints hold their IPs', async () => {
    await client.create(R.deployments, webDeployment(), { namespace: NS });
    await client.create(
      R.services,
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'web' },
        spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
      },
      { namespace: NS },
    );
    await exactly(3, '3 ready pods');
    const ips = (await pods()).map((p) => String(p.status?.podIP)).sort();
    await eventually(
      async () => {
        const ep = await client.get(endpoints, 'web', { namespace: NS }).catch(() => undefined);
        const subsets = ep?.subsets ?? [];
        const addrs = subsets.flatMap((s) => (s.addresses ?? []).map((a) => a.ip)).sort();
        const ports = subsets.flatMap((s) => (s.ports ?? []).map((p) => p.port));
        return JSON.stringify(addrs) === JSON.stringify(ips) && ports.every((p) => p === 8080);
      },
      { timeoutMs: 30_000, what: 'endpoints = pod IPs' },
    );
  });

  test('a killed container restarts in place; a deleted pod is replaced; scale 3 → 6 → 2 converges', async () => {
    const [first] = await pods();
    assert.ok(first);
    const ids = await run('docker', [
      'ps',
      '-q',
      '--filter',
      `label=io.coxswain.pod.uid=${first.metadata.uid ?? ''}`,
      '--filter',
      'label=io.coxswain.container.type=app',
    ]);
    const id = ids.stdout.trim().split('\n')[0] ?? '';
    await run('docker', ['kill', id]);
    await eventually(
      async () => {
        const p = await client.get(R.pods, first.metadata.name ?? '', { namespace: NS });
        const cs = p.status?.containerStatuses?.[0];
        return (cs?.restartCount ?? 0) >= 1 && ready(p);
      },
      { timeoutMs: 60_000, what: 'restarted in place' },
    );
    const del = await kubectl(plane.pki.adminKubeconfig, ['delete', 'pod', first.metadata.name ?? ''], { home });
    assert.equal(del.code, 0, del.stderr);
    await exactly(3, 'replacement pod ready');
    assert.ok(!(await pods()).some((p) => p.metadata.uid === first.metadata.uid));
    const steps = [
      { replicas: 6, what: 'six ready' },
      { replicas: 2, what: 'two ready' },
      { replicas: 3, what: 'back to three' },
    ];
    for (const { replicas, what } of steps) {
      await client.patch(R.deployments, 'web', {
        type: 'merge',
        body: { spec: { replicas } },
        namespace: NS,
        subresource: 'scale',
      });
      await exactly(replicas, what);
    }
  });

  test('a template change rolls within maxSurge/maxUnavailable; rollout status returns; rollout undo restores', async () => {
    const samples: { total: number; ready: number }[] = [];
    const live = new Map<string, KubeObject>();
    const rv = (await client.list(R.pods, { namespace: NS })).metadata.resourceVersion ?? '0';
    for (const p of await pods()) live.set(p.metadata.name ?? '', p);
    const stream = watchStream(
      client,
      { resource: R.pods, namespace: NS, labelSelector: 'app=web', resourceVersion: rv },
      {
        onEvent: (ev) => {
          if (ev.type === 'DELETED') live.delete(ev.object.metadata.name ?? '');
          else live.set(ev.object.metadata.name ?? '', ev.object);
          const current = [...live.values()].filter((p) => p.metadata.deletionTimestamp === undefined);
          samples.push({ total: current.length, ready: current.filter(ready).length });
        },
        onClose: () => undefined,
      },
    );
    try {
      const patch = await kubectl(plane.pki.adminKubeconfig, ['set', 'env', 'deployment/web', 'VERSION=2'], { home });
      assert.equal(patch.code, 0, patch.stderr);
      const status = await kubectl(
        plane.pki.adminKubeconfig,
        ['rollout', 'status', 'deployment/web', '--timeout=120s'],
        { home, timeoutMs: 150_000 },
      );
      assert.equal(status.code, 0, status.stderr + status.stdout);
      assert.match(status.stdout, /successfully rolled out/);
    } finally {
      stream.stop();
    }
    assert.ok(samples.length > 0);
    // replicas 3, maxSurge 1, maxUnavailable 1: never more than 4 pods, never fewer than 2 ready.
    assert.ok(
      samples.every((s) => s.total <= 4),
      `surge exceeded: ${JSON.stringify(samples)}`,
    );
    const afterStart = samples.slice(1);
    assert.ok(
      afterStart.every((s) => s.ready >= 2),
      `availability dropped: ${JSON.stringify(samples)}`,
    );
    const env = (await pods())
      .filter((p) => p.metadata.deletionTimestamp === undefined)
      .map((p) => JSON.stringify(p.spec?.containers[0]?.env ?? []));
    assert.ok(env.every((e) => e.includes('VERSION')));
    const history = await kubectl(plane.pki.adminKubeconfig, ['rollout', 'history', 'deployment/web'], { home });
    assert.match(history.stdout, /^1\s/m);
    assert.match(history.stdout, /^2\s/m);
    const undo = await kubectl(plane.pki.adminKubeconfig, ['rollout', 'undo', 'deployment/web'], { home });
    assert.equal(undo.code, 0, undo.stderr);
    const status = await kubectl(plane.pki.adminKubeconfig, ['rollout', 'status', 'deployment/web', '--timeout=120s'], {
      home,
      timeoutMs: 150_000,
    });
    assert.equal(status.code, 0, status.stderr);
    await exactly(3, 'three ready after undo');
    const envAfter = (await pods())
      .filter((p) => p.metadata.deletionTimestamp === undefined)
      .map((p) => JSON.stringify(p.spec?.containers[0]?.env ?? []));
    assert.ok(
      envAfter.every((e) => !e.includes('VERSION')),
      'previous template restored',
    );
  });

  test('deleting a deployment removes its ReplicaSets and pods; orphan leaves them', async () => {
    const file = join(home, 'orphan.yaml');
    const d = webDeployment({ name: 'keeper', replicas: 1 });
    writeFileSync(file, JSON.stringify(d));
    await client.create(R.deployments, d, { namespace: NS });
    await eventually(async () => (await pods('app=keeper')).some(ready), {
      timeoutMs: 60_000,
      what: 'keeper pod ready',
    });
    const orphan = await kubectl(plane.pki.adminKubeconfig, ['delete', 'deployment', 'keeper', '--cascade=orphan'], {
      home,
    });
    assert.equal(orphan.code, 0, orphan.stderr);
    await eventually(
      async () => {
        const rs = (await client.list(R.replicasets, { namespace: NS, labelSelector: 'app=keeper' })).items;
        return rs.length === 1 && (rs[0]?.metadata.ownerReferences ?? []).length === 0;
      },
      { timeoutMs: 30_000, what: 'replicaset orphaned' },
    );
    assert.equal((await pods('app=keeper')).length, 1);

    const bg = await kubectl(plane.pki.adminKubeconfig, ['delete', 'deployment', 'web'], { home });
    assert.equal(bg.code, 0, bg.stderr);
    await eventually(
      async () =>
        (await client.list(R.replicasets, { namespace: NS, labelSelector: 'app=web' })).items.length === 0 &&
        (await pods()).length === 0,
      { timeoutMs: 60_000, what: 'web replicasets and pods gone' },
    );
  });
});

describe('jobs', () => {
  const jobs = RESOURCES.jobs;
  const job = (name: string, command: string[], extra: Omit<JobSpec, 'template'>): Job => ({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name },
    spec: {
      ...extra,
      template: {
        spec: {
          restartPolicy: 'Never',
          terminationGracePeriodSeconds: 1,
          containers: [{ name: 'c', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command }],
        },
      },
    },
  });

  test('completions 3 with parallelism 2 completes (kubectl wait), never running more than 2 at once', async () => {
    await client.create(jobs, job('count', ['sh', '-c', 'sleep 1; echo done'], { completions: 3, parallelism: 2 }), {
      namespace: NS,
    });
    let maxActive = 0;
    const wait = kubectl(
      plane.pki.adminKubeconfig,
      ['wait', '--for=condition=complete', 'job/count', '--timeout=120s'],
      { home, timeoutMs: 150_000 },
    );
    const sampler = setInterval(() => {
      void client.list(R.pods, { namespace: NS, labelSelector: 'job-name=count' }).then(
        (l) => {
          const active = l.items.filter((p) => !['Succeeded', 'Failed'].includes(String(p.status?.phase))).length;
          maxActive = Math.max(maxActive, active);
        },
        () => undefined,
      );
    }, 200);
    const res = await wait.finally(() => clearInterval(sampler));
    assert.equal(res.code, 0, res.stderr);
    const j = await client.get(jobs, 'count', { namespace: NS });
    assert.equal(j.status?.succeeded, 3);
    assert.ok(maxActive <= 2, `ran ${maxActive} at once`);
  });

  test('a failing job stops at its backoffLimit with BackoffLimitExceeded', async () => {
    await client.create(jobs, job('fails', ['sh', '-c', 'exit 1'], { backoffLimit: 1 }), { namespace: NS });
    await eventually(
      async () => {
        const j = await client.get(jobs, 'fails', { namespace: NS });
        const conds = j.status?.conditions ?? [];
        return conds.some((c) => c.type === 'Failed' && c.reason === 'BackoffLimitExceeded');
      },
      { timeoutMs: 90_000, what: 'job failed' },
    );
    const j = await client.get(jobs, 'fails', { namespace: NS });
    assert.equal(j.status?.failed, 2);
    await new Promise((r) => setTimeout(r, 2000));
    const pods = (await client.list(R.pods, { namespace: NS, labelSelector: 'job-name=fails' })).items;
    assert.equal(pods.length, 2, 'no new pods after the limit');
  });
});

describe('daemonsets, statefulsets, cronjobs', () => {
  test('a DaemonSet runs one pod on each node', async () => {
    const ds = RESOURCES.daemonsets;
    await client.create(
      ds,
      {
        apiVersion: 'apps/v1',
        kind: 'DaemonSet',
        metadata: { name: 'agentd' },
        spec: {
          selector: { matchLabels: { app: 'agentd' } },
          template: {
            metadata: { labels: { app: 'agentd' } },
            spec: {
              terminationGracePeriodSeconds: 1,
              containers: [
                { name: 'c', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] },
              ],
            },
          },
        },
      },
      { namespace: NS },
    );
    const nodes = (await client.list(R.nodes)).items.map((n) => n.metadata.name ?? '');
    await eventually(
      async () => {
        const list = (await pods('app=agentd')).filter(isRunning);
        const on = list.map((p) => String(p.spec?.nodeName)).sort();
        return JSON.stringify(on) === JSON.stringify([...nodes].sort());
      },
      { timeoutMs: 60_000, what: 'one running daemon pod per node' },
    );
    const status = (await client.get(ds, 'agentd', { namespace: NS })).status;
    assert.equal(status?.desiredNumberScheduled, nodes.length);
  });

  test('a StatefulSet creates web-0, web-1, web-2 in order, each after the previous is Ready', async () => {
    const sts = RESOURCES.statefulsets;
    await client.create(
      sts,
      {
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata: { name: 'db' },
        spec: {
          replicas: 3,
          serviceName: 'db',
          selector: { matchLabels: { app: 'db' } },
          template: {
            metadata: { labels: { app: 'db' } },
            spec: {
              terminationGracePeriodSeconds: 1,
              containers: [
                {
                  name: 'c',
                  image: 'busybox:latest',
                  imagePullPolicy: 'IfNotPresent',
                  command: ['sleep', '3600'],
                  readinessProbe: { exec: { command: ['true'] }, periodSeconds: 1 },
                },
              ],
            },
          },
        },
      },
      { namespace: NS },
    );
    await eventually(async () => (await pods('app=db')).filter(ready).length === 3, {
      timeoutMs: 90_000,
      what: 'three ready members',
    });
    const list = await pods('app=db');
    assert.deepEqual(list.map((p) => p.metadata.name).sort(), ['db-0', 'db-1', 'db-2']);
    const created = (n: string): number =>
      Date.parse(list.find((p) => p.metadata.name === n)?.metadata.creationTimestamp ?? '');
    const readyAt = (n: string): number => {
      const c = list.find((p) => p.metadata.name === n)?.status?.conditions?.find((x) => x.type === 'Ready');
      return Date.parse(String(c?.lastTransitionTime ?? ''));
    };
    assert.ok(created('db-1') >= readyAt('db-0'), 'db-1 created after db-0 was ready');
    assert.ok(created('db-2') >= readyAt('db-1'), 'db-2 created after db-1 was ready');
    assert.equal(list.find((p) => p.metadata.name === 'db-1')?.spec?.hostname, 'db-1');
  });

  test('a CronJob creates Jobs on schedule', async () => {
    const cj = RESOURCES.cronjobs;
    await client.create(
      cj,
      {
        apiVersion: 'batch/v1',
        kind: 'CronJob',
        metadata: { name: 'tick' },
        spec: {
          schedule: '* * * * *',
          jobTemplate: {
            spec: {
              template: {
                spec: {
                  restartPolicy: 'Never',
                  containers: [
                    { name: 'c', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['true'] },
                  ],
                },
              },
            },
          },
        },
      },
      { namespace: NS },
    );
    await eventually(
      async () => {
        const jobs = (await client.list(RESOURCES.jobs, { namespace: NS })).items;
        return jobs.some((j) => (j.metadata.name ?? '').startsWith('tick-') && controllerOf(j)?.kind === 'CronJob');
      },
      { timeoutMs: 75_000, intervalMs: 500, what: 'a job created by the cronjob' },
    );
    const status = (await client.get(cj, 'tick', { namespace: NS })).status;
    assert.ok(typeof status?.lastScheduleTime === 'string');
    await client.patch(cj, 'tick', { type: 'merge', body: { spec: { suspend: true } }, namespace: NS });
  });
});

describe('node maintenance and coxctl rollout', () => {
  test('coxctl rollout status/history/undo; kubectl drain evicts; coxctl uncordon lets pods back', async () => {
    const d = webDeployment({ name: 'maint', replicas: 2 });
    await client.create(R.deployments, d, { namespace: NS });
    const st = await coxctl(plane.pki.adminKubeconfig, ['rollout', 'status', 'deployment/maint', '--timeout', '120s'], {
      timeoutMs: 150_000,
    });
    assert.equal(st.code, 0, st.stderr);
    assert.match(st.stdout, /deployment "maint" successfully rolled out/);
    await client.patch(R.deployments, 'maint', {
      type: 'strategic',
      body: { spec: { template: { metadata: { annotations: { v: '2' } } } } },
      namespace: NS,
    });
    assert.equal(
      (
        await coxctl(plane.pki.adminKubeconfig, ['rollout', 'status', 'deployment/maint', '--timeout', '120s'], {
          timeoutMs: 150_000,
        })
      ).code,
      0,
    );
    const hist = await coxctl(plane.pki.adminKubeconfig, ['rollout', 'history', 'deployment/maint']);
    assert.match(hist.stdout, /^1\s+<none>$/m);
    assert.match(hist.stdout, /^2\s+<none>$/m);
    const undo = await coxctl(plane.pki.adminKubeconfig, ['rollout', 'undo', 'deployment/maint']);
    assert.match(undo.stdout, /deployment.apps\/maint rolled back/);
    assert.equal(
      (
        await coxctl(plane.pki.adminKubeconfig, ['rollout', 'status', 'deployment/maint', '--timeout', '120s'], {
          timeoutMs: 150_000,
        })
      ).code,
      0,
    );
    const tmpl = (await client.get(R.deployments, 'maint', { namespace: NS })).spec?.template;
    assert.ok(tmpl?.metadata !== undefined);
    assert.equal(tmpl.metadata.annotations?.['v'], undefined);

    const drain = await kubectl(
      plane.pki.adminKubeconfig,
      ['drain', agent.name, '--ignore-daemonsets', '--force', '--timeout=120s'],
      { home, timeoutMs: 150_000 },
    );
    assert.equal(drain.code, 0, drain.stderr);
    assert.match(drain.stdout, /drained/);
    const node = await client.get(R.nodes, agent.name);
    assert.equal(node.spec?.unschedulable, true);
    assert.equal((await pods('app=maint')).filter((p) => p.spec?.nodeName).length, 0, 'no maint pod left on the node');
    const un = await coxctl(plane.pki.adminKubeconfig, ['uncordon', agent.name]);
    assert.match(un.stdout, /uncordoned/);
    await eventually(async () => (await pods('app=maint')).filter(ready).length === 2, {
      timeoutMs: 90_000,
      what: 'maint pods back after uncordon',
    });
  });
});

describe('scheduling', () => {
  test('a pod larger than any node stays Pending with a FailedScheduling event that says why', async () => {
    await client.create(
      R.pods,
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'huge' },
        spec: {
          containers: [
            {
              name: 'c',
              image: 'busybox:latest',
              command: ['sleep', '60'],
              resources: { requests: { memory: '900Ti' } },
            },
          ],
        },
      },
      { namespace: NS },
    );
    let message = '';
    await eventually(
      async () => {
        const list = await client.list(events, { namespace: NS, fieldSelector: 'involvedObject.name=huge' });
        const ev = list.items.find((e) => e.reason === 'FailedScheduling');
        message = ev?.message ?? '';
        return ev !== undefined;
      },
      { timeoutMs: 30_000, what: 'FailedScheduling event' },
    );
    assert.match(message, /^0\/1 nodes are available: 1 Insufficient memory\./);
    const p = await client.get(R.pods, 'huge', { namespace: NS });
    assert.equal(p.spec?.nodeName ?? '', '');
    assert.equal(p.status?.phase, 'Pending');
    assert.equal(controllerOf(p), undefined);
    // A larger node appears (a Node object with no agent behind it is enough for the scheduler).
    await client.create(R.nodes, {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'big-node', labels: { 'kubernetes.io/hostname': 'big-node' } },
      status: {
        capacity: { cpu: '64', memory: '1000Ti', pods: '110' },
        allocatable: { cpu: '64', memory: '1000Ti', pods: '110' },
        conditions: [{ type: 'Ready', status: 'True' }],
      },
    });
    await eventually(async () => (await client.get(R.pods, 'huge', { namespace: NS })).spec?.nodeName === 'big-node', {
      timeoutMs: 30_000,
      what: 'scheduled on the larger node',
    });
    await client.delete(R.pods, 'huge', { namespace: NS, gracePeriodSeconds: 0 });
    await client.delete(R.nodes, 'big-node');
  });
});
