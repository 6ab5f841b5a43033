import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod } from '../api/types/index.js';
import { cpuQuantity, memoryQuantity, parseSummary, podMetricsOf } from './metrics-api.js';

const TIME = '2026-01-01T00:00:00.000Z';

test('a summary is read field by field; malformed parts are left out, never trusted', () => {
  const parsed = parseSummary({
    node: { cpu: { time: TIME, usageNanoCores: 250_000_000 }, memory: { time: TIME, workingSetBytes: 1 << 20 } },
    pods: [
      {
        podRef: { name: 'web', namespace: 'default' },
        containers: [
          { name: 'app', cpu: { time: TIME, usageNanoCores: 1000 }, memory: { time: TIME, workingSetBytes: 4096 } },
          { name: 'bad', cpu: { time: 'not a time' }, memory: {} },
          'junk',
        ],
      },
      { podRef: { name: 7 } },
      null,
    ],
  });
  assert.equal(parsed.node?.nanoCores, 250_000_000);
  assert.equal(parsed.pods.length, 1);
  assert.deepEqual(
    parsed.pods[0]?.containers.map((c) => c.name),
    ['app'],
  );
  for (const hostile of [null, 'x', 42, [], { pods: 'x' }, { node: { cpu: { usageNanoCores: -1, time: TIME } } }]) {
    const p = parseSummary(hostile);
    assert.equal(p.pods.length, 0);
    assert.equal(p.node?.nanoCores, undefined);
  }
});

test('pod metrics in metrics-server form; none while a container has no CPU rate yet', () => {
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
  };
  const usage = (nanoCores: number | undefined) => ({
    namespace: 'default',
    name: 'web',
    containers: [{ name: 'app', usage: { time: TIME, nanoCores, workingSetBytes: 8192 } }],
  });
  const m = podMetricsOf(pod, usage(5_000_000));
  assert.equal(m?.kind, 'PodMetrics');
  assert.deepEqual(m?.containers, [{ name: 'app', usage: { cpu: '5000000n', memory: '8Ki' } }]);
  assert.deepEqual(m?.metadata.labels, { app: 'web' });
  assert.equal(podMetricsOf(pod, usage(undefined)), undefined);
  assert.equal(cpuQuantity(1.6), '2n');
  assert.equal(memoryQuantity(1536), '2Ki');
});
