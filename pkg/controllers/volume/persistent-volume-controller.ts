// The PV controller (Kubernetes' persistentvolume binder, pvc-protection and pv-protection
// controllers in one loop, with the local-path provisioner k3s ships):
// - a claim binds to the smallest free volume that fits it (class, mode, access modes,
//   size, selector, and the scheduler's chosen node for WaitForFirstConsumer claims); the
//   binding is written on the volume first (claimRef), then on the claim (volumeName), then
//   both statuses, so a crash in between is finished by the next pass;
// - a claim of a local-path class gets a new hostPath volume under the chosen node's
//   local-path root (published by its agent), with node affinity to that node;
// - a volume whose claim is gone is Released: Retain keeps it, Delete removes the volumes
//   this controller provisioned (the agent removes the folder when it sees the deletion);
// - a bound claim of an expandable class grows: the volume's capacity, then the claim's;
// - the protection finalizers go once no pod uses the claim, and once no claim is bound to
//   the volume.
// Keys are `claim/<namespace>/<name>` and `volume/<name>`.

import { join } from 'node:path';
import { rfc3339 } from '../../api/meta.js';
import { RESOURCES } from '../../api/registry.js';
import type { Node, PersistentVolume, PersistentVolumeClaim, Pod, StorageClass } from '../../api/types/index.js';
import {
  BIND_COMPLETED_ANNOTATION,
  BOUND_BY_CONTROLLER_ANNOTATION,
  capacityBytes,
  claimClass,
  findMatchingVolume,
  LOCAL_PATH_PROVISIONER,
  LOCAL_PATH_ROOT_ANNOTATION,
  PROVISIONED_BY_ANNOTATION,
  PV_PROTECTION_FINALIZER,
  PVC_PROTECTION_FINALIZER,
  requestedBytes,
  SELECTED_NODE_ANNOTATION,
  STORAGE_PROVISIONER_ANNOTATION,
  volumeIsFor,
  waitsForConsumer,
} from '../../api/volume-binding.js';
import type { EventSink, Informer, RestClient } from '../../client/index.js';
import { isAlreadyExists, isConflict, isNotFound } from '../../errors/index.js';
import { isTerminal } from '../pods.js';
import { eventsFor, ReconcileLoop, type ControllerContext, type ReconcileResult } from '../reconciler.js';

const PVS = RESOURCES.persistentvolumes;
const PVCS = RESOURCES.persistentvolumeclaims;

type ClaimView = Readonly<PersistentVolumeClaim>;
type VolumeView = Readonly<PersistentVolume>;

/** The name of the volume provisioned for a claim, as Kubernetes names them. */
export function provisionedVolumeName(claim: ClaimView): string {
  return `pvc-${claim.metadata.uid ?? ''}`;
}

/** The claims a pod mounts, as `namespace/name` keys. */
export function claimKeysOf(pod: Readonly<Pod>): string[] {
  const ns = pod.metadata.namespace ?? 'default';
  return (pod.spec?.volumes ?? []).flatMap((v) =>
    v.persistentVolumeClaim?.claimName ? [`${ns}/${v.persistentVolumeClaim.claimName}`] : [],
  );
}

function claimKey(claim: ClaimView): string {
  return `${claim.metadata.namespace ?? ''}/${claim.metadata.name ?? ''}`;
}

function refKey(volume: VolumeView): string | undefined {
  const ref = volume.spec?.claimRef;
  return ref?.name === undefined ? undefined : `${ref.namespace ?? ''}/${ref.name}`;
}

export class PersistentVolumeController {
  readonly loop: ReconcileLoop;
  private readonly client: RestClient;
  private readonly events: EventSink;

