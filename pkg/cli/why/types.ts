// What `coxctl why` diagnoses from, and what it answers. The command fetches the evidence
// (read-only API calls); the diagnosis is pure over it, so every rule is unit-tested on
// fixtures. A read the identity may not make leaves its field undefined and is listed in
// `unreadable`: the answer degrades, it never fails.

import type {
  Deployment,
  Event,
  Node,
  PersistentVolumeClaim,
  Pod,
  PodDisruptionBudget,
  ReplicaSet,
  ResourceQuota,
} from '../../api/index.js';

/** The outcome of looking up one object a pod refers to. */
export type Lookup = 'present' | 'missing' | 'unknown';

export interface PodEvidence {
  pod: Pod;
  /** Events whose involvedObject is the pod (in no particular order). */
  events: Event[];
  /** The pod's node: an object when read, 'missing' when it does not exist, undefined when not read. */
  node?: Node | 'missing';
  /** Non-optional ConfigMaps and Secrets the pod refers to, by name. */
  configMaps?: Record<string, Lookup>;
  secrets?: Record<string, Lookup>;
  /** Claims the pod mounts, by name: the object when read. */
  claims?: Record<string, PersistentVolumeClaim | Exclude<Lookup, 'present'>>;
  /** The tail of each restarted container's previous log, by container name. */
  previousLogs?: Record<string, string>;
  /** The pod's controllers, nearest first (ReplicaSet/web-abc, Deployment/web). */
  owners?: { kind: string; name: string }[];
  /** Reads that were refused or failed (e.g. `nodes: forbidden`). */
  unreadable?: string[];
}

export interface DeploymentEvidence {
  deployment: Deployment;
  /** ReplicaSets the Deployment controls. */
  replicaSets: ReplicaSet[];
  /** Events about the Deployment and its ReplicaSets. */
  events: Event[];
  /** Pods of the newest ReplicaSet. */
  pods: Pod[];
  /** The evidence of the first failing pod of the newest ReplicaSet, when there is one. */
  failingPod?: PodEvidence;
  quotas?: ResourceQuota[];
  disruptionBudgets?: PodDisruptionBudget[];
  unreadable?: string[];
}

/** One thing found: the first is the cause; the rest support it. */
export interface Finding {
  /** A stable, Kubernetes-style reason (CrashLoopBackOff, Unschedulable, NodeNotReady, Healthy …). */
  reason: string;
  /** One line: what is wrong, with the numbers that matter. */
  summary: string;
  /** Indented facts under it (log lines, conditions, counts). */
  details: string[];
  /** The command to run next, when one helps. */
  next?: string;
}

export interface Diagnosis {
  /** `pod default/web-1`, `deployment default/web`. */
  subject: string;
  /** `is not running`, `is not ready`, `is Running and Ready` … */
  verdict: string;
  healthy: boolean;
  /** The first cause, then supporting findings. Never empty. */
  findings: [Finding, ...Finding[]];
}
