// The Pod Security admission decisions, as Kubernetes' PodSecurity plugin makes them: pods
// are refused at the namespace's enforce level; pods and workload templates get warnings
// (HTTP Warning texts) at the warn level and audit annotations at the audit level.

import { ApiError } from '../../errors/index.js';
import type { ObjectMeta, Pod, PodSpec, PodTemplateSpec } from '../../api/index.js';
import { isObject } from '../../api/index.js';
import type { PodSecurityConfig } from './config.js';
import { evaluateView, forbiddenDetail } from './evaluate.js';
import { podView } from './pod-view.js';
import {
  LABEL_PREFIX,
  type LabelPolicy,
  type LevelVersion,
  fullyPrivileged,
  labelErrorMessage,
  levelVersionString,
  policyFromLabels,
} from './policy.js';

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

/** What the apiserver knows about the request being admitted. */
export interface AdmissionRequest {
  operation: Operation;
  namespace: string;
  /** The object's name (generated already, for `generateName`). */
  name: string;
  subresource?: string;
  /** The authenticated user, for username exemptions. */
  userName?: string;
}

export interface AdmissionDecision {
  allowed: boolean;
  /** Why not: a 403 Forbidden for policy violations, 422 Invalid for bad namespace labels. */
  error?: ApiError;
  /** HTTP `Warning` header texts for the client. */
  warnings: string[];
  /** Audit annotations, keyed `pod-security.kubernetes.io/<key>`. */
  auditAnnotations: Record<string, string>;
  /** The enforce (refusal) or warn violations, structured; absent when there are none. */
  violations?: PolicyViolation[];
}

/** One check's complaint, with the offending fields as paths in the admitted object. */
export interface PolicyViolation {
  mode: 'enforce' | 'warn';
  /** `baseline:latest` */
  policy: string;
  check: string;
  reason: string;
  detail: string;
  /** `spec.containers[0].securityContext.privileged`, `spec.template.spec.hostNetwork`, … */
  fields: string[];
}

export const ANNOTATION_ENFORCE_POLICY = `${LABEL_PREFIX}enforce-policy`;
export const ANNOTATION_AUDIT_VIOLATIONS = `${LABEL_PREFIX}audit-violations`;
export const ANNOTATION_EXEMPT = `${LABEL_PREFIX}exempt`;
export const ANNOTATION_ERROR = `${LABEL_PREFIX}error`;

/** Pod subresources that never change what runs, so the policy does not look at them. */
const IGNORED_POD_SUBRESOURCES = new Set([
  'exec',
  'attach',
  'binding',
  'eviction',
  'log',
  'portforward',
  'proxy',
  'status',
]);

function allowed(auditAnnotations: Record<string, string> = {}, warnings: string[] = []): AdmissionDecision {
  return { allowed: true, warnings, auditAnnotations };
}

/** Allowed, with warnings for the client and nothing for the audit log. */
export function allowedDecision(warnings: string[] = []): AdmissionDecision {
  return allowed({}, warnings);
}

function exempt(reason: 'namespace' | 'user' | 'runtimeClass'): AdmissionDecision {
  return allowed({ [ANNOTATION_EXEMPT]: reason });
}

/** The namespace and user exemptions of the configuration. */
function requestExemption(config: PodSecurityConfig, request: AdmissionRequest): AdmissionDecision | undefined {
  if (request.namespace !== '' && config.exemptions.namespaces.includes(request.namespace)) return exempt('namespace');
  const user = request.userName ?? '';
  if (user !== '' && config.exemptions.usernames.includes(user)) return exempt('user');
  return undefined;
}

function labelsOf(namespace: { metadata: ObjectMeta }): Record<string, string> | undefined {
  return namespace.metadata.labels;
}

/** Kubernetes' aggregate error text: one error as is, several in brackets. */
export function aggregate(messages: string[]): string {
  return messages.length === 1 ? (messages[0] ?? '') : `[${messages.join(', ')}]`;
}

function forbidden(resource: { resource: string; group: string }, name: string, why: string): ApiError {
  const qualified = resource.group === '' ? resource.resource : `${resource.resource}.${resource.group}`;
  const subject = name === '' ? `${qualified} is` : `${qualified} ${JSON.stringify(name)} is`;
  return new ApiError('Forbidden', `${subject} forbidden: ${why}`, {
    details: { name, group: resource.group, kind: resource.resource },
  });
}

interface Subject {
  metadata?: ObjectMeta;
  spec: PodSpec;
  /** Only pods are refused; templates only warn and audit. */
  enforce: boolean;
  name: string;
  /** Where the pod sits in the admitted object: '' for a pod, `spec.template.` for a Deployment. */
  fieldPrefix: string;
}