  constructor(
    private readonly deps: ControllerContext & {
      volumes: Informer<PersistentVolume>;
      claims: Informer<PersistentVolumeClaim>;
      classes: Informer<StorageClass>;
      pods: Informer<Pod>;
      nodes: Informer<Node>;
    },
  ) {
    this.client = deps.client;
    this.events = eventsFor(deps, 'persistentvolume-controller');
    this.loop = new ReconcileLoop('persistentvolume', (key) => this.reconcile(key), { log: deps.log });
    const onClaim = (c: ClaimView): void => this.loop.enqueue(`claim/${claimKey(c)}`);
    deps.claims.addHandler({
      onAdd: onClaim,
      onUpdate: (_o, c) => onClaim(c),
      onDelete: (c) => {
        // Its volume is Released now.
        const name = c.spec?.volumeName;
        if (name) this.loop.enqueue(`volume/${name}`);
        for (const v of deps.volumes.list())
          if (refKey(v) === claimKey(c)) this.loop.enqueue(`volume/${v.metadata.name ?? ''}`);
      },
    });
    const onVolume = (v: VolumeView): void => {
      this.loop.enqueue(`volume/${v.metadata.name ?? ''}`);
      const key = refKey(v);
      if (key !== undefined) this.loop.enqueue(`claim/${key}`);
    };
    deps.volumes.addHandler({ onAdd: onVolume, onUpdate: (_o, v) => onVolume(v), onDelete: onVolume });
    // Claims waiting for a volume look again when a volume or class appears.
    const pendingClaims = (): void => {
      for (const c of deps.claims.list()) if (c.status?.phase !== 'Bound') onClaim(c);
    };
    deps.classes.addHandler({ onAdd: pendingClaims, onUpdate: pendingClaims });
    // A pod that goes away may free a claim being deleted.
    const onPod = (p: Readonly<Pod>): void => {
      for (const key of claimKeysOf(p)) this.loop.enqueue(`claim/${key}`);
    };
    deps.pods.addHandler({ onUpdate: (_o, p) => onPod(p), onDelete: onPod });
  }

  async reconcile(key: string): Promise<ReconcileResult | undefined> {
    if (key.startsWith('claim/')) {
      const claim = this.deps.claims.get(key.slice('claim/'.length));
      return claim === undefined ? undefined : this.syncClaim(claim);
    }
    if (key.startsWith('volume/')) {
      const volume = this.deps.volumes.get(key.slice('volume/'.length));
      return volume === undefined ? undefined : this.syncVolume(volume);
    }
    return undefined;
  }

  // ---- claims -----------------------------------------------------------------------------

  private async syncClaim(claim: ClaimView): Promise<ReconcileResult | undefined> {
    if (claim.metadata.deletionTimestamp !== undefined) return this.releaseClaimProtection(claim);
    const volumeName = claim.spec?.volumeName;
    if (volumeName) return this.syncBoundClaim(claim, volumeName);
    const className = claimClass(claim);
    const cls = className === '' ? undefined : this.deps.classes.get(className);
    const selected = claim.metadata.annotations?.[SELECTED_NODE_ANNOTATION];
    if (waitsForConsumer(cls) && selected === undefined) {
      // Bound once the scheduler picks a node for its first pod (no event storm: one per pass).
      this.events.normal(claim, 'WaitForFirstConsumer', 'waiting for first consumer to be created before binding');
      return undefined;
    }
    const node = selected === undefined ? undefined : this.deps.nodes.get(selected);
    const nodeRef =
      node === undefined ? undefined : { name: node.metadata.name ?? '', labels: node.metadata.labels ?? {} };
    const match = findMatchingVolume(claim, this.deps.volumes.list(), nodeRef);
    if (match !== undefined) return this.bind(claim, match);
    if (className !== '' && cls === undefined) {
      this.events.warning(claim, 'ProvisioningFailed', `storageclass.storage.k8s.io "${className}" not found`);
      return undefined;
    }
    if (cls === undefined) {
      this.events.normal(
        claim,
        'FailedBinding',
        'no persistent volumes available for this claim and no storage class is set',
      );
      return undefined;
    }
    if (cls.provisioner !== LOCAL_PATH_PROVISIONER) {
      await this.annotateProvisioner(claim, cls.provisioner);
      this.events.normal(
        claim,
        'ExternalProvisioning',
        `Waiting for a volume to be created either by the external provisioner '${cls.provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`,
      );
      return undefined;
    }
    return this.provisionLocalPath(claim, { cls, node: selected === undefined ? undefined : node, selected });
  }

