// The baseline Pod Security Standard at policy version "latest": what stops known privilege
// escalations while keeping ordinary pods working. Reasons and details follow
// k8s.io/pod-security-admission/policy word for word.

import {
  type Check,
  type Violation,
  containerNames,
  goQuote,
  joinQuote,
  pluralize,
  setters,
  sortedSet,
} from './check-types.js';
import type { ContainerView, PodView, ProfileView, SELinuxView } from './pod-view.js';

const BASELINE_CAPABILITIES = new Set([
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
]);

/** Namespaced sysctls isolated from other pods (the newest policy version's list). */
export const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
  'net.ipv4.tcp_rmem',
  'net.ipv4.tcp_wmem',
  'net.ipv4.tcp_slow_start_after_idle',
  'net.ipv4.tcp_notsent_lowat',
]);

const SELINUX_TYPES = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']);
const APPARMOR_ANNOTATION_PREFIX = 'container.apparmor.security.beta.kubernetes.io/';

/** Seccomp and AppArmor profile types that keep the runtime's confinement. */
export function confiningProfile(profile: ProfileView): boolean {
  return profile.type === 'RuntimeDefault' || profile.type === 'Localhost';
}

/** Pods with `hostUsers: false` run in a user namespace; some checks relax for them. */
export function inUserNamespace(pod: PodView): boolean {
  return pod.hostUsers === false;
}

const windowsHostProcess: Check = {
  id: 'windowsHostProcess',
  level: 'baseline',
  evaluate(pod) {
    const podSetsIt = pod.securityContext?.windowsHostProcess === true;
    const bad = pod.containers.filter((c) => c.securityContext?.windowsHostProcess === true);
    if (!podSetsIt && bad.length === 0) return undefined;
    const fields = bad.map((c) => `${c.path}.securityContext.windowsOptions.hostProcess`);
    if (podSetsIt) fields.unshift('spec.securityContext.windowsOptions.hostProcess');
    return {
      reason: 'hostProcess',
      detail: `${setters(podSetsIt, bad)} must not set securityContext.windowsOptions.hostProcess=true`,
      fields,
    };
  },
};

const hostNamespaces: Check = {
  id: 'hostNamespaces',
  level: 'baseline',
  evaluate(pod) {
    const set = (['hostNetwork', 'hostPID', 'hostIPC'] as const).filter((field) => pod[field]);
    if (set.length === 0) return undefined;
    return {
      reason: 'host namespaces',
      detail: set.map((field) => `${field}=true`).join(', '),
      fields: set.map((field) => `spec.${field}`),
    };
  },
};

const privileged: Check = {
  id: 'privileged',
  level: 'baseline',
  evaluate(pod) {
    const bad = pod.containers.filter((c) => c.securityContext?.privileged === true);
    if (bad.length === 0) return undefined;
    return {
      reason: 'privileged',
      detail: `${containerNames(bad)} must not set securityContext.privileged=true`,
      fields: bad.map((c) => `${c.path}.securityContext.privileged`),
    };
  },
};

const capabilitiesBaseline: Check = {
  id: 'capabilities_baseline',
  level: 'baseline',
  evaluate(pod) {
    const added: string[] = [];
    const fields: string[] = [];
    const bad = pod.containers.filter((c) => {
      const extra = (c.securityContext?.capabilities?.add ?? []).filter((cap) => !BASELINE_CAPABILITIES.has(cap));
      added.push(...extra);
      if (extra.length > 0) fields.push(`${c.path}.securityContext.capabilities.add`);
      return extra.length > 0;
    });
    if (bad.length === 0) return undefined;
    return {
      reason: 'non-default capabilities',
      detail: `${containerNames(bad)} must not include ${joinQuote(sortedSet(added))} in securityContext.capabilities.add`,
      fields,
    };
  },
};

const hostPathVolumes: Check = {
  id: 'hostPathVolumes',
  level: 'baseline',
  evaluate(pod) {
    const indexed = pod.volumes.map((volume, index) => ({ volume, index }));
    const bad = indexed.filter(({ volume }) => volume.sources.includes('hostPath'));
    if (bad.length === 0) return undefined;
    const names = bad.map(({ volume }) => volume.name);
    return {
      reason: 'hostPath volumes',
      detail: `${pluralize('volume', 'volumes', names.length)} ${joinQuote(names)}`,
      fields: bad.map(({ index }) => `spec.volumes[${index}].hostPath`),
    };
  },
};

