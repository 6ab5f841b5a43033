// Pod volumes on the host: emptyDir folders shared by the pod's containers, hostPath as
// given; configMap, secret, downwardAPI and projected volumes (ConfigMap, Secret, downward API
// and ServiceAccount token sources) written into files, refreshed on every sync.

import { setVolumeOwnership } from './volume-ownership.js';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { RESOURCES } from '../api/registry.js';
import type { DownwardAPIVolumeFile, KeyToPath, Pod, VolumeProjection } from '../api/types/index.js';
import type { ObjectReader } from './pod-api.js';
import { isNotFound } from '../errors/index.js';
import type { PodTokens } from './service-account-token.js';
import { resourceFieldValue } from './env.js';

export class VolumeError extends Error {
  constructor(
    message: string,
    /** Set when the volume is not ready yet (a claim not bound): the pod waits, looked at again soon. */
    readonly waiting?: { reason: string; retryAfterMs: number },
  ) {
    super(message);
    this.name = 'VolumeError';
  }
}

/** A hostPath's folder: made when its type is DirectoryOrCreate, checked when it is Directory. */
function hostPathFolder(path: string, type: string | undefined, opts: { worldWritable?: boolean } = {}): string {
  if (type === 'DirectoryOrCreate') {
    mkdirSync(path, { recursive: true, ...(opts.worldWritable === true ? { mode: 0o777 } : {}) });
    if (opts.worldWritable === true) chmodSync(path, 0o777);
  } else if (type === 'Directory' && !existsSync(path))
    throw new VolumeError(`hostPath type check failed: ${path} is not a directory`);
  return path;
}

/** The host folder of a pod's claim: its bound volume's hostPath or local path. */
async function claimPath(client: ObjectReader, at: { namespace: string; claimName: string }): Promise<string> {
  const what = `PVC ${at.namespace}/${at.claimName}`;
  const notReady = { reason: 'ContainerCreating', retryAfterMs: 250 };
  let claim;
  try {
    claim = await client.get(RESOURCES.persistentvolumeclaims, at.claimName, { namespace: at.namespace });
  } catch (err) {
    if (isNotFound(err))
      throw new VolumeError(`error processing ${what}: persistentvolumeclaim "${at.claimName}" not found`, notReady);
    throw err;
  }
  const volumeName = claim.spec?.volumeName;
  if (!volumeName || claim.status?.phase !== 'Bound')
    throw new VolumeError(`error processing ${what}: PVC is not bound`, notReady);
  let volume;
  try {
    volume = await client.get(RESOURCES.persistentvolumes, volumeName);
  } catch (err) {
    if (isNotFound(err))
      throw new VolumeError(`error processing ${what}: persistentvolume "${volumeName}" not found`, notReady);
    throw err;
  }
  const hostPath = volume.spec?.hostPath;
  if (hostPath !== undefined) {
    if (!hostPath.path.startsWith('/'))
      throw new VolumeError(`persistentvolume "${volumeName}": hostPath is not absolute`);
    // A volume's folder is writable by any user the pod runs as (k3s' local-path does the same).
    return hostPathFolder(hostPath.path, hostPath.type, { worldWritable: true });
  }
  const local = volume.spec?.local;
  if (local !== undefined) {
    if (!local.path.startsWith('/') || !existsSync(local.path))
      throw new VolumeError(`persistentvolume "${volumeName}": local path ${local.path} does not exist`);
    return local.path;
  }
  throw new VolumeError(
    `persistentvolume "${volumeName}" has a type Coxswain does not mount (hostPath and local are supported)`,
  );
}

export function podDir(rootDir: string, uid: string): string {
  return join(rootDir, 'pods', uid);
}

/**
 * Projects key files into dir the way the kubelet's atomic writer does: the mounted folder
 * itself never changes (a bind mount keeps pointing at it); inside it, a timestamped folder
 * holds the files, `..data` links to it, and each key links through `..data`. An update
 * writes a new folder and swaps the `..data` link atomically.
 */
