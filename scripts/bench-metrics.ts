// Metrics collection cost (issue 15): the CPU the node agent spends sampling 50 running pods,
// as % of one core, against the same measurement with nothing to sample, in one run.
//
// 1. The real agent: its process CPU (utime + stime from /proc) over a window with no pods,
//    then over the same window with 50 running busybox pods. The difference is an upper
//    bound on metrics collection: it also holds the relist and status work for 50 pods.
// 2. The sampler alone, in this process, on the same 50 containers at the agent's interval,
//    against this process idle for as long: the collection cost by itself.

import { readFileSync } from 'node:fs';
import { adminClient, R } from '../test/harness/clients.js';
import { removeNodeContainers, startControlPlane, startNodeAgent } from '../test/harness/control-plane.js';
import { clusterIdentity } from '../pkg/kubelet/cluster-identity.js';
import {
  DEFAULT_SAMPLE_CONCURRENCY,
  DEFAULT_SAMPLE_INTERVAL_MS,
  ResourceSampler,
} from '../pkg/kubelet/metrics/index.js';
import { DockerRuntime } from '../pkg/kubelet/runtime/index.js';

const PODS = 50;
const WINDOW_MS = 60_000;
/** Linux USER_HZ: /proc/<pid>/stat counts CPU time in these ticks. */
const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) a process has used so far. */
function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command (which may hold spaces) in parentheses: utime is the 12th, stime the 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

async function percentOfCore(measure: () => number, windowMs: number): Promise<number> {
  const before = measure();
  const started = Date.now();
  await new Promise((r) => setTimeout(r, windowMs));
  return ((measure() - before) / ((Date.now() - started) / 1000)) * 100;
}

function ownCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

async function main(): Promise<void> {
  const plane = await startControlPlane();
  const agent = await startNodeAgent(plane, { name: 'bench-metrics' });
  const client = adminClient(plane);
  const pid = agent.process.pid;
  if (pid === undefined) throw new Error('the agent has no pid');
  try {
    // Settle after start (registration, first relists).
    await new Promise((r) => setTimeout(r, 10_000));
    const agentIdle = await percentOfCore(() => processCpuSeconds(pid), WINDOW_MS);
    for (let i = 0; i < PODS; i++) {
      await client.create(
        R.pods,
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: `m-${i}` },
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
    }
    const deadline = Date.now() + 180_000;
    for (;;) {
      const running = (await client.list(R.pods, { namespace: 'default' })).items.filter(
        (p) => p.status?.phase === 'Running',
      ).length;
      if (running === PODS) break;
      if (Date.now() > deadline) throw new Error(`only ${running}/${PODS} pods Running in time`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    await new Promise((r) => setTimeout(r, 15_000));
    const agentBusy = await percentOfCore(() => processCpuSeconds(pid), WINDOW_MS);

    // The sampler alone, on the agent's containers (same cluster labels, same node).
    const runtime = new DockerRuntime({
      socketPath: '/var/run/docker.sock',
      nodeName: agent.name,
      clusterId: clusterIdentity(readFileSync(plane.pki.caCert, 'utf8')).id,
    });
    const selfIdle = await percentOfCore(ownCpuSeconds, WINDOW_MS);
    const sampler = new ResourceSampler(runtime, {
      nodeName: agent.name,
      intervalMs: DEFAULT_SAMPLE_INTERVAL_MS,
      concurrency: DEFAULT_SAMPLE_CONCURRENCY,
    });
    const first = await sampler.sample();
    if (first.pods.length !== PODS) throw new Error(`the sampler saw ${first.pods.length}/${PODS} pods`);
    const stop = new AbortController();
    sampler.start(stop.signal);
    const selfSampling = await percentOfCore(ownCpuSeconds, WINDOW_MS);
    stop.abort();
    const oneSample = Date.now();
    await sampler.sample();
    const sampleMs = Date.now() - oneSample;

    const f = (n: number): string => `${n.toFixed(2)} %`;
    console.log(`agent process, ${WINDOW_MS / 1000} s windows, sampling every ${DEFAULT_SAMPLE_INTERVAL_MS / 1000} s:`);
    console.log(`  idle (0 pods):         ${f(agentIdle)} of one core`);
    console.log(`  ${PODS} running pods:       ${f(agentBusy)} of one core`);
    console.log(
      `  difference:            ${f(agentBusy - agentIdle)} (upper bound: also relists and status of ${PODS} pods)`,
    );
    console.log(`the sampler alone on the same ${PODS} pods (this process):`);
    console.log(`  idle:                  ${f(selfIdle)} of one core`);
    console.log(`  sampling:              ${f(selfSampling)} of one core`);
    console.log(`  metrics collection:    ${f(selfSampling - selfIdle)} of one core (aim < 5 %)`);
    console.log(
      `  one sample of ${PODS} pods: ${sampleMs} ms wall time (${DEFAULT_SAMPLE_CONCURRENCY} Docker requests in flight)`,
    );
  } finally {
    client.close();
    await agent.stop();
    await removeNodeContainers(agent.name);
    await plane.stop();
  }
}

await main();
