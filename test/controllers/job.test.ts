// Job controller below end to end: the test plays the kubelet and ends the Job's pods. A Job
// of 2 completions is Complete once 2 pods Succeeded; a Job with backoffLimit 1 is Failed
// (BackoffLimitExceeded) once a second pod Failed, and keeps no pod running; an Indexed Job
// replaces a failed index with the same index and completes each index once.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../pkg/api/meta.js';
import { RESOURCES } from '../../pkg/api/registry.js';
import { eventually } from '../harness/clients.js';
import {
  conditionStatus,
  createNamespace,
  CR,
  field,
  livePods,
  runPod,
  setPodStatus,
  statusCount,
  template,
  useControllerPlane,
} from '../harness/controller-plane.js';
import { createReadyNode } from '../harness/fake-nodes.js';

const NS = 'jobs';
const cp = useControllerPlane(['job']);

function job(name: string, spec: Record<string, unknown>): Record<string, unknown> {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name },
    spec: { ...spec, template: template(name, { restartPolicy: 'Never' }) },
  };
}

/** Runs every still-pending pod of `app` to the given end (what a kubelet reports). */
async function finishPods(app: string, phase: 'Succeeded' | 'Failed'): Promise<void> {
  for (const p of await livePods(cp.client, NS, app)) {
    const current = field(p, 'status', 'phase');
    if (current === 'Succeeded' || current === 'Failed') continue;
    await runPod(cp.client, p, 'n1');
    await setPodStatus(cp.client, p.metadata.name ?? '', { namespace: NS, phase });
  }
}

test('a Job of 2 completions is Complete after 2 pods Succeeded', async () => {
  const { client } = cp;
  await createNamespace(client, NS);
  await createReadyNode(client, 'n1');
  await client.create(CR.jobs, job('twice', { completions: 2, parallelism: 1 }), { namespace: NS });
  await eventually(
    async () => {
      await finishPods('twice', 'Succeeded');
      return conditionStatus(await client.get(CR.jobs, 'twice', { namespace: NS }), 'Complete') === 'True';
    },
    { timeoutMs: 60_000, intervalMs: 200, what: 'Job twice Complete' },
  );
  const done = await client.get(CR.jobs, 'twice', { namespace: NS });
  assert.equal(statusCount(done, 'succeeded'), 2);
  assert.equal(statusCount(done, 'active'), 0);
  assert.equal(statusCount(done, 'failed'), 0);
  assert.equal((await livePods(client, NS, 'twice')).length, 2, 'exactly 2 pods were made');
});

test('a Job with backoffLimit 1 is Failed once 2 pods Failed', async () => {
  const { client } = cp;
  await client.create(CR.jobs, job('flaky', { completions: 1, parallelism: 1, backoffLimit: 1 }), { namespace: NS });
  await eventually(
    async () => {
      await finishPods('flaky', 'Failed');
      return conditionStatus(await client.get(CR.jobs, 'flaky', { namespace: NS }), 'Failed') === 'True';
    },
    { timeoutMs: 60_000, intervalMs: 200, what: 'Job flaky Failed' },
  );
  const failed = await client.get(CR.jobs, 'flaky', { namespace: NS });
  assert.equal(statusCount(failed, 'failed'), 2, 'backoffLimit 1: the second failure fails the Job');
  assert.equal(statusCount(failed, 'succeeded'), 0);
  assert.notEqual(conditionStatus(failed, 'Complete'), 'True');
  const running = (await livePods(client, NS, 'flaky')).filter((p) => field(p, 'status', 'phase') !== 'Failed');
  assert.equal(running.length, 0, 'no pod left running');
});

test('an Indexed Job replaces a failed index with a pod of the same index, and counts each index once', async () => {
  const { client } = cp;
  const spec = { completions: 3, parallelism: 2, completionMode: 'Indexed' };
  await client.create(CR.jobs, job('indexed', spec), { namespace: NS });
  const indexOf = (p: KubeObject): string => p.metadata.annotations?.['batch.kubernetes.io/job-completion-index'] ?? '';
  const running = async (): Promise<KubeObject[]> =>
    (await livePods(client, NS, 'indexed')).filter((p) => {
      const phase = field(p, 'status', 'phase');
      return phase !== 'Succeeded' && phase !== 'Failed';
    });
  await eventually(async () => (await running()).length === 2, { timeoutMs: 30_000, what: 'two indexed pods' });
  assert.deepEqual((await running()).map(indexOf).sort(), ['0', '1'], 'the lowest indexes first, at most parallelism');
  // Index 1 fails: its replacement carries index 1 again.
  const one = (await running()).find((p) => indexOf(p) === '1');
  assert.ok(one);
  await runPod(client, one, 'n1');
  await setPodStatus(client, one.metadata.name ?? '', { namespace: NS, phase: 'Failed' });
  await eventually(async () => (await running()).filter((p) => indexOf(p) === '1').length === 1, {
    timeoutMs: 30_000,
    what: 'index 1 again',
  });
  await eventually(
    async () => {
      await finishPods('indexed', 'Succeeded');
      return conditionStatus(await client.get(CR.jobs, 'indexed', { namespace: NS }), 'Complete') === 'True';
    },
    { timeoutMs: 60_000, intervalMs: 200, what: 'Job indexed Complete' },
  );
  const done = await client.get(CR.jobs, 'indexed', { namespace: NS });
  assert.equal(field(done, 'status', 'completedIndexes'), '0-2');
  assert.equal(statusCount(done, 'succeeded'), 3);
  assert.equal(statusCount(done, 'failed'), 1);
  const succeededIndexes = (await livePods(client, NS, 'indexed'))
    .filter((p) => field(p, 'status', 'phase') === 'Succeeded')
    .map(indexOf)
    .sort();
  assert.deepEqual(succeededIndexes, ['0', '1', '2']);
});

test('a suspended Job runs no pod and says so; resumed, it runs and records Suspended then Resumed', async () => {
  const { client } = cp;
  await client.create(CR.jobs, job('paused', { completions: 1, parallelism: 1, suspend: true }), { namespace: NS });
  const suspended = (): Promise<string | undefined> =>
    client.get(CR.jobs, 'paused', { namespace: NS }).then((j) => conditionStatus(j, 'Suspended'));
  await eventually(async () => (await suspended()) === 'True', { timeoutMs: 30_000, what: 'Suspended=True' });
  assert.equal((await livePods(client, NS, 'paused')).length, 0, 'no pod while suspended');
  await client.patch(CR.jobs, 'paused', { type: 'merge', body: { spec: { suspend: false } }, namespace: NS });
  await eventually(async () => (await suspended()) === 'False' && (await livePods(client, NS, 'paused')).length === 1, {
    timeoutMs: 30_000,
    what: 'resumed with a pod',
  });
  const reasons = async (): Promise<string[]> =>
    (
      await client.list(RESOURCES.events, {
        namespace: NS,
        fieldSelector: 'involvedObject.kind=Job,involvedObject.name=paused',
      })
    ).items.map((e) => `${e.reason ?? ''}: ${e.message ?? ''}`);
  await eventually(async () => (await reasons()).includes('Resumed: Job resumed'), {
    timeoutMs: 30_000,
    what: 'events',
  });
  const seen = await reasons();
  assert.ok(seen.includes('Suspended: Job suspended'), seen.join('; '));
  assert.ok(
    seen.some((r) => r.startsWith('SuccessfulCreate: Created pod: paused-')),
    seen.join('; '),
  );
});
