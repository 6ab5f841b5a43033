// Storage (issue 14): time from creating a PersistentVolumeClaim of the default local-path
// class and a pod that mounts it to the pod Running (the scheduler picks the node and records
// it on the claim, the PV controller provisions and binds a hostPath volume, the agent mounts
// it), against the same pod with an emptyDir in the same run. One at a time, alternating,
// so both see the same machine. Target: local-path p50 within 1.3x of emptyDir.

import { performance } from 'node:perf_hooks';
import type { Pod } from '../pkg/api/types/index.js';
import { RESOURCES } from '../pkg/api/index.js';
import type { RestClient } from '../pkg/client/index.js';
import { watchStream } from '../pkg/client/index.js';
import { adminClient, R } from '../test/harness/clients.js';
import { removeNodeContainers, startControlPlane, startNodeAgent } from '../test/harness/control-plane.js';
import { percentile } from './bench-store.js';

const ROUNDS = 15;
const NS = 'default';

function podWith(name: string, volume: Record<string, unknown>): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: {
      terminationGracePeriodSeconds: 0,
      containers: [
        {
          name: 'c',
          image: 'busybox:latest',
          imagePullPolicy: 'IfNotPresent',
          command: ['sleep', '3600'],
          volumeMounts: [{ name: 'data', mountPath: '/data' }],
        },
      ],
      volumes: [{ name: 'data', ...volume }],
    },
  };
}

/** Resolves with the time from `create()` to `name` Running, seen through a watch. */
async function timeToRunning(client: RestClient, name: string, create: () => Promise<void>): Promise<number> {
  const rv = (await client.list(R.pods, { namespace: NS })).metadata.resourceVersion ?? '0';
  let t0 = 0;
  const running = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} not Running in 60 s`)), 60_000);
    const stream = watchStream(
      client,
      { resource: R.pods, namespace: NS, resourceVersion: rv },
      {
        onEvent: (ev) => {
          if (ev.object.metadata.name === name && ev.object.status?.phase === 'Running') {
            clearTimeout(timer);
            stream.stop();
            resolve(performance.now() - t0);
          }
        },
        onClose: () => undefined,
      },
    );
  });
  t0 = performance.now();
  await create();
  return running;
}

const plane = await startControlPlane({ withControllers: true, withScheduler: true });
const agent = await startNodeAgent(plane, { name: 'bench-storage' });
const client = adminClient(plane);
const emptyDir: number[] = [];
const localPath: number[] = [];
try {
  // One warm-up of each (image cache, first informer lists) is not counted.
  for (let i = -1; i < ROUNDS; i++) {
    const e = await timeToRunning(client, `empty-${i + 1}`, async () => {
      await client.create(R.pods, podWith(`empty-${i + 1}`, { emptyDir: {} }), { namespace: NS });
    });
    const claim = `claim-${i + 1}`;
    const l = await timeToRunning(client, `local-${i + 1}`, async () => {
      await Promise.all([
        client.create(
          RESOURCES.persistentvolumeclaims,
          {
            apiVersion: 'v1',
            kind: 'PersistentVolumeClaim',
            metadata: { name: claim },
            spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '64Mi' } } },
          },
          { namespace: NS },
        ),
        client.create(R.pods, podWith(`local-${i + 1}`, { persistentVolumeClaim: { claimName: claim } }), {
          namespace: NS,
        }),
      ]);
    });
    if (i >= 0) {
      emptyDir.push(e);
      localPath.push(l);
    }
  }
} finally {
  await agent.stop();
  await removeNodeContainers('bench-storage');
  client.close();
  await plane.stop();
}
emptyDir.sort((a, b) => a - b);
localPath.sort((a, b) => a - b);
const rows = [
  [`measure (${ROUNDS} pods each, one at a time, one node)`, 'p50 ms', 'p99 ms'],
  [
    'PVC (local-path) + pod: create → Running',
    percentile(localPath, 50).toFixed(0),
    percentile(localPath, 99).toFixed(0),
  ],
  ['baseline: pod with an emptyDir', percentile(emptyDir, 50).toFixed(0), percentile(emptyDir, 99).toFixed(0)],
  [
    'ratio local-path / emptyDir',
    (percentile(localPath, 50) / percentile(emptyDir, 50)).toFixed(2),
    (percentile(localPath, 99) / percentile(emptyDir, 99)).toFixed(2),
  ],
];
for (const r of rows) process.stdout.write(r.map((c, i) => c.padEnd(i === 0 ? 48 : 10)).join('') + '\n');
process.stdout.write('target: local-path p50 within 1.3x of emptyDir\n');
