// Why a pod is not running (or that it is): walks the chain a Kubernetes user walks by hand —
// deletion and phase, scheduling, the node, the objects the pod needs (ConfigMaps, Secrets,
// claims), then each container's state (image pulls, crash loops, OOM kills, probes) — and
// names the first cause, with the facts that support it and the command to run next.
// The reasons are the ones Kubernetes (and Coxswain's scheduler and node agent) write:
// FailedScheduling / PodScheduled=False, waiting reasons ErrImagePull, ImagePullBackOff,
// CrashLoopBackOff, CreateContainerConfigError, terminated reason OOMKilled, events
// Unhealthy ("Readiness probe failed: …"), FailedMount, Killing, BackOff.

import type { Node, Pod } from '../../api/index.js';
import type { Diagnosis, Finding, Lookup, PodEvidence } from './types.js';
import { containerProblem } from './pod-containers.js';
import {
  cmd,
  conditionOf,
  containersOf,
  describePod,
  eventsCommand,
  eventsFor,
  plural,
  restartedRecently,
  restartsOf,
  statusesOf,
  type Context,
} from './pod-context.js';
import { age, newestFirst, oneLine, timeOf } from './text.js';

/** At most this many references of each kind are looked up for one pod. */
export const MAX_REFERENCES = 32;

export interface PodReferences {
  configMaps: string[];
  secrets: string[];
  claims: string[];
}

function add(list: string[], name: string | undefined): void {
  if (name !== undefined && name !== '' && !list.includes(name) && list.length < MAX_REFERENCES) list.push(name);
}

/** The non-optional ConfigMaps and Secrets and the claims a pod needs before it can start. */
export function podReferences(pod: Pod): PodReferences {
  const refs: PodReferences = { configMaps: [], secrets: [], claims: [] };
  const volumes = Array.isArray(pod.spec?.volumes) ? pod.spec.volumes : [];
  for (const v of volumes) {
    if (typeof v !== 'object' || v === null) continue;
    if (v.configMap && v.configMap.optional !== true) add(refs.configMaps, v.configMap.name);
    if (v.secret && v.secret.optional !== true) add(refs.secrets, v.secret.secretName);
    if (v.persistentVolumeClaim) add(refs.claims, v.persistentVolumeClaim.claimName);
    for (const s of Array.isArray(v.projected?.sources) ? v.projected.sources : []) {
      if (s.configMap && s.configMap.optional !== true) add(refs.configMaps, s.configMap.name);
      if (s.secret && s.secret.optional !== true) add(refs.secrets, s.secret.name);
    }
  }
  for (const c of containersOf(pod)) {
    for (const e of Array.isArray(c.envFrom) ? c.envFrom : []) {
      if (e.configMapRef && e.configMapRef.optional !== true) add(refs.configMaps, e.configMapRef.name);
      if (e.secretRef && e.secretRef.optional !== true) add(refs.secrets, e.secretRef.name);
    }
    for (const e of Array.isArray(c.env) ? c.env : []) {
      const from = e.valueFrom;
      if (from?.configMapKeyRef && from.configMapKeyRef.optional !== true)
        add(refs.configMaps, from.configMapKeyRef.name);
      if (from?.secretKeyRef && from.secretKeyRef.optional !== true) add(refs.secrets, from.secretKeyRef.name);
    }
  }
  return refs;
}

/** `0/3 nodes are available: 2 Insufficient memory, 1 node(s) had untolerated taint {…}` (no preemption tail). */
export function summariseScheduling(message: string): string {
  const text = oneLine(message, 600);
  const cut = text.indexOf(' preemption:');
  return (cut >= 0 ? text.slice(0, cut) : text).replace(/\.$/, '');
}

// ---- deletion, phase, scheduling -----------------------------------------------------------

function terminating(ctx: Context): Finding | undefined {
  const since = timeOf(ctx.pod.metadata.deletionTimestamp);
  if (since === undefined) return undefined;
  const finalizers = Array.isArray(ctx.pod.metadata.finalizers) ? ctx.pod.metadata.finalizers : [];
  return {
    reason: 'Terminating',
    summary: `the pod is being deleted (for ${age(ctx.now - since)})`,
    details: finalizers.length > 0 ? [`finalizers: ${oneLine(finalizers.join(', '))}`] : [],
    next: describePod(ctx),
  };
}

