// metrics.k8s.io/v1beta1: the resource metrics `kubectl top` and the HPA read. Served, never
// stored: each read asks the node agents (pkg/apiserver/metrics-api.ts).

import type { KubeObject } from '../meta.js';

/** cpu (e.g. `12345n`) and memory (e.g. `2048Ki`) as quantities. */
export type ResourceUsage = Record<string, string>;

export interface NodeMetrics extends KubeObject {
  timestamp: string;
  /** How long the usage was averaged over (a duration such as `10s`). */
  window: string;
  usage: ResourceUsage;
}

export interface ContainerMetrics {
  name: string;
  usage: ResourceUsage;
}

export interface PodMetrics extends KubeObject {
  timestamp: string;
  window: string;
  containers: ContainerMetrics[];
}
