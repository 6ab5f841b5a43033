// Pod start latency (issue 3): 30 pods created at once on one real node; time from the
// create request to Running as seen through a watch, p50 and p99. Baseline in the same run:
// the same containers (sandbox + app) created and started straight through dockerode.

import { performance } from 'node:perf_hooks';
import Docker from 'dockerode';
import { watchStream } from '../pkg/client/index.js';
import { adminClient, R } from '../test/harness/clients.js';
import { removeNodeContainers, startControlPlane, startNodeAgent } from '../test/harness/control-plane.js';
import { percentile } from './bench-store.js';

const PODS = 30;

async function viaCoxswain(): Promise<number[]> {
  const plane = await startControlPlane();
  const agent = await startNodeAgent(plane, { name: 'bench-node' });
  const client = adminClient(plane);
  try {
    const startedAt = new Map<string, number>();
    const latencies = new Map<string, number>();
    const rv = (await client.list(R.pods, { namespace: 'default' })).metadata.resourceVersion ?? '0';
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${latencies.size}/${PODS} pods Running in time`)), 180_000);
      const stream = watchStream(
        client,
        { resource: R.pods, namespace: 'default', resourceVersion: rv },
        {
          onEvent: (ev) => {
            const p = ev.object;
            const name = p.metadata.name ?? '';
            const t0 = startedAt.get(name);
            if (p.status?.phase === 'Running' && t0 !== undefined && !latencies.has(name)) {
              latencies.set(name, performance.now() - t0);
              if (latencies.size === PODS) {
                clearTimeout(timer);
                stream.stop();
                resolve();
              }
            }
          },
          onClose: () => undefined,
        },
      );
    });
    await Promise.all(
      Array.from({ length: PODS }, async (_, i) => {
        const name = `bench-${i}`;
        startedAt.set(name, performance.now());
        await client.create(
          R.pods,
          {
            apiVersion: 'v1',
            kind: 'Pod',
            metadata: { name },
            spec: {
              nodeName: agent.name,
              terminationGracePeriodSeconds: 0,
              containers: [
                { name: 'c', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] },
              ],
            },
          },
          { namespace: 'default' },
        );
      }),
    );
    await done;
    return [...latencies.values()];
  } finally {
    await agent.stop();
    await removeNodeContainers('bench-node');
    client.close();
    await plane.stop();
  }
}

async function viaDocker(): Promise<number[]> {
  const docker = new Docker({ socketPath: '/var/run/docker.sock' });
  const label = { 'io.coxswain.bench': 'baseline' };
  const latencies: number[] = [];
  try {
    await Promise.all(
      Array.from({ length: PODS }, async (_, i) => {
        const t0 = performance.now();
        const sandbox = await docker.createContainer({
          name: `bench-baseline-pod-${i}`,
          Image: 'coxswain/pause:latest',
          Labels: label,
          HostConfig: { NetworkMode: 'bridge', IpcMode: 'shareable' },
        });
        await sandbox.start();
        const app = await docker.createContainer({
          name: `bench-baseline-app-${i}`,
          Image: 'busybox:latest',
          Cmd: ['sleep', '3600'],
          Labels: label,
          HostConfig: { NetworkMode: `container:${sandbox.id}`, IpcMode: `container:${sandbox.id}` },
        });
        await app.start();
        latencies.push(performance.now() - t0);
      }),
    );
    return latencies;
  } finally {
    const list = await docker.listContainers({ all: true, filters: { label: ['io.coxswain.bench=baseline'] } });
    await Promise.all(list.map((c) => docker.getContainer(c.Id).remove({ force: true })));
  }
}

const baseline = (await viaDocker()).sort((a, b) => a - b);
const coxswain = (await viaCoxswain()).sort((a, b) => a - b);
const rows = [
  ['measure (30 pods at once, one node)', 'p50 ms', 'p99 ms'],
  ['Coxswain: create → Running (watch)', percentile(coxswain, 50).toFixed(0), percentile(coxswain, 99).toFixed(0)],
  [
    'baseline: dockerode sandbox+app create/start',
    percentile(baseline, 50).toFixed(0),
    percentile(baseline, 99).toFixed(0),
  ],
  [
    'ratio Coxswain / baseline',
    (percentile(coxswain, 50) / percentile(baseline, 50)).toFixed(2),
    (percentile(coxswain, 99) / percentile(baseline, 99)).toFixed(2),
  ],
];
for (const r of rows) process.stdout.write(r.map((c, i) => c.padEnd(i === 0 ? 48 : 10)).join('') + '\n');
process.stdout.write('targets: p50 within 1.5x of the baseline, p99 under 5000 ms\n');
