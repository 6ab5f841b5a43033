// RBAC's decision: a request is allowed when some rule of some role bound to the user allows
// it, and denied otherwise (there are no deny rules). ClusterRoleBindings grant everywhere; a
// RoleBinding grants its Role, or a ClusterRole, inside its own namespace only. A
// ServiceAccount subject is the user `system:serviceaccount:<namespace>:<name>`; a subject
// without a namespace means the binding's own.

import type {
  ClusterRole,
  ClusterRoleBinding,
  PolicyRule,
  Role,
  RoleBinding,
  RoleRef,
  Subject,
} from '../../api/index.js';
import type { UserInfo } from '../authn.js';
import { ruleAllows, type Attributes } from './rules.js';

/** The parts of a role the authorizer reads. */
export type RoleRules = Readonly<Pick<Role | ClusterRole, 'metadata' | 'rules'>>;
/** The parts of a binding the authorizer reads. */
export type BindingRef = Readonly<Pick<RoleBinding | ClusterRoleBinding, 'metadata' | 'roleRef' | 'subjects'>>;

/** Where the authorizer reads roles and bindings (an informer-fed cache in the apiserver). */
export interface PolicySource {
  role(namespace: string, name: string): RoleRules | undefined;
  clusterRole(name: string): RoleRules | undefined;
  roleBindings(namespace: string): readonly BindingRef[];
  clusterRoleBindings(): readonly BindingRef[];
}

export interface Decision {
  allowed: boolean;
  /** For allowed requests: which binding of which role; kube-apiserver logs the same. */
  reason: string;
}

const SA_PREFIX = 'system:serviceaccount:';

/** The user name of a ServiceAccount: `system:serviceaccount:<namespace>:<name>`. */
export function serviceAccountUser(namespace: string, name: string): string {
  return `${SA_PREFIX}${namespace}:${name}`;
}

function subjectMatches(s: Subject, user: UserInfo, bindingNamespace: string): boolean {
  switch (s.kind) {
    case 'User':
      return s.name === user.name;
    case 'Group':
      return user.groups.includes(s.name);
    case 'ServiceAccount': {
      const ns = s.namespace !== undefined && s.namespace !== '' ? s.namespace : bindingNamespace;
      return ns !== '' && user.name === serviceAccountUser(ns, s.name);
    }
  }
}

function describeSubject(s: Subject): string {
  return s.kind === 'ServiceAccount' ? `ServiceAccount "${s.namespace ?? ''}/${s.name}"` : `${s.kind} "${s.name}"`;
}

/** One binding that applies to the user, with the rules of the role it refers to. */
interface Grant {
  binding: string;
  role: string;
  subject: Subject;
  rules: readonly PolicyRule[];
}

function roleRules(source: PolicySource, ref: RoleRef, namespace: string): readonly PolicyRule[] {
  const role = ref.kind === 'ClusterRole' ? source.clusterRole(ref.name) : source.role(namespace, ref.name);
  return role?.rules ?? [];
}

/**
 * Every grant that applies to the user for a request in `namespace` (undefined: cluster scope
 * or all namespaces, where only ClusterRoleBindings count), cluster-wide grants first.
 */
function* grantsFor(source: PolicySource, user: UserInfo, namespace: string | undefined): Generator<Grant> {
  for (const b of source.clusterRoleBindings()) {
    if (b.roleRef.kind !== 'ClusterRole') continue;
    const subject = (b.subjects ?? []).find((s) => subjectMatches(s, user, ''));
    if (subject === undefined) continue;
    const rules = roleRules(source, b.roleRef, '');
    yield {
      binding: `ClusterRoleBinding "${b.metadata.name ?? ''}"`,
      role: `ClusterRole "${b.roleRef.name}"`,
      subject,
      rules,
    };
  }
  if (namespace === undefined || namespace === '') return;
  for (const b of source.roleBindings(namespace)) {
    const subject = (b.subjects ?? []).find((s) => subjectMatches(s, user, namespace));
    if (subject === undefined) continue;
    const rules = roleRules(source, b.roleRef, namespace);
    const role = `${b.roleRef.kind} "${b.roleRef.name}"`;
    yield { binding: `RoleBinding "${b.metadata.name ?? ''}/${namespace}"`, role, subject, rules };
  }
}

/** RBAC's answer for one request. */
export function authorizeRbac(source: PolicySource, user: UserInfo, a: Attributes): Decision {
  const namespace = a.kind === 'resource' ? a.namespace : undefined;
  for (const g of grantsFor(source, user, namespace)) {
    if (g.rules.some((rule) => ruleAllows(rule, a))) {
      return { allowed: true, reason: `RBAC: allowed by ${g.binding} of ${g.role} to ${describeSubject(g.subject)}` };
    }
  }
  return { allowed: false, reason: '' };
}

/**
 * Every rule that applies to the user in a namespace (cluster-wide ones included): what
 * SelfSubjectRulesReview lists and what escalation checks compare a new role against.
 */
export function rulesFor(source: PolicySource, user: UserInfo, namespace: string | undefined): PolicyRule[] {
  const rules: PolicyRule[] = [];
  for (const g of grantsFor(source, user, namespace)) rules.push(...g.rules);
  return rules;
}
