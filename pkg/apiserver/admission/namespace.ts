// Namespace writes under Pod Security: labels must parse (422 otherwise), and tightening
// the enforce level warns about the existing pods that would now be refused, the way
// `kubectl label ns x pod-security.kubernetes.io/enforce=restricted` does on Kubernetes.

import { invalid } from '../../errors/index.js';
import type { Namespace, Pod } from '../../api/index.js';
import { controllerOf } from '../../api/index.js';
import { type AdmissionDecision, type AdmissionRequest, allowedDecision } from './admission.js';
import type { PodSecurityConfig } from './config.js';
import { evaluateView, forbiddenReason } from './evaluate.js';
import { podView } from './pod-view.js';
import {
  AUDIT_LABEL,
  AUDIT_VERSION_LABEL,
  ENFORCE_LABEL,
  ENFORCE_VERSION_LABEL,
  type LevelVersion,
  type Policy,
  type PolicyValueError,
  WARN_LABEL,
  WARN_VERSION_LABEL,
  compareLevels,
  equivalentPolicies,
  fullyPrivileged,
  levelVersionString,
  policyFromLabels,
} from './policy.js';

/** Kubernetes checks at most this many existing pods when the enforce level tightens. */
export const MAX_PODS_TO_CHECK = 3000;

export interface NamespaceAdmission {
  config: PodSecurityConfig;
  request: AdmissionRequest;
  namespace: Namespace;
  /** The stored namespace, on UPDATE. */
  oldNamespace?: Namespace;
  /** The namespace's pods, read only when the enforce level tightens. */
  listPods: () => Pod[];
  /** Overrides MAX_PODS_TO_CHECK (tests). */
  maxPodsToCheck?: number;
}

function invalidLabels(name: string, errors: PolicyValueError[]): AdmissionDecision {
  const causes = errors.map((error) => ({
    reason: 'FieldValueInvalid',
    message: `Invalid value: ${JSON.stringify(error.value)}: ${error.message}`,
    field: `metadata.labels[${error.field}]`,
  }));
  return {
    allowed: false,
    error: invalid({ kind: 'Namespace', group: '' }, name, causes),
    warnings: [],
    auditAnnotations: {},
  };
}

function sameErrors(a: PolicyValueError[], b: PolicyValueError[]): boolean {
  return a.length === b.length && a.every((e, i) => e.field === b[i]?.field && e.value === b[i]?.value);
}

/** Labels on an exempt namespace do nothing; Kubernetes says so. */
function exemptNamespaceWarning(input: {
  name: string;
  policy: Policy;
  labels: Record<string, string>;
  defaults: Policy;
}): string {
  const { name, policy, labels, defaults } = input;
  if (fullyPrivileged(policy) || equivalentPolicies(policy, defaults)) return '';
  const parts: string[] = [];
  const modes = [
    ['enforce', ENFORCE_LABEL, ENFORCE_VERSION_LABEL],
    ['audit', AUDIT_LABEL, AUDIT_VERSION_LABEL],
    ['warn', WARN_LABEL, WARN_VERSION_LABEL],
  ] as const;
  for (const [mode, levelLabel, versionLabel] of modes) {
    const labelled = Object.hasOwn(labels, levelLabel) || Object.hasOwn(labels, versionLabel);
    if (policy[mode].level !== 'privileged' && labelled) parts.push(`${mode}=${levelVersionString(policy[mode])}`);
  }
  return `namespace ${JSON.stringify(name)} is exempt from Pod Security, and the policy (${parts.join(', ')}) will be ignored`;
}

