// nodeSelector and node affinity: required terms filter, preferred terms score.

import { matchesTerm } from '../../api/node-matching.js';
import type { NodeAffinity } from '../../api/types/index.js';
import { SUCCESS, unschedulable, type FilterPlugin, type PodView, type ScorePlugin } from '../framework.js';

function nodeAffinity(pod: PodView): NodeAffinity {
  return pod.spec?.affinity?.nodeAffinity ?? {};
}

export const nodeAffinityPlugin: FilterPlugin & ScorePlugin = {
  name: 'NodeAffinity',
  weight: 2,
  filter(pod, n) {
    const selector = pod.spec?.nodeSelector;
    if (selector !== undefined && !Object.entries(selector).every(([k, v]) => n.labels[k] === v)) {
      return unschedulable("node(s) didn't match Pod's node affinity/selector", true);
    }
    const required = nodeAffinity(pod).requiredDuringSchedulingIgnoredDuringExecution;
    if (required !== undefined) {
      const terms = required.nodeSelectorTerms;
      if (!terms.some((t) => matchesTerm(t, n)))
        return unschedulable("node(s) didn't match Pod's node affinity/selector", true);
    }
    return SUCCESS;
  },
  score(pod, n) {
    const preferred = nodeAffinity(pod).preferredDuringSchedulingIgnoredDuringExecution ?? [];
    if (preferred.length === 0) return 0;
    let total = 0;
    let sum = 0;
    for (const p of preferred) {
      const weight = p.weight;
      total += weight;
      if (matchesTerm(p.preference, n)) sum += weight;
    }
    return total === 0 ? 0 : Math.round((sum / total) * 100);
  },
};
