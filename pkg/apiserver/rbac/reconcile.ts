// Keeps the default policy in place at every apiserver start, as kube-apiserver's
// rbac/bootstrap-roles post-start hook does: missing defaults are created; defaults annotated
// `rbac.authorization.kubernetes.io/autoupdate: "true"` get back permissions, labels, aggregation
// selectors and subjects they lost (never losing what an admin added); an admin who sets the
// annotation to "false" owns the object and it is left alone.

import type { ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, Subject } from '../../api/index.js';
import {
  AUTOUPDATE_ANNOTATION,
  defaultClusterRoleBindings,
  defaultClusterRoles,
  defaultNamespacedPolicy,
  type DefaultPolicyOptions,
} from './bootstrap-policy.js';
import { uncoveredRules } from './escalation.js';

type RoleLike = ClusterRole | Role;
type BindingLike = ClusterRoleBinding | RoleBinding;

/** The reads and writes the reconciler needs; the apiserver backs them with its own store. */
export interface PolicyWriter {
  getClusterRole(name: string): Promise<ClusterRole | undefined>;
  getClusterRoleBinding(name: string): Promise<ClusterRoleBinding | undefined>;
  getRole(namespace: string, name: string): Promise<Role | undefined>;
  getRoleBinding(namespace: string, name: string): Promise<RoleBinding | undefined>;
  create(obj: RoleLike | BindingLike): Promise<void>;
  update(obj: RoleLike | BindingLike): Promise<void>;
}

export interface ReconcileReport {
  created: string[];
  updated: string[];
}

const ownedByAdmin = (o: RoleLike | BindingLike): boolean =>
  o.metadata.annotations?.[AUTOUPDATE_ANNOTATION] === 'false';

function missingLabels(have: Record<string, string> | undefined, want: Record<string, string> | undefined): boolean {
  return Object.entries(want ?? {}).some(([k, v]) => have?.[k] !== v);
}

/** The role with every default permission back, or undefined if it already has them all. */
function repairedRole<T extends RoleLike>(current: T, wanted: T): T | undefined {
  const aggregated = wanted.aggregationRule !== undefined;
  // An aggregated role's rules are the aggregation controller's to write.
  const lost: PolicyRule[] = aggregated ? [] : uncoveredRules(current.rules ?? [], wanted.rules ?? []);
  const lostSelectors = aggregated && current.aggregationRule === undefined;
  const lostLabels = missingLabels(current.metadata.labels, wanted.metadata.labels);
  if (lost.length === 0 && !lostSelectors && !lostLabels) return undefined;
  return {
    ...current,
    metadata: { ...current.metadata, labels: { ...current.metadata.labels, ...wanted.metadata.labels } },
    ...(lost.length > 0 ? { rules: [...(current.rules ?? []), ...(wanted.rules ?? [])] } : {}),
    ...(lostSelectors ? { aggregationRule: wanted.aggregationRule } : {}),
  };
}

const sameSubject = (a: Subject, b: Subject): boolean =>
  a.kind === b.kind && a.name === b.name && (a.namespace ?? '') === (b.namespace ?? '');

function repairedBinding<T extends BindingLike>(current: T, wanted: T): T | undefined {
  const have = current.subjects ?? [];
  const lost = (wanted.subjects ?? []).filter((w) => !have.some((h) => sameSubject(h, w)));
  if (lost.length === 0) return undefined;
  return { ...current, subjects: [...have, ...lost] };
}

/** Creates the object if missing, or repairs it unless an admin owns it; records what it did. */
async function ensure<T extends RoleLike | BindingLike>(
  w: PolicyWriter,
  found: { label: string; wanted: T; current: T | undefined; repair: (current: T, wanted: T) => T | undefined },
  report: ReconcileReport,
): Promise<void> {
  const { label, wanted, current, repair } = found;
  if (current === undefined) {
    await w.create(wanted);
    report.created.push(label);
    return;
  }
  const next = ownedByAdmin(current) ? undefined : repair(current, wanted);
  if (next === undefined) return;
  await w.update(next);
  report.updated.push(label);
}

/** Brings the default roles and bindings to what this version ships. */
export async function reconcileDefaultPolicy(
  w: PolicyWriter,
  opts: DefaultPolicyOptions = { serviceAccountTokens: true },
): Promise<ReconcileReport> {
  const report: ReconcileReport = { created: [], updated: [] };
  const nameOf = (o: RoleLike | BindingLike): string => o.metadata.name ?? '';
  const nsOf = (o: RoleLike | BindingLike): string => o.metadata.namespace ?? '';
  for (const wanted of defaultClusterRoles()) {
    const current = await w.getClusterRole(nameOf(wanted));
    await ensure(w, { label: `clusterrole/${nameOf(wanted)}`, wanted, current, repair: repairedRole }, report);
  }
  for (const wanted of defaultClusterRoleBindings(opts)) {
    const current = await w.getClusterRoleBinding(nameOf(wanted));
    await ensure(
      w,
      { label: `clusterrolebinding/${nameOf(wanted)}`, wanted, current, repair: repairedBinding },
      report,
    );
  }
  const namespaced = defaultNamespacedPolicy();
  for (const wanted of namespaced.roles) {
    const current = await w.getRole(nsOf(wanted), nameOf(wanted));
    await ensure(w, { label: `role/${nsOf(wanted)}/${nameOf(wanted)}`, wanted, current, repair: repairedRole }, report);
  }
  for (const wanted of namespaced.roleBindings) {
    const current = await w.getRoleBinding(nsOf(wanted), nameOf(wanted));
    const label = `rolebinding/${nsOf(wanted)}/${nameOf(wanted)}`;
    await ensure(w, { label, wanted, current, repair: repairedBinding }, report);
  }
  return report;
}
