// A pod's status computed from what runs: phase, conditions, container statuses (state,
// last state, readiness, restart count), pod and host IPs. Pure: the inputs are snapshots.

import { isDeepStrictEqual } from 'node:util';
import { rfc3339 } from '../api/meta.js';
import type {
  Container,
  ContainerStateTerminated,
  ContainerStatus,
  Pod,
  PodCondition,
  PodPhase,
  PodStatus,
} from '../api/types/index.js';
import type { ContainerStart } from './pod-actions.js';
import type { ContainerState } from './runtime/index.js';

export interface Waiting {
  reason: string;
  message?: string;
}

export interface PodStatusInput {
  pod: Pod;
  podIP: string | undefined;
  hostIP: string;
  /** Attempts of each container, newest first. */
  containers: Map<string, ContainerState[]>;
  /** Why a container is not running, when the agent knows (CrashLoopBackOff, ErrImagePull…). */
  waiting: Map<string, Waiting>;
  /** Readiness of a running container (no readiness probe: true). */
  ready: (name: string) => boolean;
  /** Whether a running container passed its startup probe (none: true). */
  started: (name: string) => boolean;
  now: Date;
}

/** A condition as the kubelet writes it: lastProbeTime null (never probed), as Kubernetes sends it. */
export interface ReportedPodCondition extends Omit<PodCondition, 'lastProbeTime'> {
  lastProbeTime: null;
}

/** The pod status the kubelet writes. */
export interface ReportedPodStatus extends Omit<PodStatus, 'conditions'> {
  conditions: ReportedPodCondition[];
}

function terminatedOf(c: ContainerState): ContainerStateTerminated {
  const reason = c.oomKilled ? 'OOMKilled' : c.exitCode === 0 ? 'Completed' : 'Error';
  const t: ContainerStateTerminated = { exitCode: c.exitCode, reason, containerID: `docker://${c.id}` };
  if (c.startedAt) t.startedAt = rfc3339(c.startedAt);
  if (c.finishedAt) t.finishedAt = rfc3339(c.finishedAt);
  return t;
}

/** The status the pod last reported for one of its containers (app or init); undefined before the first report. */
export function reportedContainerStatus(pod: Pod, name: string, init: boolean): ContainerStatus | undefined {
  return pod.status?.[init ? 'initContainerStatuses' : 'containerStatuses']?.find((c) => c.name === name);
}

function reportedRestarts(reported: ContainerStatus | undefined): number {
  const n = reported?.restartCount;
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n : 0;
}

/**
 * The attempt a container's next start takes: one past the newest attempt that existed,
 * whether Docker still has it or only the reported status remembers it (a container removed
 * behind the agent's back), so restartCount never goes backwards (as Kubernetes counts on
 * from the last status).
 */
export function nextAttempt(pod: Pod, start: Pick<ContainerStart, 'name' | 'type' | 'latest'>): number {
  const { name, type, latest } = start;
  const fromRuntime = latest === undefined ? 0 : latest.identity.attempt + 1;
  const reported = reportedContainerStatus(pod, name, type === 'init');
  // A reported containerID: attempt restartCount existed, so the next one is past it.
  const fromStatus =
    reported === undefined ? 0 : reportedRestarts(reported) + (reported.containerID !== undefined ? 1 : 0);
  return Math.max(fromRuntime, fromStatus);
}

/** One container of the pod to report: its spec, its attempts (newest first), and its place. */
interface ContainerSlot {
  spec: Container;
  attempts: ContainerState[];
  init: boolean;
  /** The waiting reason when nothing ran yet and the agent knows no better. */
  defaultWaiting: string;
}

function containerStatus(input: PodStatusInput, slot: ContainerSlot): ContainerStatus {
  const { spec, attempts, init, defaultWaiting } = slot;
  const name = spec.name;
  const [latest, previous] = attempts;
  const waiting = input.waiting.get(name);
  const restartCount = Math.max(
    latest?.identity.attempt ?? 0,
    reportedRestarts(reportedContainerStatus(input.pod, name, init)),
  );
  const status: ContainerStatus = {
    name,
    image: spec.image ?? '',
    imageID: '',
    ready: false,
    restartCount,
    started: false,
  };
  if (latest === undefined) {
    status.state = {
      waiting: { reason: waiting?.reason ?? defaultWaiting, ...(waiting?.message ? { message: waiting.message } : {}) },
    };
    status.lastState = {};
    return status;
  }
  status.imageID = latest.imageId;
  status.containerID = `docker://${latest.id}`;
  if (latest.running) {
    status.state = { running: { startedAt: rfc3339(latest.startedAt ?? latest.createdAt) } };
    status.ready = input.ready(name);
    status.started = input.started(name);
    status.lastState = previous && !previous.running ? { terminated: terminatedOf(previous) } : {};
  } else if (waiting !== undefined) {
    // Exited and about to be restarted (or held in back-off): waiting, with the exit as lastState.
    status.state = { waiting: { reason: waiting.reason, ...(waiting.message ? { message: waiting.message } : {}) } };
    status.lastState = latest.startedAt ? { terminated: terminatedOf(latest) } : {};
  } else if (!latest.startedAt) {
    status.state = { waiting: { reason: 'ContainerCreating' } };
    status.lastState = {};
  } else {
    status.state = { terminated: terminatedOf(latest) };
    status.lastState = previous && previous.startedAt ? { terminated: terminatedOf(previous) } : {};
  }
  return status;
}

/**
 * Makes the pod's conditions at `now`: each keeps its previous lastTransitionTime while its
 * status stays the same; a false one carries the reason given.
 */