  private async annotateProvisioner(claim: ClaimView, provisioner: string): Promise<void> {
    if (claim.metadata.annotations?.[STORAGE_PROVISIONER_ANNOTATION] === provisioner) return;
    await this.client.patch(PVCS, claim.metadata.name ?? '', {
      type: 'merge',
      namespace: claim.metadata.namespace,
      body: { metadata: { annotations: { [STORAGE_PROVISIONER_ANNOTATION]: provisioner } } },
    });
  }

  /** A hostPath volume under the chosen node's local-path root, pinned to that node. */
  private async provisionLocalPath(
    claim: ClaimView,
    at: { cls: Readonly<StorageClass>; node: Readonly<Node> | undefined; selected: string | undefined },
  ): Promise<ReconcileResult | undefined> {
    const { cls, node, selected } = at;
    if (selected === undefined) {
      // An Immediate local-path class: no node to put the folder on until a pod is scheduled.
      this.events.warning(
        claim,
        'ProvisioningFailed',
        'local-path volumes need a node: use volumeBindingMode WaitForFirstConsumer',
      );
      return undefined;
    }
    const root = node?.metadata.annotations?.[LOCAL_PATH_ROOT_ANNOTATION];
    if (node === undefined || root === undefined || !root.startsWith('/')) {
      this.events.warning(
        claim,
        'ProvisioningFailed',
        `node "${selected}" has no local-path root (is its agent running?)`,
      );
      return { requeueAfterMs: 5000 };
    }
    await this.annotateProvisioner(claim, LOCAL_PATH_PROVISIONER);
    const name = provisionedVolumeName(claim);
    const folder = `${name}_${claim.metadata.namespace ?? ''}_${claim.metadata.name ?? ''}`;
    const hostname = node.metadata.labels?.['kubernetes.io/hostname'];
    const term =
      hostname === undefined
        ? { matchFields: [{ key: 'metadata.name', operator: 'In' as const, values: [selected] }] }
        : { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In' as const, values: [hostname] }] };
    const volume: PersistentVolume = {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: {
        name,
        annotations: { [PROVISIONED_BY_ANNOTATION]: LOCAL_PATH_PROVISIONER },
        labels: {},
      },
      spec: {
        capacity: { storage: claim.spec?.resources?.requests?.['storage'] ?? '0' },
        accessModes: [...(claim.spec?.accessModes ?? ['ReadWriteOnce'])],
        persistentVolumeReclaimPolicy: cls.reclaimPolicy ?? 'Delete',
        storageClassName: cls.metadata.name ?? '',
        volumeMode: 'Filesystem',
        hostPath: { path: join(root, folder), type: 'DirectoryOrCreate' },
        nodeAffinity: { required: { nodeSelectorTerms: [term] } },
        claimRef: {
          kind: 'PersistentVolumeClaim',
          apiVersion: 'v1',
          namespace: claim.metadata.namespace ?? '',
          name: claim.metadata.name ?? '',
          uid: claim.metadata.uid ?? '',
          resourceVersion: claim.metadata.resourceVersion ?? '',
        },
      },
    };
    try {
      await this.client.create(PVS, volume);
      this.events.normal(claim, 'ProvisioningSucceeded', `Successfully provisioned volume ${name}`);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
    // The claim side is written when the volume's event comes back (syncClaim → bind).
    return undefined;
  }

  /** Writes the binding: volume.claimRef, claim.volumeName, then both statuses. */
  private async bind(claim: ClaimView, volume: VolumeView): Promise<ReconcileResult | undefined> {
    const name = volume.metadata.name ?? '';
    if (!volumeIsFor(volume, claim) || volume.spec?.claimRef?.uid !== claim.metadata.uid) {
      await this.client.update(PVS, {
        ...volume,
        metadata: {
          ...volume.metadata,
          annotations: { ...volume.metadata.annotations, [BOUND_BY_CONTROLLER_ANNOTATION]: 'yes' },
        },
        spec: {
          ...volume.spec,
          claimRef: {
            kind: 'PersistentVolumeClaim',
            apiVersion: 'v1',
            namespace: claim.metadata.namespace ?? '',
            name: claim.metadata.name ?? '',
            uid: claim.metadata.uid ?? '',
            resourceVersion: claim.metadata.resourceVersion ?? '',
          },
        },
      });
      // The volume's event brings the claim back here; it is then pre-bound and is taken.
      return undefined;
    }
    await this.markVolume(volume, 'Bound');
    const bound = await this.client.update(PVCS, {
      ...claim,
      metadata: {
        ...claim.metadata,
        annotations: {
          ...claim.metadata.annotations,
          [BIND_COMPLETED_ANNOTATION]: 'yes',
          [BOUND_BY_CONTROLLER_ANNOTATION]: 'yes',
        },
      },
      spec: { ...claim.spec, volumeName: name },
    });
    await this.markClaimBound(bound, volume);
    return undefined;
  }

  private async syncBoundClaim(claim: ClaimView, volumeName: string): Promise<ReconcileResult | undefined> {
    const volume = this.deps.volumes.get(volumeName);
    if (volume === undefined || (volume.spec?.claimRef?.uid !== undefined && !volumeIsFor(volume, claim))) {
      if (claim.status?.phase === 'Bound' || volume !== undefined) {
        await this.writeClaimStatus(claim, { ...claim.status, phase: 'Lost' });
        this.events.warning(
          claim,
          'ClaimLost',
          volume === undefined
            ? `Bound claim has lost reference to PersistentVolume. Data on the volume is lost!`
            : `Bound claim has lost its PersistentVolume. Data on the volume is lost!`,
        );
      }
      return undefined;
    }
    if (volume.spec?.claimRef === undefined) return this.bind(claim, volume);
    await this.markVolume(volume, 'Bound');
    const grown = await this.expand(claim, volume);
    if (grown) return undefined;
    await this.markClaimBound(claim, volume);
    return undefined;
  }

  /** Resize of an expandable class's claim: the volume first, then the claim's capacity. */
  private async expand(claim: ClaimView, volume: VolumeView): Promise<boolean> {
    const wanted = requestedBytes(claim);
    const has = capacityBytes(volume);
    if (wanted === undefined || has === undefined || wanted <= has) return false;
    const cls = this.deps.classes.get(claimClass(claim));
    if (cls?.allowVolumeExpansion !== true) return false;
    const storage = claim.spec?.resources?.requests?.['storage'] ?? '0';
    await this.client.update(PVS, {
      ...volume,
      spec: { ...volume.spec, capacity: { ...volume.spec?.capacity, storage } },
    });
    this.events.normal(claim, 'VolumeResizeSuccessful', `resize volume "${volume.metadata.name ?? ''}" successful`);
    return true;
  }

  private async markClaimBound(claim: ClaimView, volume: VolumeView): Promise<void> {
    const status = {
      ...claim.status,
      phase: 'Bound' as const,
      accessModes: [...(volume.spec?.accessModes ?? [])],
      capacity: { ...volume.spec?.capacity },
    };
    await this.writeClaimStatus(claim, status);
  }

  private async writeClaimStatus(claim: ClaimView, status: PersistentVolumeClaim['status']): Promise<void> {
    if (JSON.stringify(status) === JSON.stringify(claim.status)) return;
    try {
      await this.client.updateStatus(PVCS, { ...claim, status }, { namespace: claim.metadata.namespace });
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err)) throw err;
      if (isConflict(err)) this.loop.enqueueAfter(`claim/${claimKey(claim)}`, 100);
    }
  }

