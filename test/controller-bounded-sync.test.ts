// One object cannot starve the controllers: a ReplicaSet asking for many pods is driven a
// burst (500) at a time, a small ReplicaSet made right after it still gets its pods before
// the big one is complete, the big one ends with exactly its count, and scaling down
// removes them all. A real apiserver and controller-manager process; no scheduler or agent
// (unscheduled pods are deleted at once, so scale-down completes without one).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { RestClient } from '../pkg/client/index.js';
import { adminClient, eventually, R } from './harness/clients.js';
import { startControlPlane, type ControlPlane } from './harness/control-plane.js';

const NS = 'default';
const BIG = 1500;
let plane: ControlPlane;
let client: RestClient;

before(async () => {
  plane = await startControlPlane({ withControllers: true });
  client = adminClient(plane);
});
after(async () => {
  client.close();
  await plane.stop();
});

function replicaSet(name: string, replicas: number): Record<string, unknown> & { metadata: { name: string } } {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'c', image: 'busybox:latest', command: ['sleep', '3600'] }] },
      },
    },
  };
}

async function podCount(app: string): Promise<number> {
  const list = await client.list(R.pods, { namespace: NS, labelSelector: `app=${app}` });
  return list.items.filter((p) => p.metadata.deletionTimestamp === undefined).length;
}

test('a ReplicaSet of 1,500 is driven in bounded syncs and does not starve a small one made after it', async () => {
  await client.create(R.replicasets, replicaSet('big', BIG), { namespace: NS });
  await client.create(R.replicasets, replicaSet('small', 3), { namespace: NS });

  // The small one completes while the big one is still on its way.
  let bigWhenSmallDone = -1;
  await eventually(
    async () => {
      if ((await podCount('small')) < 3) return false;
      bigWhenSmallDone = await podCount('big');
      return true;
    },
    { timeoutMs: 120_000, intervalMs: 50, what: 'small ReplicaSet has its 3 pods' },
  );
  assert.ok(bigWhenSmallDone < BIG, `small finished before big (big had ${bigWhenSmallDone} of ${BIG})`);

  // The big one gets there, never overshooting.
  let most = 0;
  await eventually(
    async () => {
      const n = await podCount('big');
      most = Math.max(most, n);
      return n === BIG;
    },
    { timeoutMs: 300_000, intervalMs: 500, what: `big ReplicaSet has ${BIG} pods` },
  );
  await eventually(
    async () => {
      const rs = await client.get(R.replicasets, 'big', { namespace: NS });
      return ((rs['status'] ?? {}) as { replicas?: number }).replicas === BIG;
    },
    { timeoutMs: 60_000, what: 'status.replicas reports the count' },
  );
  assert.equal(await podCount('big'), BIG, 'no excess pods');
  assert.ok(most <= BIG, `never more than ${BIG} (saw ${most})`);
  assert.equal(await podCount('small'), 3);
});

test('scaling the big ReplicaSet down to 2 removes the rest, a burst at a time', async () => {
  await client.patch(R.replicasets, 'big', { type: 'merge', body: { spec: { replicas: 2 } }, namespace: NS });
  await eventually(async () => (await podCount('big')) === 2, {
    timeoutMs: 300_000,
    intervalMs: 500,
    what: 'big scaled down to 2',
  });
  assert.equal(await podCount('small'), 3, 'the small one is untouched');
  // Nothing left over: the deleted pods are gone from the store, not just terminating.
  const all = await client.list(R.pods, { namespace: NS, labelSelector: 'app=big' });
  assert.equal(all.items.length, 2);
});

test('a ReplicaSet asking for 2^31-1 pods (the int32 maximum) stops at the next sync after a scale-down', async () => {
  await client.create(R.replicasets, replicaSet('huge', 2 ** 31 - 1), { namespace: NS });
  await eventually(async () => (await podCount('huge')) >= 1, { timeoutMs: 60_000, what: 'huge has started' });
  const before = await podCount('huge');
  await client.patch(R.replicasets, 'huge', { type: 'merge', body: { spec: { replicas: 0 } }, namespace: NS });
  // The sync in progress finishes its burst; the next one reads the new count and deletes.
  let most = before;
  await eventually(
    async () => {
      const n = await podCount('huge');
      most = Math.max(most, n);
      return n === 0;
    },
    { timeoutMs: 300_000, intervalMs: 200, what: 'huge scaled down to 0' },
  );
  assert.ok(
    most <= before + 1000,
    `at most the burst in progress and one more after the patch (had ${before}, saw ${most})`,
  );
  // The other controllers kept working meanwhile: the small one still holds its pods.
  assert.equal(await podCount('small'), 3);
});
