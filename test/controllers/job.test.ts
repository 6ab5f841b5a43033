// Job controller below end to end: the test plays the kubelet and ends the Job's pods. A Job
// of 2 completions is Complete once 2 pods Succeeded; a Job with backoffLimit 1 is Failed
// (BackoffLimitExceeded) once a second pod Failed, and keeps no pod running.

import assert from 'node:assert/strict';
import { test } from 'node:test';
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