  /** The pvc-protection finalizer goes once no pod that may still run uses the claim. */
  private async releaseClaimProtection(claim: ClaimView): Promise<ReconcileResult | undefined> {
    const finalizers = claim.metadata.finalizers ?? [];
    if (!finalizers.includes(PVC_PROTECTION_FINALIZER)) return undefined;
    const key = claimKey(claim);
    const users = this.deps.pods.list().filter((p) => !isTerminal(p) && claimKeysOf(p).includes(key));
    if (users.length > 0) return undefined;
    await this.client.update(PVCS, {
      ...claim,
      metadata: { ...claim.metadata, finalizers: finalizers.filter((f) => f !== PVC_PROTECTION_FINALIZER) },
    });
    return undefined;
  }

  // ---- volumes ----------------------------------------------------------------------------

  private async syncVolume(volume: VolumeView): Promise<ReconcileResult | undefined> {
    const key = refKey(volume);
    const claim = key === undefined ? undefined : this.deps.claims.get(key);
    const released = key !== undefined && (claim === undefined || !volumeIsFor(volume, claim));
    if (volume.metadata.deletionTimestamp !== undefined) {
      const finalizers = volume.metadata.finalizers ?? [];
      if (finalizers.includes(PV_PROTECTION_FINALIZER) && (key === undefined || released))
        await this.client.update(PVS, {
          ...volume,
          metadata: { ...volume.metadata, finalizers: finalizers.filter((f) => f !== PV_PROTECTION_FINALIZER) },
        });
      return undefined;
    }
    if (key === undefined) {
      await this.markVolume(volume, 'Available');
      return undefined;
    }
    if (!released) {
      // Bound, or pre-bound to a claim that has not taken it yet (the claim's pass finishes it).
      if (claim?.spec?.volumeName === volume.metadata.name) await this.markVolume(volume, 'Bound');
      return undefined;
    }
    // The claim is gone (not merely unwritten: a fresh claim would carry our claimRef's uid).
    if (claim !== undefined && volume.spec?.claimRef?.uid === undefined) return undefined;
    await this.markVolume(volume, 'Released');
    return this.reclaim(volume);
  }