const hostPorts: Check = {
  id: 'hostPorts',
  level: 'baseline',
  evaluate(pod) {
    const bad = pod.containers.filter((c) => c.hostPorts.length > 0);
    if (bad.length === 0) return undefined;
    const ports = sortedSet(bad.flatMap((c) => c.hostPorts.map((p) => String(p.port))));
    return {
      reason: 'hostPort',
      detail: `${containerNames(bad)} ${pluralize('uses', 'use', bad.length)} ${pluralize('hostPort', 'hostPorts', ports.length)} ${ports.join(', ')}`,
      fields: bad.flatMap((c) => c.hostPorts.map((p) => p.field)),
    };
  },
};

const hostProbesAndHostLifecycle: Check = {
  id: 'hostProbesAndHostLifecycle',
  level: 'baseline',
  evaluate(pod) {
    const bad = pod.containers.filter((c) => c.handlerHosts.length > 0);
    if (bad.length === 0) return undefined;
    const names = sortedSet(bad.map((c) => c.name));
    const hosts = sortedSet(bad.flatMap((c) => c.handlerHosts.map((h) => h.host)));
    return {
      reason: 'probe or lifecycle host',
      detail: `${pluralize('container', 'containers', names.length)} ${joinQuote(names)} ${pluralize('uses', 'use', names.length)} ${pluralize('probe or lifecycle host', 'probe or lifecycle hosts', hosts.length)} ${joinQuote(hosts)}`,
      fields: bad.flatMap((c) => c.handlerHosts.map((h) => h.field)),
    };
  },
};

function appArmorViolation(pod: PodView): Violation | undefined {
  const values: string[] = [];
  const fields: string[] = [];
  const podProfile = pod.securityContext?.appArmorProfile;
  const podSetsIt = podProfile !== undefined && !confiningProfile(podProfile);
  if (podSetsIt) {
    values.push(podProfile.type);
    fields.push('spec.securityContext.appArmorProfile.type');
  }
  const bad = pod.containers.filter((c) => {
    const profile = c.securityContext?.appArmorProfile;
    if (profile === undefined || confiningProfile(profile)) return false;
    values.push(profile.type);
    fields.push(`${c.path}.securityContext.appArmorProfile.type`);
    return true;
  });
  const badValues = sortedSet(values);
  const who = podSetsIt || bad.length > 0 ? [setters(podSetsIt, bad)] : [];
  const annotations = Object.entries(pod.annotations)
    .filter(([key, value]) => key.startsWith(APPARMOR_ANNOTATION_PREFIX) && !allowedAppArmorAnnotation(value))
    .map(([key, value]) => ({ key, text: `${key}=${goQuote(value)}` }))
    .sort((a, b) => (a.text < b.text ? -1 : a.text > b.text ? 1 : 0));
  if (annotations.length > 0) {
    badValues.push(...annotations.map((a) => a.text));
    who.push(pluralize('annotation', 'annotations', annotations.length));
    fields.push(...annotations.map((a) => `metadata.annotations[${a.key}]`));
  }
  if (who.length === 0) return undefined;
  return {
    reason: pluralize('forbidden AppArmor profile', 'forbidden AppArmor profiles', badValues.length),
    detail: `${who.join(' and ')} must not set AppArmor profile type to ${joinQuote(badValues)}`,
    fields,
  };
}

function allowedAppArmorAnnotation(value: string): boolean {
  return value === '' || value === 'runtime/default' || value.startsWith('localhost/');
}

const appArmorProfile: Check = { id: 'appArmorProfile', level: 'baseline', evaluate: appArmorViolation };

