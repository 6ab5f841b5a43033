// Job controller: runs pods until `completions` have succeeded, at most `parallelism` at a
// time; gives up after `backoffLimit` failed pods or `activeDeadlineSeconds`; records
// Complete/Failed conditions and counts as `kubectl wait --for=condition=complete` reads
// them; deletes finished Jobs after ttlSecondsAfterFinished. An Indexed Job gives each pod
// one index (indexes.ts) and completes when every index succeeded once. Events as
// Kubernetes' job-controller records them: SuccessfulCreate/SuccessfulDelete per pod,
// `Completed`, and the failure reason (BackoffLimitExceeded, DeadlineExceeded).

import { isDeepStrictEqual } from 'node:util';
import { controllerOf, objectKey, rfc3339 } from '../../api/meta.js';
import { RESOURCES } from '../../api/registry.js';
import type { Container, Job, JobCondition, JobSpec, JobStatus, Pod } from '../../api/types/index.js';
import type { EventSink, Informer, RestClient } from '../../client/index.js';
import { isNotFound } from '../../errors/index.js';
import { Expectations } from '../expectations.js';
import { isActive, isReady, ownedPods, podFromTemplate, PodControl, type PodView } from '../pods.js';
import { eventsFor, ReconcileLoop, type ControllerContext } from '../reconciler.js';
import {
  COMPLETION_INDEX_ENV,
  COMPLETION_INDEX_KEY,
  formatIndexes,
  indexOf,
  missingIndexes,
  parseIndexes,
} from './indexes.js';
import { BURST_REPLICAS, burst, settleAll, slowStartBatch } from '../slow-start.js';

export const JOBS = RESOURCES.jobs;

function phase(p: PodView): string {
  return p.status?.phase ?? '';
}

/** Adds JOB_COMPLETION_INDEX (read from the pod's annotation) to a container that does not set it. */
function withIndexEnv(c: Container): Container {
  if ((c.env ?? []).some((e) => e.name === COMPLETION_INDEX_ENV)) return c;
  const fieldPath = `metadata.annotations['${COMPLETION_INDEX_KEY}']`;
  return {
    ...c,
    env: [...(c.env ?? []), { name: COMPLETION_INDEX_ENV, valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath } } }],
  };
}

/** The pod of one index of an Indexed Job: its index in annotation, label, env and hostname. */
function indexedPod(pod: Pod, job: Readonly<Job>, index: number): Pod {
  const name = job.metadata.name ?? 'job';
  const spec = pod.spec ?? { containers: [] };
  return {
    ...pod,
    metadata: {
      ...pod.metadata,
      generateName: `${name}-${index}-`,
      labels: { ...pod.metadata.labels, [COMPLETION_INDEX_KEY]: String(index) },
      annotations: { ...pod.metadata.annotations, [COMPLETION_INDEX_KEY]: String(index) },
    },
    spec: {
      ...spec,
      // As Kubernetes: the hostname is always `<job>-<index>`; a subdomain (a headless Service) is the user's.
      hostname: `${name}-${index}`.slice(0, 63).replace(/[-.]+$/, ''),
      containers: spec.containers.map(withIndexEnv),
      ...(spec.initContainers ? { initContainers: spec.initContainers.map(withIndexEnv) } : {}),
    },
  };
}

