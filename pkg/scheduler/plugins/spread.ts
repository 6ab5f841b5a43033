// Spreading: pods of the same owner (ReplicaSet, StatefulSet…) prefer nodes that have
// fewer of them.

import { controllerOf } from '../../api/meta.js';
import type { ScorePlugin } from '../framework.js';

/** Per pod: how many of its owner's pods each feasible node has, and the most on one node. */
interface SpreadState {
  counts: Map<string, number>;
  max: number;
}

function isSpreadState(state: unknown): state is SpreadState {
  return typeof state === 'object' && state !== null && 'counts' in state && state.counts instanceof Map;
}

export const selectorSpread: ScorePlugin = {
  name: 'SelectorSpread',
  weight: 2,
  prepare(pod, feasible): SpreadState | undefined {
    const owner = controllerOf(pod);
    if (owner === undefined) return undefined;
    const counts = new Map<string, number>();
    let max = 0;
    for (const x of feasible) {
      let c = 0;
      for (const p of x.pods) if (controllerOf(p)?.uid === owner.uid) c++;
      counts.set(x.name, c);
      max = Math.max(max, c);
    }
    return { counts, max };
  },
  score(_pod, n, { state }) {
    if (!isSpreadState(state)) return 0;
    const { counts, max } = state;
    if (max === 0) return 100;
    return Math.round(((max - (counts.get(n.name) ?? 0)) / max) * 100);
  },
};