function violationsOf(
  result: ReturnType<typeof evaluateView>,
  context: { mode: PolicyViolation['mode']; policy: LevelVersion; fieldPrefix: string },
): PolicyViolation[] {
  return result.violations.map((v) => ({
    mode: context.mode,
    policy: levelVersionString(context.policy),
    check: v.check,
    reason: v.reason,
    detail: v.detail,
    fields: v.fields.map((field) => context.fieldPrefix + field),
  }));
}

function evaluateSubject(config: PodSecurityConfig, labelPolicy: LabelPolicy, subject: Subject): AdmissionDecision {
  const pod = podView(subject.metadata, subject.spec);
  if (pod.runtimeClassName && config.exemptions.runtimeClasses.includes(pod.runtimeClassName)) {
    return exempt('runtimeClass');
  }
  const { policy, errors } = labelPolicy;
  const auditAnnotations: Record<string, string> = {};
  if (errors.length > 0) {
    auditAnnotations[ANNOTATION_ERROR] = `Failed to parse policy: ${aggregate(errors.map(labelErrorMessage))}`;
  }
  const cache = new Map<string, ReturnType<typeof evaluateView>>();
  const evaluate = (lv: LevelVersion): ReturnType<typeof evaluateView> => {
    const key = levelVersionString(lv);
    const cached = cache.get(key) ?? evaluateView(lv.level, pod);
    cache.set(key, cached);
    return cached;
  };
  // The audit level is evaluated whatever enforce decides.
  const withAudit = (annotations: Record<string, string>): Record<string, string> => {
    const audit = evaluate(policy.audit);
    if (!audit.allowed) annotations[ANNOTATION_AUDIT_VIOLATIONS] = wouldViolate(policy.audit, forbiddenDetail(audit));
    return annotations;
  };
  if (subject.enforce) {
    auditAnnotations[ANNOTATION_ENFORCE_POLICY] = levelVersionString(policy.enforce);
    const result = evaluate(policy.enforce);
    if (!result.allowed) {
      const why = `violates PodSecurity ${JSON.stringify(levelVersionString(policy.enforce))}: ${forbiddenDetail(result)}`;
      const error = forbidden({ resource: 'pods', group: '' }, subject.name, why);
      const violations = violationsOf(result, { mode: 'enforce', policy: policy.enforce, fieldPrefix: '' });
      return { allowed: false, error, warnings: [], auditAnnotations: withAudit(auditAnnotations), violations };
    }
  }
  const decision = allowed(withAudit(auditAnnotations), []);
  const warn = evaluate(policy.warn);
  if (!warn.allowed) {
    decision.warnings.push(wouldViolate(policy.warn, forbiddenDetail(warn)));
    decision.violations = violationsOf(warn, { mode: 'warn', policy: policy.warn, fieldPrefix: subject.fieldPrefix });
  }
  return decision;
}

function wouldViolate(lv: LevelVersion, detail: string): string {
  return `would violate PodSecurity ${JSON.stringify(levelVersionString(lv))}: ${detail}`;
}

/**
 * Whether a pod update can change what the policy sees. Kubernetes only lets images and
 * ephemeral containers change in a running pod's checked fields, so it looks at those alone.
 */
export function isSignificantPodUpdate(pod: Pod, oldPod: Pod): boolean {
  const next = podView(pod.metadata, pod.spec ?? { containers: [] });
  const prev = podView(oldPod.metadata, oldPod.spec ?? { containers: [] });
  const ofKind = (view: typeof next, kind: string): typeof next.containers =>
    view.containers.filter((c) => c.path.startsWith(`spec.${kind}[`));
  for (const kind of ['containers', 'initContainers']) {
    const now = ofKind(next, kind);
    const before = ofKind(prev, kind);
    if (now.length !== before.length) return true;
    if (now.some((c, index) => c.image !== before[index]?.image)) return true;
  }
  const previousEphemeral = ofKind(prev, 'ephemeralContainers');
  return ofKind(next, 'ephemeralContainers').some((c) => {
    const old = previousEphemeral.find((o) => o.name === c.name);
    return old === undefined || old.image !== c.image;
  });
}

export interface PodAdmission {
  config: PodSecurityConfig;
  request: AdmissionRequest;
  /** The pod's namespace; undefined when it could not be read (a 500, as in Kubernetes). */
  namespace: { metadata: ObjectMeta } | undefined;
  pod: Pod;
  /** The stored pod, on UPDATE. */
  oldPod?: Pod;
}

