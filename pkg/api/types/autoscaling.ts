// autoscaling/v1 Scale: what the `scale` subresource of Deployments, ReplicaSets and
// StatefulSets reads and writes.

import type { KubeObject } from '../meta.js';

export interface Scale extends KubeObject {
  spec?: { replicas?: number };
  status?: { replicas: number; selector?: string };
}
