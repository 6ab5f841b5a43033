// The scheduler's Prometheus metrics under kube-scheduler's names. The scheduler is handed
// one SchedulerMetrics (optional: tests and benchmarks run without).

import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export type AttemptResult = 'scheduled' | 'unschedulable' | 'error';

/** How many pods wait where (the queue reports it when scraped). */
export interface PendingCounts {
  active: number;
  backoff: number;
  unschedulable: number;
}

export const SCHEDULER_PROFILE = 'default-scheduler';

export class SchedulerMetrics {
  private readonly attempts: Counter<'result' | 'profile'>;
  private readonly attemptDuration: Histogram<'result' | 'profile'>;
  private readonly preemptions: Counter;
  private pendingSource: (() => PendingCounts) | undefined;

  constructor(readonly registry: Registry = new Registry()) {
    this.attempts = new Counter({
      name: 'scheduler_schedule_attempts_total',
      help: "[STABLE] Number of attempts to schedule pods, by the result. 'unschedulable' means a pod could not be scheduled, while 'error' means an internal scheduler problem.",
      labelNames: ['result', 'profile'],
      registers: [registry],
    });
    this.attemptDuration = new Histogram({
      name: 'scheduler_scheduling_attempt_duration_seconds',
      help: '[STABLE] Scheduling attempt latency in seconds (scheduling algorithm + binding)',
      labelNames: ['result', 'profile'],
      buckets: [
        0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096, 8.192, 16.384,
      ],
      registers: [registry],
    });
    this.preemptions = new Counter({
      name: 'scheduler_preemption_attempts_total',
      help: '[STABLE] Total preemption attempts in the cluster till now',
      registers: [registry],
    });
    const pending = (): PendingCounts | undefined => this.pendingSource?.();
    new Gauge({
      name: 'scheduler_pending_pods',
      help: "[STABLE] Number of pending pods, by the queue type. 'active' means number of pods in activeQ; 'backoff' means number of pods in backoffQ; 'unschedulable' means number of pods in unschedulablePods.",
      labelNames: ['queue'],
      registers: [registry],
      collect() {
        const counts = pending() ?? { active: 0, backoff: 0, unschedulable: 0 };
        for (const [queue, n] of Object.entries(counts)) this.set({ queue }, n);
      },
    });
  }

  /** One attempt ended; `startedMs` from performance.now() when it began. */
  attempt(result: AttemptResult, startedMs: number): void {
    const labels = { result, profile: SCHEDULER_PROFILE };
    this.attempts.inc(labels);
    this.attemptDuration.observe(labels, Math.max(0, performance.now() - startedMs) / 1000);
  }

  preemptionAttempt(): void {
    this.preemptions.inc();
  }

  /** The queue of the current term (a new term brings a new scheduler and queue). */
  observeQueue(source: () => PendingCounts): void {
    this.pendingSource = source;
  }
}
