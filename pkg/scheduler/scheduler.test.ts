import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../api/meta.js';
import { SchedulerCache } from './cache.js';
import { SchedulingQueue } from './queue.js';
import { failureMessage, schedulePod } from './scheduler.js';

function node(
  name: string,
  opts: {
    cpu?: string;
    memory?: string;
    labels?: Record<string, string>;
    taints?: object[];
    ready?: boolean;
    unschedulable?: boolean;
  } = {},
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...(opts.labels ?? {}) } },
    spec: { ...(opts.taints ? { taints: opts.taints } : {}), ...(opts.unschedulable ? { unschedulable: true } : {}) },
    status: {
      allocatable: { cpu: opts.cpu ?? '2', memory: opts.memory ?? '4Gi', pods: '110' },
      conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }],
    },
  };
}

let uid = 0;
function pod(name: string, spec: Record<string, unknown> = {}, meta: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', uid: `u${uid++}`, creationTimestamp: '2026-01-01T00:00:00Z', ...meta },
    spec: { containers: [{ name: 'c', image: 'i' }], ...spec },
  };
}

function cacheWith(...nodes: KubeObject[]): SchedulerCache {
  const c = new SchedulerCache();
  for (const n of nodes) c.upsertNode(n);
  return c;
}

test('a pod that fits nowhere gets kube-scheduler style reasons', () => {
  const cache = cacheWith(
    node('a', { memory: '1Gi' }),
    node('b', { memory: '1Gi' }),
    node('c', { taints: [{ key: 'gpu', value: 'yes', effect: 'NoSchedule' }] }),
  );
  const big = pod('big', { containers: [{ name: 'c', image: 'i', resources: { requests: { memory: '2Gi' } } }] });
  const r = schedulePod(big, cache.snapshot());
  assert.equal(r.node, undefined);
  assert.equal(
    failureMessage(3, r.reasons).split('.')[0],
    '0/3 nodes are available: 1 node(s) had untolerated taint {gpu: yes}, 2 Insufficient memory',
  );
});

test('nodeSelector, cordon, readiness and tolerations steer placement', () => {
  const cache = cacheWith(
    node('plain'),
    node('ssd', { labels: { disk: 'ssd' } }),
    node('cordoned', { labels: { disk: 'ssd' }, unschedulable: true }),
    node('down', { labels: { disk: 'ssd' }, ready: false }),
  );
  for (let i = 0; i < 5; i++)
    assert.equal(schedulePod(pod(`p${i}`, { nodeSelector: { disk: 'ssd' } }), cache.snapshot()).node, 'ssd');
  const tainted = cacheWith(node('t', { taints: [{ key: 'k', value: 'v', effect: 'NoSchedule' }] }));
  assert.equal(schedulePod(pod('no'), tainted.snapshot()).node, undefined);
  assert.equal(
    schedulePod(
      pod('yes', { tolerations: [{ key: 'k', operator: 'Equal', value: 'v', effect: 'NoSchedule' }] }),
      tainted.snapshot(),
    ).node,
    't',
  );
});

test('assumed pods count against capacity; anti-affinity on hostname spreads; a failed bind is forgotten', () => {
  const cache = cacheWith(node('a', { cpu: '1' }), node('b', { cpu: '1' }));
  const req = { containers: [{ name: 'c', image: 'i', resources: { requests: { cpu: '600m' } } }] };
  const p1 = pod('p1', req);
  const n1 = schedulePod(p1, cache.snapshot()).node;
  assert.ok(n1);
  cache.assume(p1, n1);
  const n2 = schedulePod(pod('p2', req), cache.snapshot()).node;
  assert.ok(n2 && n2 !== n1, 'second pod goes to the other node');
  cache.forget(p1);
  assert.ok(schedulePod(pod('p3', req), cache.snapshot()).node !== undefined);

  const anti = (name: string): KubeObject =>
    pod(
      name,
      {
        affinity: {
          podAntiAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: [
              { labelSelector: { matchLabels: { app: 'x' } }, topologyKey: 'kubernetes.io/hostname' },
            ],
          },
        },
      },
      { labels: { app: 'x' } },
    );
  const c2 = cacheWith(node('a'), node('b'));
  const x1 = anti('x1');
  const at = schedulePod(x1, c2.snapshot()).node ?? '';
  c2.assume(x1, at);
  const x2 = anti('x2');
  const other = schedulePod(x2, c2.snapshot()).node ?? '';
  assert.notEqual(other, at);
  c2.assume(x2, other);
  assert.equal(schedulePod(anti('x3'), c2.snapshot()).node, undefined);
});

test('the queue pops by priority then age, and parks unschedulable pods until the cluster changes', async () => {
  const q = new SchedulingQueue();
  const low = pod('low', { priority: 0 }, { creationTimestamp: '2026-01-01T00:00:00Z' });
  const high = pod('high', { priority: 100 }, { creationTimestamp: '2026-01-02T00:00:00Z' });
  const older = pod('older', { priority: 0 }, { creationTimestamp: '2025-12-01T00:00:00Z' });
  q.add(low);
  q.add(high);
  q.add(older);
  assert.equal((await q.pop())?.metadata.name, 'high');
  assert.equal((await q.pop())?.metadata.name, 'older');
  const parked = await q.pop();
  assert.equal(parked?.metadata.name, 'low');
  if (parked) q.markUnschedulable(parked);
  q.moveAllToActive(Date.now()); // back-off not over: stays parked
  assert.equal(q.pending(), 1);
  q.moveAllToActive(Date.now() + 1500);
  assert.equal((await q.pop())?.metadata.name, 'low');
});
