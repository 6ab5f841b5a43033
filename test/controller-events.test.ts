// Controller and agent fidelity with the real kubectl against a control plane and a node
// agent on the local dockerd: the Events controllers record (ScalingReplicaSet,
// SuccessfulCreate, Completed …) as `kubectl describe` and `kubectl get events` show them; a
// container that cannot start backs off (a few tries in a bounded window, BackOff events);
// Jobs select only their own pods (`kubectl logs job/X`), refuse a hand-written selector, and
// Indexed Jobs give each pod its index; ReplicationControllers keep and scale their replicas;
// downwardAPI and projected volumes carry what kubectl users expect.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { RESOURCES, type Event, type Job, type Pod } from '../pkg/api/index.js';
import type { RestClient } from '../pkg/client/index.js';
import { ApiError } from '../pkg/errors/index.js';
import { startAgentCluster, type AgentCluster } from './harness/agent-cluster.js';
import { eventually, R } from './harness/clients.js';
import { kubectl } from './harness/control-plane.js';
import { isLive, isRunning } from './harness/pods.js';

const NS = 'default';
let cluster: AgentCluster | undefined;
let client: RestClient;
let kubeconfig: string;
let home: string;

before(async () => {
  cluster = await startAgentCluster({ plane: { withControllers: true, withScheduler: true } });
  client = cluster.client;
  kubeconfig = cluster.plane.pki.adminKubeconfig;
  home = mkdtempSync(join(tmpdir(), 'controller-events-'));
});
after(async () => {
  await cluster?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

async function k(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return kubectl(kubeconfig, args, { home, input, timeoutMs: 60_000 });
}

/** Applies a manifest through kubectl; the command must succeed. */
async function apply(manifest: object): Promise<void> {
  const r = await k(['apply', '-f', '-'], JSON.stringify(manifest));
  assert.equal(r.code, 0, r.stderr);
}

async function eventsAbout(kind: string, name: string, namespace = NS): Promise<Event[]> {
  const list = await client.list(RESOURCES.events, {
    namespace,
    fieldSelector: `involvedObject.kind=${kind},involvedObject.name=${name}`,
  });
  return list.items;
}

/** The total count of events with this reason about the object (a repeat bumps `count`). */
async function eventCount(kind: string, name: string, reason: string): Promise<number> {
  return (await eventsAbout(kind, name)).filter((e) => e.reason === reason).reduce((n, e) => n + (e.count ?? 1), 0);
}

async function podsOf(selector: string): Promise<Pod[]> {
  return (await client.list(R.pods, { namespace: NS, labelSelector: selector })).items.filter(isLive);
}

const BUSYBOX = { image: 'busybox:latest', imagePullPolicy: 'IfNotPresent' };

function sleeper(): Record<string, unknown> {
  return { name: 'main', ...BUSYBOX, command: ['sleep', '3600'] };
}

describe('controller events', () => {
  test('a Deployment records ScalingReplicaSet and its ReplicaSet SuccessfulCreate/SuccessfulDelete', async () => {
    await apply({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'ev-web' },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'ev-web' } },
        template: {
          metadata: { labels: { app: 'ev-web' } },
          spec: { terminationGracePeriodSeconds: 1, containers: [sleeper()] },
        },
      },
    });
    let rsName = '';
    await eventually(
      async () => {
        const rs = (await client.list(R.replicasets, { namespace: NS, labelSelector: 'app=ev-web' })).items[0];
        rsName = rs?.metadata.name ?? '';
        return rsName !== '' && (await eventCount('ReplicaSet', rsName, 'SuccessfulCreate')) >= 2;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: 'SuccessfulCreate events of the ReplicaSet' },
    );
    const describe = await k(['describe', 'deployment', 'ev-web']);
    assert.equal(describe.code, 0, describe.stderr);
    assert.match(describe.stdout, new RegExp(`ScalingReplicaSet .*Scaled up replica set ${rsName} from 0 to 2`));
    const created = await k(['get', 'events', '--field-selector', `involvedObject.name=${rsName}`]);
    assert.match(created.stdout, /SuccessfulCreate\s+replicaset\/\S+\s+Created pod: ev-web-/);

    const scale = await k(['scale', 'deployment', 'ev-web', '--replicas=1']);
    assert.equal(scale.code, 0, scale.stderr);
    await eventually(async () => (await eventCount('ReplicaSet', rsName, 'SuccessfulDelete')) >= 1, {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: 'SuccessfulDelete on the ReplicaSet',
    });
    const after = await k(['describe', 'deployment', 'ev-web']);
    assert.match(after.stdout, new RegExp(`Scaled down replica set ${rsName} from 2 to 1`));
    const deleted = await eventsAbout('ReplicaSet', rsName);
    assert.ok(deleted.some((e) => e.reason === 'SuccessfulDelete' && /^Deleted pod: ev-web-/.test(e.message ?? '')));
    assert.ok(deleted.every((e) => e.source?.component === 'replicaset-controller'));
    await k(['delete', 'deployment', 'ev-web', '--wait=false']);
  });

  test('a ReplicaSet whose pods admission refuses records FailedCreate with the API’s message', async () => {
    await apply({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'ev-restricted', labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } },
    });
    await apply({
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'refused', namespace: 'ev-restricted' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'refused' } },
        template: { metadata: { labels: { app: 'refused' } }, spec: { containers: [sleeper()] } },
      },
    });
    let failed: Event | undefined;
    await eventually(
      async () => {
        failed = (await eventsAbout('ReplicaSet', 'refused', 'ev-restricted')).find((e) => e.reason === 'FailedCreate');
        return failed !== undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250, what: 'FailedCreate on the ReplicaSet' },
    );
    assert.equal(failed?.type, 'Warning');
    assert.match(
      failed?.message ?? '',
      /^Error creating: pods "refused-\w+" is forbidden: violates PodSecurity "restricted:latest"/,
    );
    const listed = await k(['get', 'events', '-n', 'ev-restricted']);
    assert.match(listed.stdout, /Warning\s+FailedCreate\s+replicaset\/refused\s+Error creating: /);
    await k(['delete', 'namespace', 'ev-restricted', '--wait=false']);
  });
});

