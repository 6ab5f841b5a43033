// The steps of one guaranteedUpdate attempt that do not touch the store: preconditions,
// preparing and validating the next state through the kind's strategy, and when a write
// finishes a deletion instead.

import type { KubeObject } from '../api/meta.js';
import { apiVersionOf, type ResourceInfo } from '../api/registry.js';
import { conflict, invalid } from '../errors/index.js';
import { isStorageError } from '../storage/store.js';
import type { Strategy } from './registry/types.js';

/** A uid in an update's body is a precondition, as Kubernetes' update takes it. */
export function checkUidPrecondition(r: ResourceInfo, incoming: KubeObject, current: KubeObject): void {
  const uid = incoming.metadata.uid;
  if (uid !== undefined && uid !== '' && uid !== current.metadata.uid) {
    throw conflict(
      r,
      incoming.metadata.name ?? '',
      `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${current.metadata.uid ?? ''}`,
    );
  }
}

export interface UpdateStep {
  r: ResourceInfo;
  /** The object's name (as on the URL), for errors. */
  name: string;
  strategy: Strategy;
  next: KubeObject;
  current: KubeObject;
  subresource: string | undefined;
}

/** Normalises and prepares next against current in place, then validates it (422 Invalid). */
export function prepareAndValidate({ r, name, strategy, next, current, subresource }: UpdateStep): void {
  strategy.normalize(next);
  strategy.beforeUpdate?.(next, current);
  if (subresource !== 'status') strategy.prepareForUpdate(r, next, current);
  next.metadata.resourceVersion = current.metadata.resourceVersion;
  // An update that leaves managedFields out keeps them (Kubernetes: only an empty list resets
  // them), so a controller writing back an informer's copy, stripped of them, loses no owner.
  if (next.metadata.managedFields === undefined && current.metadata.managedFields !== undefined)
    next.metadata.managedFields = current.metadata.managedFields;
  if (next.apiVersion === undefined || next.kind === undefined)
    Object.assign(next, { apiVersion: apiVersionOf(r), kind: r.kind });
  const causes = [...strategy.validate(r, next), ...strategy.validateUpdate(r, next, current)];
  if (causes.length > 0) throw invalid(r, name, causes);
}

/** An object waiting only for its finalizers goes once the last one is removed. */
export function finishesDeletion(strategy: Strategy, next: KubeObject): boolean {
  return (
    next.metadata.deletionTimestamp !== undefined &&
    (next.metadata.finalizers ?? []).length === 0 &&
    !strategy.waitsAfterFinalizers(next)
  );
}

/** Whether a failed write is retried: a conflict, when the caller required no resourceVersion. */
export function retriesConflict(err: unknown, expectedResourceVersion: string | undefined, attempt: number): boolean {
  return (
    isStorageError(err, 'Conflict') &&
    (expectedResourceVersion === undefined || expectedResourceVersion === '') &&
    attempt < 20
  );
}
