// Density (issue 16), after Kubernetes' density test on kubemark: a real apiserver, scheduler
// and controller-manager, N hollow nodes (cmd/hollow-nodes.ts: the real agent code on the
// in-memory runtime, all in one process, each with its own node certificate and Lease), and
// Deployments until there are 30 pods per node. For each N it measures:
//   - pod startup: first seen (ADDED) → seen Running by the same watch, p50/p90/p99, in two
//     phases as Kubernetes' density test has them: the saturation burst (every Deployment at
//     once, so most of a pod's wait is the scheduler's queue), then "latency pods" created
//     one every 200 ms into the saturated cluster once it has settled (its write rate back to
//     what the idle agents make), timed from the moment each create is sent, on which the SLO
//     is judged (p99 ≤ 5 s: Kubernetes states it for a cluster that is not overloaded);
//   - the apiserver's own request latency p99 per verb, from its apiserver_request_duration_seconds
//     histogram (SLO: mutating p99 ≤ 1 s);
//   - scheduler throughput, first bind seen to last;
//   - resident memory of the apiserver, scheduler, controller-manager and the hollow fleet.
// Then a table over N and an SVG plot of each measure against N (vega-lite, rendered headless).
//
//   node dist/scripts/bench-density.js [--nodes 100,500,1000] [--pods-per-node 30] [--latency-pods 100] [--out DIR]
//     [--heap-snapshots DIR] [--profile-dir DIR]
// --profile-dir: the apiserver and the hollow fleet run under `node --cpu-prof`, their profiles
// written to DIR/apiserver and DIR/fleet when they stop (scripts/profile-summary.ts reads them);
// the profiler slows them, so the figures of such a run are not the benchmark's.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { watchStream, type RestClient } from '../pkg/client/index.js';
import { adminClient, R } from '../test/harness/clients.js';
import { getComponent } from '../test/harness/https.js';
import { DIST, startControlPlane, stopBounded, waitForLine, type ControlPlane } from '../test/harness/control-plane.js';
import { percentile } from './bench-store.js';
import { processMemory, type ProcessMemory } from './process-memory.js';

const REPLICAS_PER_DEPLOYMENT = 100;
const NAMESPACE = 'density';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const SIZES = flag('nodes', process.env['BENCH_DENSITY_NODES'] ?? '100,500,1000')
  .split(',')
  .map(Number)
  .filter((n) => Number.isInteger(n) && n > 0);
const PODS_PER_NODE = Number(flag('pods-per-node', '30'));
const LATENCY_PODS = Number(flag('latency-pods', '100'));
const LATENCY_POD_INTERVAL_MS = 200;
const OUT = flag('out', join(tmpdir(), 'coxswain-bench'));
/** With --heap-snapshots DIR, each control-plane process writes a V8 heap snapshot there at the end. */
const SNAPSHOTS = flag('heap-snapshots', '');
if (SNAPSHOTS !== '') {
  // The processes started from here inherit both: the signal that asks for a snapshot, and
  // the folder it is written to (their working directory).
  mkdirSync(SNAPSHOTS, { recursive: true });
  process.chdir(SNAPSHOTS);
  process.env['NODE_OPTIONS'] = `${process.env['NODE_OPTIONS'] ?? ''} --heapsnapshot-signal=SIGUSR2`.trim();
}

const PROFILES = flag('profile-dir', '');
const cpuProfileArgs = (part: string): string[] =>
  PROFILES === '' ? [] : ['--cpu-prof', '--cpu-prof-dir', join(PROFILES, part)];
/** Longest wait for the cluster to work off the burst before the latency pods. */
const SETTLE_LIMIT_MS = 180_000;

/** Asks each process for a heap snapshot and waits (bounded) until the files stop growing. */
async function takeHeapSnapshots(processes: (ChildProcess | undefined)[]): Promise<void> {
  const before = new Set(readdirSync('.'));
  for (const p of processes) p?.kill('SIGUSR2');
  let last = -1;
  for (let i = 0; i < 300; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    const fresh = readdirSync('.').filter((f) => f.endsWith('.heapsnapshot') && !before.has(f));
    const sizes = fresh.map((f) => statSync(f).size);
    const bytes = sizes.reduce((sum, n) => sum + n, 0);
    // A snapshot's file appears empty and fills at the end: wait until every one has bytes
    // and their sizes hold.
    if (fresh.length === processes.length && sizes.every((n) => n > 0) && bytes === last) break;
    last = bytes;
  }
  process.stderr.write(`  heap snapshots in ${SNAPSHOTS}\n`);
}