describe('jobs', () => {
  test('kubectl logs job/X shows the Job’s own pod; the selector and labels are generated', async () => {
    // A pod that a selector-less Job would also "own": it must not be the one kubectl picks.
    await apply({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'decoy', labels: { role: 'decoy' } },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [{ name: 'main', ...BUSYBOX, command: ['sh', '-c', 'echo decoy-output; sleep 3600'] }],
      },
    });
    await eventually(async () => (await podsOf('role=decoy')).some(isRunning), {
      timeoutMs: 60_000,
      what: 'decoy running',
    });
    await apply({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'own-logs' },
      spec: {
        template: {
          spec: {
            restartPolicy: 'Never',
            containers: [{ name: 'main', ...BUSYBOX, command: ['sh', '-c', 'echo job-own-output'] }],
          },
        },
      },
    });
    const job = await client.get(RESOURCES.jobs, 'own-logs', { namespace: NS });
    const uid = job.metadata.uid ?? '';
    assert.deepEqual(job.spec?.selector, { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } });
    assert.deepEqual(job.spec?.template.metadata?.labels, {
      'batch.kubernetes.io/controller-uid': uid,
      'batch.kubernetes.io/job-name': 'own-logs',
      'controller-uid': uid,
      'job-name': 'own-logs',
    });
    const wait = await k(['wait', '--for=condition=complete', 'job/own-logs', '--timeout=90s'], undefined);
    assert.equal(wait.code, 0, wait.stderr);
    const logs = await k(['logs', 'job/own-logs']);
    assert.equal(logs.code, 0, logs.stderr);
    assert.equal(logs.stdout.trim(), 'job-own-output');
    await eventually(async () => (await eventCount('Job', 'own-logs', 'Completed')) >= 1, {
      timeoutMs: 30_000,
      what: 'Completed event',
    });
    const describe = await k(['describe', 'job', 'own-logs']);
    assert.match(describe.stdout, /SuccessfulCreate\s+.*Created pod: own-logs-/);
    assert.match(describe.stdout, /Completed\s+.*Job completed/);
    await k(['delete', 'pod', 'decoy', '--wait=false']);
  });

  test('a hand-written selector is refused (422) unless manualSelector', async () => {
    const job = (manualSelector: boolean, name: string): object => ({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name },
      spec: {
        ...(manualSelector ? { manualSelector: true } : {}),
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: manualSelector ? name : 'something-else' } },
          spec: { restartPolicy: 'Never', containers: [{ name: 'main', ...BUSYBOX, command: ['true'] }] },
        },
      },
    });
    const refused = await k(['apply', '-f', '-'], JSON.stringify(job(false, 'hand-picked')));
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /is invalid/);
    assert.match(refused.stderr, /`selector` not auto-generated/);
    await assert.rejects(client.get(RESOURCES.jobs, 'hand-picked', { namespace: NS }), /not found/);
    await apply(job(true, 'manual-ok'));
    const manual = await client.get(RESOURCES.jobs, 'manual-ok', { namespace: NS });
    assert.deepEqual(manual.spec?.selector, { matchLabels: { app: 'manual-ok' } });
    await k(['delete', 'job', 'manual-ok', '--wait=false']);
  });

  test('an Indexed Job completes indexes 0..2, each pod seeing its own index and hostname', async () => {
    await apply({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'idx' },
      spec: {
        completions: 3,
        parallelism: 3,
        completionMode: 'Indexed',
        template: {
          spec: {
            restartPolicy: 'Never',
            containers: [
              {
                name: 'main',
                ...BUSYBOX,
                command: ['sh', '-c', 'echo "index=$JOB_COMPLETION_INDEX host=$(hostname)"'],
              },
            ],
          },
        },
      },
    });
    const wait = await k(['wait', '--for=condition=complete', 'job/idx', '--timeout=120s']);
    assert.equal(wait.code, 0, wait.stderr);
    const done: Job = await client.get(RESOURCES.jobs, 'idx', { namespace: NS });
    assert.equal(done.status?.completedIndexes, '0-2');
    assert.equal(done.status?.succeeded, 3);
    const pods = await podsOf('batch.kubernetes.io/job-name=idx');
    const seen = new Set<string>();
    for (const p of pods.filter((x) => x.status?.phase === 'Succeeded')) {
      const index = p.metadata.annotations?.['batch.kubernetes.io/job-completion-index'] ?? '';
      assert.equal(p.metadata.labels?.['batch.kubernetes.io/job-completion-index'], index);
      assert.equal(p.spec?.hostname, `idx-${index}`);
      const logs = await k(['logs', p.metadata.name ?? '']);
      assert.equal(logs.stdout.trim(), `index=${index} host=idx-${index}`);
      seen.add(index);
    }
    assert.deepEqual([...seen].sort(), ['0', '1', '2']);
  });
});

