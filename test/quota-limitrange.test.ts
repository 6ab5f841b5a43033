// ResourceQuota and LimitRange end to end, driven with the real kubectl against a control
// plane running the resource quota, Deployment and ReplicaSet controllers (no scheduler or
// agent: pods stay Pending, which is all quota and LimitRanger look at): a quota of 2 pods
// refuses the third with Kubernetes' message and a delete frees the slot; concurrent creates
// never take more than the quota; a LimitRange's defaults appear in created pods and its max
// refuses; a Deployment scaled past the quota leaves FailedCreate on its ReplicaSet; bad
// quotas and ranges are 422.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { RESOURCES } from '../pkg/api/registry.js';
import { ApiError } from '../pkg/errors/index.js';
import { eventually } from './harness/clients.js';
import { kubectl } from './harness/control-plane.js';
import { useControllerPlane } from './harness/controller-plane.js';

const cp = useControllerPlane(['resourcequota', 'deployment', 'replicaset']);
let home = '';

before(() => {
  home = mkdtempSync(join(tmpdir(), 'kubectl-home-'));
});
after(() => rmSync(home, { recursive: true, force: true }));

function k(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return kubectl(cp.plane.pki.adminKubeconfig, args, { home, ...(input === undefined ? {} : { input }) });
}

async function ok(args: string[], input?: string): Promise<string> {
  const res = await k(args, input);
  assert.equal(res.code, 0, `kubectl ${args.join(' ')} failed: ${res.stderr}`);
  return res.stdout;
}

async function namespace(name: string): Promise<void> {
  await ok(['create', 'namespace', name]);
}

/** A quota of `hard`, applied, once the controller has counted it (admission charges only counted quotas). */
async function applyQuota(ns: string, name: string, hard: Record<string, string>): Promise<void> {
  const manifest = { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name, namespace: ns }, spec: { hard } };
  await ok(['apply', '-f', '-'], JSON.stringify(manifest));
  await eventually(
    async () => {
      const q = await cp.client.get(RESOURCES.resourcequotas, name, { namespace: ns });
      return Object.keys(hard).every((r) => q.status?.used?.[r] !== undefined && q.status.hard?.[r] === hard[r]);
    },
    { what: `quota ${name} counted` },
  );
}

function runPod(ns: string, name: string, extra: string[] = []): Promise<{ code: number; stderr: string }> {
  return k(['run', name, '-n', ns, '--image=busybox:latest', '--restart=Never', ...extra, '--', 'sleep', '3600']);
}

test("a quota of 2 pods refuses the third with Kubernetes' message; kubectl shows the quota; a delete frees the slot", async () => {
  await namespace('q1');
  await applyQuota('q1', 'pods-quota', { pods: '2' });
  for (const name of ['p1', 'p2']) assert.equal((await runPod('q1', name)).code, 0);
  const third = await runPod('q1', 'p3');
  assert.notEqual(third.code, 0);
  assert.match(
    third.stderr,
    /Error from server \(Forbidden\): pods "p3" is forbidden: exceeded quota: pods-quota, requested: pods=1, used: pods=2, limited: pods=2/,
  );
  const table = await ok(['get', 'quota', '-n', 'q1']);
  assert.match(table, /^NAME\s+AGE\s+REQUEST\s+LIMIT\s*$/m);
  assert.match(table, /^pods-quota\s+\S+\s+pods: 2\/2\s*$/m);
  const described = await ok(['describe', 'quota', 'pods-quota', '-n', 'q1']);
  assert.match(described, /Resource\s+Used\s+Hard/);
  assert.match(described, /pods\s+2\s+2/);
  await ok(['delete', 'pod', 'p1', '-n', 'q1', '--wait=true']);
  await eventually(async () => (await runPod('q1', 'p3')).code === 0, {
    what: 'the freed slot taken',
    intervalMs: 500,
  });
  const after3 = await runPod('q1', 'p4');
  assert.match(after3.stderr, /exceeded quota: pods-quota, requested: pods=1, used: pods=2, limited: pods=2/);
});

