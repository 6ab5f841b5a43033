// Pod volumes on the host: emptyDir folders shared by the pod's containers, hostPath as
// given, configMap and secret projected into files (refreshed on every sync).

import { mkdirSync, readdirSync, rmSync, writeFileSync, chmodSync, existsSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isObject, type KubeObject } from '../api/meta.js';
import { findByPlural, type ResourceInfo } from '../api/registry.js';
import type { RestClient } from '../client/index.js';
import { isNotFound } from '../errors/index.js';

export class VolumeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VolumeError';
  }
}

function resource(plural: string): ResourceInfo {
  const r = findByPlural('', 'v1', plural);
  if (r === undefined) throw new Error(`registry lacks ${plural}`);
  return r;
}

export function podDir(rootDir: string, uid: string): string {
  return join(rootDir, 'pods', uid);
}

interface KeyToPath {
  key: string;
  path: string;
  mode?: number;
}

/** Writes key files into dir atomically (a new folder swapped in). */
function project(dir: string, files: Record<string, Buffer>, mode: number): void {
  const next = `${dir}.next`;
  rmSync(next, { recursive: true, force: true });
  mkdirSync(next, { recursive: true });
  for (const [path, content] of Object.entries(files)) {
    const file = join(next, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
    chmodSync(file, mode);
  }
  rmSync(dir, { recursive: true, force: true });
  renameSync(next, dir);
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
export async function prepareVolumes(pod: KubeObject, client: RestClient, rootDir: string): Promise<Map<string, string>> {
  const uid = pod.metadata.uid ?? '';
  const namespace = pod.metadata.namespace ?? 'default';
  const base = join(podDir(rootDir, uid), 'volumes');
  const out = new Map<string, string>();
  const volumes = ((pod['spec'] as { volumes?: unknown[] } | undefined)?.volumes ?? []).filter(isObject);
  for (const v of volumes) {
    const name = String(v['name'] ?? '');
    const dir = join(base, name);
    if (isObject(v['emptyDir'])) {
      mkdirSync(dir, { recursive: true, mode: 0o777 });
      chmodSync(dir, 0o777);
      out.set(name, dir);
    } else if (isObject(v['hostPath'])) {
      const path = String(v['hostPath']['path'] ?? '');
      const type = String(v['hostPath']['type'] ?? '');
      if (type === 'DirectoryOrCreate') mkdirSync(path, { recursive: true });
      else if (type === 'Directory' && !existsSync(path)) throw new VolumeError(`hostPath type check failed: ${path} is not a directory`);
      out.set(name, path);
    } else if (isObject(v['configMap'])) {
      const src = v['configMap'];
      const cmName = String(src['name'] ?? '');
      let data: Record<string, Buffer> = {};
      try {
        const cm = await client.get(resource('configmaps'), cmName, { namespace });
        for (const [k, val] of Object.entries((cm['data'] ?? {}) as Record<string, string>)) data[k] = Buffer.from(val, 'utf8');
        for (const [k, val] of Object.entries((cm['binaryData'] ?? {}) as Record<string, string>)) data[k] = Buffer.from(val, 'base64');
      } catch (err) {
        if (!isNotFound(err) || src['optional'] !== true) throw new VolumeError(`configmap "${cmName}" not found`);
      }
      data = select(data, src['items'] as KeyToPath[] | undefined, `configmap "${cmName}"`);
      project(dir, data, typeof src['defaultMode'] === 'number' ? src['defaultMode'] : 0o644);
      out.set(name, dir);
    } else if (isObject(v['secret'])) {
      const src = v['secret'];
      const secretName = String(src['secretName'] ?? '');
      let data: Record<string, Buffer> = {};
      try {
        const secret = await client.get(resource('secrets'), secretName, { namespace });
        for (const [k, val] of Object.entries((secret['data'] ?? {}) as Record<string, string>)) data[k] = Buffer.from(val, 'base64');
      } catch (err) {
        if (!isNotFound(err) || src['optional'] !== true) throw new VolumeError(`secret "${secretName}" not found`);
      }
      data = select(data, src['items'] as KeyToPath[] | undefined, `secret "${secretName}"`);
      project(dir, data, typeof src['defaultMode'] === 'number' ? src['defaultMode'] : 0o644);
      out.set(name, dir);
    } else {
      throw new VolumeError(`volume "${name}" has a type Coxswain does not support (emptyDir, hostPath, configMap and secret are supported)`);
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
