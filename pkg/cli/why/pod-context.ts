// What every pod rule of `coxctl why` reads: the pod, its events (newest first), the clock,
// and small accessors that tolerate a status or spec with fields missing.

import type { Container, ContainerStatus, Event, Pod } from '../../api/index.js';
import { kubectlCommand, oneLine, timeOf } from './text.js';
import type { PodEvidence } from './types.js';

export function containersOf(pod: Pod): Container[] {
  const spec = pod.spec;
  const init = Array.isArray(spec?.initContainers) ? spec.initContainers : [];
  const main = Array.isArray(spec?.containers) ? spec.containers : [];
  return [...init, ...main].filter((c) => typeof c === 'object' && c !== null);
}

export interface Context {
  ev: PodEvidence;
  pod: Pod;
  name: string;
  namespace: string;
  events: Event[];
  now: number;
}

export function cmd(ctx: Context, args: string): string {
  return kubectlCommand(ctx.namespace, args);
}

export function eventsFor(ctx: Context, reason: string): Event[] {
  return ctx.events.filter((e) => e.reason === reason);
}

export function describePod(ctx: Context): string {
  return cmd(ctx, `describe pod ${ctx.name}`);
}

export function eventsCommand(ctx: Context): string {
  return cmd(ctx, `get events --field-selector involvedObject.name=${ctx.name}`);
}

export function conditionOf(
  pod: Pod,
  type: string,
): { status?: string; reason?: string; message?: string } | undefined {
  const conditions = Array.isArray(pod.status?.conditions) ? pod.status.conditions : [];
  return conditions.find((c) => typeof c === 'object' && c !== null && c.type === type);
}

export function statusesOf(pod: Pod): { status: ContainerStatus; init: boolean }[] {
  const take = (list: unknown, init: boolean): { status: ContainerStatus; init: boolean }[] =>
    Array.isArray(list)
      ? list
          .filter((s): s is ContainerStatus => typeof s === 'object' && s !== null && typeof s.name === 'string')
          .map((status) => ({ status, init }))
      : [];
  return [...take(pod.status?.initContainerStatuses, true), ...take(pod.status?.containerStatuses, false)];
}

export function restartsOf(s: ContainerStatus): number {
  return typeof s.restartCount === 'number' && Number.isFinite(s.restartCount) ? s.restartCount : 0;
}

/** How long a restart counts as news: a pod that restarted this recently is not called healthy. */
export const RECENT_MS = 5 * 60_000;

/** The container exited (non-zero, OOM or killed) within RECENT_MS and runs again or waits to. */
export function restartedRecently(ctx: Context, s: ContainerStatus): boolean {
  const last = s.lastState?.terminated;
  const finished = timeOf(last?.finishedAt);
  return (
    restartsOf(s) > 0 &&
    last !== undefined &&
    (last.exitCode !== 0 || last.reason === 'OOMKilled') &&
    finished !== undefined &&
    ctx.now - finished < RECENT_MS
  );
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function specOf(ctx: Context, name: string): Container | undefined {
  return containersOf(ctx.pod).find((c) => c.name === name);
}

// ---- containers --------------------------------------------------------------------------

export function probeEvents(ctx: Context, kind: 'Readiness' | 'Liveness' | 'Startup'): Event[] {
  return eventsFor(ctx, 'Unhealthy').filter((e) => oneLine(e.message).startsWith(`${kind} probe`));
}
