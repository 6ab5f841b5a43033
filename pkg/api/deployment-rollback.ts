// What `rollout undo` of a Deployment writes, shared by coxctl and the dashboard: the pod
// template of the ReplicaSet at the wanted revision (default: the newest one that is not the
// current revision), without the pod-template-hash label the ReplicaSet controller added.

import { controllerOf } from './meta.js';
import type { Deployment, PodTemplateSpec, ReplicaSet } from './types/index.js';

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';

const revisionOf = (rs: ReplicaSet): number => Number(rs.metadata.annotations?.[REVISION_ANNOTATION] ?? 0);

/** The Deployment's own ReplicaSets (controller reference by uid), oldest revision first. */
export function ownedByRevision(d: Deployment, sets: readonly ReplicaSet[]): ReplicaSet[] {
  return sets.filter((rs) => controllerOf(rs)?.uid === d.metadata.uid).sort((a, b) => revisionOf(a) - revisionOf(b));
}

/** The template to roll back to, or why there is none (kubectl's messages, with the CLI's name). */
export function rollbackTemplate(
  d: Deployment,
  owned: readonly ReplicaSet[],
  opts: { toRevision?: string; cli: string },
): { template: PodTemplateSpec } | { refusal: string } {
  const name = d.metadata.name ?? '';
  if (d.spec?.paused === true)
    return {
      refusal: `you cannot rollback a paused deployment; resume it first with '${opts.cli} rollout resume deployment/${name}' and try again`,
    };
  const current = d.metadata.annotations?.[REVISION_ANNOTATION];
  const { toRevision } = opts;
  const wanted =
    toRevision !== undefined && toRevision !== '0'
      ? owned.find((rs) => rs.metadata.annotations?.[REVISION_ANNOTATION] === toRevision)
      : [...owned].reverse().find((rs) => rs.metadata.annotations?.[REVISION_ANNOTATION] !== current);
  if (wanted === undefined)
    return {
      refusal:
        toRevision !== undefined && toRevision !== '0'
          ? `unable to find specified revision ${toRevision} in history`
          : `no rollout history found for deployment "${name}"`,
    };
  const template = structuredClone(wanted.spec?.template ?? {});
  if (template.metadata?.labels) delete template.metadata.labels['pod-template-hash'];
  return { template };
}
