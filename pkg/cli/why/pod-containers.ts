// The container rules of `coxctl why`: image pulls, exits and crash loops, OOM kills,
// liveness / readiness / startup probes, other waiting reasons — in the words the node agent
// writes (waiting and terminated reasons, Unhealthy "<Kind> probe failed: <output>" events).

import type { ContainerStatus } from '../../api/index.js';
import {
  cmd,
  describePod,
  eventsFor,
  plural,
  probeEvents,
  restartedRecently,
  restartsOf,
  specOf,
  statusesOf,
  type Context,
} from './pod-context.js';
import { age, logTail, oneLine, timeOf } from './text.js';
import type { Finding } from './types.js';

const IMAGE_REASONS = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'ErrImageNeverPull',
  'RegistryUnavailable',
]);

/** Waiting reasons that are progress, not a problem. */
const BENIGN_WAITING = new Set(['ContainerCreating', 'PodInitializing', '']);

function imageProblem(ctx: Context, s: ContainerStatus): Finding | undefined {
  const waiting = s.state?.waiting;
  if (waiting === undefined || !IMAGE_REASONS.has(oneLine(waiting.reason))) return undefined;
  const image = oneLine(specOf(ctx, s.name)?.image ?? s.image) || '?';
  // The runtime's own words: the pull error (waiting message on ErrImagePull, else the Failed event).
  const pullError = [
    waiting.reason === 'ErrImagePull' ? waiting.message : undefined,
    ...eventsFor(ctx, 'Failed')
      .map((e) => e.message)
      .filter((m) => !oneLine(m).startsWith('Error: ')),
    waiting.message,
  ].find((m) => oneLine(m) !== '');
  return {
    reason: oneLine(waiting.reason),
    summary: `container ${oneLine(s.name)} cannot pull image "${image}"${pullError ? `: ${oneLine(pullError)}` : ''}`,
    details: [],
    next: describePod(ctx),
  };
}

function memoryLimit(ctx: Context, name: string): string | undefined {
  const limit = specOf(ctx, name)?.resources?.limits?.['memory'];
  return limit === undefined ? undefined : oneLine(limit);
}

function logDetails(ctx: Context, name: string): string[] {
  const tail = logTail(ctx.ev.previousLogs?.[name]);
  if (tail.length === 0) return [];
  return [`last lines of the previous log:`, ...tail.map((l) => `  | ${l}`)];
}

/** A container that exited, is waiting to restart, or was killed by its liveness probe. */
function exitProblem(ctx: Context, s: ContainerStatus, init: boolean): Finding | undefined {
  const waiting = oneLine(s.state?.waiting?.reason);
  const current = s.state?.terminated;
  const last = s.lastState?.terminated;
  const restarts = restartsOf(s);
  const name = oneLine(s.name);
  const crashLoop = waiting === 'CrashLoopBackOff';
  const liveness = probeEvents(ctx, 'Liveness');
  if (liveness.length > 0 && (restarts > 0 || crashLoop) && specOf(ctx, s.name)?.livenessProbe !== undefined) {
    return {
      reason: 'LivenessProbeFailed',
      summary: `container ${name} failed its liveness probe and was restarted (${plural(restarts, 'restart')}): ${oneLine(liveness[0]?.message)}`,
      details: crashLoop ? ['the container is in CrashLoopBackOff (waiting to restart)'] : [],
      next: describePod(ctx),
    };
  }
  const ended = current ?? (crashLoop || restarts > 0 ? last : undefined);
  if (ended === undefined) return crashLoop ? crashLoopWithout(ctx, s) : undefined;
  const code = typeof ended.exitCode === 'number' ? ended.exitCode : undefined;
  const oom = ended.reason === 'OOMKilled';
  if (!oom && current !== undefined && code === 0 && !crashLoop) return undefined;
  const restartsText = plural(restarts, 'restart');
  if (!oom && current === undefined && !crashLoop) {
    if (!restartedRecently(ctx, s)) return undefined;
    const finished = timeOf(ended.finishedAt) ?? ctx.now;
    return {
      reason: 'Restarting',
      summary: `container ${name} runs again after exiting with code ${code ?? '?'} ${age(ctx.now - finished)} ago (${restartsText})`,
      details: logDetails(ctx, s.name),
      next: cmd(ctx, `logs ${ctx.name} -c ${name} --previous`),
    };
  }
  if (oom) {
    const limit = memoryLimit(ctx, s.name);
    return {
      reason: 'OOMKilled',
      summary: `container ${name} was killed for running out of memory (${limit ? `limit ${limit}` : 'no memory limit: the node ran out'}, ${restartsText})`,
      details: [
        ...(limit ? [`it needs more than ${limit}: raise resources.limits.memory, or make it use less`] : []),
        ...(crashLoop ? ['the container is in CrashLoopBackOff (waiting to restart)'] : []),
        ...logDetails(ctx, s.name),
      ],
      next: describePod(ctx),
    };
  }
  const how = `exited with code ${code ?? '?'}${ended.reason ? ` (${oneLine(ended.reason)})` : ''}`;
  const message = oneLine(ended.message);
  return {
    reason: crashLoop ? 'CrashLoopBackOff' : init ? 'InitContainerFailed' : oneLine(ended.reason) || 'Error',
    summary: `${init ? 'init container' : 'container'} ${name} ${how} (${restartsText})`,
    details: [...(message ? [`termination message: ${message}`] : []), ...logDetails(ctx, s.name)],
    next: cmd(ctx, `logs ${ctx.name} -c ${name}${current === undefined ? ' --previous' : ''}`),
  };
}