describe('container start failures back off', () => {
  test('a missing binary is tried a few times, not once a second, with its reason and BackOff events', async () => {
    await apply({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'no-binary' },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [{ name: 'main', ...BUSYBOX, command: ['/no/such/binary'] }],
      },
    });
    await eventually(async () => (await eventCount('Pod', 'no-binary', 'Failed')) >= 1, {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: 'the first failed start',
    });
    // 25 s of watching (bounded polls): a back-off of 10 s then 20 s allows about 3 tries;
    // retrying every second would make about 25.
    let waiting: { reason?: string; message?: string } | undefined;
    for (let i = 0; i < 25; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      const pod = await client.get(R.pods, 'no-binary', { namespace: NS });
      waiting = pod.status?.containerStatuses?.[0]?.state?.waiting ?? waiting;
    }
    const tries = await eventCount('Pod', 'no-binary', 'Failed');
    assert.ok(tries >= 1 && tries <= 4, `tries in the window: ${tries}`);
    assert.ok((await eventCount('Pod', 'no-binary', 'BackOff')) >= 1, 'BackOff events');
    assert.equal(waiting?.reason, 'RunContainerError');
    assert.match(waiting?.message ?? '', /no such file|not found/i);
    const get = await k(['get', 'pod', 'no-binary']);
    assert.match(get.stdout, /RunContainerError/);
    await k(['delete', 'pod', 'no-binary', '--wait=false']);
  });

  test('a missing ConfigMap key shows CreateContainerConfigError in kubectl get and describe', async () => {
    await apply({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'no-config' },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            ...sleeper(),
            env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'absent-config', key: 'k' } } }],
          },
        ],
      },
    });
    await eventually(
      async () => {
        const get = await k(['get', 'pod', 'no-config']);
        return /CreateContainerConfigError/.test(get.stdout);
      },
      { timeoutMs: 60_000, intervalMs: 500, what: 'CreateContainerConfigError shown' },
    );
    const describe = await k(['describe', 'pod', 'no-config']);
    assert.match(describe.stdout, /Reason:\s+CreateContainerConfigError/);
    assert.match(describe.stdout, /Warning\s+Failed\s+.*Error: /);
    await k(['delete', 'pod', 'no-config', '--wait=false']);
  });
});

