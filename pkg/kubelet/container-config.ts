// A pod's container as the runtime's config: command, env, mounts (volumes, the pod's
// resolv.conf), limits, security settings (the container's securityContext over the pod's).
// Pure: the resolved env, the volumes' host paths and the resolv.conf
// path come in the context.

import { parseQuantity } from '../api/quantity.js';
import type { Container, Pod } from '../api/types/index.js';
import type { ContainerSecurity, ContainerSpec, Mount } from './runtime/index.js';

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

/** The annotation AppArmor profiles were set with before the appArmorProfile field. */
const APPARMOR_ANNOTATION_PREFIX = 'container.apparmor.security.beta.kubernetes.io/';

function appArmorType(pod: Pod, c: Container): string | undefined {
  const field = (c.securityContext?.appArmorProfile ?? pod.spec?.securityContext?.appArmorProfile)?.type;
  if (field !== undefined) return field;
  const annotation = pod.metadata.annotations?.[`${APPARMOR_ANNOTATION_PREFIX}${c.name}`];
  return annotation === 'unconfined' ? 'Unconfined' : undefined;
}

/**
 * The effective security settings of a container: its securityContext, with the pod's
 * runAsUser/runAsGroup/runAsNonRoot/seccomp/AppArmor as defaults, the pod's groups, and the
 * pod's host namespaces (each container here has its own PID namespace, so hostPID and
 * hostIPC are applied to every container, not only to the sandbox). Only what is set appears.
 */
export function containerSecurity(pod: Pod, c: Container): ContainerSecurity {
  const podContext = pod.spec?.securityContext ?? {};
  const context = c.securityContext ?? {};
  const security: ContainerSecurity = {};
  if (context.privileged === true) security.privileged = true;
  if (pod.spec?.hostPID === true) security.hostPID = true;
  else if (pod.spec?.shareProcessNamespace === true) security.sharePodPID = true;
  if (pod.spec?.hostIPC === true) security.hostIPC = true;
  const add = context.capabilities?.add ?? [];
  const drop = context.capabilities?.drop ?? [];
  if (add.length > 0) security.capAdd = [...add];
  if (drop.length > 0) security.capDrop = [...drop];
  const runAsUser = context.runAsUser ?? podContext.runAsUser;
  const runAsGroup = context.runAsGroup ?? podContext.runAsGroup;
  const runAsNonRoot = context.runAsNonRoot ?? podContext.runAsNonRoot;
  if (runAsUser !== undefined) security.runAsUser = runAsUser;
  if (runAsGroup !== undefined) security.runAsGroup = runAsGroup;
  if (runAsNonRoot === true) security.runAsNonRoot = true;
  // fsGroup is also a supplementary group of every process of the pod.
  const groups = [
    ...(podContext.supplementalGroups ?? []),
    ...(podContext.fsGroup !== undefined ? [podContext.fsGroup] : []),
  ];
  if (groups.length > 0) security.supplementalGroups = [...new Set(groups)];
  if (context.readOnlyRootFilesystem === true) security.readOnlyRootFilesystem = true;
  if (context.allowPrivilegeEscalation === false) security.noNewPrivileges = true;
  if ((context.seccompProfile ?? podContext.seccompProfile)?.type === 'Unconfined') security.seccompUnconfined = true;
  if (appArmorType(pod, c) === 'Unconfined') security.appArmorUnconfined = true;
  return security;
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
    stdinOnce: c.stdinOnce === true,
    security: containerSecurity(pod, c),
  };
}
