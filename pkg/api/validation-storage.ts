// Validation of PersistentVolumes, PersistentVolumeClaims and StorageClasses with Kubernetes'
// field paths and messages (pkg/apis/core/validation and pkg/apis/storage/validation).

import { isDeepStrictEqual } from 'node:util';
import type { StatusCause } from '../errors/index.js';
import { isObject, type KubeObject } from './meta.js';
import { parseQuantity } from './quantity.js';

export const ACCESS_MODES = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'];
const RECLAIM_POLICIES = ['Delete', 'Recycle', 'Retain'];
const CLASS_RECLAIM_POLICIES = ['Delete', 'Retain'];
const BINDING_MODES = ['Immediate', 'WaitForFirstConsumer'];
const VOLUME_MODES = ['Block', 'Filesystem'];
/** The volume sources a PersistentVolume may name; Coxswain mounts hostPath and local. */
const VOLUME_SOURCES = [
  'hostPath',
  'local',
  'nfs',
  'iscsi',
  'csi',
  'fc',
  'rbd',
  'cephfs',
  'glusterfs',
  'awsElasticBlockStore',
  'gcePersistentDisk',
  'azureDisk',
  'azureFile',
  'cinder',
  'flexVolume',
  'flocker',
  'vsphereVolume',
  'quobyte',
  'portworxVolume',
  'scaleIO',
  'storageos',
  'photonPersistentDisk',
];
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const required = (field: string, why?: string): StatusCause => ({
  reason: 'FieldValueRequired',
  field,
  message: why === undefined ? 'Required value' : `Required value: ${why}`,
});
const invalid = (field: string, value: unknown, why: string): StatusCause => ({
  reason: 'FieldValueInvalid',
  field,
  message: `Invalid value: ${JSON.stringify(value)}: ${why}`,
});
const forbidden = (field: string, why: string): StatusCause => ({
  reason: 'FieldValueForbidden',
  field,
  message: `Forbidden: ${why}`,
});
const notSupported = (field: string, value: unknown, supported: string[]): StatusCause => ({
  reason: 'FieldValueNotSupported',
  field,
  message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${supported.map((s) => `"${s}"`).join(', ')}`,
});

function objAt(o: unknown, key: string): Record<string, unknown> | undefined {
  return isObject(o) && isObject(o[key]) ? o[key] : undefined;
}

function listAt(o: unknown, key: string): unknown[] {
  return isObject(o) && Array.isArray(o[key]) ? o[key] : [];
}

/** A quantity in base units, or undefined when it does not parse. */
export function quantityOf(q: unknown): number | undefined {
  if (typeof q !== 'string' && typeof q !== 'number') return undefined;
  try {
    const n = parseQuantity(q);
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

function accessModeCauses(spec: unknown, field: string, why?: string): StatusCause[] {
  const modes = listAt(spec, 'accessModes');
  if (modes.length === 0) return [required(`${field}.accessModes`, why)];
  const out: StatusCause[] = [];
  for (const m of modes)
    if (!ACCESS_MODES.includes(String(m))) out.push(notSupported(`${field}.accessModes`, m, ACCESS_MODES));
  if (modes.includes('ReadWriteOncePod') && modes.length > 1)
    out.push(forbidden(`${field}.accessModes`, 'may not use ReadWriteOncePod with other access modes'));
  return out;
}

function classNameCauses(spec: unknown, field: string): StatusCause[] {
  const name = isObject(spec) ? spec['storageClassName'] : undefined;
  if (typeof name !== 'string' || name === '') return [];
  return DNS1123_SUBDOMAIN.test(name) && name.length <= 253
    ? []
    : [
        invalid(
          `${field}.storageClassName`,
          name,
          "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
        ),
      ];
}

function volumeModeCauses(spec: unknown, field: string): StatusCause[] {
  const mode = isObject(spec) ? spec['volumeMode'] : undefined;
  return mode === undefined || VOLUME_MODES.includes(String(mode))
    ? []
    : [notSupported(`${field}.volumeMode`, mode, VOLUME_MODES)];
}

/** A claim's spec (of a PVC, or of a StatefulSet's claim template) at `field`. */
export function claimCauses(spec: unknown, field: string): StatusCause[] {
  if (!isObject(spec)) return [required(field)];
  const out = [
    ...accessModeCauses(spec, field, 'at least 1 access mode is required'),
    ...classNameCauses(spec, field),
    ...volumeModeCauses(spec, field),
  ];
  const requests = objAt(objAt(spec, 'resources'), 'requests');
  const storage = requests?.['storage'];
  if (storage === undefined) out.push(required(`${field}.resources[storage]`));
  else {
    const bytes = quantityOf(storage);
    if (bytes === undefined || bytes <= 0)
      out.push(invalid(`${field}.resources[storage]`, storage, 'must be greater than zero'));
  }
  return out;
}

/** A StatefulSet's volumeClaimTemplates: named, each a valid claim spec. */
export function claimTemplateCauses(spec: unknown): StatusCause[] {
  const out: StatusCause[] = [];
  const seen = new Set<string>();
  listAt(spec, 'volumeClaimTemplates').forEach((t, i) => {
    const field = `spec.volumeClaimTemplates[${i}]`;
    const name = objAt(t, 'metadata')?.['name'];
    if (typeof name !== 'string' || name === '') out.push(required(`${field}.metadata.name`));
    else if (seen.has(name))
      out.push({
        reason: 'FieldValueDuplicate',
        field: `${field}.metadata.name`,
        message: `Duplicate value: ${JSON.stringify(name)}`,
      });
    else seen.add(name);
    out.push(...claimCauses(objAt(t, 'spec'), `${field}.spec`));
  });
  return out;
}

function sourcesOf(spec: Record<string, unknown>): string[] {
  return VOLUME_SOURCES.filter((s) => spec[s] !== undefined && spec[s] !== null);
}

function pathCauses(path: unknown, field: string): StatusCause[] {
  if (typeof path !== 'string' || path === '') return [required(field)];
  if (path.split('/').includes('..')) return [invalid(field, path, "must not contain '..'")];
  return [];
}

export function persistentVolumeCauses(obj: KubeObject): StatusCause[] {
  const spec = objAt(obj, 'spec');
  if (spec === undefined) return [required('spec')];
  const out = [...accessModeCauses(spec, 'spec'), ...classNameCauses(spec, 'spec'), ...volumeModeCauses(spec, 'spec')];
  const capacity = objAt(spec, 'capacity');
  if (capacity === undefined || Object.keys(capacity).length === 0) out.push(required('spec.capacity'));
  else {
    for (const key of Object.keys(capacity))
      if (key !== 'storage') out.push(notSupported('spec.capacity', key, ['storage']));
    const bytes = quantityOf(capacity['storage']);
    if (capacity['storage'] !== undefined && (bytes === undefined || bytes <= 0))
      out.push(invalid('spec.capacity[storage]', capacity['storage'], 'must be greater than zero'));
  }
  const policy = spec['persistentVolumeReclaimPolicy'];
  if (policy !== undefined && !RECLAIM_POLICIES.includes(String(policy)))
    out.push(notSupported('spec.persistentVolumeReclaimPolicy', policy, RECLAIM_POLICIES));
  const sources = sourcesOf(spec);
  if (sources.length === 0) out.push(required('spec', 'must specify a volume type'));
  for (const extra of sources.slice(1)) out.push(forbidden(`spec.${extra}`, 'may not specify more than 1 volume type'));
  const hostPath = objAt(spec, 'hostPath');
  if (hostPath !== undefined) out.push(...pathCauses(hostPath['path'], 'spec.hostPath.path'));
  const local = objAt(spec, 'local');
  if (local !== undefined) {
    out.push(...pathCauses(local['path'], 'spec.local.path'));
    if (objAt(spec, 'nodeAffinity') === undefined)
      out.push(required('spec.nodeAffinity', 'Local volume requires node affinity'));
  }
  const affinity = objAt(spec, 'nodeAffinity');
  if (affinity !== undefined) {
    const requiredTerms = objAt(affinity, 'required');
    if (requiredTerms !== undefined && listAt(requiredTerms, 'nodeSelectorTerms').length === 0)
      out.push(required('spec.nodeAffinity.required.nodeSelectorTerms', 'must have at least one node selector term'));
  }
  return out;
}

export function storageClassCauses(obj: KubeObject): StatusCause[] {
  const out: StatusCause[] = [];
  const provisioner = obj['provisioner'];
  if (typeof provisioner !== 'string' || provisioner === '') out.push(required('provisioner'));
  else if (provisioner.length > 253)
    out.push(invalid('provisioner', provisioner, 'must be no more than 253 characters'));
  const policy = obj['reclaimPolicy'];
  if (policy !== undefined && !CLASS_RECLAIM_POLICIES.includes(String(policy)))
    out.push(notSupported('reclaimPolicy', policy, CLASS_RECLAIM_POLICIES));
  const mode = obj['volumeBindingMode'];
  if (mode !== undefined && !BINDING_MODES.includes(String(mode)))
    out.push(notSupported('volumeBindingMode', mode, BINDING_MODES));
  const parameters = objAt(obj, 'parameters') ?? {};
  if (Object.keys(parameters).length > 512)
    out.push(invalid('parameters', '<omitted>', 'must have at most 512 parameters'));
  return out;
}

const CLAIM_IMMUTABLE =
  'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims';

function claimUpdateCauses(next: KubeObject, prev: KubeObject): StatusCause[] {
  const ns = objAt(next, 'spec') ?? {};
  const ps = objAt(prev, 'spec') ?? {};
  // What may change: the binding, once (volumeName set on a claim that had none), and the
  // requests of a bound claim.
  const frozen = (spec: Record<string, unknown>, volumeName: unknown): Record<string, unknown> => {
    const rest: Record<string, unknown> = { ...spec, volumeName: volumeName === '' ? undefined : volumeName };
    delete rest['resources'];
    delete rest['volumeAttributesClassName'];
    return rest;
  };
  const oldVolume = ps['volumeName'];
  const allowedVolume = oldVolume === undefined || oldVolume === '' ? ns['volumeName'] : oldVolume;
  if (!isDeepStrictEqual(frozen(ns, ns['volumeName']), frozen(ps, allowedVolume)))
    return [forbidden('spec', CLAIM_IMMUTABLE)];
  const nextStorage = objAt(objAt(ns, 'resources'), 'requests')?.['storage'];
  const prevStorage = objAt(objAt(ps, 'resources'), 'requests')?.['storage'];
  if (isDeepStrictEqual(nextStorage, prevStorage)) return [];
  const bound = objAt(prev, 'status')?.['phase'] === 'Bound';
  if (!bound) return [forbidden('spec', CLAIM_IMMUTABLE)];
  const capacity = quantityOf(objAt(objAt(prev, 'status'), 'capacity')?.['storage']);
  const wanted = quantityOf(nextStorage);
  if (wanted !== undefined && capacity !== undefined && wanted < capacity)
    return [forbidden('spec.resources.requests.storage', 'field can not be less than status.capacity')];
  return [];
}

function volumeUpdateCauses(next: KubeObject, prev: KubeObject): StatusCause[] {
  const ns = objAt(next, 'spec') ?? {};
  const ps = objAt(prev, 'spec') ?? {};
  const out: StatusCause[] = [];
  const source = (spec: Record<string, unknown>): unknown[] => VOLUME_SOURCES.map((s) => spec[s]);
  if (!isDeepStrictEqual(source(ns), source(ps)))
    out.push(forbidden('spec.persistentvolumesource', 'spec.persistentvolumesource is immutable after creation'));
  if (!isDeepStrictEqual(ns['volumeMode'], ps['volumeMode']))
    out.push(invalid('spec.volumeMode', ns['volumeMode'], 'field is immutable'));
  if (ps['nodeAffinity'] !== undefined && !isDeepStrictEqual(ns['nodeAffinity'], ps['nodeAffinity']))
    out.push(invalid('spec.nodeAffinity', ns['nodeAffinity'], 'field is immutable'));
  return out;
}

function classUpdateCauses(next: KubeObject, prev: KubeObject): StatusCause[] {
  const out: StatusCause[] = [];
  for (const field of ['parameters', 'provisioner', 'reclaimPolicy'])
    if (!isDeepStrictEqual(next[field], prev[field])) out.push(forbidden(field, `updates to ${field} are forbidden.`));
  if (!isDeepStrictEqual(next['volumeBindingMode'], prev['volumeBindingMode']))
    out.push(invalid('volumeBindingMode', next['volumeBindingMode'], 'field is immutable'));
  return out;
}

/** What an update of a storage kind may not change. */
export function storageUpdateCauses(kind: string, next: KubeObject, prev: KubeObject): StatusCause[] {
  switch (kind) {
    case 'PersistentVolumeClaim':
      return claimUpdateCauses(next, prev);
    case 'PersistentVolume':
      return volumeUpdateCauses(next, prev);
    case 'StorageClass':
      return classUpdateCauses(next, prev);
    default:
      return [];
  }
}
