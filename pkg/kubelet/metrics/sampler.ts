// One sampler per node agent: every interval it lists the agent's running containers (one
// cheap Docker list call) and asks Docker for one stats sample of each, a few at a time, so
// fifty pods never mean fifty concurrent requests. CPU comes as a cumulative counter; the rate
// is the difference between two samples of the same container over the time between them (as
// the kubelet's cadvisor computes usageNanoCores). With nothing running, a tick is one list call.

import { readFile } from 'node:fs/promises';
import { errorMessage } from '../../errors/index.js';
import type { ContainerRuntime, ContainerStats } from '../runtime/index.js';

export interface CpuMemory {
  /** When the sample was taken (ms since the epoch). */
  timestampMs: number;
  cpuUsageNanoseconds: number;
  /** The rate over the last interval; undefined on a container's first sample. */
  cpuNanoCores: number | undefined;
  memoryWorkingSetBytes: number;
}

export interface ContainerSample extends CpuMemory {
  name: string;
}

export interface PodSample {
  uid: string;
  namespace: string;
  name: string;
  containers: ContainerSample[];
}

export interface ResourceSnapshot {
  nodeName: string;
  node: CpuMemory | undefined;
  pods: PodSample[];
}

/** What the node itself uses, read from the kernel: cumulative CPU time and memory in use. */
export interface NodeUsageSource {
  read(): Promise<ContainerStats>;
}

/** The node from /proc: all CPUs' busy time (USER_HZ ticks) and MemTotal − MemAvailable. */
export const procNodeUsage: NodeUsageSource = {
  async read() {
    const [stat, meminfo] = await Promise.all([readFile('/proc/stat', 'utf8'), readFile('/proc/meminfo', 'utf8')]);
    const fields = (stat.split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
    const busyTicks = fields.slice(0, 8).reduce((sum, v, i) => (i === 3 || i === 4 ? sum : sum + (v || 0)), 0);
    const kib = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(meminfo)?.[1] ?? 0);
    return {
      cpuUsageNanoseconds: busyTicks * 10_000_000,
      memoryWorkingSetBytes: Math.max(0, kib('MemTotal') - kib('MemAvailable')) * 1024,
    };
  },
};

export interface SamplerOptions {
  nodeName: string;
  intervalMs: number;
  /** Docker stats requests in flight at once. */
  concurrency: number;
  nodeUsage?: NodeUsageSource;
  now?: () => number;
  log?: (message: string) => void;
}

export const DEFAULT_SAMPLE_INTERVAL_MS = 10_000;
/**
 * Docker 20.10 answers even a one-shot stats request after about a second (it waits for its
 * collector's next tick), at almost no CPU cost: sixteen in flight sample 50 pods in ~4 s,
 * well inside the interval, where four took ~13 s.
 */
export const DEFAULT_SAMPLE_CONCURRENCY = 16;

/** Runs each task with at most `limit` in flight; results in input order. */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      const item = items[index];
      if (item !== undefined) results[index] = await task(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

/** The rate between two cumulative samples, in nanocores; undefined without an earlier one or when time stood still. */
export function cpuRate(previous: CpuMemory | undefined, current: ContainerStats, atMs: number): number | undefined {
  if (previous === undefined || atMs <= previous.timestampMs) return undefined;
  const used = current.cpuUsageNanoseconds - previous.cpuUsageNanoseconds;
  // A counter that went back means a new process behind the same id: no rate this time.
  if (used < 0) return undefined;
  // Nanoseconds of CPU per nanosecond of wall time, times 1e9 (a millisecond is 1e6 ns).
  return Math.round((used / (atMs - previous.timestampMs)) * 1e3);
}

export class ResourceSampler {
  private latest: ResourceSnapshot;
  private readonly previous = new Map<string, CpuMemory>();
  private readonly now: () => number;
  private readonly nodeUsage: NodeUsageSource;

  constructor(
    private readonly runtime: ContainerRuntime,
    private readonly options: SamplerOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.nodeUsage = options.nodeUsage ?? procNodeUsage;
    this.latest = { nodeName: options.nodeName, node: undefined, pods: [] };
  }

  /** The last complete sample (never a half-taken one). */
  snapshot(): ResourceSnapshot {
    return this.latest;
  }

  /** Samples now, then every interval until the signal aborts. */
  start(signal: AbortSignal): void {
    const tick = async (): Promise<void> => {
      if (signal.aborted) return;
      await this.sample().catch((err: unknown) => this.options.log?.(`sampling resource use: ${errorMessage(err)}`));
      if (!signal.aborted) setTimeout(() => void tick(), this.options.intervalMs).unref();
    };
    void tick();
  }

  /** Takes one sample of the node and of every running app container. */
  async sample(): Promise<ResourceSnapshot> {
    const running = (await this.runtime.listManagedSummary()).filter(
      (c) => c.status === 'running' && c.identity.type !== 'sandbox',
    );
    const taken = await mapBounded(running, this.options.concurrency, async (c) => ({
      c,
      stats: await this.runtime.stats(c.id).catch(() => undefined),
      at: this.now(),
    }));
    const pods = new Map<string, PodSample>();
    const seen = new Set<string>();
    for (const { c, stats, at } of taken) {
      if (stats === undefined) continue;
      const sample = this.record(c.id, stats, at);
      seen.add(c.id);
      const { uid, namespace, name, containerName } = c.identity;
      const pod = pods.get(uid) ?? { uid, namespace, name, containers: [] };
      // Of two attempts of one container running at once (a restart in flight), the newer wins.
      pod.containers = pod.containers.filter((x) => x.name !== containerName);
      pod.containers.push({ name: containerName, ...sample });
      pods.set(uid, pod);
    }
    const nodeStats = await this.nodeUsage.read().catch(() => undefined);
    const node = nodeStats === undefined ? undefined : this.record('', nodeStats, this.now());
    seen.add('');
    for (const id of this.previous.keys()) if (!seen.has(id)) this.previous.delete(id);
    this.latest = { nodeName: this.options.nodeName, node, pods: [...pods.values()] };
    return this.latest;
  }

  private record(id: string, stats: ContainerStats, at: number): CpuMemory {
    const sample: CpuMemory = {
      timestampMs: at,
      cpuUsageNanoseconds: stats.cpuUsageNanoseconds,
      cpuNanoCores: cpuRate(this.previous.get(id), stats, at),
      memoryWorkingSetBytes: stats.memoryWorkingSetBytes,
    };
    this.previous.set(id, sample);
    return sample;
  }
}