/** The V8 heap in use, MiB, from a process's Prometheus text (NaN if absent). */
function heapUsedMiB(text: string): number {
  const m = /^nodejs_heap_size_used_bytes (\S+)$/m.exec(text);
  return m ? Number(m[1]) / 2 ** 20 : Number.NaN;
}

/** p99 (seconds) per verb from the Prometheus text of one histogram, summed over its other labels. */
export function histogramP99ByVerb(text: string, metric: string): Map<string, number> {
  const buckets = new Map<string, Map<number, number>>();
  const re = new RegExp(`^${metric}_bucket\\{([^}]*)\\} (\\S+)$`, 'gm');
  for (const m of text.matchAll(re)) {
    const labels = m[1] ?? '';
    const verb = /verb="([^"]*)"/.exec(labels)?.[1];
    const le = /le="([^"]*)"/.exec(labels)?.[1];
    if (verb === undefined || le === undefined) continue;
    const bound = le === '+Inf' ? Infinity : Number(le);
    const byLe = buckets.get(verb) ?? new Map<number, number>();
    byLe.set(bound, (byLe.get(bound) ?? 0) + Number(m[2]));
    buckets.set(verb, byLe);
  }
  const out = new Map<string, number>();
  for (const [verb, byLe] of buckets) {
    const sorted = [...byLe.entries()].sort((a, b) => a[0] - b[0]);
    const total = sorted.at(-1)?.[1] ?? 0;
    if (total === 0) continue;
    const want = total * 0.99;
    let lower = 0;
    let below = 0;
    for (const [bound, count] of sorted) {
      if (count >= want) {
        // Linear inside the bucket, as Prometheus' histogram_quantile; the top bucket has no bound.
        out.set(verb, bound === Infinity ? lower : lower + ((bound - lower) * (want - below)) / (count - below || 1));
        break;
      }
      lower = bound;
      below = count;
    }
  }
  return out;
}

interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
}

function percentiles(ms: number[]): Percentiles {
  const sorted = [...ms].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99) };
}

/** Sent (or else first seen) → Running of the named pods (those seen Running). */
function startupOf(times: PodTimes, names: (name: string) => boolean): number[] {
  return [...times.running]
    .filter(([name]) => names(name))
    .map(([name, at]) => at - (times.sent.get(name) ?? times.seen.get(name) ?? at));
}

/** Waits (bounded) until `count` pods matching `names` are Running; false when the deadline passed. */
async function waitRunning(
  times: PodTimes,
  opts: { count: number; names: (name: string) => boolean; label: string },
): Promise<boolean> {
  const deadline = Date.now() + 30 * 60_000;
  let last = -1;
  for (;;) {
    const running = [...times.running.keys()].filter(opts.names).length;
    if (running >= opts.count) return true;
    if (Date.now() >= deadline) return false;
    if (Math.floor(running / 1000) !== Math.floor(last / 1000))
      process.stderr.write(`  ${opts.label}: ${running}/${opts.count} Running\n`);
    last = running;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

interface Result {
  nodes: number;
  pods: number;
  /** Seen → Running of the saturation burst's pods, and of the latency pods after it. */
  startup: Percentiles;
  latencyStartup: Percentiles;
  apiP99: Map<string, number>;
  schedulerPodsPerSecond: number;
  memory: { apiserver: ProcessMemory; scheduler: ProcessMemory; controllerManager: ProcessMemory };
  /** The fleet's RSS over its agents, MiB. */
  hollowPerNode: number;
  /** V8 heap in use (prom-client's nodejs_heap_size_used_bytes), MiB: live objects and garbage not yet collected. */
  heapUsed: { apiserver: number; scheduler: number; controllerManager: number };
  seconds: number;
  /** From the burst Running to a write rate near the idle agents' (before the latency pods). */
  settleSeconds: number;
}

/** The running fleet: stopped on SIGINT/SIGTERM too, so an interrupted run leaves no agents behind. */
let runningFleet: ChildProcess | undefined;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    runningFleet?.kill('SIGTERM');
    process.exit(130);
  });
}

