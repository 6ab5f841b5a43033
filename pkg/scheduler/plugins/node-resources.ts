// Resource fit (requests of the pods on a node plus this one within allocatable), and the
// two resource scores: least allocated and balanced allocation.

import {
  SUCCESS,
  unschedulable,
  type FilterPlugin,
  type NodeInfo,
  type PodView,
  type ScorePlugin,
} from '../framework.js';
import { podRequests } from '../resources.js';

export const nodeResourcesFit: FilterPlugin = {
  name: 'NodeResourcesFit',
  filter(pod, n) {
    const want = podRequests(pod);
    const pods = n.requested.pods + 1 > n.allocatable.pods;
    const cpu = want.milliCpu > 0 && n.requested.milliCpu + want.milliCpu > n.allocatable.milliCpu;
    const memory = want.memory > 0 && n.requested.memory + want.memory > n.allocatable.memory;
    // Checked on every node for every pod: the list of reasons is built only for a misfit.
    if (!pods && !cpu && !memory) return SUCCESS;
    const reasons: string[] = [];
    if (pods) reasons.push('Too many pods');
    if (cpu) reasons.push('Insufficient cpu');
    if (memory) reasons.push('Insufficient memory');
    return unschedulable(reasons.join(', '));
  },
};

function fractions(pod: PodView, n: NodeInfo): { cpu: number; mem: number } {
  const want = podRequests(pod);
  // Pods without requests count as a small default, as kube-scheduler does for scoring.
  const cpu = n.requested.milliCpu + (want.milliCpu || 100);
  const mem = n.requested.memory + (want.memory || 200 * 1024 * 1024);
  return {
    cpu: n.allocatable.milliCpu > 0 ? Math.min(1, cpu / n.allocatable.milliCpu) : 1,
    mem: n.allocatable.memory > 0 ? Math.min(1, mem / n.allocatable.memory) : 1,
  };
}

export const leastAllocated: ScorePlugin = {
  name: 'NodeResourcesLeastAllocated',
  weight: 1,
  score(pod, n) {
    const f = fractions(pod, n);
    return Math.round(((1 - f.cpu) * 100 + (1 - f.mem) * 100) / 2);
  },
};

export const balancedAllocation: ScorePlugin = {
  name: 'NodeResourcesBalancedAllocation',
  weight: 1,
  score(pod, n) {
    const f = fractions(pod, n);
    return Math.round((1 - Math.abs(f.cpu - f.mem)) * 100);
  },
};
