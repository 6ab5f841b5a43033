// Keeps the default policy in place at every apiserver start, as kube-apiserver's
// rbac/bootstrap-roles post-start hook does: missing defaults are created; defaults annotated
// `rbac.authorization.kubernetes.io/autoupdate: "true"` get back permissions, labels, aggregation
// selectors and subjects they lost (never losing what an admin added); an admin who sets the
// annotation to "false" owns the object and it is left alone.

import type { ClusterRole, ClusterRoleBinding, PolicyRule, Subject } from '../../api/index.js';
import { AUTOUPDATE_ANNOTATION, defaultClusterRoleBindings, defaultClusterRoles } from './bootstrap-policy.js';
import { uncoveredRules } from './escalation.js';

/** The writes the reconciler needs; the apiserver gives it its own store with the system identity. */
export interface PolicyWriter {
  getClusterRole(name: string): Promise<ClusterRole | undefined>;
  getClusterRoleBinding(name: string): Promise<ClusterRoleBinding | undefined>;
  create(obj: ClusterRole | ClusterRoleBinding): Promise<void>;
  update(obj: ClusterRole | ClusterRoleBinding): Promise<void>;
}

export interface ReconcileReport {
  created: string[];
  updated: string[];
}

const ownedByAdmin = (o: ClusterRole | ClusterRoleBinding): boolean =>
  o.metadata.annotations?.[AUTOUPDATE_ANNOTATION] === 'false';

function missingLabels(have: Record<string, string> | undefined, want: Record<string, string> | undefined): boolean {
  return Object.entries(want ?? {}).some(([k, v]) => have?.[k] !== v);
}

/** The role with every default permission back, or undefined if it already has them all. */
function repairedRole(current: ClusterRole, wanted: ClusterRole): ClusterRole | undefined {
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

function repairedBinding(current: ClusterRoleBinding, wanted: ClusterRoleBinding): ClusterRoleBinding | undefined {
  const have = current.subjects ?? [];
  const lost = (wanted.subjects ?? []).filter((w) => !have.some((h) => sameSubject(h, w)));
  if (lost.length === 0) return undefined;
  return { ...current, subjects: [...have, ...lost] };
}

/** Brings the default ClusterRoles and ClusterRoleBindings to what this version ships. */
export async function reconcileDefaultPolicy(w: PolicyWriter): Promise<ReconcileReport> {
  const report: ReconcileReport = { created: [], updated: [] };
  for (const wanted of defaultClusterRoles()) {
    const name = wanted.metadata.name ?? '';
    const current = await w.getClusterRole(name);
    if (current === undefined) {
      await w.create(wanted);
      report.created.push(`clusterrole/${name}`);
      continue;
    }
    const next = ownedByAdmin(current) ? undefined : repairedRole(current, wanted);
    if (next === undefined) continue;
    await w.update(next);
    report.updated.push(`clusterrole/${name}`);
  }
  for (const wanted of defaultClusterRoleBindings()) {
    const name = wanted.metadata.name ?? '';
    const current = await w.getClusterRoleBinding(name);
    if (current === undefined) {
      await w.create(wanted);
      report.created.push(`clusterrolebinding/${name}`);
      continue;
    }
    const next = ownedByAdmin(current) ? undefined : repairedBinding(current, wanted);
    if (next === undefined) continue;
    await w.update(next);
    report.updated.push(`clusterrolebinding/${name}`);
  }
  return report;
}
