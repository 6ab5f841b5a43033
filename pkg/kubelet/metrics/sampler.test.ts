import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeRuntime } from '../runtime/index.js';
import { renderResourceMetrics, renderSummary } from './render.js';
import { cpuRate, mapBounded, ResourceSampler } from './sampler.js';

const identity = (container: string, type: 'app' | 'sandbox' = 'app') => ({
  uid: 'u1',
  namespace: 'ns"1',
  name: 'web',
  containerName: container,
  attempt: 0,
  type,
  specHash: 'h',
});

test('CPU rate: nanocores over the time between samples; none without an earlier one or after a reset', () => {
  const prev = { timestampMs: 1000, cpuUsageNanoseconds: 1e9, cpuNanoCores: undefined, memoryWorkingSetBytes: 0 };
  assert.equal(cpuRate(prev, { cpuUsageNanoseconds: 1.5e9, memoryWorkingSetBytes: 0 }, 2000), 5e8);
  assert.equal(cpuRate(undefined, { cpuUsageNanoseconds: 1e9, memoryWorkingSetBytes: 0 }, 2000), undefined);
  assert.equal(cpuRate(prev, { cpuUsageNanoseconds: 1, memoryWorkingSetBytes: 0 }, 2000), undefined);
  assert.equal(cpuRate(prev, { cpuUsageNanoseconds: 2e9, memoryWorkingSetBytes: 0 }, 1000), undefined);
});

test('bounded concurrency: never more tasks in flight than the limit', async () => {
  let inFlight = 0;
  let most = 0;
  const out = await mapBounded([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
    inFlight++;
    most = Math.max(most, inFlight);
    await new Promise((r) => setTimeout(r, 1));
    inFlight--;
    return n * 2;
  });
  assert.deepEqual(out, [2, 4, 6, 8, 10, 12, 14]);
  assert.equal(most, 3);
});

test('the sampler reports running app containers (not sandboxes) with rates from the second sample on', async () => {
  let now = 10_000;
  const runtime = new FakeRuntime({ now: () => now }, ['img']);
  const sandbox = await runtime.runSandbox(identity('', 'sandbox'), { image: 'img', network: 'n', hostname: 'web' });
  const app = await runtime.createContainer(sandbox, identity('app'), { image: 'img', env: [], mounts: [] });
  await runtime.start(app);
  const node = { read: async () => ({ cpuUsageNanoseconds: now * 1e6, memoryWorkingSetBytes: 4096 }) };
  const sampler = new ResourceSampler(runtime, {
    nodeName: 'n1',
    intervalMs: 1000,
    concurrency: 2,
    nodeUsage: node,
    now: () => now,
  });
  runtime.usage.set(app, { cpuUsageNanoseconds: 1e9, memoryWorkingSetBytes: 2048 });
  const first = await sampler.sample();
  assert.equal(first.pods.length, 1);
  assert.equal(first.pods[0]?.containers[0]?.cpuNanoCores, undefined);
  now += 10_000;
  runtime.usage.set(app, { cpuUsageNanoseconds: 6e9, memoryWorkingSetBytes: 2048 });
  const second = await sampler.sample();
  assert.equal(second.pods[0]?.containers[0]?.cpuNanoCores, 5e8);
  assert.equal(second.node?.cpuNanoCores, 1e9);

  const text = renderResourceMetrics(second);
  assert.match(text, /^container_cpu_usage_seconds_total\{container="app",namespace="ns\\"1",pod="web"\} 6 20000$/m);
  assert.match(
    text,
    /^container_memory_working_set_bytes\{container="app",namespace="ns\\"1",pod="web"\} 2048 20000$/m,
  );
  assert.match(text, /^node_memory_working_set_bytes 4096 20000$/m);
  assert.match(text, /^pod_cpu_usage_seconds_total\{namespace="ns\\"1",pod="web"\} 6 20000$/m);
  assert.match(text, /^# TYPE node_cpu_usage_seconds_total counter$/m);
  const summary = renderSummary(second);
  assert.equal(summary.pods[0]?.cpu.usageNanoCores, 5e8);
  assert.equal(summary.pods[0]?.containers[0]?.memory.workingSetBytes, 2048);

  // A stopped container drops out of the next sample.
  runtime.exit(app, 0);
  assert.equal((await sampler.sample()).pods.length, 0);
});