export function project(dir: string, files: Record<string, Buffer>, mode: number): void {
  mkdirSync(dir, { recursive: true });
  const fingerprint = createHash('sha256');
  for (const [path, content] of Object.entries(files).sort(([a], [b]) => a.localeCompare(b)))
    fingerprint.update(path).update('\0').update(content).update(String(mode));
  const version = `..${fingerprint.digest('hex').slice(0, 16)}`;
  const dataLink = join(dir, '..data');
  let current: string | undefined;
  try {
    current = readlinkSync(dataLink);
  } catch {
    current = undefined;
  }
  if (current !== version) {
    const target = join(dir, version);
    rmSync(target, { recursive: true, force: true });
    mkdirSync(target, { recursive: true });
    for (const [path, content] of Object.entries(files)) {
      const file = join(target, path);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, content);
      chmodSync(file, mode);
    }
    const tmpLink = join(dir, '..data_tmp');
    rmSync(tmpLink, { force: true });
    symlinkSync(version, tmpLink);
    renameSync(tmpLink, dataLink);
    if (current !== undefined && current !== version) rmSync(join(dir, current), { recursive: true, force: true });
  }
  const top = new Set(Object.keys(files).map((p) => p.split('/')[0] ?? p));
  for (const name of top) {
    const link = join(dir, name);
    let present = true;
    try {
      lstatSync(link);
    } catch {
      present = false;
    }
    if (!present) symlinkSync(join('..data', name), link);
  }
  for (const entry of readdirSync(dir)) {
    if (entry.startsWith('..') || top.has(entry)) continue;
    rmSync(join(dir, entry), { recursive: true, force: true });
  }
}

function select(data: Record<string, Buffer>, items: KeyToPath[] | undefined, what: string): Record<string, Buffer> {
  if (items === undefined || items.length === 0) return data;
  const out: Record<string, Buffer> = {};
  for (const item of items) {
    const v = data[item.key];
    if (v === undefined) throw new VolumeError(`${what} has no key "${item.key}"`);
    out[item.path] = v;
  }
  return out;
}

/** Where volume contents come from: the API's objects, and tokens for projected ServiceAccount sources. */
export interface VolumeSources {
  rootDir: string;
  tokens?: Pick<PodTokens, 'token'>;
}

async function configMapFiles(
  client: ObjectReader,
  at: { namespace: string; name: string; optional: boolean | undefined },
): Promise<Record<string, Buffer>> {
  const data: Record<string, Buffer> = {};
  try {
    const cm = await client.get(RESOURCES.configmaps, at.name, { namespace: at.namespace });
    for (const [k, val] of Object.entries(cm.data ?? {})) data[k] = Buffer.from(val, 'utf8');
    for (const [k, val] of Object.entries(cm.binaryData ?? {})) data[k] = Buffer.from(val, 'base64');
  } catch (err) {
    if (!isNotFound(err) || at.optional !== true) throw new VolumeError(`configmap "${at.name}" not found`);
  }
  return data;
}

async function secretFiles(
  client: ObjectReader,
  at: { namespace: string; name: string; optional: boolean | undefined },
): Promise<Record<string, Buffer>> {
  const data: Record<string, Buffer> = {};
  try {
    const secret = await client.get(RESOURCES.secrets, at.name, { namespace: at.namespace });
    for (const [k, val] of Object.entries(secret.data ?? {})) data[k] = Buffer.from(val, 'base64');
  } catch (err) {
    if (!isNotFound(err) || at.optional !== true) throw new VolumeError(`secret "${at.name}" not found`);
  }
  return data;
}

/** `key="value"` lines, sorted, as the kubelet writes labels and annotations. */
function keyValues(map: Record<string, string> | undefined): string {
  return Object.entries(map ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join('\n');
}

function downwardFiles(pod: Pod, items: DownwardAPIVolumeFile[] | undefined): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const item of items ?? []) {
    const resource = item.resourceFieldRef;
    if (resource !== undefined) {
      const container = (pod.spec?.containers ?? []).find((c) => c.name === resource.containerName);
      if (container === undefined)
        throw new VolumeError(
          `downward API resource of container "${resource.containerName ?? ''}": no such container`,
        );
      out[item.path] = Buffer.from(resourceFieldValue(container, resource), 'utf8');
      continue;
    }
    const field = item.fieldRef?.fieldPath;
    if (field === undefined) continue;
    const fields: Record<string, string | undefined> = {
      'metadata.name': pod.metadata.name,
      'metadata.namespace': pod.metadata.namespace,
      'metadata.uid': pod.metadata.uid,
      'metadata.labels': keyValues(pod.metadata.labels),
      'metadata.annotations': keyValues(pod.metadata.annotations),
      'spec.nodeName': pod.spec?.nodeName,
      'spec.serviceAccountName': pod.spec?.serviceAccountName,
    };
    if (!(field in fields)) throw new VolumeError(`downward API field "${field}" is not supported`);
    out[item.path] = Buffer.from(fields[field] ?? '', 'utf8');
  }
  return out;
}

