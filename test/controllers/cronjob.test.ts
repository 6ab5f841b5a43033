// CronJob controller below end to end, without waiting for a clock: a yearly schedule
// ("0 0 1 1 *") whose status says it last ran well before this year's run is due at once.
// The controller creates the Job for that scheduled time, lists it as active, and drops it
// from active once the Job is Complete (the test marks it; no Job controller runs), with
// the SuccessfulCreate and SawCompletedJob events.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rfc3339 } from '../../pkg/api/meta.js';
import { RESOURCES } from '../../pkg/api/registry.js';
import { eventually } from '../harness/clients.js';
import { createNamespace, CR, statusOf, useControllerPlane } from '../harness/controller-plane.js';

const NS = 'cron';
const cp = useControllerPlane(['cronjob']);

test('a CronJob whose run is due creates one Job for that time, and clears it from active once Complete', async () => {
  const { client } = cp;
  await createNamespace(client, NS);
  const cj = await client.create(
    CR.cronjobs,
    {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'yearly' },
      spec: {
        schedule: '0 0 1 1 *',
        jobTemplate: {
          spec: {
            template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox:latest' }] } },
          },
        },
      },
    },
    { namespace: NS },
  );
  // The last run "was" in the middle of last year: this year's 1 January is due now.
  const year = new Date().getUTCFullYear();
  await client.patch(CR.cronjobs, 'yearly', {
    type: 'merge',
    body: { status: { lastScheduleTime: rfc3339(new Date(Date.UTC(year - 1, 5, 1))) } },
    namespace: NS,
    subresource: 'status',
  });
  const due = rfc3339(new Date(Date.UTC(year, 0, 1)));

  await eventually(async () => (await client.list(CR.jobs, { namespace: NS })).items.length === 1, {
    what: 'one Job created',
  });
  const [created] = (await client.list(CR.jobs, { namespace: NS })).items;
  assert.ok(created !== undefined);
  assert.equal(
    created.metadata.ownerReferences?.find((o) => o.controller === true)?.uid,
    cj.metadata.uid,
    'owned by the CronJob',
  );
  assert.equal(created.metadata.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp'], due);
  await eventually(
    async () => {
      const status = statusOf(await client.get(CR.cronjobs, 'yearly', { namespace: NS }));
      const active = Array.isArray(status['active']) ? status['active'] : [];
      return status['lastScheduleTime'] === due && active.length === 1;
    },
    { what: 'status: lastScheduleTime is the due time, the Job active' },
  );

  const now = rfc3339(new Date());
  await client.patch(CR.jobs, created.metadata.name ?? '', {
    type: 'merge',
    body: {
      status: {
        succeeded: 1,
        startTime: now,
        completionTime: now,
        conditions: [{ type: 'Complete', status: 'True', lastTransitionTime: now }],
      },
    },
    namespace: NS,
    subresource: 'status',
  });
  await eventually(
    async () => {
      const status = statusOf(await client.get(CR.cronjobs, 'yearly', { namespace: NS }));
      return status['active'] === undefined && status['lastSuccessfulTime'] === now;
    },
    { what: 'the finished Job leaves active, lastSuccessfulTime set' },
  );
  assert.equal(
    (await client.list(CR.jobs, { namespace: NS })).items.length,
    1,
    'no second Job: the next run is next year',
  );
  // What `kubectl describe cronjob` shows: the Events Kubernetes' cronjob-controller records.
  const jobName = created.metadata.name ?? '';
  const seen = async (): Promise<string[]> =>
    (
      await client.list(RESOURCES.events, {
        namespace: NS,
        fieldSelector: 'involvedObject.kind=CronJob,involvedObject.name=yearly',
      })
    ).items.map((e) => `${e.reason ?? ''}: ${e.message ?? ''}`);
  await eventually(
    async () => (await seen()).includes(`SawCompletedJob: Saw completed job: ${jobName}, condition: Complete`),
    {
      what: 'SawCompletedJob event',
    },
  );
  assert.ok((await seen()).includes(`SuccessfulCreate: Created job ${jobName}`));
});
