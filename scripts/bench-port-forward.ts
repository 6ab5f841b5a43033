// kubectl port-forward throughput (issue 12): 100 MB served by busybox httpd in a real pod,
// fetched with curl through `kubectl port-forward` (kubectl → apiserver → node agent → the
// pod's network namespace) and, in the same run, straight from the pod's IP. Prints both
// rates and their ratio. The agent runs in host-gw mode on its own CIDRs (outside the
// defaults and the tests'), and its network is torn down at the end as `npm run down` does.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RestClient } from '../pkg/client/index.js';
import { adminClient, eventually, R } from '../test/harness/clients.js';
import {
  DIST,
  freePort,
  removeNodeContainers,
  run,
  startControlPlane,
  startNodeAgent,
  waitForLine,
} from '../test/harness/control-plane.js';

const MB = 100;
const ROUNDS = 3;
const CLUSTER_CIDR = '10.253.0.0/16';
const SERVICE_CIDR = '10.115.0.0/16';

/** Bytes per second of one curl download of `url` (the body is thrown away). */
async function download(url: string): Promise<number> {
  const res = await run('curl', ['-sS', '--fail', '-o', '/dev/null', '-w', '%{size_download} %{speed_download}', url], {
    timeoutMs: 120_000,
  });
  if (res.code !== 0) throw new Error(`curl ${url}: ${res.stderr}`);
  const [size, speed] = res.stdout.trim().split(' ').map(Number);
  if (size !== MB * 1024 * 1024) throw new Error(`curl ${url}: ${size ?? 0} bytes, not ${MB} MiB`);
  return speed ?? 0;
}

function best(rates: number[]): number {
  return Math.max(...rates);
}

function mbps(rate: number): string {
  return `${(rate / 1024 / 1024).toFixed(1)} MiB/s`;
}

/** busybox httpd serving MB MiB of zeros at /big; resolves with the pod's IP once it runs. */
async function startBulkPod(client: RestClient, nodeName: string): Promise<string> {
  await client.create(
    R.pods,
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'bulk' },
      spec: {
        nodeName,
        terminationGracePeriodSeconds: 0,
        containers: [
          {
            name: 'web',
            image: 'busybox:latest',
            imagePullPolicy: 'IfNotPresent',
            command: [
              'sh',
              '-c',
              `mkdir -p /www && head -c ${MB * 1024 * 1024} /dev/zero > /www/big && exec httpd -f -p 80 -h /www`,
            ],
          },
        ],
      },
    },
    { namespace: 'default' },
  );
  let podIP = '';
  await eventually(
    async () => {
      const pod = await client.get(R.pods, 'bulk', { namespace: 'default' });
      podIP = pod.status?.podIP ?? '';
      return pod.status?.phase === 'Running' && podIP !== '';
    },
    { timeoutMs: 90_000, intervalMs: 250, what: 'the pod running with an IP' },
  );
  return podIP;
}

async function main(): Promise<void> {
  const plane = await startControlPlane({
    withControllers: true,
    extraArgs: ['--service-cluster-ip-range', SERVICE_CIDR],
    controllerManagerArgs: ['--cluster-cidr', CLUSTER_CIDR],
  });
  const client = adminClient(plane);
  const home = mkdtempSync(join(tmpdir(), 'bench-pf-'));
  const agent = await startNodeAgent(plane, {
    name: 'bench-pf',
    extraArgs: ['--network', 'host-gw', '--cluster-cidr', CLUSTER_CIDR],
  });
  try {
    const podIP = await startBulkPod(client, agent.name);
    const direct = `http://${podIP}/big`;
    await eventually(async () => (await download(direct).catch(() => 0)) > 0, {
      timeoutMs: 30_000,
      what: 'httpd serving',
    });
    const local = await freePort();
    const forward = spawn('kubectl', ['port-forward', 'pod/bulk', `${local}:80`], {
      env: { ...process.env, HOME: home, KUBECONFIG: plane.pki.adminKubeconfig },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      await waitForLine(forward, /Forwarding from 127\.0\.0\.1/, 60_000);
      const forwarded = `http://127.0.0.1:${local}/big`;
      const straight: number[] = [];
      const through: number[] = [];
      // Interleaved, so that both see the machine in the same state.
      for (let i = 0; i < ROUNDS; i++) {
        straight.push(await download(direct));
        through.push(await download(forwarded));
      }
      const ratio = best(through) / best(straight);
      console.log(`port-forward: ${MB} MiB with curl, best of ${ROUNDS}`);
      console.log(`  straight to the pod IP       ${mbps(best(straight))}`);
      console.log(`  through kubectl port-forward ${mbps(best(through))}`);
      console.log(`  ratio ${ratio.toFixed(2)} (aim >= 0.5)`);
    } finally {
      forward.kill('SIGTERM');
    }
  } finally {
    await agent.stop();
    await removeNodeContainers(agent.name);
    const down = await run(
      process.execPath,
      [
        join(DIST, 'cmd', 'kubelet.js'),
        '--teardown',
        '--client-ca-file',
        plane.pki.caCert,
        '--cluster-cidr',
        CLUSTER_CIDR,
      ],
      { timeoutMs: 120_000 },
    );
    if (down.code !== 0) console.error(`bench: teardown of the pod network failed: ${down.stderr}`);
    client.close();
    await plane.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

await main();