async function startFleet(plane: ControlPlane, nodes: number, root: string): Promise<ChildProcess> {
  const fleet = spawn(
    process.execPath,
    [
      ...cpuProfileArgs('fleet'),
      join(DIST, 'cmd', 'hollow-nodes.js'),
      ...['--server', plane.server, '--ca-cert', plane.pki.caCert, '--ca-key', plane.pki.caKey],
      ...['--count', String(nodes), '--root-dir', root],
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  runningFleet = fleet;
  await waitForLine(fleet, /hollow nodes ready/, 60_000 + nodes * 200);
  return fleet;
}

/** Watches the namespace's pods: when each was first seen, and when it was first seen Running. */
interface PodTimes {
  seen: Map<string, number>;
  running: Map<string, number>;
  /** When the bench sent the create of a pod it times from there (the latency pods). */
  sent: Map<string, number>;
  /** When each saturation pod was first seen bound, in order. */
  bound: number[];
  stop: () => void;
}

function podTimes(client: RestClient, rv: string): PodTimes {
  const seen = new Map<string, number>();
  const running = new Map<string, number>();
  const bound: number[] = [];
  const boundNames = new Set<string>();
  const stream = watchStream(
    client,
    { resource: R.pods, namespace: NAMESPACE, resourceVersion: rv },
    {
      onEvent: (ev) => {
        const name = ev.object.metadata.name ?? '';
        const now = performance.now();
        if (!seen.has(name)) seen.set(name, now);
        // Scheduler throughput is the saturation burst's (latency pods come at a set pace).
        if (ev.object.spec?.nodeName && !boundNames.has(name) && name.startsWith('density-')) {
          boundNames.add(name);
          bound.push(now);
        }
        if (ev.object.status?.phase === 'Running' && !running.has(name)) running.set(name, now);
      },
      onClose: () => undefined,
    },
  );
  return { seen, sent: new Map(), running, bound, stop: () => stream.stop() };
}

async function measure(nodes: number): Promise<Result> {
  const root = mkdtempSync(join(tmpdir(), 'bench-density-'));
  const plane = await startControlPlane({
    withControllers: true,
    withScheduler: true,
    apiserverNodeArgs: cpuProfileArgs('apiserver'),
  });
  const client = adminClient(plane);
  let fleet: ChildProcess | undefined;
  try {
    fleet = await startFleet(plane, nodes, join(root, 'fleet'));
    await client.create(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
    const rv = (await client.list(R.pods, { namespace: NAMESPACE })).metadata.resourceVersion ?? '0';
    const times = podTimes(client, rv);
    const pods = nodes * PODS_PER_NODE;
    const started = performance.now();
    for (let i = 0; i * REPLICAS_PER_DEPLOYMENT < pods; i++) {
      const replicas = Math.min(REPLICAS_PER_DEPLOYMENT, pods - i * REPLICAS_PER_DEPLOYMENT);
      await client.create(
        R.deployments,
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: `density-${i}` },
          spec: {
            replicas,
            selector: { matchLabels: { app: `density-${i}` } },
            template: {
              metadata: { labels: { app: `density-${i}` } },
              spec: { containers: [{ name: 'c', image: 'busybox:latest', command: ['sleep', '3600'] }] },
            },
          },
        },
        { namespace: NAMESPACE },
      );
    }
    const saturation = (name: string): boolean => name.startsWith('density-');
    // Bounded: 30 minutes at most, whatever N.
    if (!(await waitRunning(times, { count: pods, names: saturation, label: `N=${nodes}` })))
      throw new Error(`not all ${pods} pods Running in time`);
    const seconds = (performance.now() - started) / 1000;
    const settled = await settle(client, nodes);
    process.stderr.write(
      `  N=${nodes}: settled ${settled.seconds.toFixed(0)} s after the burst ran (writes ${settled.rate.toFixed(0)}/s)\n`,
    );
    // The latency phase: single pods into the saturated cluster, at a pace it can take.
    const latency = (name: string): boolean => name.startsWith('latency-');
    for (let i = 0; i < LATENCY_PODS; i++) {
      // Timed from the moment the create is sent: a lagging watch must not shorten it.
      times.sent.set(`latency-${i}`, performance.now());
      await client.create(
        R.pods,
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: `latency-${i}` },
          spec: { containers: [{ name: 'c', image: 'busybox:latest', command: ['sleep', '3600'] }] },
        },
        { namespace: NAMESPACE },
      );
      await new Promise((r) => setTimeout(r, LATENCY_POD_INTERVAL_MS));
    }
    if (!(await waitRunning(times, { count: LATENCY_PODS, names: latency, label: `N=${nodes} latency pods` })))
      throw new Error(`not all ${LATENCY_PODS} latency pods Running in time`);
    times.stop();
    const metrics = await client.request({ method: 'GET', path: '/metrics' });
    const admin = { cert: readFileSync(plane.pki.adminCert, 'utf8'), key: readFileSync(plane.pki.adminKey, 'utf8') };
    const componentHeap = async (port: number): Promise<number> =>
      heapUsedMiB((await getComponent(port, '/metrics', admin)).body);
    const bindSpan = ((times.bound.at(-1) ?? 0) - (times.bound[0] ?? 0)) / 1000;
    const result: Result = {
      nodes,
      pods,
      startup: percentiles(startupOf(times, saturation)),
      latencyStartup: percentiles(startupOf(times, latency)),
      apiP99: histogramP99ByVerb(metrics.body.toString(), 'apiserver_request_duration_seconds'),
      schedulerPodsPerSecond: bindSpan > 0 ? times.bound.length / bindSpan : Number.NaN,
      memory: {
        apiserver: processMemory(plane.apiserver),
        scheduler: processMemory(plane.scheduler),
        controllerManager: processMemory(plane.controllerManager),
      },
      hollowPerNode: processMemory(fleet).rssMiB / nodes,
      heapUsed: {
        apiserver: heapUsedMiB(metrics.body.toString()),
        scheduler: await componentHeap(plane.schedulerPort),
        controllerManager: await componentHeap(plane.controllerManagerPort),
      },
      seconds,
      settleSeconds: settled.seconds,
    };
    // After the figures: a snapshot swells the process while it is written.
    if (SNAPSHOTS !== '') await takeHeapSnapshots([plane.apiserver, plane.scheduler, plane.controllerManager]);
    return result;
  } finally {
    await stopBounded(fleet);
    client.close();
    await plane.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

const MUTATING = ['create', 'update', 'patch', 'delete'];

/** Mutating requests the apiserver has served so far (its apiserver_request_total). */
function mutatingRequests(text: string): number {
  let sum = 0;
  for (const m of text.matchAll(/^apiserver_request_total\{([^}]*)\} (\S+)$/gm)) {
    const verb = /verb="([^"]*)"/.exec(m[1] ?? '')?.[1];
    if (verb !== undefined && MUTATING.includes(verb)) sum += Number(m[2]);
  }
  return sum;
}

