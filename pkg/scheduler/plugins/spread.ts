// Spreading: pods of the same owner (ReplicaSet, StatefulSet…) prefer nodes that have
// fewer of them.

import { controllerOf } from '../../api/meta.js';
import type { ScorePlugin } from '../framework.js';

export const selectorSpread: ScorePlugin = {
  name: 'SelectorSpread',
  weight: 2,
  score(pod, n, all) {
    const owner = controllerOf(pod);
    if (owner === undefined) return 0;
    const count = (x: typeof n): number => x.pods.filter((p) => controllerOf(p)?.uid === owner.uid).length;
    const max = Math.max(0, ...all.map(count));
    if (max === 0) return 100;
    return Math.round(((max - count(n)) / max) * 100);
  },
};