function conditionsAt(
  previous: PodCondition[],
  now: Date,
): (type: string, ok: boolean, reason?: string) => ReportedPodCondition {
  return (type, ok, reason) => {
    const status = ok ? 'True' : 'False';
    const old = previous.find((c) => c.type === type);
    const lastTransitionTime = (old?.status === status ? old.lastTransitionTime : undefined) ?? rfc3339(now);
    const c: ReportedPodCondition = { type, status, lastProbeTime: null, lastTransitionTime };
    if (!ok && reason !== undefined) c.reason = reason;
    return c;
  };
}

/** Ephemeral containers: reported like the others, never ready, no part of the phase. */
function ephemeralContainerStatuses(input: PodStatusInput): ContainerStatus[] {
  return (input.pod.spec?.ephemeralContainers ?? []).map((c) => ({
    ...containerStatus(input, {
      spec: c,
      attempts: input.containers.get(c.name) ?? [],
      init: false,
      defaultWaiting: 'ContainerCreating',
    }),
    ready: false,
  }));
}

export function computePodStatus(input: PodStatusInput): ReportedPodStatus {
  const spec = input.pod.spec;
  const prev = input.pod.status ?? {};
  const policy = spec?.restartPolicy ?? 'Always';
  const initSpecs = spec?.initContainers ?? [];
  const appSpecs = spec?.containers ?? [];

  let initDone = true;
  let initFailed = false;
  const initStatuses = initSpecs.map((c) => {
    const attempts = input.containers.get(c.name) ?? [];
    const latest = attempts[0];
    const done = latest !== undefined && !latest.running && latest.startedAt !== undefined && latest.exitCode === 0;
    if (!done) {
      if (initDone && latest !== undefined && !latest.running && latest.exitCode !== 0 && policy === 'Never')
        initFailed = true;
      initDone = false;
    }
    const s = containerStatus(input, { spec: c, attempts, init: true, defaultWaiting: 'PodInitializing' });
    s.ready = done;
    return s;
  });
  const appStatuses = appSpecs.map((c) =>
    containerStatus(input, {
      spec: c,
      attempts: input.containers.get(c.name) ?? [],
      init: false,
      defaultWaiting: initDone ? 'ContainerCreating' : 'PodInitializing',
    }),
  );

  let phase: PodPhase;
  if (initFailed) phase = 'Failed';
  else if (!initDone) phase = 'Pending';
  else {
    const states = appStatuses.map((s) => s.state ?? {});
    const terminated = states.flatMap((s) => (s.terminated !== undefined ? [s.terminated] : []));
    const running = states.filter((s) => s.running !== undefined).length;
    const restarting = appStatuses.filter(
      (s) => s.state?.waiting !== undefined && Object.keys(s.lastState ?? {}).length > 0,
    ).length;
    const failed = terminated.some((t) => t.exitCode !== 0);
    const allTerminated = terminated.length === appStatuses.length && appStatuses.length > 0;
    // Terminal phases only where nothing will be restarted.
    if (allTerminated && policy === 'Never') phase = failed ? 'Failed' : 'Succeeded';
    else if (allTerminated && policy === 'OnFailure' && !failed) phase = 'Succeeded';
    else if (running > 0 || restarting > 0 || terminated.length > 0) phase = 'Running';
    else phase = 'Pending';
  }

  const allReady = appStatuses.length > 0 && appStatuses.every((s) => s.ready);
  const notReady = appStatuses.filter((s) => !s.ready).map((s) => s.name);
  const condition = conditionsAt(prev.conditions ?? [], input.now);
  const conditions = [
    condition('PodReadyToStartContainers', input.podIP !== undefined),
    condition('Initialized', initDone, 'ContainersNotInitialized'),
    condition('Ready', allReady, 'ContainersNotReady'),
    condition('ContainersReady', allReady, 'ContainersNotReady'),
    condition('PodScheduled', true),
  ];
  for (const c of conditions) {
    if ((c.type === 'Ready' || c.type === 'ContainersReady') && c.status === 'False')
      c.message = `containers with unready status: [${notReady.join(' ')}]`;
  }
  const status: ReportedPodStatus = {
    phase,
    conditions,
    hostIP: input.hostIP,
    hostIPs: [{ ip: input.hostIP }],
    startTime: prev.startTime ?? rfc3339(input.now),
    containerStatuses: appStatuses,
    qosClass: qosClass(appSpecs),
  };
  if (initStatuses.length > 0) status.initContainerStatuses = initStatuses;
  const ephemeralStatuses = ephemeralContainerStatuses(input);
  if (ephemeralStatuses.length > 0) status.ephemeralContainerStatuses = ephemeralStatuses;
  if (input.podIP !== undefined) {
    status.podIP = input.podIP;
    status.podIPs = [{ ip: input.podIP }];
  }
  return status;
}

/** Guaranteed, Burstable or BestEffort, from requests and limits. */
export function qosClass(containers: Container[]): NonNullable<PodStatus['qosClass']> {
  let requestsOrLimits = false;
  let guaranteed = containers.length > 0;
  for (const c of containers) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    if (Object.keys(req).length > 0 || Object.keys(lim).length > 0) requestsOrLimits = true;
    for (const r of ['cpu', 'memory']) {
      if (lim[r] === undefined || (req[r] !== undefined && String(req[r]) !== String(lim[r]))) guaranteed = false;
    }
  }
  if (!requestsOrLimits) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

/** Whether two statuses differ in anything but probe times. */
export function statusChanged(a: unknown, b: unknown): boolean {
  return !isDeepStrictEqual(a, b);
}
