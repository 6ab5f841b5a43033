// What the PV controller, the scheduler and the node agent agree on about claims and
// volumes: the annotations they exchange, and the pure matching of a claim to a volume
// (Kubernetes' FindMatchingVolume: same class and volume mode, every requested access mode,
// enough capacity, the claim's selector, the node when one is chosen; the smallest fit wins).

import { matchesTerm, type NodeRef } from './node-matching.js';
import { quantityOf } from './validation-storage.js';
import { selectorMatches } from './selectors.js';
import type { PersistentVolume, PersistentVolumeClaim, StorageClass } from './types/index.js';

/** Finalizers that keep a claim a pod uses, and a volume a claim is bound to (StorageObjectInUseProtection). */
export const PVC_PROTECTION_FINALIZER = 'kubernetes.io/pvc-protection';
export const PV_PROTECTION_FINALIZER = 'kubernetes.io/pv-protection';
/** The annotation that makes a StorageClass the default one. */
export const DEFAULT_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';

/** The node the scheduler chose for a claim waiting for its first consumer. */
export const SELECTED_NODE_ANNOTATION = 'volume.kubernetes.io/selected-node';
/** The provisioner a claim waits for (set by the PV controller, as Kubernetes does). */
export const STORAGE_PROVISIONER_ANNOTATION = 'volume.kubernetes.io/storage-provisioner';
/** Who created a volume; the PV controller deletes only the volumes it provisioned. */
export const PROVISIONED_BY_ANNOTATION = 'pv.kubernetes.io/provisioned-by';
export const BIND_COMPLETED_ANNOTATION = 'pv.kubernetes.io/bind-completed';
export const BOUND_BY_CONTROLLER_ANNOTATION = 'pv.kubernetes.io/bound-by-controller';
/** The folder under which a node's agent keeps local-path volumes (the agent publishes it on its Node). */
export const LOCAL_PATH_ROOT_ANNOTATION = 'coxswain.io/local-path-root';
/** The default class's provisioner: the controller-manager's local-path provisioner. */
export const LOCAL_PATH_PROVISIONER = 'coxswain.io/local-path';

type ClaimView = Readonly<PersistentVolumeClaim>;
type VolumeView = Readonly<PersistentVolume>;

/** The storage a claim asks for, in bytes (undefined when it names none or it does not parse). */
export function requestedBytes(claim: ClaimView): number | undefined {
  return quantityOf(claim.spec?.resources?.requests?.['storage']);
}

export function capacityBytes(volume: VolumeView): number | undefined {
  return quantityOf(volume.spec?.capacity?.['storage']);
}

/** Whether a volume's node affinity lets it be used on `node` (no affinity: anywhere). */
export function volumeFitsNode(volume: VolumeView, node: NodeRef): boolean {
  const terms = volume.spec?.nodeAffinity?.required?.nodeSelectorTerms;
  if (terms === undefined) return true;
  return terms.some((t) => matchesTerm(t, node));
}

/** The class a claim asks for: '' is "no class" (only volumes without one). */
export function claimClass(claim: ClaimView): string {
  return claim.spec?.storageClassName ?? '';
}

/** Whether the claim waits for a pod to be scheduled before it is bound (WaitForFirstConsumer). */
export function waitsForConsumer(cls: Readonly<StorageClass> | undefined): boolean {
  return cls?.volumeBindingMode === 'WaitForFirstConsumer';
}

/** Whether a volume is bound, or pre-bound, to this claim. */
export function volumeIsFor(volume: VolumeView, claim: ClaimView): boolean {
  const ref = volume.spec?.claimRef;
  if (ref === undefined) return false;
  if (ref.name !== claim.metadata.name || ref.namespace !== claim.metadata.namespace) return false;
  return ref.uid === undefined || ref.uid === '' || ref.uid === claim.metadata.uid;
}

/** Why a free volume does not fit a claim; undefined when it does. */
export function volumeMismatch(claim: ClaimView, volume: VolumeView, node?: NodeRef): string | undefined {
  if (volume.metadata.deletionTimestamp !== undefined) return 'being deleted';
  if ((volume.spec?.storageClassName ?? '') !== claimClass(claim)) return 'storage class differs';
  if ((volume.spec?.volumeMode ?? 'Filesystem') !== (claim.spec?.volumeMode ?? 'Filesystem'))
    return 'volume mode differs';
  const modes = volume.spec?.accessModes ?? [];
  if (!(claim.spec?.accessModes ?? []).every((m) => modes.includes(m)))
    return 'access modes do not include the claim’s';
  const wanted = requestedBytes(claim);
  const has = capacityBytes(volume);
  if (wanted === undefined || has === undefined || has < wanted) return 'too small';
  if (claim.spec?.selector !== undefined && !selectorMatches(claim.spec.selector, volume.metadata.labels))
    return 'selector does not match';
  if (node !== undefined && !volumeFitsNode(volume, node)) return 'node affinity conflict';
  return undefined;
}

/**
 * The volume to bind a claim to: one already pre-bound to it if it fits, else the smallest
 * free volume that fits (ties by name, so two controllers agree).
 */
export function findMatchingVolume(
  claim: ClaimView,
  volumes: readonly VolumeView[],
  node?: NodeRef,
): VolumeView | undefined {
  const preBound = volumes.find((v) => volumeIsFor(v, claim) && volumeMismatch(claim, v, node) === undefined);
  if (preBound !== undefined) return preBound;
  let best: VolumeView | undefined;
  for (const v of volumes) {
    if (v.spec?.claimRef !== undefined) continue;
    if (v.status?.phase !== undefined && v.status.phase !== 'Available' && v.status.phase !== 'Pending') continue;
    if (volumeMismatch(claim, v, node) !== undefined) continue;
    const size = capacityBytes(v) ?? 0;
    const bestSize = best === undefined ? Infinity : (capacityBytes(best) ?? 0);
    if (size < bestSize || (size === bestSize && (v.metadata.name ?? '') < (best?.metadata.name ?? ''))) best = v;
  }
  return best;
}
