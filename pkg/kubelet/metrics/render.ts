// The two documents the kubelet serves from its resource samples: `/metrics/resource` in the
// Prometheus text format with the kubelet's metric names (what metrics-server scrapes), and
// `/stats/summary` in the shape of the kubelet's Summary API (what the apiserver's
// metrics.k8s.io reads here: the rates are already computed, so one scrape suffices).

import type { CpuMemory, ResourceSnapshot } from './sampler.js';

/** A label value as the text format wants it: backslash, quote and newline escaped. */
function labelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labels(pairs: Record<string, string>): string {
  const parts = Object.entries(pairs).map(([k, v]) => `${k}="${labelValue(v)}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  lines: string[];
}

function family(name: string, help: string, type: Family['type']): Family {
  return { name, help, type, lines: [] };
}

function sampleLine(f: Family, pairs: Record<string, string>, at: { value: number; timestampMs: number }): void {
  f.lines.push(`${f.name}${labels(pairs)} ${at.value} ${at.timestampMs}`);
}

function sumOf(samples: readonly CpuMemory[]): { cpuSeconds: number; memory: number; at: number } {
  return {
    cpuSeconds: samples.reduce((s, c) => s + c.cpuUsageNanoseconds, 0) / 1e9,
    memory: samples.reduce((s, c) => s + c.memoryWorkingSetBytes, 0),
    at: Math.max(0, ...samples.map((c) => c.timestampMs)),
  };
}

/** `/metrics/resource`, as the kubelet's resource metrics collector writes it. */
export function renderResourceMetrics(snapshot: ResourceSnapshot): string {
  const nodeCpu = family(
    'node_cpu_usage_seconds_total',
    '[STABLE] Cumulative cpu time consumed by the node in core-seconds',
    'counter',
  );
  const nodeMemory = family(
    'node_memory_working_set_bytes',
    '[STABLE] Current working set of the node in bytes',
    'gauge',
  );
  const containerCpu = family(
    'container_cpu_usage_seconds_total',
    '[STABLE] Cumulative cpu time consumed by the container in core-seconds',
    'counter',
  );
  const containerMemory = family(
    'container_memory_working_set_bytes',
    '[STABLE] Current working set of the container in bytes',
    'gauge',
  );
  const podCpu = family(
    'pod_cpu_usage_seconds_total',
    '[STABLE] Cumulative cpu time consumed by the pod in core-seconds',
    'counter',
  );
  const podMemory = family('pod_memory_working_set_bytes', '[STABLE] Current working set of the pod in bytes', 'gauge');
  const scrapeError = family(
    'resource_scrape_error',
    '[STABLE] 1 if there was an error while getting container metrics, 0 otherwise',
    'gauge',
  );
  if (snapshot.node !== undefined) {
    sampleLine(nodeCpu, {}, { value: snapshot.node.cpuUsageNanoseconds / 1e9, timestampMs: snapshot.node.timestampMs });
    sampleLine(nodeMemory, {}, { value: snapshot.node.memoryWorkingSetBytes, timestampMs: snapshot.node.timestampMs });
  }
  for (const pod of snapshot.pods) {
    for (const c of pod.containers) {
      const who = { container: c.name, namespace: pod.namespace, pod: pod.name };
      sampleLine(containerCpu, who, { value: c.cpuUsageNanoseconds / 1e9, timestampMs: c.timestampMs });
      sampleLine(containerMemory, who, { value: c.memoryWorkingSetBytes, timestampMs: c.timestampMs });
    }
    const total = sumOf(pod.containers);
    sampleLine(podCpu, { namespace: pod.namespace, pod: pod.name }, { value: total.cpuSeconds, timestampMs: total.at });
    sampleLine(podMemory, { namespace: pod.namespace, pod: pod.name }, { value: total.memory, timestampMs: total.at });
  }
  scrapeError.lines.push(`resource_scrape_error ${snapshot.node === undefined ? 1 : 0}`);
  const families = [containerCpu, containerMemory, nodeCpu, nodeMemory, podCpu, podMemory, scrapeError];
  return (
    families
      .map((f) => [`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`, ...f.lines].join('\n'))
      .join('\n') + '\n'
  );
}

export interface SummaryUsage {
  time: string;
  usageNanoCores?: number;
  usageCoreNanoSeconds?: number;
  workingSetBytes?: number;
}

export interface StatsSummary {
  node: { nodeName: string; cpu?: SummaryUsage; memory?: SummaryUsage };
  pods: {
    podRef: { name: string; namespace: string; uid: string };
    containers: { name: string; cpu: SummaryUsage; memory: SummaryUsage }[];
    cpu: SummaryUsage;
    memory: SummaryUsage;
  }[];
}

function cpuOf(s: CpuMemory): SummaryUsage {
  return {
    time: new Date(s.timestampMs).toISOString(),
    ...(s.cpuNanoCores !== undefined && { usageNanoCores: s.cpuNanoCores }),
    usageCoreNanoSeconds: s.cpuUsageNanoseconds,
  };
}

function memoryOf(s: CpuMemory): SummaryUsage {
  return { time: new Date(s.timestampMs).toISOString(), workingSetBytes: s.memoryWorkingSetBytes };
}

/** `/stats/summary`, the fields of the kubelet's Summary API that CPU and memory fill. */
export function renderSummary(snapshot: ResourceSnapshot): StatsSummary {
  const node = snapshot.node;
  return {
    node: {
      nodeName: snapshot.nodeName,
      ...(node !== undefined && { cpu: cpuOf(node), memory: memoryOf(node) }),
    },
    pods: snapshot.pods.map((pod) => {
      const total = sumOf(pod.containers);
      const rates = pod.containers.map((c) => c.cpuNanoCores);
      const time = new Date(total.at).toISOString();
      return {
        podRef: { name: pod.name, namespace: pod.namespace, uid: pod.uid },
        containers: pod.containers.map((c) => ({ name: c.name, cpu: cpuOf(c), memory: memoryOf(c) })),
        cpu: {
          time,
          ...(rates.every((r) => r !== undefined) && { usageNanoCores: rates.reduce((s, r) => s + (r ?? 0), 0) }),
          usageCoreNanoSeconds: Math.round(total.cpuSeconds * 1e9),
        },
        memory: { time, workingSetBytes: total.memory },
      };
    }),
  };
}
