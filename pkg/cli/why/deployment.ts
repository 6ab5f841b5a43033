// Why a Deployment's rollout is stuck (or that it is complete): paused, pods the ReplicaSet
// cannot create (FailedCreate, e.g. "exceeded quota: …"), or the newest ReplicaSet's pods
// failing (the first one is diagnosed as a pod) while maxUnavailable keeps the old ones
// serving; the Progressing condition (ProgressDeadlineExceeded) and budgets as supporting facts.

import type { Deployment, Event, ReplicaSet } from '../../api/index.js';
import { selectorMatches } from '../../api/index.js';
import { diagnosePod } from './pod.js';
import { kubectlCommand, newestFirst, oneLine } from './text.js';
import type { DeploymentEvidence, Diagnosis, Finding } from './types.js';

const REVISION = 'deployment.kubernetes.io/revision';

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

function revisionOf(rs: ReplicaSet): number {
  const n = Number(rs.metadata.annotations?.[REVISION]);
  return Number.isFinite(n) ? n : 0;
}

/** The ReplicaSet of the newest revision (the one the rollout moves to). */
export function newestReplicaSet(replicaSets: readonly ReplicaSet[]): ReplicaSet | undefined {
  return [...replicaSets]
    .filter((rs) => typeof rs === 'object' && rs !== null && typeof rs.metadata === 'object')
    .sort((a, b) => revisionOf(b) - revisionOf(a))[0];
}

function conditionOf(d: Deployment, type: string): { status?: string; reason?: string; message?: string } | undefined {
  const conditions = Array.isArray(d.status?.conditions) ? d.status.conditions : [];
  return conditions.find((c) => typeof c === 'object' && c !== null && c.type === type);
}

function complete(d: Deployment): boolean {
  const want = d.spec?.replicas ?? 1;
  const s = d.status;
  return (
    count(s?.observedGeneration) >= count(d.metadata.generation) &&
    count(s?.updatedReplicas) === want &&
    count(s?.replicas) === want &&
    count(s?.availableReplicas) === want
  );
}

function strategyText(d: Deployment): string {
  const strategy = d.spec?.strategy;
  if (strategy?.type === 'Recreate') return 'strategy Recreate';
  const ru = strategy?.rollingUpdate;
  return `maxUnavailable ${oneLine(ru?.maxUnavailable ?? '25%')}, maxSurge ${oneLine(ru?.maxSurge ?? '25%')}`;
}