function failedPhase(ctx: Context): Finding | undefined {
  const status = ctx.pod.status;
  if (status?.phase !== 'Failed') return undefined;
  const reason = oneLine(status.reason) || 'Failed';
  const message = oneLine(status.message);
  const exits = statusesOf(ctx.pod)
    .filter((s) => s.status.state?.terminated !== undefined && s.status.state.terminated.exitCode !== 0)
    .map((s) => `container ${s.status.name} exited with code ${oneLine(s.status.state?.terminated?.exitCode)}`);
  return {
    reason,
    summary: message || exits[0] || 'the pod failed',
    details: exits.slice(message ? 0 : 1),
    next: describePod(ctx),
  };
}

function claimProblem(ctx: Context): Finding | undefined {
  for (const [name, claim] of Object.entries(ctx.ev.claims ?? {})) {
    if (claim === 'missing')
      return {
        reason: 'PersistentVolumeClaimNotFound',
        summary: `persistentvolumeclaim "${oneLine(name)}" not found (the pod mounts it)`,
        details: [],
        next: cmd(ctx, 'get pvc'),
      };
    if (claim !== 'unknown' && claim.status?.phase !== 'Bound') {
      const phase = oneLine(claim.status?.phase) || 'Pending';
      const storageClass = oneLine(claim.spec?.storageClassName);
      return {
        reason: 'PersistentVolumeClaimPending',
        summary: `persistentvolumeclaim "${oneLine(name)}" is ${phase}${storageClass ? ` (storageClass ${storageClass})` : ''}: no volume is bound to it`,
        details: [],
        next: cmd(ctx, `describe pvc ${oneLine(name)}`),
      };
    }
  }
  return undefined;
}

function notScheduled(ctx: Context): Finding | undefined {
  if (typeof ctx.pod.spec?.nodeName === 'string' && ctx.pod.spec.nodeName !== '') return undefined;
  const event = eventsFor(ctx, 'FailedScheduling')[0];
  const condition = conditionOf(ctx.pod, 'PodScheduled');
  const message = event?.message ?? (condition?.status === 'False' ? condition.message : undefined);
  const claims = claimProblem(ctx);
  if (claims !== undefined) {
    if (message !== undefined) claims.details.push(`scheduler: ${summariseScheduling(message)}`);
    return claims;
  }
  if (message !== undefined && oneLine(message) !== '') {
    const count = typeof event?.count === 'number' && event.count > 1 ? ` (${event.count} attempts)` : '';
    return {
      reason: 'Unschedulable',
      summary: summariseScheduling(message),
      details: [`the scheduler found no node for the pod${count}`],
      next: /Insufficient|taint|affinity|selector/.test(message) ? 'kubectl describe nodes' : eventsCommand(ctx),
    };
  }
  const scheduler = oneLine(ctx.pod.spec?.schedulerName) || 'default-scheduler';
  return {
    reason: 'Pending',
    summary: `no scheduling attempt is recorded yet (scheduler ${scheduler})`,
    details: scheduler === 'default-scheduler' ? [] : [`is a scheduler named "${scheduler}" running?`],
    next: eventsCommand(ctx),
  };
}

// ---- the node ----------------------------------------------------------------------------

function nodeProblem(ctx: Context): Finding | undefined {
  const nodeName = oneLine(ctx.pod.spec?.nodeName);
  const node = ctx.ev.node;
  if (nodeName === '' || node === undefined) return undefined;
  if (node === 'missing')
    return {
      reason: 'NodeNotFound',
      summary: `the pod is bound to node ${nodeName}, which does not exist`,
      details: [],
      next: 'kubectl get nodes',
    };
  return nodeNotReady(ctx, node);
}

function nodeNotReady(ctx: Context, node: Node): Finding | undefined {
  const conditions = Array.isArray(node.status?.conditions) ? node.status.conditions : [];
  const ready = conditions.find((c) => typeof c === 'object' && c !== null && c.type === 'Ready');
  if (ready?.status === 'True') return undefined;
  const name = oneLine(node.metadata.name);
  const details: string[] = [];
  const heartbeat = timeOf(ready?.lastHeartbeatTime);
  if (heartbeat !== undefined) details.push(`last heartbeat ${age(ctx.now - heartbeat)} ago`);
  const taints = Array.isArray(node.spec?.taints) ? node.spec.taints : [];
  for (const t of taints.slice(0, 5)) details.push(`taint ${oneLine(t.key)}:${oneLine(t.effect)}`);
  const why =
    ready === undefined ? 'no Ready condition reported' : `${oneLine(ready.reason)} — ${oneLine(ready.message)}`;
  const unreachable = ready?.status === 'Unknown' ? ' (unreachable)' : '';
  return {
    reason: 'NodeNotReady',
    summary: `node ${name} is NotReady${unreachable}: ${why}`,
    details,
    next: `kubectl describe node ${name}`,
  };
}

