// coordination.k8s.io/v1 Lease: node heartbeats and leader election.

import type { KubeObject } from '../meta.js';
import type { MicroTime } from './core.js';

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: MicroTime;
  renewTime?: MicroTime;
  leaseTransitions?: number;
  strategy?: string;
  preferredHolder?: string;
}

export interface Lease extends KubeObject {
  spec?: LeaseSpec;
}
