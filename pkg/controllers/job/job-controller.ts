// Job controller: runs pods until `completions` have succeeded, at most `parallelism` at a
// time; gives up after `backoffLimit` failed pods or `activeDeadlineSeconds`; records
// Complete/Failed conditions and counts as `kubectl wait --for=condition=complete` reads
// them; deletes finished Jobs after ttlSecondsAfterFinished.

import { isDeepStrictEqual } from 'node:util';
import { controllerOf, objectKey, rfc3339 } from '../../api/meta.js';
import { RESOURCES } from '../../api/registry.js';
import type { Job, JobCondition, JobSpec, JobStatus, Pod } from '../../api/types/index.js';
import type { Informer, RestClient } from '../../client/index.js';
import { isNotFound } from '../../errors/index.js';
import { Expectations } from '../expectations.js';
import { createPod, deletePod, isActive, isReady, ownedPods, podFromTemplate, type PodView } from '../pods.js';
import { ReconcileLoop, type ControllerContext } from '../reconciler.js';
import { BURST_REPLICAS, burst, settleAll, slowStartBatch } from '../slow-start.js';

export const JOBS = RESOURCES.jobs;

function phase(p: PodView): string {
  return p.status?.phase ?? '';
}

function finished(job: Readonly<Job>): JobCondition | undefined {
  return job.status?.conditions?.find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
}

export class JobController {
  readonly loop: ReconcileLoop;
  private readonly expectations = new Expectations();
  private readonly client: RestClient;
  private readonly jobs: Informer<Job>;
  private readonly pods: Informer<Pod>;

  constructor(deps: ControllerContext & { jobs: Informer<Job>; pods: Informer<Pod> }) {
    const { client, jobs, pods, log } = deps;
    this.client = client;
    this.jobs = jobs;
    this.pods = pods;
    this.loop = new ReconcileLoop('job', (key) => this.reconcile(key), { log });
    jobs.addHandler({
      onAdd: (j) => this.loop.enqueue(objectKey(j)),
      onUpdate: (_o, j) => this.loop.enqueue(objectKey(j)),
    });
    const onPod = (p: PodView, added: boolean): void => {
      const ref = controllerOf(p);
      if (ref?.kind !== 'Job') return;
      const key = `${p.metadata.namespace ?? ''}/${ref.name}`;
      if (added) this.expectations.observeAdd(key);
      this.loop.enqueue(key);
    };
    pods.addHandler({
      onAdd: (p) => onPod(p, true),
      onUpdate: (_o, p) => onPod(p, false),
      onDelete: (p) => onPod(p, false),
    });
  }

  async reconcile(key: string): Promise<{ requeueAfterMs?: number } | undefined> {
    const job = this.jobs.get(key);
    if (job === undefined || job.metadata.deletionTimestamp !== undefined) return;
    const spec: Partial<JobSpec> = job.spec ?? {};
    const old: JobStatus = job.status ?? {};
    const now = Date.now();

    const done = finished(job);
    if (done !== undefined) {
      // A finished Job's pods go, a burst at a time (their updates bring the next sync).
      const left = ownedPods(this.pods, job).filter(isActive).slice(0, BURST_REPLICAS);
      const { failed, error } = await settleAll(left, (p) => deletePod(this.client, p));
      if (failed.length > 0) throw error;
      if (spec.ttlSecondsAfterFinished !== undefined) {
        const at =
          (Date.parse(old.completionTime ?? done.lastTransitionTime ?? '') || now) +
          spec.ttlSecondsAfterFinished * 1000;
        if (at > now) return { requeueAfterMs: at - now };
        try {
          await this.client.delete(JOBS, job.metadata.name ?? '', {
            namespace: job.metadata.namespace,
            propagationPolicy: 'Background',
          });
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      }
      return;
    }

    const pods = ownedPods(this.pods, job);
    const active = pods.filter(isActive);
    const succeeded = Math.max(old.succeeded ?? 0, pods.filter((p) => phase(p) === 'Succeeded').length);
    const failed = Math.max(old.failed ?? 0, pods.filter((p) => phase(p) === 'Failed').length);
    const completions = spec.completions ?? 1;
    const parallelism = spec.parallelism ?? 1;
    const startTime = old.startTime ?? rfc3339(now);
    const conditions = old.conditions ?? [];
    const condition = (type: string, reason: string, message: string): JobCondition => ({
      type,
      status: 'True',
      reason,
      message,
      lastProbeTime: rfc3339(now),
      lastTransitionTime: rfc3339(now),
    });

    let outcome: { conditions: JobCondition[]; completionTime?: string } | undefined;
    if (succeeded >= completions) {
      outcome = {
        conditions: [
          condition('SuccessCriteriaMet', 'CompletionsReached', 'Reached expected number of succeeded pods'),
          condition('Complete', 'CompletionsReached', 'Reached expected number of succeeded pods'),
        ],
        completionTime: rfc3339(now),
      };
    } else if (failed > (spec.backoffLimit ?? 6)) {
      outcome = {
        conditions: [
          condition('FailureTarget', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit'),
          condition('Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit'),
        ],
      };
    } else if (
      spec.activeDeadlineSeconds !== undefined &&
      now - Date.parse(startTime) > spec.activeDeadlineSeconds * 1000
    ) {
      outcome = {
        conditions: [
          condition('FailureTarget', 'DeadlineExceeded', 'Job was active longer than specified deadline'),
          condition('Failed', 'DeadlineExceeded', 'Job was active longer than specified deadline'),
        ],
      };
    }

    let requeue: number | undefined;
    if (outcome !== undefined) {
      const { failed, error } = await settleAll(active.slice(0, BURST_REPLICAS), (p) => deletePod(this.client, p));
      if (failed.length > 0) throw error;
    } else if (!spec.suspend && this.expectations.satisfied(key)) {
      const want = Math.min(parallelism, completions - succeeded);
      const missing = want - active.length;
      if (missing > 0) {
        const n = burst(missing);
        this.expectations.expect(key, n);
        const labels = {
          'batch.kubernetes.io/controller-uid': job.metadata.uid ?? '',
          'batch.kubernetes.io/job-name': job.metadata.name ?? '',
          'controller-uid': job.metadata.uid ?? '',
          'job-name': job.metadata.name ?? '',
        };
        const result = await slowStartBatch(n, () =>
          createPod(this.client, podFromTemplate(spec.template ?? {}, job, { labels })),
        );
        this.expectations.observeAdd(key, n - result.succeeded);
        if (result.error !== undefined) throw result.error;
      } else if (missing < 0) {
        const { failed, error } = await settleAll(active.slice(0, burst(-missing)), (p) => deletePod(this.client, p));
        if (failed.length > 0) throw error;
      }
      if (spec.activeDeadlineSeconds !== undefined)
        requeue = Math.max(100, Date.parse(startTime) + spec.activeDeadlineSeconds * 1000 - now);
    }

    const status: JobStatus = {
      ...old,
      startTime,
      active: outcome ? 0 : active.length,
      ready: active.filter(isReady).length,
      succeeded,
      failed,
      uncountedTerminatedPods: {},
      conditions: outcome ? [...conditions, ...outcome.conditions] : conditions,
      ...(outcome?.completionTime ? { completionTime: outcome.completionTime } : {}),
    };
    if (!isDeepStrictEqual(status, old)) {
      try {
        await this.client.updateStatus(JOBS, { ...job, status }, { namespace: job.metadata.namespace });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    return requeue !== undefined ? { requeueAfterMs: requeue } : undefined;
  }
}