  private async reclaim(volume: VolumeView): Promise<ReconcileResult | undefined> {
    const policy = volume.spec?.persistentVolumeReclaimPolicy ?? 'Retain';
    if (policy === 'Retain') return undefined;
    const name = volume.metadata.name ?? '';
    if (volume.metadata.annotations?.[PROVISIONED_BY_ANNOTATION] !== LOCAL_PATH_PROVISIONER) {
      await this.markVolume(
        volume,
        'Failed',
        `Coxswain deletes only the volumes it provisioned; ${policy} is not supported for this volume`,
      );
      this.events.warning(volume, 'VolumeFailedDelete', `Coxswain deletes only the volumes it provisioned (${name})`);
      return undefined;
    }
    try {
      await this.client.delete(PVS, name, { preconditions: { uid: volume.metadata.uid ?? '' } });
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
    return undefined;
  }

  private async markVolume(
    volume: VolumeView,
    phase: 'Available' | 'Bound' | 'Released' | 'Failed',
    message?: string,
  ): Promise<void> {
    if (volume.status?.phase === phase && volume.status.message === message) return;
    const status = {
      phase,
      ...(message === undefined ? {} : { message }),
      lastPhaseTransitionTime: rfc3339(new Date()),
    };
    try {
      await this.client.updateStatus(PVS, { ...volume, status });
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err)) throw err;
      if (isConflict(err)) this.loop.enqueueAfter(`volume/${volume.metadata.name ?? ''}`, 100);
    }
  }
}
