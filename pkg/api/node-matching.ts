// Matching pods to nodes, shared by the scheduler and the DaemonSet controller: node
// selector terms (matchExpressions / matchFields) and taints versus tolerations.

import type { Node, NodeSelectorRequirement, NodeSelectorTerm, Pod } from './types/index.js';

export interface NodeRef {
  name: string;
  labels: Record<string, string>;
}

function matchExpression(e: NodeSelectorRequirement, node: NodeRef, field: boolean): boolean {
  const key = e.key;
  const has = field ? key === 'metadata.name' : Object.prototype.hasOwnProperty.call(node.labels, key);
  const value = field ? node.name : node.labels[key];
  const values = e.values ?? [];
  switch (e.operator) {
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
export function matchesTerm(term: NodeSelectorTerm, node: NodeRef): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  return exprs.every((e) => matchExpression(e, node, false)) && fields.every((e) => matchExpression(e, node, true));
}

export interface Taint {
  key: string;
  value?: string;
  effect: string;
}

export function taintsOf(node: Readonly<Node>): Taint[] {
  return (node.spec?.taints ?? []).map((t) => ({ key: t.key, value: t.value ?? '', effect: t.effect }));
}

export function tolerates(pod: Readonly<Pod>, taint: Taint): boolean {
  return (pod.spec?.tolerations ?? []).some((t) => {
    const effect: string | undefined = t.effect;
    if (effect !== undefined && effect !== '' && effect !== taint.effect) return false;
    const key = t.key;
    if (t.operator === 'Exists') return key === undefined || key === '' || key === taint.key;
    return key === taint.key && (t.value ?? '') === (taint.value ?? '');
  });
}
