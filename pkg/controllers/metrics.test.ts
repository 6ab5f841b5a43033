import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { setWorkQueueMetricsProvider, WorkQueue } from '../client/index.js';
import { workQueueMetrics } from './metrics.js';

/** The value of `metric{name=…}` (a histogram's count) in the text format. */
async function value(registry: Registry, metric: string, name: string): Promise<number | undefined> {
  const sample = metric.endsWith('_seconds') ? `${metric}_count` : metric;
  const line = (await registry.metrics()).split('\n').find((l) => l.startsWith(`${sample}{name="${name}"}`));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

test('a named work queue reports depth, adds, retries and its two durations under client-go names', async () => {
  const registry = new Registry();
  setWorkQueueMetricsProvider(workQueueMetrics(registry));
  try {
    const queue = new WorkQueue({ name: 'deployment', baseDelayMs: 1 });
    const unnamed = new WorkQueue();
    queue.add('a');
    queue.add('b');
    queue.add('a'); // a duplicate collapses: no add
    unnamed.add('x');
    assert.equal(await value(registry, 'workqueue_depth', 'deployment'), 2);
    assert.equal(await value(registry, 'workqueue_adds_total', 'deployment'), 2);
    const key = await queue.get();
    assert.equal(key, 'a');
    assert.equal(await value(registry, 'workqueue_depth', 'deployment'), 1);
    queue.addRateLimited('a');
    queue.done('a');
    assert.equal(await value(registry, 'workqueue_retries_total', 'deployment'), 1);
    assert.equal(await value(registry, 'workqueue_queue_duration_seconds', 'deployment'), 1);
    assert.equal(await value(registry, 'workqueue_work_duration_seconds', 'deployment'), 1);
    const text = await registry.metrics();
    assert.doesNotMatch(text, /name=""/);
    queue.shutDown();
    unnamed.shutDown();
  } finally {
    setWorkQueueMetricsProvider(undefined);
  }
});