/** The Suspended condition when this sync changes it: True on suspending, False on resuming (as Kubernetes). */
function suspensionChange(
  conditions: readonly JobCondition[],
  suspend: boolean,
  now: string,
): JobCondition | undefined {
  const current = conditions.find((c) => c.type === 'Suspended');
  if (suspend === (current?.status === 'True') || (!suspend && current === undefined)) return undefined;
  const [reason, message] = suspend ? ['JobSuspended', 'Job suspended'] : ['JobResumed', 'Job resumed'];
  const status = suspend ? 'True' : 'False';
  return { type: 'Suspended', status, reason, message, lastProbeTime: now, lastTransitionTime: now };
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
  private readonly events: EventSink;
  private readonly podControl: PodControl;

  constructor(deps: ControllerContext & { jobs: Informer<Job>; pods: Informer<Pod> }) {
    const { client, jobs, pods, log } = deps;
    this.client = client;
    this.jobs = jobs;
    this.pods = pods;
    this.events = eventsFor(deps, 'job-controller');
    this.podControl = new PodControl(client, this.events);
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
      const { failed, error } = await settleAll(left, (p) => this.podControl.delete(job, p));
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
    const completions = spec.completions ?? 1;
    const parallelism = spec.parallelism ?? 1;
    const indexed = spec.completionMode === 'Indexed';
    // Indexed: an index counts once however many of its pods succeeded.
    const doneIndexes = indexed ? parseIndexes(old.completedIndexes, completions) : new Set<number>();
    if (indexed)
      for (const p of pods) {
        const i = indexOf(p.metadata, completions);
        if (i !== undefined && phase(p) === 'Succeeded') doneIndexes.add(i);
      }
    const succeeded = indexed
      ? doneIndexes.size
      : Math.max(old.succeeded ?? 0, pods.filter((p) => phase(p) === 'Succeeded').length);
    const failed = Math.max(old.failed ?? 0, pods.filter((p) => phase(p) === 'Failed').length);
    const suspension = suspensionChange(old.conditions ?? [], spec.suspend === true, rfc3339(now));
    // A resumed Job starts its clock (activeDeadlineSeconds) over.
    const startTime = suspension?.status === 'False' ? rfc3339(now) : (old.startTime ?? rfc3339(now));
    const conditions = suspension
      ? [...(old.conditions ?? []).filter((c) => c.type !== 'Suspended'), suspension]
      : (old.conditions ?? []);
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
      !spec.suspend &&
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
      const { failed, error } = await settleAll(active.slice(0, BURST_REPLICAS), (p) => this.podControl.delete(job, p));
      if (failed.length > 0) throw error;
    } else if (spec.suspend) {
      // Suspended: no pod runs.
      const { failed, error } = await settleAll(active.slice(0, BURST_REPLICAS), (p) => this.podControl.delete(job, p));
      if (failed.length > 0) throw error;
    } else if (this.expectations.satisfied(key)) {
      await (indexed
        ? this.syncIndexed(job, { active, doneIndexes, want: Math.min(parallelism, completions - succeeded) })
        : this.syncCount(job, { active, want: Math.min(parallelism, completions - succeeded) }));
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
      ...(indexed ? { completedIndexes: formatIndexes(doneIndexes) } : {}),
    };
    if (!isDeepStrictEqual(status, old)) {
      try {
        await this.client.updateStatus(JOBS, { ...job, status }, { namespace: job.metadata.namespace });
        // Once the finished status is stored: a retried sync does not record it twice.
        if (outcome !== undefined) this.recordOutcome(job, outcome.conditions);
        else if (suspension !== undefined)
          this.events.normal(job, suspension.status === 'True' ? 'Suspended' : 'Resumed', suspension.message ?? '');
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    return requeue !== undefined ? { requeueAfterMs: requeue } : undefined;
  }

  /** The labels every pod of the Job carries (the apiserver put them on the template too, unless manualSelector). */
  private podLabels(job: Readonly<Job>): Record<string, string> {
    return {
      'batch.kubernetes.io/controller-uid': job.metadata.uid ?? '',
      'batch.kubernetes.io/job-name': job.metadata.name ?? '',
      'controller-uid': job.metadata.uid ?? '',
      'job-name': job.metadata.name ?? '',
    };
  }

  /** NonIndexed: as many active pods as wanted, any of them. */
  private async syncCount(job: Readonly<Job>, state: { active: PodView[]; want: number }): Promise<void> {
    const key = objectKey(job);
    const missing = state.want - state.active.length;
    if (missing > 0) {
      const n = burst(missing);
      this.expectations.expect(key, n);
      const labels = this.podLabels(job);
      const result = await slowStartBatch(n, () =>
        this.podControl.create(job, podFromTemplate(job.spec?.template ?? {}, job, { labels })),
      );
      this.expectations.observeAdd(key, n - result.succeeded);
      if (result.error !== undefined) throw result.error;
    } else if (missing < 0) {
      const extra = state.active.slice(0, burst(-missing));
      const { failed, error } = await settleAll(extra, (p) => this.podControl.delete(job, p));
      if (failed.length > 0) throw error;
    }
  }

  /** Indexed: one active pod per index that has not succeeded yet, the lowest indexes first. */
  private async syncIndexed(
    job: Readonly<Job>,
    state: { active: PodView[]; doneIndexes: ReadonlySet<number>; want: number },
  ): Promise<void> {
    const key = objectKey(job);
    const completions = job.spec?.completions ?? 1;
    const busy = new Set<number>();
    const surplus: PodView[] = [];
    // A pod without a valid index, of a finished index, or a second one of an index goes.
    for (const p of state.active) {
      const i = indexOf(p.metadata, completions);
      if (i === undefined || state.doneIndexes.has(i) || busy.has(i)) surplus.push(p);
      else busy.add(i);
    }
    const keep = [...busy];
    const missing = state.want - keep.length;
    if (missing < 0) surplus.push(...state.active.filter((p) => !surplus.includes(p)).slice(0, -missing));
    if (surplus.length > 0) {
      const { failed, error } = await settleAll(surplus.slice(0, BURST_REPLICAS), (p) =>
        this.podControl.delete(job, p),
      );
      if (failed.length > 0) throw error;
    }
    if (missing <= 0) return;
    for (const i of state.doneIndexes) busy.add(i);
    const indexes = missingIndexes(completions, busy, burst(missing));
    this.expectations.expect(key, indexes.length);
    const labels = this.podLabels(job);
    const template = job.spec?.template ?? {};
    const result = await slowStartBatch(indexes.length, (n) =>
      this.podControl.create(job, indexedPod(podFromTemplate(template, job, { labels }), job, indexes[n] ?? 0)),
    );
    this.expectations.observeAdd(key, indexes.length - result.succeeded);
    if (result.error !== undefined) throw result.error;
  }

  private recordOutcome(job: Readonly<Job>, conditions: readonly JobCondition[]): void {
    const failure = conditions.find((c) => c.type === 'Failed');
    if (failure !== undefined) this.events.warning(job, failure.reason ?? 'Failed', failure.message ?? '');
    else this.events.normal(job, 'Completed', 'Job completed');
  }
}
