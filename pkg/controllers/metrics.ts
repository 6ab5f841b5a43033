// The work queues' Prometheus metrics under client-go's names (workqueue_*{name}), for the
// controller-manager's /metrics: one provider per process, each named queue its own labels.

import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { WorkQueueMetricsProvider } from '../client/index.js';

/** client-go's buckets: 10^-8 s up to 10 s, times ten each. */
const BUCKETS = [1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10];

export function workQueueMetrics(registry: Registry): WorkQueueMetricsProvider {
  const registers = [registry];
  const labelNames = ['name'] as const;
  const depth = new Gauge({
    name: 'workqueue_depth',
    help: '[ALPHA] Current depth of workqueue',
    labelNames,
    registers,
  });
  const adds = new Counter({
    name: 'workqueue_adds_total',
    help: '[ALPHA] Total number of adds handled by workqueue',
    labelNames,
    registers,
  });
  const retries = new Counter({
    name: 'workqueue_retries_total',
    help: '[ALPHA] Total number of retries handled by workqueue',
    labelNames,
    registers,
  });
  const queueDuration = new Histogram({
    name: 'workqueue_queue_duration_seconds',
    help: '[ALPHA] How long in seconds an item stays in workqueue before being requested.',
    labelNames,
    buckets: BUCKETS,
    registers,
  });
  const workDuration = new Histogram({
    name: 'workqueue_work_duration_seconds',
    help: '[ALPHA] How long in seconds processing an item from workqueue takes.',
    labelNames,
    buckets: BUCKETS,
    registers,
  });
  return (name) => {
    const labels = { name };
    depth.set(labels, 0);
    return {
      add: () => adds.inc(labels),
      depth: (n) => depth.set(labels, n),
      retry: () => retries.inc(labels),
      queued: (s) => queueDuration.observe(labels, s),
      worked: (s) => workDuration.observe(labels, s),
    };
  };
}