/**
 * Waits (bounded) until the cluster has worked off the burst (status writes, events, the
 * controllers' follow-ups): its write rate over 5 s is back within 30 % (+10/s) of what N
 * idle agents make, as Kubernetes' density test measures its
 * latency pods in a saturated cluster that is not overloaded.
 */
async function settle(client: RestClient, nodes: number): Promise<{ seconds: number; rate: number }> {
  // Idle agents write a Lease every 10 s and their node status about once a minute.
  const idle = nodes / 10 + nodes / 60;
  const begun = performance.now();
  const writes = async (): Promise<number> =>
    mutatingRequests((await client.request({ method: 'GET', path: '/metrics' })).body.toString());
  let before = await writes();
  let rate = Number.POSITIVE_INFINITY;
  while (performance.now() - begun < SETTLE_LIMIT_MS) {
    await new Promise((r) => setTimeout(r, 5000));
    const now = await writes();
    rate = (now - before) / 5;
    before = now;
    if (rate <= 1.3 * idle + 10) break;
  }
  return { seconds: (performance.now() - begun) / 1000, rate };
}

function worstMutating(p99: Map<string, number>): number {
  return Math.max(...MUTATING.map((v) => p99.get(v) ?? 0));
}

/** One memory figure summed over the three control-plane processes. */
function sumOf(r: Result, figure: keyof ProcessMemory): number {
  return r.memory.apiserver[figure] + r.memory.scheduler[figure] + r.memory.controllerManager[figure];
}

function triple(p: Percentiles): string {
  return `${p.p50.toFixed(0)} / ${p.p90.toFixed(0)} / ${p.p99.toFixed(0)}`;
}