/** The decision for a pod CREATE or UPDATE (including the `ephemeralcontainers` subresource). */
export function admitPod(input: PodAdmission): AdmissionDecision {
  const { config, request, namespace, pod, oldPod } = input;
  if (request.operation !== 'CREATE' && request.operation !== 'UPDATE') return allowed();
  if (IGNORED_POD_SUBRESOURCES.has(request.subresource ?? '')) return allowed();
  const exemption = requestExemption(config, request);
  if (exemption !== undefined) return exemption;
  if (namespace === undefined) {
    const error = new ApiError(
      'InternalError',
      `Internal error occurred: failed to lookup namespace ${JSON.stringify(request.namespace)}`,
    );
    return { allowed: false, error, warnings: [], auditAnnotations: { [ANNOTATION_ERROR]: error.message } };
  }
  const labelPolicy = policyFromLabels(labelsOf(namespace), config.defaults);
  if (labelPolicy.errors.length === 0 && fullyPrivileged(labelPolicy.policy)) {
    return allowed({ [ANNOTATION_ENFORCE_POLICY]: 'privileged:latest' });
  }
  if (request.operation === 'UPDATE' && oldPod !== undefined && !isSignificantPodUpdate(pod, oldPod)) {
    return allowed();
  }
  const spec = pod.spec ?? { containers: [] };
  const subject = { metadata: pod.metadata, spec, enforce: true, name: request.name, fieldPrefix: '' };
  return evaluateSubject(config, labelPolicy, subject);
}

/** Resources that carry a pod template, and where the template sits in each. */
const TEMPLATE_PATHS: Record<string, readonly string[]> = {
  'apps/deployments': ['spec', 'template'],
  'apps/replicasets': ['spec', 'template'],
  'apps/statefulsets': ['spec', 'template'],
  'apps/daemonsets': ['spec', 'template'],
  'batch/jobs': ['spec', 'template'],
  'batch/cronjobs': ['spec', 'jobTemplate', 'spec', 'template'],
  '/replicationcontrollers': ['spec', 'template'],
  '/podtemplates': ['template'],
};

export interface ResourceRef {
  group: string;
  resource: string;
}

/** Whether objects of this resource carry a pod template the policy looks at. */
export function hasPodTemplate(ref: ResourceRef): boolean {
  return Object.hasOwn(TEMPLATE_PATHS, `${ref.group}/${ref.resource}`);
}

function isPodTemplate(value: unknown): value is PodTemplateSpec & { spec: PodSpec } {
  return isObject(value) && isObject(value.spec) && Array.isArray(value.spec.containers);
}

/** The pod template inside a workload object, or undefined when it has none. */
export function podTemplateOf(ref: ResourceRef, object: unknown): (PodTemplateSpec & { spec: PodSpec }) | undefined {
  const path = TEMPLATE_PATHS[`${ref.group}/${ref.resource}`] ?? [];
  let node: unknown = object;
  for (const key of path) node = isObject(node) ? node[key] : undefined;
  return path.length > 0 && isPodTemplate(node) ? node : undefined;
}

export interface WorkloadAdmission {
  config: PodSecurityConfig;
  request: AdmissionRequest;
  resource: ResourceRef;
  /** The workload's namespace; undefined when it could not be read (allowed, with an audit note). */
  namespace: { metadata: ObjectMeta } | undefined;
  object: unknown;
}

/** The decision for a workload CREATE or UPDATE: never refused, warned and audited. */
export function admitWorkload(input: WorkloadAdmission): AdmissionDecision {
  const { config, request, namespace, resource, object } = input;
  if (request.operation !== 'CREATE' && request.operation !== 'UPDATE') return allowed();
  if ((request.subresource ?? '') !== '' || !hasPodTemplate(resource)) return allowed();
  const exemption = requestExemption(config, request);
  if (exemption !== undefined) return exemption;
  if (namespace === undefined) {
    return allowed({ [ANNOTATION_ERROR]: `failed to lookup namespace ${JSON.stringify(request.namespace)}` });
  }
  const labelPolicy = policyFromLabels(labelsOf(namespace), config.defaults);
  const { policy } = labelPolicy;
  if (labelPolicy.errors.length === 0 && policy.warn.level === 'privileged' && policy.audit.level === 'privileged') {
    return allowed();
  }
  const template = podTemplateOf(resource, object);
  if (template === undefined) return allowed();
  const fieldPrefix = `${(TEMPLATE_PATHS[`${resource.group}/${resource.resource}`] ?? []).join('.')}.`;
  const subject = { metadata: template.metadata, spec: template.spec, enforce: false, name: request.name, fieldPrefix };
  return evaluateSubject(config, labelPolicy, subject);
}