test('concurrent creates never take more than the quota allows', async () => {
  await namespace('q2');
  await applyQuota('q2', 'three', { pods: '3', 'count/configmaps': '2' });
  const pod = (i: number) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `racer-${i}` },
    spec: { containers: [{ name: 'c', image: 'busybox:latest' }] },
  });
  const results = await Promise.allSettled(
    Array.from({ length: 12 }, (_, i) => cp.client.create(RESOURCES.pods, pod(i), { namespace: 'q2' })),
  );
  const created = results.filter((r) => r.status === 'fulfilled').length;
  assert.equal(created, 3, 'exactly the quota');
  for (const r of results)
    if (r.status === 'rejected') {
      assert.ok(r.reason instanceof ApiError, String(r.reason));
      assert.equal(r.reason.code, 403);
      assert.match(r.reason.message, /exceeded quota: three, requested: pods=1, used: pods=3, limited: pods=3/);
    }
  assert.equal((await cp.client.list(RESOURCES.pods, { namespace: 'q2' })).items.length, 3);
  // count/<resource>: config maps (the namespace's kube-root-ca.crt is not published here).
  await ok(['create', 'configmap', 'a', '-n', 'q2']);
  await ok(['create', 'configmap', 'b', '-n', 'q2']);
  const third = await k(['create', 'configmap', 'c', '-n', 'q2']);
  assert.match(third.stderr, /configmaps "c" is forbidden: exceeded quota: three, requested: count\/configmaps=1/);
});

test('a quota on limits.cpu makes pods declare it; a scoped quota counts only its pods', async () => {
  await namespace('q3');
  await applyQuota('q3', 'compute', { 'limits.cpu': '1', 'requests.memory': '1Gi' });
  const bare = await runPod('q3', 'bare');
  assert.match(
    bare.stderr,
    /pods "bare" is forbidden: failed quota: compute: must specify limits.cpu for: bare; requests.memory for: bare/,
  );
  const sized = [
    '--overrides',
    JSON.stringify({
      spec: {
        containers: [
          { name: 'x', image: 'busybox:latest', resources: { limits: { cpu: '600m' }, requests: { memory: '256Mi' } } },
        ],
      },
    }),
  ];
  assert.equal((await runPod('q3', 'one', sized)).code, 0);
  const second = await runPod('q3', 'two', sized);
  assert.match(
    second.stderr,
    /exceeded quota: compute, requested: limits.cpu=600m, used: limits.cpu=600m, limited: limits.cpu=1/,
  );
  const table = await ok(['get', 'quota', 'compute', '-n', 'q3']);
  assert.match(table, /requests.memory: 256Mi\/1Gi\s+limits.cpu: 600m\/1/);
  // BestEffort pods only: a pod with requests passes a full BestEffort quota.
  await namespace('q4');
  const scoped = {
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: { name: 'be', namespace: 'q4' },
    spec: { hard: { pods: '1' }, scopes: ['BestEffort'] },
  };
  await ok(['apply', '-f', '-'], JSON.stringify(scoped));
  await eventually(
    async () =>
      (await cp.client.get(RESOURCES.resourcequotas, 'be', { namespace: 'q4' })).status?.used?.['pods'] === '0',
    { what: 'scoped quota counted' },
  );
  assert.equal((await runPod('q4', 'be1')).code, 0);
  assert.match((await runPod('q4', 'be2')).stderr, /exceeded quota: be/);
  const burstable = [
    '--overrides',
    JSON.stringify({
      spec: { containers: [{ name: 'x', image: 'busybox:latest', resources: { requests: { cpu: '100m' } } }] },
    }),
  ];
  assert.equal((await runPod('q4', 'burst', burstable)).code, 0);
});

test('a LimitRange default appears in created pods and its max refuses', async () => {
  await namespace('l1');
  const range = {
    apiVersion: 'v1',
    kind: 'LimitRange',
    metadata: { name: 'defaults', namespace: 'l1' },
    spec: {
      limits: [
        {
          type: 'Container',
          default: { cpu: '500m', memory: '128Mi' },
          defaultRequest: { cpu: '100m' },
          max: { cpu: '1' },
        },
      ],
    },
  };
  await ok(['apply', '-f', '-'], JSON.stringify(range));
  // The stored range carries Kubernetes' defaults (defaultRequest memory from default).
  const stored = JSON.parse(await ok(['get', 'limits', 'defaults', '-n', 'l1', '-o', 'json'])) as {
    spec: { limits: Record<string, unknown>[] };
  };
  assert.deepEqual(stored.spec.limits[0]?.['defaultRequest'], { cpu: '100m', memory: '128Mi' });
  assert.equal((await runPod('l1', 'defaulted')).code, 0);
  const pod = JSON.parse(await ok(['get', 'pod', 'defaulted', '-n', 'l1', '-o', 'json'])) as {
    metadata: { annotations?: Record<string, string> };
    spec: { containers: { resources?: unknown }[] };
  };
  assert.deepEqual(pod.spec.containers[0]?.resources, {
    limits: { cpu: '500m', memory: '128Mi' },
    requests: { cpu: '100m', memory: '128Mi' },
  });
  assert.equal(
    pod.metadata.annotations?.['kubernetes.io/limit-ranger'],
    'LimitRanger plugin set: cpu, memory request for container defaulted; cpu, memory limit for container defaulted',
  );
  const tooBig = [
    '--overrides',
    JSON.stringify({
      spec: { containers: [{ name: 'x', image: 'busybox:latest', resources: { limits: { cpu: '2' } } }] },
    }),
  ];
  const refused = await runPod('l1', 'big', tooBig);
  assert.match(
    refused.stderr,
    /Error from server \(Forbidden\): pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2/,
  );
  const described = await ok(['describe', 'limits', 'defaults', '-n', 'l1']);
  assert.match(described, /Container\s+cpu\s+-\s+1\s+100m\s+500m/);
});

