// Volume binding (kube-scheduler's VolumeBinding and VolumeRestrictions, smaller): a pod's
// claims must exist and not be going away; a bound claim's volume must allow the node (its
// node affinity: a local-path volume lives on one node); an unbound claim waits for its
// first consumer only when its class says so (WaitForFirstConsumer) and then needs a node
// where a free volume fits or the class can provision; a ReadWriteOnce claim already in use
// keeps its pods on the node that uses it. Pure: the scheduler hands it what its informers hold.

import {
  claimClass,
  findMatchingVolume,
  LOCAL_PATH_PROVISIONER,
  LOCAL_PATH_ROOT_ANNOTATION,
  volumeFitsNode,
  waitsForConsumer,
} from '../../api/volume-binding.js';
import type { PersistentVolume, PersistentVolumeClaim, StorageClass } from '../../api/types/index.js';
import { SUCCESS, unschedulable, type NodeInfo, type PodView, type Status } from '../framework.js';

type ClaimView = Readonly<PersistentVolumeClaim>;
const NO_PROVISIONER = 'kubernetes.io/no-provisioner';
type VolumeView = Readonly<PersistentVolume>;

/** What the plugin reads from the scheduler's informers. */
export interface VolumeLister {
  claim(namespace: string, name: string): ClaimView | undefined;
  volume(name: string): VolumeView | undefined;
  storageClass(name: string): Readonly<StorageClass> | undefined;
  volumes(): readonly VolumeView[];
}

/** A pod's claims, sorted out once per scheduling cycle. */
export interface PodVolumes {
  /** Set when no node can help (a missing claim, an unbound Immediate claim). */
  failure?: Status;
  /** Volumes bound to the pod's claims. */
  bound: VolumeView[];
  /** Unbound claims that wait for this pod's node (WaitForFirstConsumer). */
  waiting: ClaimView[];
  /** Keys (`ns/name`) of the pod's ReadWriteOnce claims. */
  readWriteOnce: string[];
}

export function claimNamesOf(pod: PodView): string[] {
  return (pod.spec?.volumes ?? []).flatMap((v) =>
    v.persistentVolumeClaim?.claimName ? [v.persistentVolumeClaim.claimName] : [],
  );
}

export function podVolumes(pod: PodView, lister: VolumeLister): PodVolumes {
  const ns = pod.metadata.namespace ?? 'default';
  const out: PodVolumes = { bound: [], waiting: [], readWriteOnce: [] };
  for (const name of claimNamesOf(pod)) {
    const claim = lister.claim(ns, name);
    if (claim === undefined)
      return { ...out, failure: unschedulable(`persistentvolumeclaim "${name}" not found`, true) };
    if (claim.metadata.deletionTimestamp !== undefined)
      return { ...out, failure: unschedulable(`persistentvolumeclaim "${name}" is being deleted`, true) };
    if (
      (claim.spec?.accessModes ?? []).includes('ReadWriteOnce') ||
      claim.spec?.accessModes?.includes('ReadWriteOncePod')
    )
      out.readWriteOnce.push(`${ns}/${name}`);
    const volumeName = claim.spec?.volumeName;
    if (volumeName) {
      const volume = lister.volume(volumeName);
      if (volume === undefined) return { ...out, failure: unschedulable('pvc(s) bound to non-existent pv(s)', true) };
      out.bound.push(volume);
      continue;
    }
    const className = claimClass(claim);
    const cls = className === '' ? undefined : lister.storageClass(className);
    if (!waitsForConsumer(cls))
      return { ...out, failure: unschedulable('pod has unbound immediate PersistentVolumeClaims', true) };
    out.waiting.push(claim);
  }
  return out;
}

/** Whether a waiting claim can be satisfied on this node: a free volume there, or the class provisions one. */
function canSatisfy(claim: ClaimView, node: NodeInfo, lister: VolumeLister): boolean {
  const ref = { name: node.name, labels: node.labels };
  if (findMatchingVolume(claim, lister.volumes(), ref) !== undefined) return true;
  const cls = lister.storageClass(claimClass(claim));
  // Static local volumes only (Kubernetes' convention for classes nothing provisions).
  if (cls === undefined || cls.provisioner === NO_PROVISIONER) return false;
  if (cls.provisioner !== LOCAL_PATH_PROVISIONER) return true;
  // local-path needs the node's agent to have published where its volumes live.
  return node.node.metadata.annotations?.[LOCAL_PATH_ROOT_ANNOTATION] !== undefined;
}

/** Whether a ReadWriteOnce claim is used by a pod on another node. */
function inUseElsewhere(key: string, node: NodeInfo, all: readonly NodeInfo[]): boolean {
  for (const other of all) {
    if (other.name === node.name) continue;
    for (const p of other.pods) {
      const phase = p.status?.phase;
      if (phase === 'Succeeded' || phase === 'Failed') continue;
      const ns = p.metadata.namespace ?? 'default';
      if (claimNamesOf(p).some((n) => `${ns}/${n}` === key)) return true;
    }
  }
  return false;
}

/** Whether the pod's volumes rule out any node (false for a pod that claims nothing). */
export function constrainsNodes(volumes: PodVolumes): boolean {
  return (
    volumes.failure !== undefined ||
    volumes.bound.length > 0 ||
    volumes.waiting.length > 0 ||
    volumes.readWriteOnce.length > 0
  );
}

export function filterVolumes(
  volumes: PodVolumes,
  node: NodeInfo,
  context: { all: readonly NodeInfo[]; lister: VolumeLister },
): Status {
  if (volumes.failure !== undefined) return volumes.failure;
  const ref = { name: node.name, labels: node.labels };
  if (volumes.bound.some((v) => !volumeFitsNode(v, ref)))
    return unschedulable('node(s) had volume node affinity conflict', true);
  if (volumes.waiting.some((c) => !canSatisfy(c, node, context.lister)))
    return unschedulable("node(s) didn't find available persistent volumes to bind");
  if (volumes.readWriteOnce.some((key) => inUseElsewhere(key, node, context.all)))
    return unschedulable('node(s) unavailable due to a ReadWriteOnce claim in use on another node');
  return SUCCESS;
}
