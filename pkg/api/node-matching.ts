// Matching pods to nodes, shared by the scheduler and the DaemonSet controller: node
// selector terms (matchExpressions / matchFields) and taints versus tolerations.

import { isObject, type KubeObject } from './meta.js';

type Obj = Record<string, unknown>;

export interface NodeRef {
  name: string;
  labels: Record<string, string>;
}

function matchExpression(e: Obj, node: NodeRef, field: boolean): boolean {
  const key = String(e['key'] ?? '');
  const has = field ? key === 'metadata.name' : Object.prototype.hasOwnProperty.call(node.labels, key);
  const value = field ? node.name : node.labels[key];
  const values = (Array.isArray(e['values']) ? e['values'] : []).map(String);
  switch (e['operator']) {
    case 'In':
      return has && values.includes(value ?? '');
    case 'NotIn':
      return !has || !values.includes(value ?? '');
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'Gt':
      return has && Number(value) > Number(values[0]);
    case 'Lt':
      return has && Number(value) < Number(values[0]);
    default:
      return false;
  }
}

/** One nodeSelectorTerm: all its expressions and fields must hold (an empty term matches nothing). */
export function matchesTerm(term: Obj, node: NodeRef): boolean {
  const exprs = (Array.isArray(term['matchExpressions']) ? term['matchExpressions'] : []).filter(isObject);
  const fields = (Array.isArray(term['matchFields']) ? term['matchFields'] : []).filter(isObject);
  if (exprs.length === 0 && fields.length === 0) return false;
  return exprs.every((e) => matchExpression(e, node, false)) && fields.every((e) => matchExpression(e, node, true));
}

export interface Taint {
  key: string;
  value?: string;
  effect: string;
}

export function taintsOf(node: KubeObject): Taint[] {
  const taints = ((node['spec'] ?? {}) as { taints?: unknown[] }).taints ?? [];
  return taints.filter(isObject).map((t) => ({ key: String(t['key'] ?? ''), value: typeof t['value'] === 'string' ? t['value'] : '', effect: String(t['effect'] ?? '') }));
}

export function tolerates(pod: KubeObject, taint: Taint): boolean {
  const tolerations = ((pod['spec'] ?? {}) as { tolerations?: unknown[] }).tolerations ?? [];
  return tolerations.filter(isObject).some((t) => {
    const effect = t['effect'];
    if (effect !== undefined && effect !== '' && effect !== taint.effect) return false;
    const key = t['key'];
    if (t['operator'] === 'Exists') return key === undefined || key === '' || key === taint.key;
    return key === taint.key && (t['value'] ?? '') === (taint.value ?? '');
  });
}
