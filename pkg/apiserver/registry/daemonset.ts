// DaemonSets: their status always carries the four counts Kubernetes' DaemonSetStatus
// declares without omitempty (currentNumberScheduled, numberMisscheduled,
// desiredNumberScheduled, numberReady), 0 until the controller reports; clients such as
// kubectl rollout status and the typed clients read them as required.

import type { KubeObject } from '../../api/meta.js';
import { defaultStrategy } from './default.js';
import { objectAt } from './fields.js';
import type { Strategy } from './types.js';

const REQUIRED_COUNTS = ['currentNumberScheduled', 'numberMisscheduled', 'desiredNumberScheduled', 'numberReady'];

function withRequiredCounts(obj: KubeObject): void {
  const status = objectAt(obj, 'status');
  const filled: Record<string, unknown> = {};
  for (const field of REQUIRED_COUNTS) filled[field] = typeof status[field] === 'number' ? status[field] : 0;
  obj['status'] = { ...filled, ...status, ...filled };
}

export const daemonSetStrategy: Strategy = {
  ...defaultStrategy,
  prepareForCreate(r, obj) {
    defaultStrategy.prepareForCreate(r, obj);
    withRequiredCounts(obj);
  },
  normalize(obj) {
    if (obj['status'] !== undefined) withRequiredCounts(obj);
  },
};
