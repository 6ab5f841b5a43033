// CronJob controller: creates a Job from jobTemplate at each scheduled time (five-field
// schedules, UTC), honouring suspend, startingDeadlineSeconds and concurrencyPolicy
// (Allow, Forbid, Replace), keeps the last successful and failed Jobs within their history
// limits, and reports active Jobs and the last schedule time. Events as Kubernetes'
// cronjob-controller records them: SuccessfulCreate, SawCompletedJob, SuccessfulDelete,
// JobAlreadyActive, FailedCreate.

import { isDeepStrictEqual } from 'node:util';
import { controllerOf, objectKey, rfc3339 } from '../../api/meta.js';
import { nextRun, parseCronSchedule } from '../../api/cron.js';
import { RESOURCES } from '../../api/registry.js';
import type { CronJob, CronJobSpec, CronJobStatus, Job, JobTemplateSpec } from '../../api/types/index.js';
import type { EventSink, Informer, RestClient } from '../../client/index.js';
import { errorMessage, isAlreadyExists, isNotFound } from '../../errors/index.js';
import { ownerRef } from '../pods.js';
import { eventsFor, ReconcileLoop, TerminalError, type ControllerContext } from '../reconciler.js';

const CRONJOBS = RESOURCES.cronjobs;
const JOBS = RESOURCES.jobs;

function finishedAs(job: Readonly<Job>): 'Complete' | 'Failed' | undefined {
  for (const c of job.status?.conditions ?? []) {
    if (c.status !== 'True') continue;
    if (c.type === 'Complete' || c.type === 'Failed') return c.type;
  }
  return undefined;
}

export class CronJobController {
  readonly loop: ReconcileLoop;
  private readonly client: RestClient;
  private readonly cronjobs: Informer<CronJob>;
  private readonly jobs: Informer<Job>;
  private readonly events: EventSink;

  constructor(deps: ControllerContext & { cronjobs: Informer<CronJob>; jobs: Informer<Job> }) {
    const { client, cronjobs, jobs, log } = deps;
    this.events = eventsFor(deps, 'cronjob-controller');
    this.client = client;
    this.cronjobs = cronjobs;
    this.jobs = jobs;
    this.loop = new ReconcileLoop('cronjob', (key) => this.reconcile(key), { log });
    cronjobs.addHandler({
      onAdd: (c) => this.loop.enqueue(objectKey(c)),
      onUpdate: (_o, c) => this.loop.enqueue(objectKey(c)),
    });
    const onJob = (j: Readonly<Job>): void => {
      const ref = controllerOf(j);
      if (ref?.kind === 'CronJob') this.loop.enqueue(`${j.metadata.namespace ?? ''}/${ref.name}`);
    };
    jobs.addHandler({ onAdd: onJob, onUpdate: (_o, j) => onJob(j), onDelete: onJob });
  }