// ---- referenced objects ------------------------------------------------------------------

function missingFromMessages(ctx: Context, kind: 'configmap' | 'secret'): string | undefined {
  const pattern = new RegExp(`${kind} "([^"]{1,253})" not found`);
  const messages = [
    ...statusesOf(ctx.pod).map((s) => s.status.state?.waiting?.message),
    ...eventsFor(ctx, 'FailedMount').map((e) => e.message),
  ];
  for (const m of messages) {
    const match = typeof m === 'string' ? pattern.exec(m.slice(0, 2000)) : null;
    if (match?.[1] !== undefined) return match[1];
  }
  return undefined;
}

function firstMissing(lookups: Record<string, Lookup> | undefined): string | undefined {
  return Object.entries(lookups ?? {}).find(([, l]) => l === 'missing')?.[0];
}

function referenceProblem(ctx: Context): Finding | undefined {
  for (const kind of ['configmap', 'secret'] as const) {
    const name =
      firstMissing(kind === 'configmap' ? ctx.ev.configMaps : ctx.ev.secrets) ?? missingFromMessages(ctx, kind);
    if (name === undefined) continue;
    const waiting = statusesOf(ctx.pod)
      .map((s) => s.status.state?.waiting?.reason)
      .find((r) => r !== undefined && r !== '');
    return {
      reason: kind === 'configmap' ? 'ConfigMapNotFound' : 'SecretNotFound',
      summary: `${kind} "${oneLine(name)}" not found: the pod's containers cannot start without it${waiting ? ` (${oneLine(waiting)})` : ''}`,
      details: [],
      next: cmd(ctx, `get ${kind} ${oneLine(name)}`),
    };
  }
  const claims = claimProblem(ctx);
  if (claims !== undefined) return claims;
  const unbound = eventsFor(ctx, 'FailedMount').find((e) =>
    /PVC is not bound|persistentvolumeclaim/.test(oneLine(e.message)),
  );
  if (unbound !== undefined)
    return {
      reason: 'FailedMount',
      summary: oneLine(unbound.message),
      details: [],
      next: cmd(ctx, 'get pvc'),
    };
  return undefined;
}

function startingProblem(ctx: Context): Finding | undefined {
  const mount = eventsFor(ctx, 'FailedMount')[0];
  if (mount !== undefined)
    return { reason: 'FailedMount', summary: oneLine(mount.message), details: [], next: describePod(ctx) };
  const ready = conditionOf(ctx.pod, 'Ready');
  if (ctx.pod.status?.phase === 'Running' && ready?.status !== 'True')
    return {
      reason: oneLine(ready?.reason) || 'NotReady',
      summary: oneLine(ready?.message) || 'the pod is running but not ready',
      details: [],
      next: describePod(ctx),
    };
  if (ctx.pod.status?.phase !== 'Running')
    return {
      reason: 'ContainerCreating',
      summary: `waiting for the node agent on ${oneLine(ctx.pod.spec?.nodeName)} to start the containers`,
      details: statusesOf(ctx.pod).length === 0 ? ['no container status reported yet'] : [],
      next: eventsCommand(ctx),
    };
  return undefined;
}

// ---- healthy, and the supporting facts --------------------------------------------------

function healthy(ctx: Context): Finding | undefined {
  const phase = ctx.pod.status?.phase;
  if (phase === 'Succeeded') return { reason: 'Completed', summary: 'every container exited with code 0', details: [] };
  if (phase !== 'Running' || conditionOf(ctx.pod, 'Ready')?.status !== 'True') return undefined;
  const statuses = statusesOf(ctx.pod).filter((s) => !s.init);
  if (statuses.some((s) => restartedRecently(ctx, s.status))) return undefined;
  const details: string[] = [];
  for (const { status } of statuses) {
    const restarts = restartsOf(status);
    if (restarts === 0) continue;
    const last = status.lastState?.terminated;
    details.push(
      `container ${oneLine(status.name)} restarted ${plural(restarts, 'time')}${last ? ` (last exit code ${oneLine(last.exitCode)}${last.reason ? `, ${oneLine(last.reason)}` : ''})` : ''}`,
    );
  }
  const node = oneLine(ctx.pod.spec?.nodeName);
  return {
    reason: 'Healthy',
    summary: `${plural(statuses.length, 'container')} running and ready${node ? ` on node ${node}` : ''}`,
    details,
  };
}

