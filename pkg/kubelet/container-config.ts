// A pod's container as the runtime's config: command, env, mounts (volumes, the pod's
// resolv.conf), limits. Pure: the resolved env, the volumes' host paths and the resolv.conf
// path come in the context.

import { isObject, type KubeObject } from '../api/meta.js';
import { parseQuantity } from '../api/quantity.js';
import { str } from './pod-actions.js';
import type { ContainerSpec, Mount } from './runtime/index.js';

type Obj = Record<string, unknown>;

export interface ContainerContext {
  /** The resolved environment, NAME=value. */
  env: string[];
  /** Host paths of the pod's volumes by name. */
  volumes: Map<string, string>;
  /** The pod's resolv.conf on the host (undefined: the runtime's default). */
  resolvConf: string | undefined;
}

function isConfigVolume(pod: KubeObject, name: string): boolean {
  const volumes = ((pod['spec'] ?? {}) as Obj)['volumes'];
  const v = (Array.isArray(volumes) ? volumes : []).filter(isObject).find((x) => x['name'] === name);
  return v !== undefined && (v['configMap'] !== undefined || v['secret'] !== undefined);
}

export function containerMounts(pod: KubeObject, c: Obj, context: ContainerContext): Mount[] {
  const mounts: Mount[] = [];
  for (const m of (Array.isArray(c['volumeMounts']) ? c['volumeMounts'] : []).filter(isObject)) {
    const host = context.volumes.get(str(m['name']));
    if (host === undefined) continue;
    mounts.push({
      hostPath: str(m['subPath']) ? `${host}/${str(m['subPath'])}` : host,
      containerPath: str(m['mountPath']),
      readOnly: m['readOnly'] === true || isConfigVolume(pod, str(m['name'])),
    });
  }
  const resolv = context.resolvConf;
  if (resolv !== undefined && !mounts.some((m) => m.containerPath === '/etc/resolv.conf'))
    mounts.push({ hostPath: resolv, containerPath: '/etc/resolv.conf', readOnly: true });
  return mounts;
}

export function containerConfig(pod: KubeObject, c: Obj, context: ContainerContext): ContainerSpec {
  const resources = isObject(c['resources']) ? c['resources'] : {};
  const limits = isObject(resources['limits']) ? resources['limits'] : {};
  const requests = isObject(resources['requests']) ? resources['requests'] : {};
  return {
    image: str(c['image']),
    ...(Array.isArray(c['command']) ? { command: c['command'].map(String) } : {}),
    ...(Array.isArray(c['args']) ? { args: c['args'].map(String) } : {}),
    env: context.env,
    ...(str(c['workingDir']) ? { workingDir: str(c['workingDir']) } : {}),
    mounts: containerMounts(pod, c, context),
    ...(limits['memory'] !== undefined ? { memoryLimitBytes: Math.floor(parseQuantity(limits['memory'])) } : {}),
    ...(limits['cpu'] !== undefined ? { nanoCpus: Math.floor(parseQuantity(limits['cpu']) * 1e9) } : {}),
    ...(requests['cpu'] !== undefined
      ? { cpuShares: Math.max(2, Math.floor(parseQuantity(requests['cpu']) * 1024)) }
      : {}),
    tty: c['tty'] === true,
    stdin: c['stdin'] === true,
  };
}
