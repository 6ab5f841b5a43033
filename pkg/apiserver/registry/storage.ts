// Storage kinds: PersistentVolumes and PersistentVolumeClaims start Pending and carry their
// protection finalizers (Kubernetes' StorageObjectInUseProtection admission: a claim a pod
// uses, or a volume a claim is bound to, stays until the PV controller lets it go); a claim
// that names no class gets the default StorageClass (the DefaultStorageClass plugin), and a
// claim grows only when its class allows expansion (PersistentVolumeClaimResize).

import { storageKey, type KubeObject } from '../../api/index.js';
import { RESOURCES } from '../../api/registry.js';
import type { PersistentVolumeClaim, StorageClass } from '../../api/types/index.js';
import { quantityOf } from '../../api/validation-storage.js';
import {
  DEFAULT_CLASS_ANNOTATION,
  PV_PROTECTION_FINALIZER,
  PVC_PROTECTION_FINALIZER,
} from '../../api/volume-binding.js';
import { ApiError } from '../../errors/index.js';
import type { Store } from '../../storage/index.js';
import { typedFind } from '../typed-read.js';
import { storedAs } from '../write-meta.js';
import { defaultStrategy } from './default.js';
import type { AdmittedUpdate, Strategy } from './types.js';

function withFinalizer(obj: KubeObject, finalizer: string): void {
  const finalizers = obj.metadata.finalizers ?? [];
  if (!finalizers.includes(finalizer)) obj.metadata.finalizers = [...finalizers, finalizer];
}

function startPending(r: Parameters<Strategy['prepareForCreate']>[0], obj: KubeObject, finalizer: string): void {
  defaultStrategy.prepareForCreate(r, obj);
  obj['status'] = { phase: 'Pending' };
  withFinalizer(obj, finalizer);
}

/**
 * The default class among `classes`: the newest of those annotated default (Kubernetes
 * picks the newest when several are, since 1.28), undefined when none is.
 */
export function defaultClassOf(classes: readonly StorageClass[]): StorageClass | undefined {
  const defaults = classes.filter((c) => c.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true');
  defaults.sort(
    (a, b) =>
      (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '') ||
      (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''),
  );
  return defaults[0];
}

function resizeForbidden(name: string): ApiError {
  return new ApiError(
    'Forbidden',
    `persistentvolumeclaims ${JSON.stringify(name)} is forbidden: only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize`,
    { details: { name, group: '', kind: 'persistentvolumeclaims' } },
  );
}

const volumeStrategy: Strategy = {
  ...defaultStrategy,
  prepareForCreate: (r, obj) => startPending(r, obj, PV_PROTECTION_FINALIZER),
};

function claimStrategy(store: Store | undefined): Strategy {
  const base: Strategy = {
    ...defaultStrategy,
    prepareForCreate: (r, obj) => startPending(r, obj, PVC_PROTECTION_FINALIZER),
  };
  if (store === undefined) return base;
  const find = typedFind(store);
  const classes = async (): Promise<StorageClass[]> =>
    (await store.list(storageKey(RESOURCES.storageclasses))).items.map((i) =>
      storedAs(RESOURCES.storageclasses, i.object),
    );
  return {
    ...base,
    async admitCreate(obj) {
      const claim = storedAs(RESOURCES.persistentvolumeclaims, obj);
      if (claim.spec !== undefined && claim.spec.storageClassName === undefined) {
        const chosen = defaultClassOf(await classes());
        if (chosen?.metadata.name !== undefined)
          obj['spec'] = { ...claim.spec, storageClassName: chosen.metadata.name };
      }
      return [];
    },
    async admitUpdate({ next, current, subresource }: AdmittedUpdate) {
      if (subresource !== undefined) return [];
      const grown = (c: PersistentVolumeClaim): number | undefined =>
        quantityOf(c.spec?.resources?.requests?.['storage']);
      const nextClaim = storedAs(RESOURCES.persistentvolumeclaims, next);
      const wanted = grown(nextClaim);
      const before = grown(storedAs(RESOURCES.persistentvolumeclaims, current));
      if (wanted === undefined || before === undefined || wanted <= before) return [];
      const className = nextClaim.spec?.storageClassName ?? '';
      const cls = className === '' ? undefined : await find(RESOURCES.storageclasses, undefined, className);
      if (cls?.allowVolumeExpansion !== true) throw resizeForbidden(next.metadata.name ?? '');
      return [];
    },
  };
}

/** The storage kinds' strategies, keyed as createStrategies keys them. */
export function storageStrategies(store: Store | undefined): [string, Strategy][] {
  return [
    ['/persistentvolumes', volumeStrategy],
    ['/persistentvolumeclaims', claimStrategy(store)],
  ];
}
