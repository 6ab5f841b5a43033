// Per-kind rules the generic REST layer applies around writes (Kubernetes' "strategies"):
// what a create resets, what an update may change on the main resource versus the status
// subresource, when metadata.generation moves, and how deletion is staged (graceful pods,
// finalizers, namespaces).

import { isDeepStrictEqual } from 'node:util';
import type { KubeObject } from '../api/meta.js';
import type { ResourceInfo } from '../api/registry.js';
import { hasSubresource } from '../api/registry.js';

/** Kinds whose spec changes bump metadata.generation (those with a status subresource and a spec). */
function tracksGeneration(r: ResourceInfo): boolean {
  return hasSubresource(r, 'status') && r.kind !== 'Namespace' && r.kind !== 'Node';
}

function specOf(obj: KubeObject): unknown {
  return obj['spec'];
}

/**
 * Write-time normalisation every create and update goes through: a Secret's write-only
 * `stringData` is folded into base64 `data`, as Kubernetes does.
 */
export function normalize(obj: KubeObject): void {
  if (obj.kind === 'Secret' && obj['stringData'] !== undefined) {
    const stringData = obj['stringData'];
    const data = { ...((obj['data'] ?? {}) as Record<string, string>) };
    if (typeof stringData === 'object' && stringData !== null) {
      for (const [k, v] of Object.entries(stringData)) data[k] = Buffer.from(String(v), 'utf8').toString('base64');
    }
    obj['data'] = data;
    delete obj['stringData'];
  }
}

/** Resets what a client may not set on create. */
export function prepareForCreate(r: ResourceInfo, obj: KubeObject): void {
  if (tracksGeneration(r)) obj.metadata.generation = 1;
  switch (r.kind) {
    case 'Pod': {
      const status = (obj['status'] ?? {}) as Record<string, unknown>;
      obj['status'] = { phase: 'Pending', ...(status['qosClass'] !== undefined ? { qosClass: status['qosClass'] } : {}) };
      break;
    }
    case 'Namespace':
      obj['status'] = { phase: 'Active' };
      break;
    case 'Node':
      // The node agent registers its Node with a status it measured; keep it.
      break;
    default:
      if (hasSubresource(r, 'status')) obj['status'] = {};
  }
  delete obj.metadata.deletionTimestamp;
  delete obj.metadata.deletionGracePeriodSeconds;
}

/**
 * Carries over from the stored object what an update of the main resource may not change:
 * identity, status (when a status subresource exists), deletion state. Bumps generation when
 * the spec changed.
 */
export function prepareForUpdate(r: ResourceInfo, next: KubeObject, prev: KubeObject): void {
  keepIdentity(next, prev);
  if (hasSubresource(r, 'status') && r.kind !== 'Node') {
    if (prev['status'] === undefined) delete next['status'];
    else next['status'] = prev['status'];
  }
  if (tracksGeneration(r)) {
    const gen = prev.metadata.generation ?? 1;
    next.metadata.generation = isDeepStrictEqual(specOf(next), specOf(prev)) ? gen : gen + 1;
  }
}

/** A status update changes only status (and may not touch spec or most metadata). */
export function prepareForStatusUpdate(next: KubeObject, prev: KubeObject): KubeObject {
  const merged: KubeObject = { ...prev, metadata: { ...prev.metadata } };
  merged['status'] = next['status'];
  // Kubernetes lets status writers change labels/annotations? No: only status. Keep prev metadata.
  merged.metadata.resourceVersion = next.metadata.resourceVersion ?? prev.metadata.resourceVersion;
  return merged;
}

function keepIdentity(next: KubeObject, prev: KubeObject): void {
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
 * How long a pod's deletion waits for the node agent to stop it. Unscheduled and finished
 * pods go at once; others wait their grace period (the agent completes the delete).
 */
export function podGracePeriod(pod: KubeObject, requested: number | undefined): number {
  const spec = (pod['spec'] ?? {}) as { nodeName?: string; terminationGracePeriodSeconds?: number };
  const status = (pod['status'] ?? {}) as { phase?: string };
  if (!spec.nodeName) return 0;
  if (status.phase === 'Succeeded' || status.phase === 'Failed') return 0;
  const grace = requested ?? spec.terminationGracePeriodSeconds ?? 30;
  return Math.max(0, grace);
}

/** Finalizer names Kubernetes uses for propagation policies, carried out by the garbage collector. */
export const ORPHAN_FINALIZER = 'orphan';
export const FOREGROUND_FINALIZER = 'foregroundDeletion';
/** The namespace's own spec finalizer, removed by the namespace controller through `/finalize`. */
export const NAMESPACE_FINALIZER = 'kubernetes';