  async reconcile(key: string): Promise<{ requeueAfterMs?: number } | undefined> {
    const cj = this.cronjobs.get(key);
    if (cj === undefined || cj.metadata.deletionTimestamp !== undefined) return;
    const spec: Partial<CronJobSpec> = cj.spec ?? {};
    const old: CronJobStatus = cj.status ?? {};
    const { schedule, error } = parseCronSchedule(spec.schedule ?? '');
    // Validation keeps such CronJobs out; should one get here, retrying would not help.
    if (schedule === undefined)
      throw new TerminalError(`unparseable schedule "${spec.schedule ?? ''}": ${error ?? ''}`);
    const owned = this.jobs
      .byIndex('namespace', cj.metadata.namespace ?? '')
      .filter((j) => controllerOf(j)?.uid === cj.metadata.uid);
    let active = owned.filter((j) => finishedAs(j) === undefined);
    const now = Date.now();
    const since = Date.parse(old.lastScheduleTime ?? cj.metadata.creationTimestamp ?? '') || now;
    // The most recent missed run (bounded: a long outage does not replay every minute).
    let due: number | undefined;
    let t = nextRun(schedule, new Date(since));
    for (let i = 0; t !== undefined && t.getTime() <= now && i < 1000; i++) {
      due = t.getTime();
      t = nextRun(schedule, t);
    }
    const status: CronJobStatus = { ...old };
    if (
      due !== undefined &&
      !spec.suspend &&
      !(spec.startingDeadlineSeconds !== undefined && now - due > spec.startingDeadlineSeconds * 1000)
    ) {
      const policy = spec.concurrencyPolicy ?? 'Allow';
      let skip = false;
      if (active.length > 0 && policy === 'Forbid') {
        skip = true;
        this.events.normal(
          cj,
          'JobAlreadyActive',
          'Not starting job because prior execution is running and concurrency policy is Forbid',
        );
      }
      if (active.length > 0 && policy === 'Replace') {
        for (const j of active) await this.deleteJob(cj, j);
        active = [];
      }
      if (!skip) {
        const template: Readonly<JobTemplateSpec> = spec.jobTemplate ?? {};
        const name = `${cj.metadata.name ?? ''}-${Math.floor(due / 60_000)}`;
        try {
          const job: Job = {
            apiVersion: 'batch/v1',
            kind: 'Job',
            metadata: {
              name,
              namespace: cj.metadata.namespace,
              labels: { ...(template.metadata?.labels ?? {}) },
              annotations: {
                ...(template.metadata?.annotations ?? {}),
                'batch.kubernetes.io/cronjob-scheduled-timestamp': rfc3339(due),
              },
              ownerReferences: [ownerRef(cj)],
            },
            // A CronJob without a job spec fails validation before it gets here.
            ...(template.spec !== undefined ? { spec: structuredClone(template.spec) } : {}),
          };
          const created = await this.client.create(JOBS, job, { namespace: cj.metadata.namespace });
          this.events.normal(cj, 'SuccessfulCreate', `Created job ${created.metadata.name ?? name}`);
          active.push(created);
        } catch (err) {
          if (!isAlreadyExists(err)) {
            this.events.warning(cj, 'FailedCreate', `Error creating job: ${errorMessage(err)}`);
            throw err;
          }
        }
      }
      status.lastScheduleTime = rfc3339(due);
    }
    // History limits.
    const finished = owned
      .filter((j) => finishedAs(j) !== undefined)
      .sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? ''));
    const succeeded = finished.filter((j) => finishedAs(j) === 'Complete');
    const failed = finished.filter((j) => finishedAs(j) === 'Failed');
    const lastSuccess = succeeded[succeeded.length - 1];
    if (lastSuccess !== undefined)
      status.lastSuccessfulTime = lastSuccess.status?.completionTime ?? status.lastSuccessfulTime ?? '';
    const excess = [
      ...succeeded.slice(0, Math.max(0, succeeded.length - (spec.successfulJobsHistoryLimit ?? 3))),
      ...failed.slice(0, Math.max(0, failed.length - (spec.failedJobsHistoryLimit ?? 1))),
    ];
    for (const j of excess) await this.deleteJob(cj, j);
    // Jobs the last status listed as active that have finished since.
    const wasActive = new Set((old.active ?? []).map((ref) => ref.uid));
    const sawCompleted = finished.filter((j) => wasActive.has(j.metadata.uid));
    status.active = active.map((j) => ({
      apiVersion: 'batch/v1',
      kind: 'Job',
      name: j.metadata.name,
      namespace: j.metadata.namespace,
      uid: j.metadata.uid,
    }));
    if (status.active.length === 0) delete status.active;
    if (!isDeepStrictEqual(status, old)) {
      try {
        await this.client.updateStatus(CRONJOBS, { ...cj, status }, { namespace: cj.metadata.namespace });
        for (const j of sawCompleted)
          this.events.normal(
            cj,
            'SawCompletedJob',
            `Saw completed job: ${j.metadata.name ?? ''}, condition: ${finishedAs(j) ?? ''}`,
          );
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    const next = nextRun(schedule, new Date(now));
    return next !== undefined ? { requeueAfterMs: Math.max(200, next.getTime() - now + 100) } : undefined;
  }

  /** Deletes one of the CronJob's Jobs (and, in the background, its pods); `SuccessfulDelete` on the CronJob. */
  private async deleteJob(cj: Readonly<CronJob>, job: Readonly<Job>): Promise<void> {
    try {
      await this.client.delete(JOBS, job.metadata.name ?? '', {
        namespace: job.metadata.namespace,
        propagationPolicy: 'Background',
      });
      this.events.normal(cj, 'SuccessfulDelete', `Deleted job ${job.metadata.name ?? ''}`);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
