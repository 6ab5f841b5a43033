// Pod volumes on the host: emptyDir folders shared by the pod's containers, hostPath as
// given, configMap and secret projected into files (refreshed on every sync).

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
import type { KeyToPath, Pod } from '../api/types/index.js';
import type { ObjectReader } from './pod-api.js';
import { isNotFound } from '../errors/index.js';

export class VolumeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VolumeError';
  }
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

/** Host paths of the pod's volumes by name. */
export async function prepareVolumes(pod: Pod, client: ObjectReader, rootDir: string): Promise<Map<string, string>> {
  const uid = pod.metadata.uid ?? '';
  const namespace = pod.metadata.namespace ?? 'default';
  const base = join(podDir(rootDir, uid), 'volumes');
  const out = new Map<string, string>();
  for (const v of pod.spec?.volumes ?? []) {
    const name = v.name;
    const dir = join(base, name);
    if (v.emptyDir) {
      mkdirSync(dir, { recursive: true, mode: 0o777 });
      chmodSync(dir, 0o777);
      out.set(name, dir);
    } else if (v.hostPath) {
      const path = v.hostPath.path;
      const type = v.hostPath.type ?? '';
      if (type === 'DirectoryOrCreate') mkdirSync(path, { recursive: true });
      else if (type === 'Directory' && !existsSync(path))
        throw new VolumeError(`hostPath type check failed: ${path} is not a directory`);
      out.set(name, path);
    } else if (v.configMap) {
      const src = v.configMap;
      const cmName = src.name ?? '';
      let data: Record<string, Buffer> = {};
      try {
        const cm = await client.get(RESOURCES.configmaps, cmName, { namespace });
        for (const [k, val] of Object.entries(cm.data ?? {})) data[k] = Buffer.from(val, 'utf8');
        for (const [k, val] of Object.entries(cm.binaryData ?? {})) data[k] = Buffer.from(val, 'base64');
      } catch (err) {
        if (!isNotFound(err) || src.optional !== true) throw new VolumeError(`configmap "${cmName}" not found`);
      }
      data = select(data, src.items, `configmap "${cmName}"`);
      project(dir, data, src.defaultMode ?? 0o644);
      out.set(name, dir);
    } else if (v.secret) {
      const src = v.secret;
      const secretName = src.secretName ?? '';
      let data: Record<string, Buffer> = {};
      try {
        const secret = await client.get(RESOURCES.secrets, secretName, { namespace });
        for (const [k, val] of Object.entries(secret.data ?? {})) data[k] = Buffer.from(val, 'base64');
      } catch (err) {
        if (!isNotFound(err) || src.optional !== true) throw new VolumeError(`secret "${secretName}" not found`);
      }
      data = select(data, src.items, `secret "${secretName}"`);
      project(dir, data, src.defaultMode ?? 0o644);
      out.set(name, dir);
    } else {
      throw new VolumeError(
        `volume "${name}" has a type Coxswain does not support (emptyDir, hostPath, configMap and secret are supported)`,
      );
    }
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
