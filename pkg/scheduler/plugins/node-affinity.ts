// nodeSelector and node affinity: required terms filter, preferred terms score.

import { isObject, type KubeObject } from '../../api/meta.js';
import { matchesTerm } from '../../api/node-matching.js';
import { SUCCESS, unschedulable, type FilterPlugin, type ScorePlugin } from '../framework.js';

type Obj = Record<string, unknown>;

function nodeAffinity(pod: KubeObject): Obj {
  const affinity = ((pod['spec'] ?? {}) as Obj)['affinity'];
  return isObject(affinity) && isObject(affinity['nodeAffinity']) ? affinity['nodeAffinity'] : {};
}

export const nodeAffinityPlugin: FilterPlugin & ScorePlugin = {
  name: 'NodeAffinity',
  weight: 2,
  filter(pod, n) {
    const selector = ((pod['spec'] ?? {}) as Obj)['nodeSelector'];
    if (isObject(selector) && !Object.entries(selector).every(([k, v]) => n.labels[k] === v)) {
      return unschedulable("node(s) didn't match Pod's node affinity/selector", true);
    }
    const required = nodeAffinity(pod)['requiredDuringSchedulingIgnoredDuringExecution'];
    if (isObject(required)) {
      const terms = (Array.isArray(required['nodeSelectorTerms']) ? required['nodeSelectorTerms'] : []).filter(isObject);
      if (!terms.some((t) => matchesTerm(t, n))) return unschedulable("node(s) didn't match Pod's node affinity/selector", true);
    }
    return SUCCESS;
  },
  score(pod, n) {
    const preferred = (Array.isArray(nodeAffinity(pod)['preferredDuringSchedulingIgnoredDuringExecution']) ? (nodeAffinity(pod)['preferredDuringSchedulingIgnoredDuringExecution'] as unknown[]) : []).filter(isObject);
    if (preferred.length === 0) return 0;
    let total = 0;
    let sum = 0;
    for (const p of preferred) {
      const weight = typeof p['weight'] === 'number' ? p['weight'] : 1;
      total += weight;
      if (isObject(p['preference']) && matchesTerm(p['preference'], n)) sum += weight;
    }
    return total === 0 ? 0 : Math.round((sum / total) * 100);
  },
};
