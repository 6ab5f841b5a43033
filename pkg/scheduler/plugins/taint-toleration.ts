// Taints and tolerations: a NoSchedule or NoExecute taint keeps pods off unless they
// tolerate it; PreferNoSchedule taints lower the node's score.

import { taintsOf, tolerates } from '../../api/node-matching.js';

export { taintsOf, tolerates };
import { SUCCESS, unschedulable, type FilterPlugin, type ScorePlugin } from '../framework.js';

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
