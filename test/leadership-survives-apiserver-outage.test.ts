// With the apiserver down for a minute, the controller-manager and scheduler lose their
// leases, stop their loops and campaign again — they do not exit. Once the apiserver is
// back (same data, same port), the same processes lead again and work: a new ReplicaSet
// gets its pods, and the scheduler binds them to a Node the test made Ready itself.

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, test } from 'node:test';
import type { RestClient } from '../pkg/client/index.js';
import { adminClient, eventually, R } from './harness/clients.js';
import { startControlPlane, type ControlPlane } from './harness/control-plane.js';
import { createReadyNode } from './harness/fake-nodes.js';

const OUTAGE_MS = 60_000;
let plane: ControlPlane;

before(async () => {
  plane = await startControlPlane({ withControllers: true, withScheduler: true });
});
after(async () => {
  await plane.stop();
});

/** Everything the process prints from now on. */
function record(child: ChildProcess): () => string {
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out = (out + c.toString()).slice(-200_000)));
  return () => out;
}

function alive(child: ChildProcess | undefined): boolean {
  return child !== undefined && child.exitCode === null && child.signalCode === null;
}

function count(text: string, pattern: RegExp): number {
  return text.split('\n').filter((l) => pattern.test(l)).length;
}

test('controller-manager and scheduler survive a 60 s apiserver outage and resume work', async () => {
  const cm = plane.controllerManager;
  const sched = plane.scheduler;
  assert.ok(cm !== undefined && sched !== undefined);
  const cmPid = cm.pid;
  const schedPid = sched.pid;
  const cmOut = record(cm);
  const schedOut = record(sched);

  await plane.crash();
  // Both notice within their renew deadline and stop their loops; the outage lasts 60 s all told.
  const down = Date.now();
  await eventually(() => /lost leadership/.test(cmOut()) && /lost leadership/.test(schedOut()), {
    timeoutMs: OUTAGE_MS,
    intervalMs: 500,
    what: 'both lost leadership',
  });
  await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_MS - (Date.now() - down))));
  assert.ok(
    alive(cm) && alive(sched),
    `both still running after the outage (cm: ${cm.exitCode ?? cm.signalCode}, scheduler: ${sched.exitCode ?? sched.signalCode})`,
  );
  assert.match(cmOut(), /loops stopped; campaigning again/);
  assert.match(schedOut(), /loops stopped; campaigning again/);

  await plane.restart();
  await eventually(() => count(cmOut(), /controllers started/) >= 1 && count(schedOut(), /scheduler started/) >= 1, {
    timeoutMs: 60_000,
    intervalMs: 200,
    what: 'both lead again',
  });
  assert.equal(cm.pid, cmPid);
  assert.equal(sched.pid, schedPid);

  const client: RestClient = adminClient(plane);
  try {
    await createReadyNode(client, 'outage-node');
    await client.create(
      R.replicasets,
      {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: { name: 'after-outage' },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'after-outage' } },
          template: {
            metadata: { labels: { app: 'after-outage' } },
            spec: { containers: [{ name: 'c', image: 'busybox:latest', command: ['sleep', '3600'] }] },
          },
        },
      },
      { namespace: 'default' },
    );
    await eventually(
      async () => {
        const pods = (await client.list(R.pods, { namespace: 'default', labelSelector: 'app=after-outage' })).items;
        return (
          pods.length === 2 &&
          pods.every((p) => ((p['spec'] ?? {}) as { nodeName?: string }).nodeName === 'outage-node')
        );
      },
      { timeoutMs: 60_000, intervalMs: 200, what: 'two pods created and bound to outage-node' },
    );
  } finally {
    client.close();
  }
  assert.ok(alive(cm) && alive(sched));
});