function table(results: Result[]): string {
  const ms = (s: number): string => (s * 1000).toFixed(0);
  const rows: string[][] = [
    ['N hollow nodes', ...results.map((r) => String(r.nodes))],
    [`pods (${PODS_PER_NODE} per node)`, ...results.map((r) => String(r.pods))],
    [
      `pod startup p50 / p90 / p99 ms, ${LATENCY_PODS} latency pods (SLO p99 ≤ 5000)`,
      ...results.map((r) => triple(r.latencyStartup)),
    ],
    ['pod startup p50 / p90 / p99 ms, saturation burst', ...results.map((r) => triple(r.startup))],
    ['API p99 ms, worst mutating verb (SLO ≤ 1000)', ...results.map((r) => ms(worstMutating(r.apiP99)))],
    ...['create', 'update', 'patch', 'delete', 'get', 'list'].map((verb) => [
      `  API p99 ms, ${verb}`,
      ...results.map((r) => (r.apiP99.has(verb) ? ms(r.apiP99.get(verb) ?? 0) : '-')),
    ]),
    ['scheduler pods bound per second', ...results.map((r) => r.schedulerPodsPerSecond.toFixed(0))],
    [
      'RSS apiserver / scheduler / controller-manager MiB',
      ...results.map(
        (r) =>
          `${r.memory.apiserver.rssMiB.toFixed(0)} / ${r.memory.scheduler.rssMiB.toFixed(0)} / ${r.memory.controllerManager.rssMiB.toFixed(0)}`,
      ),
    ],
    [
      'V8 heap used apiserver / scheduler / controller-manager MiB',
      ...results.map(
        (r) =>
          `${r.heapUsed.apiserver.toFixed(0)} / ${r.heapUsed.scheduler.toFixed(0)} / ${r.heapUsed.controllerManager.toFixed(0)}`,
      ),
    ],
    [
      'RSS of the three, MiB (the shared node binary counted thrice)',
      ...results.map((r) => sumOf(r, 'rssMiB').toFixed(0)),
    ],
    ['PSS of the three, MiB (shared pages once; aim < 400)', ...results.map((r) => sumOf(r, 'pssMiB').toFixed(0))],
    ['hollow fleet RSS per node MiB (aim < 2)', ...results.map((r) => r.hollowPerNode.toFixed(2))],
    ['seconds to all Running', ...results.map((r) => r.seconds.toFixed(0))],
    ['seconds then until settled (latency pods start)', ...results.map((r) => r.settleSeconds.toFixed(0))],
  ];
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((row) => (row[c] ?? '').length))) ?? [];
  return rows.map((row) => row.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join('  ')).join('\n');
}

async function plot(results: Result[]): Promise<string> {
  const values = results.flatMap((r) => [
    { N: r.nodes, measure: 'pod startup (ms)', series: 'latency pods p50', value: r.latencyStartup.p50 },
    { N: r.nodes, measure: 'pod startup (ms)', series: 'latency pods p99', value: r.latencyStartup.p99 },
    { N: r.nodes, measure: 'pod startup (ms)', series: 'saturation p99', value: r.startup.p99 },
    { N: r.nodes, measure: 'API p99 (ms)', series: 'worst mutating', value: worstMutating(r.apiP99) * 1000 },
    { N: r.nodes, measure: 'API p99 (ms)', series: 'list', value: (r.apiP99.get('list') ?? 0) * 1000 },
    { N: r.nodes, measure: 'scheduler (pods/s)', series: 'bound', value: r.schedulerPodsPerSecond },
    { N: r.nodes, measure: 'memory, PSS (MiB)', series: 'apiserver', value: r.memory.apiserver.pssMiB },
    { N: r.nodes, measure: 'memory, PSS (MiB)', series: 'scheduler', value: r.memory.scheduler.pssMiB },
    {
      N: r.nodes,
      measure: 'memory, PSS (MiB)',
      series: 'controller-manager',
      value: r.memory.controllerManager.pssMiB,
    },
    { N: r.nodes, measure: 'memory, PSS (MiB)', series: 'the three', value: sumOf(r, 'pssMiB') },
  ]);
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `Coxswain density: ${PODS_PER_NODE} pods per hollow node`,
    data: { values },
    facet: { row: { field: 'measure', type: 'nominal', title: null } },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 420,
      height: 140,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'N', type: 'quantitative', title: 'hollow nodes' },
        y: { field: 'value', type: 'quantitative', title: null },
        color: { field: 'series', type: 'nominal' },
      },
    },
  };
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  return view.toSVG();
}

const results: Result[] = [];
for (const n of SIZES) {
  process.stderr.write(`density: N=${n}\n`);
  results.push(await measure(n));
}
process.stdout.write(`${table(results)}\n`);
mkdirSync(OUT, { recursive: true });
const svg = join(OUT, 'density.svg');
writeFileSync(svg, await plot(results));
writeFileSync(
  join(OUT, 'density.json'),
  JSON.stringify(
    results.map((r) => ({ ...r, apiP99: Object.fromEntries(r.apiP99) })),
    null,
    2,
  ),
);
process.stdout.write(`plot: ${svg}\n`);
