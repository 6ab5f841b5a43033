// Taints and tolerations: a NoSchedule or NoExecute taint keeps pods off unless they
// tolerate it; PreferNoSchedule taints lower the node's score.

import { isObject, type KubeObject } from '../../api/meta.js';
import { SUCCESS, unschedulable, type FilterPlugin, type ScorePlugin } from '../framework.js';

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

export const taintToleration: FilterPlugin & ScorePlugin = {
  name: 'TaintToleration',
  weight: 3,
  filter(pod, n) {
    for (const t of taintsOf(n.node)) {
      if ((t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !tolerates(pod, t)) {
        return unschedulable(`node(s) had untolerated taint {${t.key}: ${t.value ?? ''}}`, true);
      }
    }
    return SUCCESS;
  },
  score(pod, n) {
    const intolerable = taintsOf(n.node).filter((t) => t.effect === 'PreferNoSchedule' && !tolerates(pod, t)).length;
    return Math.max(0, 100 - intolerable * 25);
  },
};
