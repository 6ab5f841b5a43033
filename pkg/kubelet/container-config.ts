// A pod's container as the runtime's config: command, env, mounts (volumes, the pod's
// resolv.conf), limits. Pure: the resolved env, the volumes' host paths and the resolv.conf
// path come in the context.

import { parseQuantity } from '../api/quantity.js';
import type { Container, Pod } from '../api/types/index.js';
import type { ContainerSpec, Mount } from './runtime/index.js';

export interface ContainerContext {
  /** The resolved environment, NAME=value. */
  env: string[];
  /** Host paths of the pod's volumes by name. */
  volumes: Map<string, string>;
  /** The pod's resolv.conf on the host (undefined: the runtime's default). */
  resolvConf: string | undefined;
}

function isConfigVolume(pod: Pod, name: string): boolean {
  const v = pod.spec?.volumes?.find((x) => x.name === name);
  return v !== undefined && (v.configMap !== undefined || v.secret !== undefined);
}

export function containerMounts(pod: Pod, c: Container, context: ContainerContext): Mount[] {
  const mounts: Mount[] = [];
  for (const m of c.volumeMounts ?? []) {
    const host = context.volumes.get(m.name);
    if (host === undefined) continue;
    mounts.push({
      hostPath: m.subPath ? `${host}/${m.subPath}` : host,
      containerPath: m.mountPath,
      readOnly: m.readOnly === true || isConfigVolume(pod, m.name),
    });
  }
  const resolv = context.resolvConf;
  if (resolv !== undefined && !mounts.some((m) => m.containerPath === '/etc/resolv.conf'))
    mounts.push({ hostPath: resolv, containerPath: '/etc/resolv.conf', readOnly: true });
  return mounts;
}

export function containerConfig(pod: Pod, c: Container, context: ContainerContext): ContainerSpec {
  const limits = c.resources?.limits ?? {};
  const requests = c.resources?.requests ?? {};
  return {
    image: c.image ?? '',
    ...(c.command ? { command: [...c.command] } : {}),
    ...(c.args ? { args: [...c.args] } : {}),
    env: context.env,
    ...(c.workingDir ? { workingDir: c.workingDir } : {}),
    mounts: containerMounts(pod, c, context),
    ...(limits['memory'] !== undefined ? { memoryLimitBytes: Math.floor(parseQuantity(limits['memory'])) } : {}),
    ...(limits['cpu'] !== undefined ? { nanoCpus: Math.floor(parseQuantity(limits['cpu']) * 1e9) } : {}),
    ...(requests['cpu'] !== undefined
      ? { cpuShares: Math.max(2, Math.floor(parseQuantity(requests['cpu']) * 1024)) }
      : {}),
    tty: c.tty === true,
    stdin: c.stdin === true,
  };
}