describe('replication controllers', () => {
  test('an RC keeps its replicas, kubectl scale rc works, and it records SuccessfulCreate', async () => {
    await apply({
      apiVersion: 'v1',
      kind: 'ReplicationController',
      metadata: { name: 'ev-rc' },
      spec: {
        replicas: 2,
        template: {
          metadata: { labels: { app: 'ev-rc' } },
          spec: { terminationGracePeriodSeconds: 1, containers: [sleeper()] },
        },
      },
    });
    const rc = await client.get(RESOURCES.replicationcontrollers, 'ev-rc', { namespace: NS });
    assert.deepEqual(rc.spec?.selector, { app: 'ev-rc' }, 'the selector defaults to the template labels');
    // Hostile: a selector its template does not match is 422, a selector that is not a map is 400; nothing is stored.
    const bad = (selector: unknown): object => ({
      apiVersion: 'v1',
      kind: 'ReplicationController',
      metadata: { name: 'bad-rc' },
      spec: { selector, template: { metadata: { labels: { app: 'x' } }, spec: { containers: [sleeper()] } } },
    });
    const rcs = RESOURCES.replicationcontrollers;
    await assert.rejects(client.create(rcs, bad({ app: 'y' }), { namespace: NS }), (err: unknown) => {
      assert.ok(
        err instanceof ApiError && err.code === 422 && /does not match template/.test(err.message),
        String(err),
      );
      return true;
    });
    await assert.rejects(client.create(rcs, bad(['app=x']), { namespace: NS }), (err: unknown) => {
      assert.ok(err instanceof ApiError && err.code === 400, String(err));
      return true;
    });
    await assert.rejects(client.get(rcs, 'bad-rc', { namespace: NS }), /not found/);
    const running = async (n: number): Promise<void> =>
      eventually(
        async () => {
          const pods = await podsOf('app=ev-rc');
          return pods.length === n && pods.every(isRunning);
        },
        { timeoutMs: 90_000, intervalMs: 250, what: `${n} running RC pods` },
      );
    await running(2);
    const victim = (await podsOf('app=ev-rc'))[0]?.metadata.name ?? '';
    await k(['delete', 'pod', victim, '--wait=false']);
    await eventually(async () => (await eventCount('ReplicationController', 'ev-rc', 'SuccessfulCreate')) >= 3, {
      timeoutMs: 60_000,
      what: 'a replacement pod',
    });
    const scale = await k(['scale', 'rc', 'ev-rc', '--replicas=3']);
    assert.equal(scale.code, 0, scale.stderr);
    await running(3);
    const get = await k(['get', 'rc', 'ev-rc']);
    assert.match(get.stdout, /NAME\s+DESIRED\s+CURRENT\s+READY\s+AGE/);
    assert.match(get.stdout, /ev-rc\s+3\s+3\s+3\s+/);
    const describe = await k(['describe', 'rc', 'ev-rc']);
    assert.match(describe.stdout, /SuccessfulCreate\s+.*Created pod: ev-rc-/);
    const del = await k(['delete', 'rc', 'ev-rc']);
    assert.equal(del.code, 0, del.stderr);
    // The garbage collector knows RCs as owners: their pods go with them.
    await eventually(async () => (await podsOf('app=ev-rc')).length === 0, {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: 'the RC pods gone',
    });
  });
});

describe('downward API and projected volumes', () => {
  test('kubectl’s usual examples: labels, annotations and limits as files, a projected ConfigMap key', async () => {
    await apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'proj-cm' }, data: { greeting: 'hello' } });
    await apply({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'downward', labels: { zone: 'us-est-coast' }, annotations: { builder: 'john-doe' } },
      spec: {
        terminationGracePeriodSeconds: 1,
        restartPolicy: 'Never',
        containers: [
          {
            name: 'main',
            ...BUSYBOX,
            command: [
              'sh',
              '-c',
              'for f in /etc/podinfo/labels /etc/podinfo/annotations /etc/podinfo/mem /projected/greeting; do cat $f; echo; done',
            ],
            resources: { limits: { memory: '64Mi' } },
            volumeMounts: [
              { name: 'podinfo', mountPath: '/etc/podinfo' },
              { name: 'all-in-one', mountPath: '/projected' },
            ],
          },
        ],
        volumes: [
          {
            name: 'podinfo',
            downwardAPI: {
              items: [
                { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
                { path: 'annotations', fieldRef: { fieldPath: 'metadata.annotations' } },
                { path: 'mem', resourceFieldRef: { containerName: 'main', resource: 'limits.memory', divisor: '1Mi' } },
              ],
            },
          },
          {
            name: 'all-in-one',
            projected: {
              sources: [{ configMap: { name: 'proj-cm', items: [{ key: 'greeting', path: 'greeting' }] } }],
            },
          },
        ],
      },
    });
    await eventually(
      async () => (await client.get(R.pods, 'downward', { namespace: NS })).status?.phase === 'Succeeded',
      { timeoutMs: 60_000, intervalMs: 250, what: 'downward pod done' },
    );
    const logs = await k(['logs', 'downward']);
    assert.match(logs.stdout, /zone="us-est-coast"/);
    assert.match(logs.stdout, /builder="john-doe"/);
    assert.match(logs.stdout, /^64$/m);
    assert.match(logs.stdout, /hello/);
  });
});