async function projectedFiles(
  pod: Pod,
  sources: VolumeProjection[],
  from: { client: ObjectReader; tokens: VolumeSources['tokens'] },
): Promise<Record<string, Buffer>> {
  const namespace = pod.metadata.namespace ?? 'default';
  let files: Record<string, Buffer> = {};
  for (const src of sources) {
    if (src.configMap) {
      const at = { namespace, name: src.configMap.name ?? '', optional: src.configMap.optional };
      files = {
        ...files,
        ...select(await configMapFiles(from.client, at), src.configMap.items, `configmap "${at.name}"`),
      };
    } else if (src.secret) {
      const at = { namespace, name: src.secret.name ?? '', optional: src.secret.optional };
      files = { ...files, ...select(await secretFiles(from.client, at), src.secret.items, `secret "${at.name}"`) };
    } else if (src.downwardAPI) {
      files = { ...files, ...downwardFiles(pod, src.downwardAPI.items) };
    } else if (src.serviceAccountToken) {
      if (from.tokens === undefined) throw new VolumeError('ServiceAccount tokens are not available on this node');
      const { audience, expirationSeconds, path } = src.serviceAccountToken;
      const held = await from.tokens.token(pod, {
        ...(audience === undefined ? {} : { audience }),
        ...(expirationSeconds === undefined ? {} : { expirationSeconds }),
      });
      files[path] = Buffer.from(held.token, 'utf8');
    }
  }
  return files;
}

/** Host paths of the pod's volumes by name. */
export async function prepareVolumes(
  pod: Pod,
  client: ObjectReader,
  { rootDir, tokens }: VolumeSources,
): Promise<Map<string, string>> {
  const uid = pod.metadata.uid ?? '';
  const namespace = pod.metadata.namespace ?? 'default';
  const base = join(podDir(rootDir, uid), 'volumes');
  const out = new Map<string, string>();
  const fsGroup = pod.spec?.securityContext?.fsGroup;
  for (const v of pod.spec?.volumes ?? []) {
    const name = v.name;
    const dir = join(base, name);
    if (v.emptyDir) {
      mkdirSync(dir, { recursive: true, mode: 0o777 });
      chmodSync(dir, 0o777);
      // Empty when first made; what the pod writes later inherits the group (setgid).
      if (fsGroup !== undefined) setVolumeOwnership(dir, { fsGroup, readOnly: false, onRootMismatch: true });
      out.set(name, dir);
      continue;
    } else if (v.hostPath) {
      out.set(name, hostPathFolder(v.hostPath.path, v.hostPath.type));
      continue;
    } else if (v.persistentVolumeClaim) {
      out.set(name, await claimPath(client, { namespace, claimName: v.persistentVolumeClaim.claimName }));
      continue;
    } else if (v.configMap) {
      const src = v.configMap;
      const at = { namespace, name: src.name ?? '', optional: src.optional };
      project(
        dir,
        select(await configMapFiles(client, at), src.items, `configmap "${at.name}"`),
        src.defaultMode ?? 0o644,
      );
      out.set(name, dir);
    } else if (v.secret) {
      const src = v.secret;
      const at = { namespace, name: src.secretName ?? '', optional: src.optional };
      project(dir, select(await secretFiles(client, at), src.items, `secret "${at.name}"`), src.defaultMode ?? 0o644);
      out.set(name, dir);
    } else if (v.downwardAPI) {
      project(dir, downwardFiles(pod, v.downwardAPI.items), v.downwardAPI.defaultMode ?? 0o644);
      out.set(name, dir);
    } else if (v.projected) {
      const files = await projectedFiles(pod, v.projected.sources ?? [], { client, tokens });
      project(dir, files, v.projected.defaultMode ?? 0o644);
      out.set(name, dir);
    } else {
      throw new VolumeError(
        `volume "${name}" has a type Coxswain does not support (emptyDir, hostPath, persistentVolumeClaim, configMap, secret, downwardAPI and projected are supported)`,
      );
    }
    // The projected kinds (configMap, secret, downwardAPI, projected) are read-only.
    if (fsGroup !== undefined) setVolumeOwnership(dir, { fsGroup, readOnly: true });
  }
  return out;
}

export function removePodDir(rootDir: string, uid: string): void {
  rmSync(podDir(rootDir, uid), { recursive: true, force: true });
}

/** Pod folders on disk (to clean up those of pods that are gone). */
export function podDirs(rootDir: string): string[] {
  try {
    return readdirSync(join(rootDir, 'pods'));
  } catch {
    return [];
  }
}