function seLinuxViolation(pod: PodView): Violation | undefined {
  const badTypes: string[] = [];
  let setsUser = false;
  let setsRole = false;
  const fields: string[] = [];
  const valid = (options: SELinuxView | undefined, path: string): boolean => {
    if (options === undefined) return true;
    const typeOk = SELINUX_TYPES.has(options.type);
    if (!typeOk) badTypes.push(options.type);
    setsUser ||= options.user !== '';
    setsRole ||= options.role !== '';
    if (!typeOk || options.user !== '' || options.role !== '') fields.push(path);
    return typeOk && options.user === '' && options.role === '';
  };
  const podSetsIt = !valid(pod.securityContext?.seLinuxOptions, 'spec.securityContext.seLinuxOptions');
  const bad = pod.containers.filter(
    (c) => !valid(c.securityContext?.seLinuxOptions, `${c.path}.securityContext.seLinuxOptions`),
  );
  if (!podSetsIt && bad.length === 0) return undefined;
  const what: string[] = [];
  const types = sortedSet(badTypes);
  if (types.length > 0) what.push(`${pluralize('type', 'types', types.length)} ${joinQuote(types)}`);
  if (setsUser) what.push('user may not be set');
  if (setsRole) what.push('role may not be set');
  return {
    reason: 'seLinuxOptions',
    detail: `${setters(podSetsIt, bad)} set forbidden securityContext.seLinuxOptions: ${what.join('; ')}`,
    fields,
  };
}

const seLinuxOptions: Check = { id: 'seLinuxOptions', level: 'baseline', evaluate: seLinuxViolation };

/** Containers that ask for an unmasked /proc (anything but `Default`). */
export function procMountViolation(pod: PodView): Violation | undefined {
  const bad = pod.containers.filter((c) => (c.securityContext?.procMount ?? 'Default') !== 'Default');
  if (bad.length === 0) return undefined;
  const types = sortedSet(bad.map((c) => c.securityContext?.procMount ?? ''));
  return {
    reason: 'procMount',
    detail: `${containerNames(bad)} must not set securityContext.procMount to ${joinQuote(types)}`,
    fields: bad.map((c) => `${c.path}.securityContext.procMount`),
  };
}

const procMount: Check = {
  id: 'procMount',
  level: 'baseline',
  evaluate: (pod) => (inUserNamespace(pod) ? undefined : procMountViolation(pod)),
};

/** Pod and containers that explicitly set a seccomp profile other than RuntimeDefault/Localhost. */
export function explicitSeccompSetters(pod: PodView): {
  podSetsIt: boolean;
  containers: ContainerView[];
  values: string[];
  fields: string[];
} {
  const values: string[] = [];
  const fields: string[] = [];
  const podProfile = pod.securityContext?.seccompProfile;
  const podSetsIt = podProfile !== undefined && !confiningProfile(podProfile);
  if (podSetsIt) {
    values.push(podProfile.type);
    fields.push('spec.securityContext.seccompProfile.type');
  }
  const containers = pod.containers.filter((c) => {
    const profile = c.securityContext?.seccompProfile;
    if (profile === undefined || confiningProfile(profile)) return false;
    values.push(profile.type);
    fields.push(`${c.path}.securityContext.seccompProfile.type`);
    return true;
  });
  return { podSetsIt, containers, values: sortedSet(values), fields };
}

const seccompProfileBaseline: Check = {
  id: 'seccompProfile_baseline',
  level: 'baseline',
  evaluate(pod) {
    const bad = explicitSeccompSetters(pod);
    if (!bad.podSetsIt && bad.containers.length === 0) return undefined;
    return {
      reason: 'seccompProfile',
      detail: `${setters(bad.podSetsIt, bad.containers)} must not set securityContext.seccompProfile.type to ${joinQuote(bad.values)}`,
      fields: bad.fields,
    };
  },
};

const sysctls: Check = {
  id: 'sysctls',
  level: 'baseline',
  evaluate(pod) {
    const names = pod.securityContext?.sysctlNames ?? [];
    const indexed = names.map((name, index) => ({ name, index })).filter(({ name }) => !SAFE_SYSCTLS.has(name));
    if (indexed.length === 0) return undefined;
    return {
      reason: 'forbidden sysctls',
      detail: indexed.map(({ name }) => name).join(', '),
      fields: indexed.map(({ index }) => `spec.securityContext.sysctls[${index}].name`),
    };
  },
};

export const BASELINE_CHECKS: readonly Check[] = [
  appArmorProfile,
  capabilitiesBaseline,
  hostNamespaces,
  hostPathVolumes,
  hostPorts,
  hostProbesAndHostLifecycle,
  privileged,
  procMount,
  seLinuxOptions,
  seccompProfileBaseline,
  sysctls,
  windowsHostProcess,
];