/** Supporting facts: the progress deadline, old ReplicaSets still serving, budgets, refused reads. */
function supportingFacts(ev: DeploymentEvidence, newest: ReplicaSet | undefined): Finding[] {
  const d = ev.deployment;
  const cmd = (args: string): string => kubectlCommand(oneLine(d.metadata.namespace, 63) || 'default', args);
  const facts: Finding[] = [];
  const progressing = conditionOf(d, 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded')
    facts.push({ reason: 'ProgressDeadlineExceeded', summary: oneLine(progressing.message), details: [] });
  const old = (ev.replicaSets ?? []).filter((rs) => rs !== newest && count(rs.status?.replicas) > 0);
  if (old.length > 0)
    facts.push({
      reason: 'OldReplicaSets',
      summary: `old ReplicaSet${old.length === 1 ? '' : 's'} ${old
        .slice(0, 3)
        .map((rs) => `${oneLine(rs.metadata.name)} (${count(rs.status?.readyReplicas)} ready)`)
        .join(', ')} still serve${old.length === 1 ? 's' : ''} (${strategyText(d)})`,
      details: [],
    });
  const template = d.spec?.template?.metadata?.labels;
  for (const pdb of (ev.disruptionBudgets ?? []).slice(0, 50)) {
    if (!selectorMatches(pdb.spec?.selector, template)) continue;
    if (count(pdb.status?.disruptionsAllowed) > 0) continue;
    facts.push({
      reason: 'DisruptionBudget',
      summary: `PodDisruptionBudget ${oneLine(pdb.metadata.name)} allows 0 disruptions (${count(pdb.status?.currentHealthy)} healthy, ${count(pdb.status?.expectedPods)} expected): evictions and drains of these pods wait`,
      details: [],
      next: cmd(`get pdb ${oneLine(pdb.metadata.name)}`),
    });
  }
  if (ev.unreadable !== undefined && ev.unreadable.length > 0)
    facts.push({
      reason: 'Unreadable',
      summary: `not allowed or failed to read: ${ev.unreadable
        .slice(0, 10)
        .map((u) => oneLine(u, 80))
        .join('; ')} (the answer may be incomplete)`,
      details: [],
    });
  return facts;
}

/** A ReplicaSet that cannot create its pods (FailedCreate), with the quota it hit. */
function failedCreateFinding(
  ev: DeploymentEvidence,
  failedCreate: Event,
  at: { counts: string; newName?: string },
): Finding {
  const namespace = oneLine(ev.deployment.metadata.namespace, 63) || 'default';
  const cmd = (args: string): string => kubectlCommand(namespace, args);
  const { counts, newName } = at;
  const message = oneLine(failedCreate.message, 500);
  const quota = /exceeded quota: ([^,\s]+)/.exec(message)?.[1];
  const details = (ev.quotas ?? [])
    .filter((q) => quota === undefined || q.metadata.name === quota)
    .slice(0, 3)
    .map(
      (q) =>
        `quota ${oneLine(q.metadata.name)}: ${Object.entries(q.status?.hard ?? {})
          .slice(0, 6)
          .map(([k, v]) => `${oneLine(k, 60)} ${oneLine(q.status?.used?.[k] ?? '0', 20)}/${oneLine(v, 20)}`)
          .join(', ')}`,
    );
  return {
    reason: quota !== undefined ? 'ExceededQuota' : 'FailedCreate',
    summary: `ReplicaSet ${oneLine(failedCreate.involvedObject.name)} cannot create pods (${counts}): ${message}`,
    details,
    next: quota !== undefined ? cmd(`describe quota ${quota}`) : cmd(`describe rs ${newName ?? ''}`.trim()),
  };
}

/** The diagnosis of one Deployment from its ReplicaSets, their events and the newest one's pods. */
export function diagnoseDeployment(ev: DeploymentEvidence, now: Date = new Date()): Diagnosis {
  const d = ev.deployment;
  const name = oneLine(d.metadata.name, 253);
  const namespace = oneLine(d.metadata.namespace, 63) || 'default';
  const cmd = (args: string): string => kubectlCommand(namespace, args);
  const want = d.spec?.replicas ?? 1;
  const status = d.status;
  const newest = newestReplicaSet(Array.isArray(ev.replicaSets) ? ev.replicaSets : []);
  const events = newestFirst(Array.isArray(ev.events) ? ev.events : []);
  const counts = `${count(status?.readyReplicas)}/${want} ready, ${count(status?.updatedReplicas)} up to date, ${count(status?.availableReplicas)} available`;
  const facts = supportingFacts(ev, newest);
  const progressing = conditionOf(d, 'Progressing');
  const answer = (verdict: string, first: Finding, healthy = false): Diagnosis => ({
    subject: `deployment ${namespace}/${name}`,
    verdict,
    healthy,
    findings: [first, ...facts],
  });

  if (d.spec?.paused === true)
    return answer('rollout is paused', {
      reason: 'Paused',
      summary: `the Deployment is paused (${counts})`,
      details: [],
      next: cmd(`rollout resume deployment/${name}`),
    });
  if (complete(d))
    return answer(
      'is available',
      {
        reason: 'Healthy',
        summary: `${counts}${newest ? `; ReplicaSet ${oneLine(newest.metadata.name)}` : ''}`,
        details: [],
      },
      true,
    );
  const newName = newest ? oneLine(newest.metadata.name) : undefined;
  // A FailedCreate counts while the newest ReplicaSet still lacks pods (an old one may be stale).
  const short = newest === undefined || count(newest.status?.replicas) < count(newest.spec?.replicas);
  const failedCreate = events.find(
    (e) =>
      short &&
      e.reason === 'FailedCreate' &&
      (newName === undefined || e.involvedObject.name === newest?.metadata.name),
  );
  if (failedCreate !== undefined)
    return answer(
      'rollout is stuck',
      failedCreateFinding(ev, failedCreate, { counts, ...(newName !== undefined ? { newName } : {}) }),
    );
  if (ev.failingPod !== undefined) {
    const pod = diagnosePod(ev.failingPod, now);
    const cause = pod.findings[0];
    const failing = (ev.pods ?? []).filter(
      (p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') !== true,
    );
    return answer('rollout is stuck', {
      reason: cause.reason,
      summary: `${pod.subject.replace(/^pod [^/]*\//, 'pod ')} ${pod.verdict}: ${cause.summary}`,
      details: [
        `new ReplicaSet ${newName ?? '?'}: ${failing.length} of ${(ev.pods ?? []).length} pods not ready; the Deployment has ${counts}`,
        ...cause.details,
      ],
      ...(cause.next !== undefined ? { next: cause.next } : {}),
    });
  }
  const message = progressing?.status === 'False' ? oneLine(progressing.message) : '';
  return answer('is not available', {
    reason: progressing?.reason ? oneLine(progressing.reason) : 'Progressing',
    summary: `${counts}${message ? `: ${message}` : ''}${newName ? `; new ReplicaSet ${newName}` : '; no ReplicaSet yet'}`,
    details: [],
    next: cmd(`rollout status deployment/${name}`),
  });
}