/** The decision for a namespace CREATE or UPDATE. */
export function admitNamespace(input: NamespaceAdmission): AdmissionDecision {
  const { config, request, namespace, oldNamespace } = input;
  if ((request.subresource ?? '') !== '') return allowedDecision();
  const name = namespace.metadata.name ?? request.name;
  const labels = namespace.metadata.labels ?? {};
  const next = policyFromLabels(labels, config.defaults);
  const exempt = config.exemptions.namespaces.includes(name);
  const exemptWarning = (): AdmissionDecision => {
    const warning = exemptNamespaceWarning({ name, policy: next.policy, labels, defaults: config.defaults });
    return allowedDecision(warning === '' ? [] : [warning]);
  };
  if (request.operation === 'CREATE') {
    if (next.errors.length > 0) return invalidLabels(name, next.errors);
    return exempt ? exemptWarning() : allowedDecision();
  }
  if (request.operation !== 'UPDATE' || oldNamespace === undefined) return allowedDecision();
  const previous = policyFromLabels(oldNamespace.metadata.labels, config.defaults);
  // Labels that were already invalid the same way may stay (other edits must not be blocked).
  if (next.errors.length > 0 && (previous.errors.length === 0 || !sameErrors(next.errors, previous.errors))) {
    return invalidLabels(name, next.errors);
  }
  const nextEnforce = next.policy.enforce;
  const oldEnforce = previous.policy.enforce;
  if (nextEnforce.level === oldEnforce.level && nextEnforce.version === oldEnforce.version) return allowedDecision();
  if (nextEnforce.level === 'privileged') return allowedDecision();
  if (nextEnforce.version === oldEnforce.version && compareLevels(nextEnforce.level, oldEnforce.level) < 1) {
    return allowedDecision();
  }
  if (exempt) return exemptWarning();
  const pods = input.listPods();
  const maxPods = input.maxPodsToCheck ?? MAX_PODS_TO_CHECK;
  return allowedDecision(existingPodWarnings({ config, namespace: name, enforce: nextEnforce, pods, maxPods }));
}

/** One pod per controller first, so a large ReplicaSet does not crowd out the rest. */
function prioritizePods(pods: Pod[], config: PodSecurityConfig): Pod[] {
  const first: Pod[] = [];
  const duplicates: Pod[] = [];
  const seenControllers = new Set<string>();
  for (const pod of pods) {
    const runtimeClass = podView(pod.metadata, pod.spec ?? { containers: [] }).runtimeClassName;
    if (runtimeClass && config.exemptions.runtimeClasses.includes(runtimeClass)) continue;
    const controller = controllerOf(pod);
    if (controller === undefined) {
      first.push(pod);
    } else if (seenControllers.has(controller.uid)) {
      duplicates.push(pod);
    } else {
      seenControllers.add(controller.uid);
      first.push(pod);
    }
  }
  return [...first, ...duplicates];
}

interface ExistingPods {
  config: PodSecurityConfig;
  namespace: string;
  enforce: LevelVersion;
  pods: Pod[];
  maxPods: number;
}

/**
 * Kubernetes' warnings for existing pods under a new enforce level: a summary line, then
 * one line per distinct set of reasons naming the alphabetically first pod and how many others.
 */
export function existingPodWarnings(input: ExistingPods): string[] {
  const { config, namespace, enforce } = input;
  const prioritized = prioritizePods(input.pods, config);
  const checked = prioritized.slice(0, input.maxPods);
  const byReason = new Map<string, { podName: string; count: number }>();
  for (const pod of checked) {
    const result = evaluateView(enforce.level, podView(pod.metadata, pod.spec ?? { containers: [] }));
    if (result.allowed) continue;
    const reason = forbiddenReason(result);
    const podName = pod.metadata.name ?? '';
    const seen = byReason.get(reason);
    if (seen === undefined) byReason.set(reason, { podName, count: 1 });
    else byReason.set(reason, { podName: podName < seen.podName ? podName : seen.podName, count: seen.count + 1 });
  }
  const warnings: string[] = [];
  if (checked.length < prioritized.length) {
    warnings.push(
      `new PodSecurity enforce level only checked against the first ${checked.length} of ${prioritized.length} existing pods`,
    );
  }
  if (byReason.size > 0) {
    warnings.push(
      `existing pods in namespace ${JSON.stringify(namespace)} violate the new PodSecurity enforce level ${JSON.stringify(levelVersionString(enforce))}`,
    );
  }
  const podLines = [...byReason].map(([reason, { podName, count }]) => {
    if (count === 1) return `${podName}: ${reason}`;
    const others = count - 1;
    return `${podName} (and ${others} other ${others === 1 ? 'pod' : 'pods'}): ${reason}`;
  });
  return [...warnings, ...podLines.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))];
}
