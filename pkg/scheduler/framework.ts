// The scheduling framework, after kube-scheduler's: filter plugins say whether a pod can
// go on a node (with a reason when not), score plugins rank the nodes that can take it
// (0..100 each). Plugins are small objects; the scheduler runs them over a snapshot.

import type { Node, Pod } from '../api/types/index.js';

/** Pods and nodes come from the informer caches: read-only. */
export type PodView = Readonly<Pod>;
export type NodeView = Readonly<Node>;

export type Code = 'Success' | 'Unschedulable' | 'UnschedulableAndUnresolvable' | 'Error';

export interface Status {
  code: Code;
  /** Why not, in kube-scheduler's words (`Insufficient memory`, `node(s) didn't match Pod's node affinity/selector`). */
  reason?: string;
}

export const SUCCESS: Status = { code: 'Success' };

export function unschedulable(reason: string, unresolvable = false): Status {
  return { code: unresolvable ? 'UnschedulableAndUnresolvable' : 'Unschedulable', reason };
}

export interface Resources {
  milliCpu: number;
  memory: number;
  pods: number;
}

/** What the scheduler knows of one node: the node and the pods on it (bound or assumed). */
export interface NodeInfo {
  node: NodeView;
  name: string;
  labels: Record<string, string>;
  pods: PodView[];
  requested: Resources;
  allocatable: Resources;
  usedHostPorts: Set<string>;
  /** Pods on the node with required pod anti-affinity (checked against every newcomer). */
  antiAffinityPods: PodView[];
}

/** What one scheduling cycle shares with every plugin call: all nodes considered, and the plugin's prepared state. */
export interface CycleState {
  all: readonly NodeInfo[];
  state?: unknown;
}

export interface FilterPlugin {
  name: string;
  /** Computes, once per pod, what filtering every node needs. */
  prepare?(pod: PodView, all: readonly NodeInfo[]): unknown;
  filter(pod: PodView, node: NodeInfo, cycle: CycleState): Status;
}

export interface ScorePlugin {
  name: string;
  weight: number;
  /** Computes, once per pod, what scoring every node needs (e.g. counts across nodes). */
  prepare?(pod: PodView, feasible: readonly NodeInfo[]): unknown;
  score(pod: PodView, node: NodeInfo, cycle: CycleState): number;
}