test('a Deployment scaled past the quota gets FailedCreate with the quota message on its ReplicaSet', async () => {
  await namespace('d1');
  await applyQuota('d1', 'pods-quota', { pods: '2' });
  await ok(['create', 'deployment', 'web', '-n', 'd1', '--image=busybox:latest', '--replicas=1']);
  await ok(['scale', 'deployment', 'web', '-n', 'd1', '--replicas=3']);
  let message = '';
  await eventually(
    async () => {
      const events = await cp.client.list(RESOURCES.events, { namespace: 'd1' });
      const failed = events.items.find(
        (e) =>
          e['reason'] === 'FailedCreate' &&
          (e['involvedObject'] as { kind?: string } | undefined)?.kind === 'ReplicaSet',
      );
      message = typeof failed?.['message'] === 'string' ? failed['message'] : '';
      return message !== '';
    },
    { what: 'a FailedCreate event on the ReplicaSet', timeoutMs: 60_000 },
  );
  assert.match(
    message,
    /^Error creating: pods "web-[a-z0-9]+-[a-z0-9]+" is forbidden: exceeded quota: pods-quota, requested: pods=1, used: pods=2, limited: pods=2$/,
  );
  const rsName = (await cp.client.list(RESOURCES.replicasets, { namespace: 'd1' })).items[0]?.metadata.name ?? '';
  const described = await ok(['describe', 'rs', rsName, '-n', 'd1']);
  assert.match(described, /Warning\s+FailedCreate\s+.*exceeded quota: pods-quota/);
  assert.equal((await cp.client.list(RESOURCES.pods, { namespace: 'd1' })).items.length, 2);
});

test('hostile quotas and ranges are 422 with field paths and change nothing', async () => {
  await namespace('h1');
  const quota = (spec: Record<string, unknown>) =>
    JSON.stringify({ apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'bad', namespace: 'h1' }, spec });
  const negative = await k(['apply', '-f', '-'], quota({ hard: { pods: '-1' } }));
  assert.match(
    negative.stderr,
    /ResourceQuota "bad" is invalid: spec.hard\[pods\]: Invalid value: "-1": must be greater than or equal to 0/,
  );
  const badScope = await k(['apply', '-f', '-'], quota({ hard: { pods: '1' }, scopes: ['Sometimes'] }));
  assert.match(badScope.stderr, /spec.scopes: Invalid value: \["Sometimes"\]: unsupported scope/);
  const notQuantity = await k(['apply', '-f', '-'], quota({ hard: { pods: 'lots' } }));
  assert.notEqual(notQuantity.code, 0);
  const range = JSON.stringify({
    apiVersion: 'v1',
    kind: 'LimitRange',
    metadata: { name: 'bad', namespace: 'h1' },
    spec: { limits: [{ type: 'Container', min: { cpu: '2' }, max: { cpu: '1' } }] },
  });
  const inverted = await k(['apply', '-f', '-'], range);
  assert.match(
    inverted.stderr,
    /LimitRange "bad" is invalid: [\s\S]*spec.limits\[0\].min\[cpu\]: Invalid value: "2": min value 2 is greater than max value 1/,
  );
  assert.equal((await cp.client.list(RESOURCES.resourcequotas, { namespace: 'h1' })).items.length, 0);
  // The kubectl generator (a protobuf body) makes a good one.
  await ok(['create', 'quota', 'good', '-n', 'h1', '--hard=pods=1,count/deployments.apps=0']);
  await eventually(
    async () => (await ok(['get', 'quota', 'good', '-n', 'h1'])).includes('count/deployments.apps: 0/0, pods: 0/1'),
    { what: 'the created quota counted' },
  );
  const refused = await k(['create', 'deployment', 'web', '-n', 'h1', '--image=busybox:latest']);
  assert.match(
    refused.stderr,
    /deployments.apps "web" is forbidden: exceeded quota: good, requested: count\/deployments.apps=1, used: count\/deployments.apps=0, limited: count\/deployments.apps=0/,
  );
  await ok(['delete', 'quota', 'good', '-n', 'h1']);
  assert.equal((await cp.client.list(RESOURCES.limitranges, { namespace: 'h1' })).items.length, 0);
});
