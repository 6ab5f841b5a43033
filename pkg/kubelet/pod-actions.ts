// What one sync of a pod must do, decided from what runs (kuberuntime's computePodActions):
// create the sandbox, kill the pod, which containers to start (init containers first, one at a
// time, in order) and which to kill and why, and which are held by the restart back-off.
// Pure: the runtime's view, the probe verdicts and the back-off come in as snapshots.

import { createHash } from 'node:crypto';
import type { Container, Pod } from '../api/types/index.js';
import type { ProbeKind } from './probes.js';
import type { ContainerState } from './runtime/index.js';

/** A pod's sandboxes and each container's attempts, newest first. */
export interface PodObservation {
  sandboxes: ContainerState[];
  containers: Map<string, ContainerState[]>;
}

/** What the plan reads besides the runtime: probe verdicts and the crash back-off. */
export interface PlanInputs {
  /** The time the plan is made at (ms). */
  now: number;
  probeResult(name: string, kind: ProbeKind): boolean | undefined;
  /** ms until the container may restart after finishing at finishedAt (0: now). */
  backoffRemaining(name: string, finishedAt: number, now: number): number;
  /** The container's current back-off delay in ms (for the message). */
  backoffDelay(name: string): number;
}

export interface ContainerStart {
  container: Container;
  name: string;
  type: 'init' | 'app';
  latest: ContainerState | undefined;
  /** How long the previous attempt ran, for the back-off (undefined: it never started). */
  ranForMs: number | undefined;
}

export interface ContainerKill {
  id: string;
  name: string;
  /** The Killing event's message. */
  message: string;
}

export interface ContainerBackOff {
  name: string;
  remainingMs: number;
  message: string;
}

export interface PodActions {
  /** The pod has finished: only its sandbox still needs stopping. */
  finished: boolean;
  /** No running sandbox: everything stops and the pod starts over in a new one. */
  killPod: boolean;
  createSandbox: boolean;
  sandboxAttempt: number;
  containersToStart: ContainerStart[];
  containersToKill: ContainerKill[];
  backOff: ContainerBackOff[];
  /** Containers that need nothing (running fine, or done for good): no waiting reason. */
  settled: string[];
  /** Running containers whose probes must run. */
  running: { name: string; container: Container; state: ContainerState }[];
}

export function containersOf(pod: Pod, field: 'containers' | 'initContainers'): Container[] {
  return pod.spec?.[field] ?? [];
}

/** Changes to these fields of a container mean it must be recreated. */
export function containerHash(c: Container): string {
  const relevant = {
    image: c.image,
    command: c.command,
    args: c.args,
    env: c.env,
    envFrom: c.envFrom,
    workingDir: c.workingDir,
    volumeMounts: c.volumeMounts,
    resources: c.resources,
    ports: c.ports,
  };
  return createHash('sha256').update(JSON.stringify(relevant)).digest('hex').slice(0, 12);
}

export function ms(t: string | undefined): number {
  return t ? Date.parse(t) : 0;
}

/** A pod's containers as the runtime lists them, grouped: attempts newest first. */
export function observationOf(all: ContainerState[]): PodObservation {
  const sorted = [...all].sort((a, b) => b.identity.attempt - a.identity.attempt);
  const containers = new Map<string, ContainerState[]>();
  for (const c of sorted.filter((x) => x.identity.type !== 'sandbox')) {
    const list = containers.get(c.identity.containerName) ?? [];
    list.push(c);
    containers.set(c.identity.containerName, list);
  }
  return { sandboxes: sorted.filter((c) => c.identity.type === 'sandbox'), containers };
}

function emptyActions(): PodActions {
  return {
    finished: false,
    killPod: false,
    createSandbox: false,
    sandboxAttempt: 0,
    containersToStart: [],
    containersToKill: [],
    backOff: [],
    settled: [],
    running: [],
  };
}

/** A container that may start now: which one, init or app, and its newest attempt. */
type StartCandidate = Pick<ContainerStart, 'container' | 'type' | 'latest'>;

/** Start a container's next attempt, unless the crash back-off holds it. */
function startOrBackOff(pod: Pod, candidate: StartCandidate, plan: { inputs: PlanInputs; out: PodActions }): void {
  const { container, type, latest } = candidate;
  const { inputs, out } = plan;
  const name = container.name;
  if (latest?.startedAt === undefined) {
    out.containersToStart.push({ container, name, type, latest, ranForMs: undefined });
    return;
  }
  const now = inputs.now;
  const finished = ms(latest.finishedAt) || now;
  const remaining = inputs.backoffRemaining(name, finished, now);
  if (remaining > 0) {
    const delay = Math.round(inputs.backoffDelay(name) / 1000);
    const message = `back-off ${delay}s restarting failed container=${name} pod=${pod.metadata.name ?? ''}_${pod.metadata.namespace ?? ''}(${pod.metadata.uid ?? ''})`;
    out.backOff.push({ name, remainingMs: remaining, message });
    return;
  }
  out.containersToStart.push({ container, name, type, latest, ranForMs: finished - ms(latest.startedAt) });
}

export function computePodActions(pod: Pod, observed: PodObservation, inputs: PlanInputs): PodActions {
  const out = emptyActions();
  const phase = pod.status?.phase;
  const anyRunning = [...observed.containers.values()].flat().some((c) => c.running);
  if ((phase === 'Succeeded' || phase === 'Failed') && !anyRunning) {
    out.finished = true;
    return out;
  }
  // The sandbox holds the network namespace; if it died, everything starts over in a new one.
  if (!observed.sandboxes.some((s) => s.running)) {
    out.killPod = true;
    out.createSandbox = true;
    out.sandboxAttempt = (observed.sandboxes[0]?.identity.attempt ?? -1) + 1;
    return out;
  }
  const policy = pod.spec?.restartPolicy || 'Always';

  // Init containers, one at a time, in order.
  for (const c of containersOf(pod, 'initContainers')) {
    const latest = observed.containers.get(c.name)?.[0];
    if (latest !== undefined && !latest.running && latest.startedAt !== undefined && latest.exitCode === 0) continue;
    if (latest?.running !== true && !(latest?.startedAt !== undefined && policy === 'Never'))
      startOrBackOff(pod, { container: c, type: 'init', latest }, { inputs, out });
    return out; // running, failed for good, or just started: the app containers wait
  }

  for (const c of containersOf(pod, 'containers')) {
    const name = c.name;
    const latest = observed.containers.get(name)?.[0];
    if (latest?.running === true) {
      const why =
        latest.identity.specHash !== containerHash(c)
          ? 'definition changed'
          : inputs.probeResult(name, 'liveness') === false
            ? 'failed liveness probe'
            : inputs.probeResult(name, 'startup') === false
              ? 'failed startup probe'
              : undefined;
      if (why !== undefined) {
        out.containersToKill.push({ id: latest.id, name, message: `Container ${name} ${why}, will be restarted` });
        continue;
      }
      out.settled.push(name);
      out.running.push({ name, container: c, state: latest });
      continue;
    }
    if (
      latest?.startedAt !== undefined &&
      !(policy === 'Always' || (policy === 'OnFailure' && latest.exitCode !== 0))
    ) {
      out.settled.push(name);
      continue;
    }
    startOrBackOff(pod, { container: c, type: 'app', latest }, { inputs, out });
  }
  return out;
}
