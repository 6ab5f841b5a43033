// The pod as the Pod Security checks see it: one typed view built from a PodSpec and its
// metadata. Fields pkg/api/types models are read as typed; the ones it lacks (ephemeral
// containers, seccomp/AppArmor/SELinux/Windows options, procMount, hostUsers, os,
// runtimeClassName, the volume sources beyond the common ones) are read through guards,
// so a malformed value counts as unset instead of crashing admission.

import { isObject } from '../../api/index.js';
import type {
  Container,
  ObjectMeta,
  PodSecurityContext,
  PodSpec,
  Probe,
  LifecycleHandler,
  SecurityContext,
} from '../../api/index.js';

/** A seccomp or AppArmor profile: only its type matters to the checks. */
export interface ProfileView {
  type: string;
}

export interface SELinuxView {
  user: string;
  role: string;
  type: string;
}

/** The security settings both pod and container levels can carry. */
export interface SharedSecurityView {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  seccompProfile?: ProfileView;
  appArmorProfile?: ProfileView;
  seLinuxOptions?: SELinuxView;
  windowsHostProcess?: boolean;
}

export interface ContainerSecurityView extends SharedSecurityView {
  privileged?: boolean;
  allowPrivilegeEscalation?: boolean;
  /** Absent when `capabilities` is unset (restricted treats that as "no drop ALL"). */
  capabilities?: { add: string[]; drop: string[] };
  procMount?: string;
}

export interface PodSecurityView extends SharedSecurityView {
  sysctlNames: string[];
}

/** Where a probe or lifecycle handler names a host. */
export interface HandlerHost {
  field: string;
  host: string;
}

export interface ContainerView {
  name: string;
  /** Field path of the container inside the pod: `spec.initContainers[0]`. */
  path: string;
  image: string;
  securityContext?: ContainerSecurityView;
  hostPorts: { field: string; port: number }[];
  handlerHosts: HandlerHost[];
}

export interface VolumeView {
  name: string;
  /** The volume source fields that are set: `hostPath`, `nfs`, … */
  sources: string[];
}

export interface PodView {
  annotations: Record<string, string>;
  hostNetwork: boolean;
  hostPID: boolean;
  hostIPC: boolean;
  /** `false` puts the pod in a user namespace, which relaxes some checks. */
  hostUsers?: boolean;
  osName?: string;
  runtimeClassName?: string;
  securityContext?: PodSecurityView;
  volumes: VolumeView[];
  /** Init containers, then containers, then ephemeral containers: Kubernetes' visiting order. */
  containers: ContainerView[];
}

// ---- guards -------------------------------------------------------------------------------

function fieldOf(value: unknown, key: string): unknown {
  return isObject(value) ? value[key] : undefined;
}

