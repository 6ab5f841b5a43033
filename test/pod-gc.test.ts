// The pod garbage collector (PodGC) in a real controller-manager against a real apiserver,
// with Node objects the test makes itself (no agents): terminated pods beyond the threshold
// go oldest first; pods bound to a deleted Node are removed, so a namespace holding such
// pods finishes deleting; a Node deleted and re-created within the quarantine keeps its pods.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { KubeObject } from '../pkg/api/meta.js';
import type { RestClient } from '../pkg/client/index.js';
import { isNotFound } from '../pkg/errors/index.js';
import { adminClient, eventually, R } from './harness/clients.js';
import { startControlPlane, type ControlPlane } from './harness/control-plane.js';
import { createReadyNode } from './harness/fake-nodes.js';

const QUARANTINE_S = 6;
let plane: ControlPlane;
let client: RestClient;

before(async () => {
  plane = await startControlPlane({
    withControllers: true,
    controllerManagerArgs: [
      '--terminated-pod-gc-threshold',
      '3',
      '--pod-gc-quarantine',
      String(QUARANTINE_S),
      '--pod-gc-period',
      '1',
    ],
  });
  client = adminClient(plane);
});
after(async () => {
  client.close();
  await plane.stop();
});

function pod(name: string, nodeName?: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { test: 'podgc' } },
    spec: {
      ...(nodeName !== undefined ? { nodeName } : {}),
      containers: [{ name: 'c', image: 'busybox:latest', command: ['sleep', '3600'] }],
    },
  };
}

async function exists(name: string, namespace = 'default'): Promise<boolean> {
  try {
    await client.get(R.pods, name, { namespace });
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

async function finish(name: string, phase: 'Succeeded' | 'Failed'): Promise<void> {
  const p = await client.get(R.pods, name, { namespace: 'default' });
  await client.updateStatus(
    R.pods,
    { ...p, status: { ...((p['status'] ?? {}) as Record<string, unknown>), phase } },
    { namespace: 'default' },
  );
}

test('terminated pods beyond the threshold (3) are deleted, oldest first; running pods are not counted', async () => {
  for (let i = 0; i < 5; i++) await client.create(R.pods, pod(`done-${i}`), { namespace: 'default' });
  await client.create(R.pods, pod('still-running'), { namespace: 'default' });
  for (let i = 0; i < 5; i++) await finish(`done-${i}`, i % 2 === 0 ? 'Succeeded' : 'Failed');
  await eventually(async () => !(await exists('done-0')) && !(await exists('done-1')), {
    timeoutMs: 60_000,
    intervalMs: 200,
    what: 'the two oldest terminated pods deleted',
  });
  for (const name of ['done-2', 'done-3', 'done-4', 'still-running']) assert.ok(await exists(name), `${name} kept`);
  for (const name of ['done-2', 'done-3', 'done-4', 'still-running'])
    await client.delete(R.pods, name, { namespace: 'default' });
});

test('pods bound to a deleted Node are removed and their namespace finishes deleting; a Node re-created within the quarantine keeps its pods', async () => {
  // A Node deleted and re-created at once: its pod must survive.
  await createReadyNode(client, 'phoenix');
  await client.create(R.pods, pod('on-phoenix', 'phoenix'), { namespace: 'default' });
  let cmOut = '';
  plane.controllerManager?.stdout?.on('data', (c: Buffer) => (cmOut += c.toString()));
  await client.delete(R.nodes, 'phoenix');
  // A pass (every 1 s) has seen it missing: the quarantine has begun.
  await eventually(() => /node phoenix not found/.test(cmOut), {
    timeoutMs: QUARANTINE_S * 1000,
    intervalMs: 50,
    what: 'phoenix under quarantine',
  });
  await createReadyNode(client, 'phoenix');

  await createReadyNode(client, 'doomed');
  await createReadyNode(client, 'kept');
  await client.create(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'gc-ns' } });
  for (const name of ['a', 'b']) await client.create(R.pods, pod(name, 'doomed'), { namespace: 'gc-ns' });
  await client.create(R.pods, pod('orphan', 'doomed'), { namespace: 'default' });
  await client.create(R.pods, pod('survivor', 'kept'), { namespace: 'default' });

  // Deleting the namespace leaves its pods terminating: no agent will confirm them.
  await client.delete(R.namespaces, 'gc-ns');
  await eventually(
    async () => {
      const items = (await client.list(R.pods, { namespace: 'gc-ns' })).items;
      return items.length === 2 && items.every((p) => p.metadata.deletionTimestamp !== undefined);
    },
    { timeoutMs: 60_000, intervalMs: 200, what: 'gc-ns pods terminating' },
  );

  await client.delete(R.nodes, 'doomed');
  await eventually(async () => !(await exists('orphan')), {
    timeoutMs: 60_000,
    intervalMs: 200,
    what: 'the pod on the deleted node removed',
  });
  await eventually(async () => (await client.list(R.pods, { namespace: 'gc-ns' })).items.length === 0, {
    timeoutMs: 60_000,
    intervalMs: 200,
    what: 'terminating pods on the deleted node removed',
  });
  await eventually(
    async () => {
      try {
        await client.get(R.namespaces, 'gc-ns');
        return false;
      } catch (err) {
        if (isNotFound(err)) return true;
        throw err;
      }
    },
    { timeoutMs: 60_000, intervalMs: 200, what: 'namespace gc-ns gone' },
  );

  // The doomed Node's quarantine began after phoenix came back, so phoenix's has passed too.
  assert.ok(await exists('survivor'), 'a pod on an existing node is kept');
  assert.ok(await exists('on-phoenix'), 'a pod on a re-created node is kept');
});