function crashLoopWithout(ctx: Context, s: ContainerStatus): Finding {
  const name = oneLine(s.name);
  return {
    reason: 'CrashLoopBackOff',
    summary: `container ${name} keeps exiting (${plural(restartsOf(s), 'restart')}): ${oneLine(s.state?.waiting?.message) || 'back-off restarting'}`,
    details: logDetails(ctx, s.name),
    next: cmd(ctx, `logs ${ctx.name} -c ${name} --previous`),
  };
}

function notReadyProblem(ctx: Context, s: ContainerStatus): Finding | undefined {
  if (s.state?.running === undefined) return undefined;
  const name = oneLine(s.name);
  const spec = specOf(ctx, s.name);
  if (s.started === false && spec?.startupProbe !== undefined) {
    const failing = probeEvents(ctx, 'Startup')[0];
    return {
      reason: 'StartupProbeFailed',
      summary: `container ${name} has not passed its startup probe${failing ? `: ${oneLine(failing.message)}` : ''}`,
      details: [],
      next: describePod(ctx),
    };
  }
  if (s.ready === true) return undefined;
  const failing = probeEvents(ctx, 'Readiness')[0];
  if (failing !== undefined || spec?.readinessProbe !== undefined)
    return {
      reason: 'ReadinessProbeFailed',
      summary: `container ${name} is running but not ready: ${failing ? oneLine(failing.message) : 'its readiness probe has not passed yet'}`,
      details:
        typeof failing?.count === 'number' && failing.count > 1 ? [`the probe failed ${failing.count} times`] : [],
      next: describePod(ctx),
    };
  return undefined;
}

function waitingProblem(ctx: Context, s: ContainerStatus): Finding | undefined {
  const reason = oneLine(s.state?.waiting?.reason);
  if (BENIGN_WAITING.has(reason)) return undefined;
  return {
    reason,
    summary: `container ${oneLine(s.name)} is waiting: ${oneLine(s.state?.waiting?.message) || reason}`,
    details: [],
    next: describePod(ctx),
  };
}

export function containerProblem(ctx: Context): Finding | undefined {
  for (const { status, init } of statusesOf(ctx.pod)) {
    // A finished init container is done, not a problem.
    if (init && status.state?.terminated?.exitCode === 0) continue;
    const found =
      imageProblem(ctx, status) ??
      exitProblem(ctx, status, init) ??
      notReadyProblem(ctx, status) ??
      waitingProblem(ctx, status);
    if (found !== undefined) return found;
  }
  return undefined;
}
