// Numbers and words the pages show: ages as kubectl prints them, quantities, pods' requests.

import { parseQuantity } from '../../api/quantity.js';
import type { Pod } from '../../api/types/index.js';

export function age(timestamp: string | undefined, now = Date.now()): string {
  if (timestamp === undefined) return '';
  const s = Math.max(0, Math.floor((now - Date.parse(timestamp)) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 120) return `${m}m`;
  const h = Math.floor(m / 60);
  return h < 48 ? `${h}h` : `${Math.floor(h / 24)}d`;
}

/** A quantity in base units (cores, bytes); 0 when absent or unreadable. */
export function quantity(q: unknown): number {
  if (q === undefined) return 0;
  try {
    return parseQuantity(q);
  } catch {
    return 0;
  }
}

export function bytes(n: number): string {
  const units = ['B', 'Ki', 'Mi', 'Gi', 'Ti'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 10 || i === 0 ? Math.round(v) : v.toFixed(1)}${units[i] ?? ''}`;
}

export function cores(n: number): string {
  return n < 1 ? `${Math.round(n * 1000)}m` : `${Number(n.toFixed(2))}`;
}

/** What a pod asks of its node, as the scheduler counts it: its containers' requests (init containers' max). */
export function podRequests(pod: Pod): { cpu: number; memory: number } {
  const sum = { cpu: 0, memory: 0 };
  for (const c of pod.spec?.containers ?? []) {
    sum.cpu += quantity(c.resources?.requests?.['cpu']);
    sum.memory += quantity(c.resources?.requests?.['memory']);
  }
  for (const c of pod.spec?.initContainers ?? []) {
    sum.cpu = Math.max(sum.cpu, quantity(c.resources?.requests?.['cpu']));
    sum.memory = Math.max(sum.memory, quantity(c.resources?.requests?.['memory']));
  }
  return sum;
}

export function isTerminated(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/** kubectl's STATUS column, simplified: a waiting/terminated reason wins over the phase. */
export function podStatus(pod: Pod): string {
  if (pod.metadata.deletionTimestamp !== undefined) return 'Terminating';
  for (const c of pod.status?.containerStatuses ?? []) {
    const reason = c.state?.waiting?.reason ?? c.state?.terminated?.reason;
    if (reason !== undefined && reason !== 'Completed') return reason;
  }
  return pod.status?.phase ?? 'Pending';
}

export function restarts(pod: Pod): number {
  return (pod.status?.containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0);
}

export function readyCount(pod: Pod): string {
  const statuses = pod.status?.containerStatuses ?? [];
  return `${statuses.filter((c) => c.ready).length}/${pod.spec?.containers.length ?? 0}`;
}
