// End to end (issue 4): `kubectl apply` of a 50-replica Deployment on one real node until
// all 50 pods are Ready, beside the raw Docker baseline of creating and starting the same
// 50 sandbox + app container pairs straight through dockerode.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Docker from 'dockerode';
import { adminClient, R } from '../test/harness/clients.js';
import { kubectl, removeNodeContainers, startControlPlane, startNodeAgent } from '../test/harness/control-plane.js';

const REPLICAS = 50;

async function baseline(): Promise<number> {
  const docker = new Docker({ socketPath: '/var/run/docker.sock' });
  const t0 = performance.now();
  try {
    await Promise.all(
      Array.from({ length: REPLICAS }, async (_, i) => {
        const sandbox = await docker.createContainer({
          name: `bench-dep-pod-${i}`,
          Image: 'coxswain/pause:latest',
          Labels: { 'io.coxswain.bench': 'deploy' },
          HostConfig: { NetworkMode: 'bridge', IpcMode: 'shareable' },
        });
        await sandbox.start();
        const app = await docker.createContainer({
          name: `bench-dep-app-${i}`,
          Image: 'busybox:latest',
          Cmd: ['sleep', '3600'],
          Labels: { 'io.coxswain.bench': 'deploy' },
          HostConfig: { NetworkMode: `container:${sandbox.id}` },
        });
        await app.start();
      }),
    );
    return performance.now() - t0;
  } finally {
    const list = await docker.listContainers({ all: true, filters: { label: ['io.coxswain.bench=deploy'] } });
    await Promise.all(list.map((c) => docker.getContainer(c.Id).remove({ force: true })));
  }
}

async function coxswain(): Promise<number> {
  const plane = await startControlPlane({ withControllers: true, withScheduler: true });
  const agent = await startNodeAgent(plane, { name: 'bench-deploy-node' });
  const client = adminClient(plane);
  const home = mkdtempSync(join(tmpdir(), 'bench-deploy-'));
  try {
    const file = join(home, 'deploy.yaml');
    writeFileSync(
      file,
      JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'fifty', namespace: 'default' },
        spec: {
          replicas: REPLICAS,
          selector: { matchLabels: { app: 'fifty' } },
          template: {
            metadata: { labels: { app: 'fifty' } },
            spec: {
              terminationGracePeriodSeconds: 0,
              containers: [
                { name: 'c', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] },
              ],
            },
          },
        },
      }),
    );
    const t0 = performance.now();
    const res = await kubectl(plane.pki.adminKubeconfig, ['apply', '-f', file], { home });
    if (res.code !== 0) throw new Error(res.stderr);
    for (let i = 0; i < 3000; i++) {
      const d = await client.get(R.deployments, 'fifty', { namespace: 'default' });
      if (d.status?.readyReplicas === REPLICAS) return performance.now() - t0;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('the deployment did not become ready in time');
  } finally {
    await agent.stop();
    await removeNodeContainers('bench-deploy-node');
    client.close();
    await plane.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

const raw = await baseline();
const cox = await coxswain();
process.stdout.write(`${'50-replica Deployment on one node'.padEnd(52)}seconds\n`);
process.stdout.write(`${'Coxswain: kubectl apply → 50/50 Ready'.padEnd(52)}${(cox / 1000).toFixed(1)}\n`);
process.stdout.write(`${'baseline: 50 sandbox+app pairs via dockerode'.padEnd(52)}${(raw / 1000).toFixed(1)}\n`);
process.stdout.write(`${'ratio'.padEnd(52)}${(cox / raw).toFixed(2)}\n`);