function supporting(ctx: Context, first: Finding): Finding[] {
  const out: Finding[] = [];
  if (first.reason !== 'NodeNotReady' && first.reason !== 'Healthy') {
    const node = nodeProblem(ctx);
    if (node !== undefined) out.push(node);
  }
  const warnings = ctx.events.filter((e) => e.type === 'Warning');
  if (warnings.length > 0 && first.reason !== 'Healthy') {
    const reasons = [...new Set(warnings.map((e) => oneLine(e.reason, 60)))].slice(0, 5);
    // The latest warning, unless the first cause already says it.
    const latest = summariseScheduling(oneLine(warnings[0]?.message, 200));
    const said = latest === '' || first.summary.includes(latest) || first.details.some((d) => d.includes(latest));
    out.push({
      reason: 'Events',
      summary: `warning events: ${reasons.join(', ')}${said ? '' : `; latest: ${latest}`}`,
      details: [],
      next: eventsCommand(ctx),
    });
  }
  const owners = (ctx.ev.owners ?? []).slice(0, 4);
  if (owners.length > 0) {
    const top = owners[owners.length - 1];
    out.push({
      reason: 'Owner',
      summary: `controlled by ${owners.map((o) => `${oneLine(o.kind)}/${oneLine(o.name)}`).join(' ← ')}`,
      details: [],
      ...(top !== undefined && top.kind === 'Deployment' ? { next: `coxctl why deployment/${oneLine(top.name)}` } : {}),
    });
  }
  const unreadable = (ctx.ev.unreadable ?? []).slice(0, 10);
  if (unreadable.length > 0)
    out.push({
      reason: 'Unreadable',
      summary: `not allowed or failed to read: ${unreadable.map((u) => oneLine(u, 80)).join('; ')} (the answer may be incomplete)`,
      details: [],
    });
  return out;
}

function verdictOf(pod: Pod, first: Finding): string {
  if (first.reason === 'Healthy') return 'is Running and Ready';
  if (first.reason === 'Completed') return 'has completed';
  if (first.reason === 'Terminating') return 'is terminating';
  if (first.reason === 'Restarting' || first.reason === 'LivenessProbeFailed') return 'is restarting';
  if (pod.status?.phase === 'Failed') return 'has failed';
  if (typeof pod.spec?.nodeName !== 'string' || pod.spec.nodeName === '') return 'is not scheduled';
  const running = statusesOf(pod).filter((s) => !s.init);
  if (pod.status?.phase === 'Running' && running.length > 0 && running.every((s) => s.status.state?.running))
    return 'is not ready';
  return 'is not running';
}

/** The diagnosis of one pod from what the API says about it. */
export function diagnosePod(ev: PodEvidence, now: Date = new Date()): Diagnosis {
  const pod = ev.pod;
  const ctx: Context = {
    ev,
    pod,
    name: oneLine(pod.metadata.name, 253),
    namespace: oneLine(pod.metadata.namespace, 63) || 'default',
    events: newestFirst(Array.isArray(ev.events) ? ev.events : []),
    now: now.getTime(),
  };
  const first: Finding = terminating(ctx) ??
    failedPhase(ctx) ??
    healthy(ctx) ??
    notScheduled(ctx) ??
    nodeProblem(ctx) ??
    referenceProblem(ctx) ??
    containerProblem(ctx) ??
    startingProblem(ctx) ?? {
      reason: oneLine(pod.status?.phase) || 'Unknown',
      summary: `phase ${oneLine(pod.status?.phase) || 'unknown'}; nothing more is reported`,
      details: [],
      next: describePod(ctx),
    };
  return {
    subject: `pod ${ctx.namespace}/${ctx.name}`,
    verdict: verdictOf(pod, first),
    healthy: first.reason === 'Healthy' || first.reason === 'Completed',
    findings: [first, ...supporting(ctx, first)],
  };
}
