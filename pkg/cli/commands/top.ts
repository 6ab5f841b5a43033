// coxctl top node|pod: CPU and memory from the metrics.k8s.io API the apiserver serves, in
// kubectl's columns (`250m`, `64Mi`, and for nodes the share of allocatable).

import type { NodeMetrics, PodMetrics, ResourceUsage } from '../../api/index.js';
import { parseQuantity } from '../../api/quantity.js';
import { RESOURCES } from '../../api/registry.js';
import { CliError, type CliContext } from '../context.js';
import { formatColumns } from '../output.js';

export interface Usage {
  /** millicores */
  cpu: number;
  bytes: number;
}

function quantity(q: string | number | undefined): number {
  if (q === undefined) return 0;
  try {
    return parseQuantity(q);
  } catch {
    return 0;
  }
}

export function usageOf(u: ResourceUsage | Record<string, string | number> | undefined): Usage {
  return { cpu: Math.round(quantity(u?.['cpu']) * 1000), bytes: quantity(u?.['memory']) };
}

export const cpuText = (milli: number): string => `${Math.round(milli)}m`;
export const memoryText = (bytes: number): string => `${Math.floor(bytes / 1024 ** 2)}Mi`;

function sortRows<T extends { name: string; usage: Usage }>(rows: T[], sortBy: string | undefined): T[] {
  if (sortBy === undefined) return rows;
  if (sortBy === 'cpu') return [...rows].sort((a, b) => b.usage.cpu - a.usage.cpu);
  if (sortBy === 'memory') return [...rows].sort((a, b) => b.usage.bytes - a.usage.bytes);
  throw new CliError(`--sort-by accepts only cpu or memory`);
}

export interface TopFlags {
  selector?: string;
  sortBy?: string;
  allNamespaces?: boolean;
  containers?: boolean;
}

export async function runTopNode(ctx: CliContext, name: string | undefined, flags: TopFlags): Promise<void> {
  const client = ctx.client();
  const metrics: NodeMetrics[] =
    name !== undefined
      ? [await client.get(RESOURCES.nodemetrics, name)]
      : (
          await client.list(
            RESOURCES.nodemetrics,
            flags.selector !== undefined ? { labelSelector: flags.selector } : {},
          )
        ).items;
  if (metrics.length === 0) throw new CliError('metrics not available yet');
  const nodes = await client.list(RESOURCES.nodes);
  const allocatable = new Map(nodes.items.map((n) => [n.metadata.name ?? '', usageOf(n.status?.allocatable)]));
  const rows = sortRows(
    metrics.map((m) => ({ name: m.metadata.name ?? '', usage: usageOf(m.usage) })),
    flags.sortBy,
  ).map(({ name: n, usage }) => {
    const a = allocatable.get(n);
    const pct = (used: number, total: number | undefined): string =>
      total !== undefined && total > 0 ? `${Math.floor((used * 100) / total)}%` : '<unknown>';
    return [n, cpuText(usage.cpu), pct(usage.cpu, a?.cpu), memoryText(usage.bytes), pct(usage.bytes, a?.bytes)];
  });
  ctx.out(formatColumns([['NAME', 'CPU(cores)', 'CPU(%)', 'MEMORY(bytes)', 'MEMORY(%)'], ...rows]));
}

export async function runTopPod(ctx: CliContext, name: string | undefined, flags: TopFlags): Promise<void> {
  const client = ctx.client();
  const namespace = flags.allNamespaces ? undefined : ctx.namespace();
  const metrics: PodMetrics[] =
    name !== undefined
      ? [await client.get(RESOURCES.podmetrics, name, { namespace })]
      : (
          await client.list(RESOURCES.podmetrics, {
            ...(namespace !== undefined ? { namespace } : {}),
            ...(flags.selector !== undefined ? { labelSelector: flags.selector } : {}),
          })
        ).items;
  if (metrics.length === 0) {
    const pods = await client.list(RESOURCES.pods, namespace !== undefined ? { namespace } : {});
    if (pods.items.length > 0) throw new CliError('metrics not available yet');
    ctx.err(namespace !== undefined ? `No resources found in ${namespace} namespace.` : 'No resources found');
    return;
  }
  const ns = flags.allNamespaces === true;
  const header = [
    ...(ns ? ['NAMESPACE'] : []),
    ...(flags.containers ? ['POD'] : []),
    'NAME',
    'CPU(cores)',
    'MEMORY(bytes)',
  ];
  const rows: string[][] = [];
  const pods = sortRows(
    metrics.map((m) => {
      const usage = m.containers.map((c) => usageOf(c.usage));
      return {
        name: m.metadata.name ?? '',
        namespace: m.metadata.namespace ?? '',
        containers: m.containers.map((c, i) => ({ name: c.name, usage: usage[i] ?? { cpu: 0, bytes: 0 } })),
        usage: usage.reduce((s, u) => ({ cpu: s.cpu + u.cpu, bytes: s.bytes + u.bytes }), { cpu: 0, bytes: 0 }),
      };
    }),
    flags.sortBy,
  );
  for (const p of pods) {
    const lead = ns ? [p.namespace] : [];
    if (flags.containers)
      for (const c of p.containers)
        rows.push([...lead, p.name, c.name, cpuText(c.usage.cpu), memoryText(c.usage.bytes)]);
    else rows.push([...lead, p.name, cpuText(p.usage.cpu), memoryText(p.usage.bytes)]);
  }
  ctx.out(formatColumns([header, ...rows]));
}
