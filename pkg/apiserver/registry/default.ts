// The strategy of a plain kind, and the pieces kinds compose theirs from: status reset on
// spec writes and spec reset on status writes, generation bumps, finalizer-staged deletion
// with the garbage collector's propagation finalizers.

import { isDeepStrictEqual } from 'node:util';
import { rfc3339, type DeleteOptions, type KubeObject } from '../../api/meta.js';
import { hasSubresource } from '../../api/registry.js';
import { validateObject, validateUpdate } from '../../api/validation.js';
import type { Strategy, Subresource } from './types.js';

/** Finalizer names Kubernetes uses for propagation policies, carried out by the garbage collector. */
export const ORPHAN_FINALIZER = 'orphan';
export const FOREGROUND_FINALIZER = 'foregroundDeletion';

/** status: PUT and PATCH write only the status. */
export const STATUS_SUBRESOURCE: Subresource = { statusWrites: true };

export const defaultStrategy: Strategy = {
  normalize: () => undefined,
  prepareForCreate(r, obj) {
    if (hasSubresource(r, 'status')) {
      obj.metadata.generation = 1;
      obj['status'] = {};
    }
    clearDeletion(obj);
  },
  prepareForUpdate(r, next, prev) {
    keepIdentity(next, prev);
    if (hasSubresource(r, 'status')) {
      keepStatus(next, prev);
      bumpGeneration(next, prev);
    }
  },
  prepareForStatusUpdate(next, prev) {
    const merged: KubeObject = { ...prev, metadata: { ...prev.metadata } };
    merged['status'] = next['status'];
    // Only the status changes: metadata stays the stored object's.
    merged.metadata.resourceVersion = next.metadata.resourceVersion ?? prev.metadata.resourceVersion;
    return merged;
  },
  validate: (r, obj) => validateObject(obj, r),
  validateUpdate: (r, next, prev) => validateUpdate(next, prev, r),
  stageDeletion(obj, opts, now) {
    const finalizers = stageFinalizers(obj, opts);
    if (finalizers.length === 0) return false;
    obj.metadata.deletionTimestamp ??= rfc3339(now);
    obj.metadata.deletionGracePeriodSeconds ??= 0;
    return true;
  },
  waitsAfterFinalizers: () => false,
  subresources: { status: STATUS_SUBRESOURCE },
};

/** A create starts outside deletion whatever the body says. */
export function clearDeletion(obj: KubeObject): void {
  delete obj.metadata.deletionTimestamp;
  delete obj.metadata.deletionGracePeriodSeconds;
}

/** An update of the main resource keeps the stored status. */
export function keepStatus(next: KubeObject, prev: KubeObject): void {
  if (prev['status'] === undefined) delete next['status'];
  else next['status'] = prev['status'];
}

/** metadata.generation moves when the spec changed. */
export function bumpGeneration(next: KubeObject, prev: KubeObject): void {
  const gen = prev.metadata.generation ?? 1;
  next.metadata.generation = isDeepStrictEqual(next['spec'], prev['spec']) ? gen : gen + 1;
}

/** Identity and deletion state are the stored object's, whatever an update sends. */
export function keepIdentity(next: KubeObject, prev: KubeObject): void {
  const m = next.metadata;
  const p = prev.metadata;
  m.name = p.name;
  m.uid = p.uid;
  m.creationTimestamp = p.creationTimestamp;
  if (p.namespace !== undefined) m.namespace = p.namespace;
  if (p.generation !== undefined) m.generation = p.generation;
  if (p.deletionTimestamp !== undefined) m.deletionTimestamp = p.deletionTimestamp;
  else delete m.deletionTimestamp;
  if (p.deletionGracePeriodSeconds !== undefined) m.deletionGracePeriodSeconds = p.deletionGracePeriodSeconds;
  else delete m.deletionGracePeriodSeconds;
  if (m.generateName === undefined && p.generateName !== undefined) m.generateName = p.generateName;
  if (m.managedFields === undefined && p.managedFields !== undefined) m.managedFields = p.managedFields;
}

/**
 * Adds the finalizer a propagation policy asks for (on the first delete only) and returns
 * the object's finalizers.
 */
export function stageFinalizers(obj: KubeObject, opts: DeleteOptions): string[] {
  const meta = obj.metadata;
  const finalizers = [...(meta.finalizers ?? [])];
  if (meta.deletionTimestamp === undefined) {
    const policy = opts.propagationPolicy;
    if (policy === 'Orphan' && !finalizers.includes(ORPHAN_FINALIZER)) finalizers.push(ORPHAN_FINALIZER);
    if (policy === 'Foreground' && !finalizers.includes(FOREGROUND_FINALIZER)) finalizers.push(FOREGROUND_FINALIZER);
  }
  if (finalizers.length > 0) meta.finalizers = finalizers;
  return finalizers;
}

/** The default strategy with more subresources (e.g. scale). */
export function withSubresources(
  extra: Readonly<Record<string, Subresource>>,
  base: Strategy = defaultStrategy,
): Strategy {
  return { ...base, subresources: { ...base.subresources, ...extra } };
}