function stringOr(value: unknown, fallback: string): string {
  return typeof value === 'string' ? value : fallback;
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function optionalBoolean(value: unknown): boolean | undefined {
  return typeof value === 'boolean' ? value : undefined;
}

function optionalNumber(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined;
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

/** An ephemeral container has a Container's shape (EphemeralContainerCommon). */
function isContainer(value: unknown): value is Container {
  return isObject(value) && typeof value.name === 'string';
}

function profileOf(value: unknown): ProfileView | undefined {
  // Kubernetes compares the type even when it is empty, so a profile object without one counts.
  return isObject(value) ? { type: stringOr(value.type, '') } : undefined;
}

function seLinuxOf(value: unknown): SELinuxView | undefined {
  if (!isObject(value)) return undefined;
  return { user: stringOr(value.user, ''), role: stringOr(value.role, ''), type: stringOr(value.type, '') };
}

function sharedSecurityOf(context: SecurityContext | PodSecurityContext): SharedSecurityView {
  const raw: unknown = context;
  return {
    runAsNonRoot: optionalBoolean(context.runAsNonRoot),
    runAsUser: optionalNumber(context.runAsUser),
    seccompProfile: profileOf(fieldOf(raw, 'seccompProfile')),
    appArmorProfile: profileOf(fieldOf(raw, 'appArmorProfile')),
    seLinuxOptions: seLinuxOf(fieldOf(raw, 'seLinuxOptions')),
    windowsHostProcess: optionalBoolean(fieldOf(fieldOf(raw, 'windowsOptions'), 'hostProcess')),
  };
}

function containerSecurityOf(context: SecurityContext | undefined): ContainerSecurityView | undefined {
  if (!isObject(context)) return undefined;
  const raw: unknown = context;
  const capabilities = isObject(context.capabilities)
    ? { add: stringList(context.capabilities.add), drop: stringList(context.capabilities.drop) }
    : undefined;
  return {
    ...sharedSecurityOf(context),
    privileged: optionalBoolean(context.privileged),
    allowPrivilegeEscalation: optionalBoolean(context.allowPrivilegeEscalation),
    capabilities,
    procMount: optionalString(fieldOf(raw, 'procMount')),
  };
}

function podSecurityOf(context: PodSecurityContext | undefined): PodSecurityView | undefined {
  if (!isObject(context)) return undefined;
  const sysctls: unknown = context.sysctls;
  const sysctlNames = Array.isArray(sysctls) ? sysctls.map((sysctl) => stringOr(fieldOf(sysctl, 'name'), '')) : [];
  return { ...sharedSecurityOf(context), sysctlNames };
}

function handlerHosts(container: Container, path: string): HandlerHost[] {
  const handlers: [string, Probe | LifecycleHandler | undefined][] = [
    ['livenessProbe', container.livenessProbe],
    ['readinessProbe', container.readinessProbe],
    ['startupProbe', container.startupProbe],
    ['lifecycle.postStart', container.lifecycle?.postStart],
    ['lifecycle.preStop', container.lifecycle?.preStop],
  ];
  const hosts: HandlerHost[] = [];
  for (const [name, handler] of handlers) {
    for (const action of ['httpGet', 'tcpSocket'] as const) {
      const host = optionalString(fieldOf(handler?.[action], 'host'));
      if (host) hosts.push({ field: `${path}.${name}.${action}.host`, host });
    }
  }
  return hosts;
}

function containerView(container: Container, path: string): ContainerView {
  const ports: unknown = container.ports;
  const hostPorts: ContainerView['hostPorts'] = [];
  if (Array.isArray(ports)) {
    ports.forEach((port: unknown, index) => {
      const hostPort = optionalNumber(fieldOf(port, 'hostPort'));
      if (hostPort !== undefined && hostPort !== 0) {
        hostPorts.push({ field: `${path}.ports[${index}].hostPort`, port: hostPort });
      }
    });
  }
  return {
    name: stringOr(container.name, ''),
    path,
    image: stringOr(container.image, ''),
    securityContext: containerSecurityOf(container.securityContext),
    hostPorts,
    handlerHosts: handlerHosts(container, path),
  };
}

function containerList(value: unknown, field: string): ContainerView[] {
  if (!Array.isArray(value)) return [];
  const views: ContainerView[] = [];
  value.forEach((item: unknown, index) => {
    if (isContainer(item)) views.push(containerView(item, `spec.${field}[${index}]`));
  });
  return views;
}

function volumeViews(spec: PodSpec): VolumeView[] {
  const volumes: unknown = spec.volumes;
  if (!Array.isArray(volumes)) return [];
  return volumes.filter(isObject).map((volume) => ({
    name: stringOr(volume.name, ''),
    sources: Object.keys(volume).filter((key) => key !== 'name' && volume[key] !== null && volume[key] !== undefined),
  }));
}

function stringMap(value: unknown): Record<string, string> {
  const map: Record<string, string> = {};
  if (isObject(value)) {
    for (const [key, entry] of Object.entries(value)) if (typeof entry === 'string') map[key] = entry;
  }
  return map;
}

/** Builds the checks' view of a pod (or a pod template) from its metadata and spec. */
export function podView(metadata: ObjectMeta | undefined, spec: PodSpec): PodView {
  const raw: unknown = spec;
  return {
    annotations: stringMap(metadata?.annotations),
    hostNetwork: spec.hostNetwork === true,
    hostPID: spec.hostPID === true,
    hostIPC: spec.hostIPC === true,
    hostUsers: optionalBoolean(fieldOf(raw, 'hostUsers')),
    osName: optionalString(fieldOf(fieldOf(raw, 'os'), 'name')),
    runtimeClassName: optionalString(fieldOf(raw, 'runtimeClassName')),
    securityContext: podSecurityOf(spec.securityContext),
    volumes: volumeViews(spec),
    containers: [
      ...containerList(spec.initContainers, 'initContainers'),
      ...containerList(spec.containers, 'containers'),
      ...containerList(fieldOf(raw, 'ephemeralContainers'), 'ephemeralContainers'),
    ],
  };
}
