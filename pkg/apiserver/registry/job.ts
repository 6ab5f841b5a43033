// Jobs (Kubernetes' registry/batch/job strategy): unless `manualSelector`, the server makes
// the selector from the Job's uid and labels the pod template with it and the Job's name, so
// a Job selects only its own pods (`kubectl logs job/X` finds them); validation then refuses
// a selector a client wrote.

import { isObject, type KubeObject } from '../../api/meta.js';
import { JOB_UID_LABELS } from '../../api/validation.js';
import { defaultStrategy } from './default.js';
import type { Strategy } from './types.js';

const JOB_NAME_LABELS = ['batch.kubernetes.io/job-name', 'job-name'] as const;

function objectAt(parent: Record<string, unknown>, key: string): Record<string, unknown> {
  const v = parent[key];
  if (isObject(v)) return v;
  const created: Record<string, unknown> = {};
  parent[key] = created;
  return created;
}

/** Adds the generated selector and template labels (a label the client set is kept: validation judges it). */
export function generateJobSelector(job: KubeObject): void {
  const spec = job['spec'];
  const uid = job.metadata.uid;
  if (!isObject(spec) || spec['manualSelector'] === true || uid === undefined) return;
  const labels = objectAt(objectAt(objectAt(spec, 'template'), 'metadata'), 'labels');
  for (const key of JOB_NAME_LABELS) labels[key] ??= job.metadata.name ?? '';
  for (const key of JOB_UID_LABELS) labels[key] ??= uid;
  const matchLabels = objectAt(objectAt(spec, 'selector'), 'matchLabels');
  matchLabels[JOB_UID_LABELS[0]] ??= uid;
  // A Job without labels of its own shows its template's, as Kubernetes' defaulting makes it.
  if (job.metadata.labels === undefined || Object.keys(job.metadata.labels).length === 0) {
    const own: Record<string, string> = {};
    for (const [k, v] of Object.entries(labels)) if (typeof v === 'string') own[k] = v;
    job.metadata.labels = own;
  }
}

export const jobStrategy: Strategy = {
  ...defaultStrategy,
  validate(r, obj) {
    generateJobSelector(obj);
    return defaultStrategy.validate(r, obj);
  },
};
