// Scheduler throughput with hollow nodes (Node objects with no agent behind them, as
// kubemark does): 1,000 nodes and 10,000 pods through the real apiserver and scheduler
// processes; pods bound per second, create → bound latency p50/p99, and the resident memory
// of apiserver, scheduler and controller-manager at that scale. Printed beside
// kube-scheduler's published floor for a comparable test, and beside an in-run baseline: a
// "null binder" (no scheduler; the benchmark binds each pod as it appears, round-robin over
// the nodes, through the same apiserver's pods/binding) run on a fresh control plane first,
// so the ratio shows what scheduling costs above the API's own floor.

import { performance } from 'node:perf_hooks';
import { watchStream, type RestClient } from '../pkg/client/index.js';
import { adminClient, R } from '../test/harness/clients.js';
import { startControlPlane } from '../test/harness/control-plane.js';
import { percentile } from './bench-store.js';
import { processMemory, type ProcessMemory } from './process-memory.js';

const NODES = Number(process.env['BENCH_NODES'] ?? 1000);
const PODS = Number(process.env['BENCH_PODS'] ?? 10000);

async function inBatches<T>(n: number, batch: number, make: (i: number) => Promise<T>): Promise<void> {
  for (let i = 0; i < n; i += batch)
    await Promise.all(Array.from({ length: Math.min(batch, n - i) }, (_, k) => make(i + k)));
}

interface PhaseResult {
  podsPerSecond: number;
  /** create → bound, ms, sorted. */
  bound: number[];
  memory: { apiserver: ProcessMemory; scheduler: ProcessMemory; controllerManager: ProcessMemory };
}

/** Binds a pod to a node through pods/binding, as the scheduler does (without its choice). */
async function bindTo(client: RestClient, name: string, node: string): Promise<void> {
  await client.createSubresource(R.pods, name, {
    subresource: 'binding',
    body: {
      apiVersion: 'v1',
      kind: 'Binding',
      metadata: { name },
      target: { apiVersion: 'v1', kind: 'Node', name: node },
    },
    namespace: 'default',
  });
}

/** Node objects with no agent behind them, Ready, room for 110 pods each. */
async function createHollowNodes(client: RestClient): Promise<void> {
  await inBatches(NODES, 100, (i) =>
    client.create(R.nodes, {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: `hollow-${i}`, labels: { 'kubernetes.io/hostname': `hollow-${i}` } },
      status: {
        capacity: { cpu: '4', memory: '16Gi', pods: '110' },
        allocatable: { cpu: '4', memory: '16Gi', pods: '110' },
        conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }],
      },
    }),
  );
}

/** Creates the pods, 50 at a time, noting when each was sent. */
async function createPods(client: RestClient, created: Map<string, number>): Promise<void> {
  await inBatches(PODS, 50, async (i) => {
    const name = `pod-${i}`;
    created.set(name, performance.now());
    await client.create(
      R.pods,
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name },
        spec: {
          containers: [{ name: 'c', image: 'busybox:latest', resources: { requests: { cpu: '10m', memory: '16Mi' } } }],
        },
      },
      { namespace: 'default' },
    );
  });
}

/** Nodes, then pods, until every pod is bound: by the scheduler, or by the null binder. */
async function phase(withScheduler: boolean): Promise<PhaseResult> {
  const plane = await startControlPlane({
    withControllers: true,
    withScheduler,
    controllerManagerArgs: [
      '--controllers',
      'namespace,replicaset,deployment,endpoints,serviceaccount,garbagecollector',
    ],
  });
  const client = adminClient(plane);
  try {
    await createHollowNodes(client);
    // Let the scheduler's cache take in the nodes.
    await new Promise((r) => setTimeout(r, 2000));
    const created = new Map<string, number>();
    const bound: number[] = [];
    let nextNode = 0;
    const binds: Promise<void>[] = [];
    const rv = (await client.list(R.pods, { namespace: 'default' })).metadata.resourceVersion ?? '0';
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${bound.length}/${PODS} bound in time`)), 600_000);
      const seen = new Set<string>();
      const stream = watchStream(
        client,
        { resource: R.pods, namespace: 'default', resourceVersion: rv },
        {
          onEvent: (ev) => {
            const p = ev.object;
            const name = p.metadata.name ?? '';
            const node = p.spec?.nodeName;
            if (!withScheduler && ev.type === 'ADDED' && !node) {
              binds.push(bindTo(client, name, `hollow-${nextNode++ % NODES}`));
              return;
            }
            const t0 = created.get(name);
            if (node && t0 !== undefined && !seen.has(name)) {
              seen.add(name);
              bound.push(performance.now() - t0);
              if (bound.length === PODS) {
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
    const start = performance.now();
    await createPods(client, created);
    await done;
    await Promise.all(binds);
    const elapsed = (performance.now() - start) / 1000;
    bound.sort((a, b) => a - b);
    return {
      podsPerSecond: PODS / elapsed,
      bound,
      memory: {
        apiserver: processMemory(plane.apiserver),
        scheduler: processMemory(plane.scheduler),
        controllerManager: processMemory(plane.controllerManager),
      },
    };
  } finally {
    client.close();
    await plane.stop();
  }
}

const baseline = await phase(false);
const result = await phase(true);
const mem = result.memory;
const rows = [
  [`scheduler, ${NODES} hollow nodes, ${PODS} pods`, 'value', 'reference'],
  [
    'pods bound per second (create → bound, whole run)',
    result.podsPerSecond.toFixed(0),
    'kube-scheduler floor 680 (SchedulingBasic 5000 nodes/10k pods); aim ≥ 1000',
  ],
  [
    'null binder, same run: pods bound per second',
    baseline.podsPerSecond.toFixed(0),
    `scheduler / null binder = ${(result.podsPerSecond / baseline.podsPerSecond).toFixed(2)}`,
  ],
  [
    'create → bound latency p50 ms',
    percentile(result.bound, 50).toFixed(0),
    `null binder ${percentile(baseline.bound, 50).toFixed(0)}`,
  ],
  [
    'create → bound latency p99 ms',
    percentile(result.bound, 99).toFixed(0),
    `null binder ${percentile(baseline.bound, 99).toFixed(0)}`,
  ],
  ['RSS apiserver MiB', mem.apiserver.rssMiB.toFixed(0), ''],
  ['RSS scheduler MiB', mem.scheduler.rssMiB.toFixed(0), ''],
  ['RSS controller-manager MiB', mem.controllerManager.rssMiB.toFixed(0), ''],
  [
    'RSS total MiB (the shared node binary counted thrice)',
    (mem.apiserver.rssMiB + mem.scheduler.rssMiB + mem.controllerManager.rssMiB).toFixed(0),
    'k3s server ≈ 1400',
  ],
  [
    'PSS total MiB (shared pages counted once)',
    (mem.apiserver.pssMiB + mem.scheduler.pssMiB + mem.controllerManager.pssMiB).toFixed(0),
    'aim < 400',
  ],
];
for (const r of rows) process.stdout.write(r.map((c, i) => c.padEnd(i === 0 ? 52 : 10)).join('') + '\n');
