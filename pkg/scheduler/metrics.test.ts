import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SchedulerMetrics } from './metrics.js';
import { SchedulingQueue } from './queue.js';

test('scheduler metrics: attempts by result and profile, their durations, preemptions and the queue', async () => {
  const metrics = new SchedulerMetrics();
  const queue = new SchedulingQueue();
  metrics.observeQueue(() => queue.counts());
  const pod = (uid: string): Parameters<SchedulingQueue['add']>[0] => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { uid, name: uid, namespace: 'd' },
  });
  queue.add(pod('a'));
  queue.add(pod('b'));
  queue.markUnschedulable(pod('c'));
  metrics.attempt('scheduled', performance.now());
  metrics.attempt('scheduled', performance.now());
  metrics.attempt('unschedulable', performance.now());
  metrics.preemptionAttempt();
  const text = await metrics.registry.metrics();
  assert.match(text, /scheduler_schedule_attempts_total\{result="scheduled",profile="default-scheduler"\} 2/);
  assert.match(text, /scheduler_schedule_attempts_total\{result="unschedulable",profile="default-scheduler"\} 1/);
  assert.match(
    text,
    /scheduler_scheduling_attempt_duration_seconds_count\{result="scheduled",profile="default-scheduler"\} 2/,
  );
  assert.match(text, /scheduler_preemption_attempts_total 1/);
  assert.match(text, /scheduler_pending_pods\{queue="active"\} 2/);
  assert.match(text, /scheduler_pending_pods\{queue="backoff"\} 1/);
  assert.match(text, /scheduler_pending_pods\{queue="unschedulable"\} 0/);
});
