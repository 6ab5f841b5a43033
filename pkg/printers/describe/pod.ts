// kubectl describe pod, and the pieces of it other describers reuse: containers (with their
// state, resources, probes, environment and mounts), volumes and a pod template.

import { readFieldPath } from '../../api/field-path.js';
import { canonicalQuantity } from '../../api/milli-quantity.js';
import type {
  Container,
  ContainerState,
  ContainerStatus,
  EnvVar,
  Event,
  Pod,
  PodTemplateSpec,
  Probe,
  ResourceList,
  Volume,
} from '../../api/types/index.js';
import {
  controllerText,
  printAnnotations,
  printEvents,
  printLabels,
  printTolerations,
  rfc1123z,
  since,
} from './common.js';
import { LEVEL_0, LEVEL_1, LEVEL_2, LEVEL_3, PrefixWriter } from './prefix-writer.js';

/** Resolves a fieldRef environment variable against its pod (empty in templates, as kubectl). */
type EnvResolver = (e: EnvVar) => string;

function podFieldResolver(pod: Pod): EnvResolver {
  return (e) => {
    const path = e.valueFrom?.fieldRef?.fieldPath ?? '';
    const keyed = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(path);
    if (keyed !== null) {
      const map = keyed[1] === 'labels' ? pod.metadata.labels : pod.metadata.annotations;
      return map?.[keyed[2] ?? ''] ?? '';
    }
    const value = readFieldPath(pod, '.' + path);
    return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
  };
}

function sortedNames(list: ResourceList | undefined): string[] {
  return Object.keys(list ?? {}).sort();
}

export function printResources(
  w: PrefixWriter,
  resources: { limits?: ResourceList; requests?: ResourceList } | undefined,
  level: number,
): void {
  for (const kind of ['limits', 'requests'] as const) {
    const list = resources?.[kind];
    const names = sortedNames(list);
    if (names.length > 0) w.write(level, kind === 'limits' ? 'Limits:\n' : 'Requests:\n');
    for (const name of names) w.write(level + 1, `${name}:\t${canonicalQuantity(list?.[name])}\n`);
  }
}

function portText(p: { port?: number | string } | undefined): string {
  return p?.port === undefined ? '' : String(p.port);
}

/** A probe as kubectl summarises it: `http-get http://:8080/ delay=0s timeout=1s period=10s #success=1 #failure=3`. */
export function probeText(probe: Probe): string {
  const attrs =
    `delay=${probe.initialDelaySeconds ?? 0}s timeout=${probe.timeoutSeconds ?? 1}s ` +
    `period=${probe.periodSeconds ?? 10}s #success=${probe.successThreshold ?? 1} #failure=${probe.failureThreshold ?? 3}`;
  if (probe.exec !== undefined) return `exec [${(probe.exec.command ?? []).join(' ')}] ${attrs}`;
  if (probe.httpGet !== undefined) {
    const g = probe.httpGet;
    const host = g.host ?? '';
    const hostPort = host.includes(':') ? `[${host}]:${portText(g)}` : `${host}:${portText(g)}`;
    const scheme = (g.scheme ?? 'HTTP').toLowerCase();
    return `http-get ${scheme}://${hostPort}${g.path ?? ''} ${attrs}`;
  }
  if (probe.tcpSocket !== undefined)
    return `tcp-socket ${probe.tcpSocket.host ?? ''}:${portText(probe.tcpSocket)} ${attrs}`;
  if (probe.grpc !== undefined) return `grpc <pod>:${probe.grpc.port} ${probe.grpc.service ?? ''} ${attrs}`;
  return `unknown ${attrs}`;
}

function printState(w: PrefixWriter, title: string, state: ContainerState | undefined): void {
  if (state?.running !== undefined) {
    w.write(LEVEL_2, `${title}:\tRunning\n`);
    w.write(LEVEL_3, `Started:\t${rfc1123z(state.running.startedAt)}\n`);
  } else if (state?.terminated !== undefined) {
    const t = state.terminated;
    w.write(LEVEL_2, `${title}:\tTerminated\n`);
    if (t.reason) w.write(LEVEL_3, `Reason:\t${t.reason}\n`);
    if (t.message) w.write(LEVEL_3, `Message:\t${t.message}\n`);
    w.write(LEVEL_3, `Exit Code:\t${t.exitCode}\n`);
    if ((t.signal ?? 0) > 0) w.write(LEVEL_3, `Signal:\t${t.signal ?? 0}\n`);
    w.write(LEVEL_3, `Started:\t${rfc1123z(t.startedAt)}\n`);
    w.write(LEVEL_3, `Finished:\t${rfc1123z(t.finishedAt)}\n`);
  } else {
    w.write(LEVEL_2, `${title}:\tWaiting\n`);
    if (state?.waiting?.reason) w.write(LEVEL_3, `Reason:\t${state.waiting.reason}\n`);
  }
}

function printEnv(w: PrefixWriter, c: Container, resolve: EnvResolver | undefined): void {
  if (c.envFrom !== undefined && c.envFrom.length > 0) {
    w.write(LEVEL_2, 'Environment Variables from:\n');
    for (const e of c.envFrom) {
      const ref = e.configMapRef ?? e.secretRef;
      const from = e.configMapRef !== undefined ? 'ConfigMap' : e.secretRef !== undefined ? 'Secret' : '';
      const optional = ref?.optional === true;
      const prefix = e.prefix ? ` with prefix '${e.prefix}'` : '';
      w.write(LEVEL_3, `${ref?.name ?? ''}\t${from}${prefix}\tOptional: ${optional}\n`);
    }
  }
  const env = c.env ?? [];
  w.write(LEVEL_2, `Environment:${env.length === 0 ? '\t<none>' : ''}\n`);
  for (const e of env) {
    const from = e.valueFrom;
    if (from === undefined) {
      (e.value ?? '')
        .split('\n')
        .forEach((line, i) => w.write(LEVEL_3, i === 0 ? `${e.name}:\t${line}\n` : `\t${line}\n`));
    } else if (from.fieldRef !== undefined) {
      const value = resolve?.(e) ?? '';
      w.write(LEVEL_3, `${e.name}:\t${value} (${from.fieldRef.apiVersion ?? 'v1'}:${from.fieldRef.fieldPath})\n`);
    } else if (from.resourceFieldRef !== undefined) {
      w.write(
        LEVEL_3,
        `${e.name}:\t${resourceFieldValue(c, from.resourceFieldRef.resource)} (${from.resourceFieldRef.resource})\n`,
      );
    } else if (from.secretKeyRef !== undefined) {
      const s = from.secretKeyRef;
      w.write(
        LEVEL_3,
        `${e.name}:\t<set to the key '${s.key}' in secret '${s.name ?? ''}'>\tOptional: ${s.optional === true}\n`,
      );
    } else if (from.configMapKeyRef !== undefined) {
      const s = from.configMapKeyRef;
      w.write(
        LEVEL_3,
        `${e.name}:\t<set to the key '${s.key}' of config map '${s.name ?? ''}'>\tOptional: ${s.optional === true}\n`,
      );
    }
  }
}

/** `limits.cpu` of the container itself; unset limits read as the node's allocatable, as kubectl says. */
function resourceFieldValue(c: Container, resource: string): string {
  const [kind, name] = resource.split('.');
  const list = kind === 'limits' ? c.resources?.limits : kind === 'requests' ? c.resources?.requests : undefined;
  const value = name === undefined ? undefined : list?.[name];
  if (value !== undefined) return canonicalQuantity(value);
  return kind === 'limits' && (name === 'cpu' || name === 'memory') ? 'node allocatable' : '0';
}

function printMounts(w: PrefixWriter, c: Container): void {
  const mounts = [...(c.volumeMounts ?? [])].sort((a, b) =>
    a.mountPath < b.mountPath ? -1 : a.mountPath > b.mountPath ? 1 : 0,
  );
  w.write(LEVEL_2, `Mounts:${mounts.length === 0 ? '\t<none>' : ''}\n`);
  for (const m of mounts) {
    const flags = [m.readOnly ? 'ro' : 'rw'];
    if (m.subPath) flags.push(`path=${JSON.stringify(m.subPath)}`);
    w.write(LEVEL_3, `${m.mountPath} from ${m.name} (${flags.join(',')})\n`);
  }
}

export function printContainers(
  w: PrefixWriter,
  section: { label: string; space: string; containers: readonly Container[] },
  statuses: { list: readonly ContainerStatus[] | undefined; resolve: EnvResolver | undefined },
): void {
  const { label, space, containers } = section;
  w.write(LEVEL_0, `${space}${label}:${containers.length === 0 ? ' <none>' : ''}\n`);
  const byName = new Map((statuses.list ?? []).map((s) => [s.name, s]));
  for (const c of containers) {
    const status = byName.get(c.name);
    w.write(LEVEL_1, `${space ? ' ' : ''}${c.name}:\n`);
    if (status !== undefined) w.write(LEVEL_2, `Container ID:\t${status.containerID ?? ''}\n`);
    w.write(LEVEL_2, `Image:\t${c.image ?? ''}\n`);
    if (status !== undefined) w.write(LEVEL_2, `Image ID:\t${status.imageID}\n`);
    const ports = c.ports ?? [];
    const portList = ports.map((p) => `${p.containerPort}/${p.protocol ?? 'TCP'}`).join(', ');
    const hostList = ports.map((p) => `${p.hostPort ?? 0}/${p.protocol ?? 'TCP'}`).join(', ');
    w.write(LEVEL_2, ports.length > 1 ? `Ports:\t${portList}\n` : `Port:\t${portList || '<none>'}\n`);
    w.write(LEVEL_2, ports.length > 1 ? `Host Ports:\t${hostList}\n` : `Host Port:\t${hostList || '<none>'}\n`);
    for (const [title, list] of [
      ['Command', c.command],
      ['Args', c.args],
    ] as const) {
      if (list === undefined || list.length === 0) continue;
      w.write(LEVEL_2, `${title}:\n`);
      for (const item of list) for (const line of item.split('\n')) w.write(LEVEL_3, `${line}\n`);
    }
    if (status !== undefined) {
      printState(w, 'State', status.state);
      if (status.lastState?.terminated !== undefined) printState(w, 'Last State', status.lastState);
      w.write(LEVEL_2, `Ready:\t${status.ready ? 'True' : 'False'}\n`);
      w.write(LEVEL_2, `Restart Count:\t${status.restartCount}\n`);
    }
    printResources(w, c.resources, LEVEL_2);
    if (c.livenessProbe) w.write(LEVEL_2, `Liveness:\t${probeText(c.livenessProbe)}\n`);
    if (c.readinessProbe) w.write(LEVEL_2, `Readiness:\t${probeText(c.readinessProbe)}\n`);
    if (c.startupProbe) w.write(LEVEL_2, `Startup:\t${probeText(c.startupProbe)}\n`);
    printEnv(w, c, statuses.resolve);
    printMounts(w, c);
  }
}

/** Go's %v of an optional bool pointer: `<nil>` when unset. */
const optionalText = (v: boolean | undefined): string => (v === undefined ? '<nil>' : String(v));

function printVolumeSource(w: PrefixWriter, v: Volume): void {
  if (v.hostPath !== undefined) {
    w.write(
      LEVEL_2,
      `Type:\tHostPath (bare host directory volume)\n    Path:\t${v.hostPath.path}\n    HostPathType:\t${v.hostPath.type || ''}\n`,
    );
  } else if (v.emptyDir !== undefined) {
    const size = v.emptyDir.sizeLimit;
    const limit = size !== undefined && canonicalQuantity(size) !== '0' ? canonicalQuantity(size) : '<unset>';
    w.write(
      LEVEL_2,
      `Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n    Medium:\t${v.emptyDir.medium ?? ''}\n    SizeLimit:\t${limit}\n`,
    );
  } else if (v.secret !== undefined) {
    w.write(
      LEVEL_2,
      `Type:\tSecret (a volume populated by a Secret)\n    SecretName:\t${v.secret.secretName ?? ''}\n    Optional:\t${v.secret.optional === true}\n`,
    );
  } else if (v.configMap !== undefined) {
    w.write(
      LEVEL_2,
      `Type:\tConfigMap (a volume populated by a ConfigMap)\n    Name:\t${v.configMap.name ?? ''}\n    Optional:\t${v.configMap.optional === true}\n`,
    );
  } else if (v.persistentVolumeClaim !== undefined) {
    w.write(
      LEVEL_2,
      `Type:\tPersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)\n    ClaimName:\t${v.persistentVolumeClaim.claimName}\n    ReadOnly:\t${v.persistentVolumeClaim.readOnly === true}\n`,
    );
  } else if (v.projected !== undefined) {
    w.write(LEVEL_2, 'Type:\tProjected (a volume that contains injected data from multiple sources)\n');
    for (const s of v.projected.sources ?? []) {
      if (s.secret !== undefined)
        w.write(
          LEVEL_2,
          `SecretName:\t${s.secret.name ?? ''}\n    SecretOptionalName:\t${optionalText(s.secret.optional)}\n`,
        );
      else if (s.downwardAPI !== undefined) w.write(LEVEL_2, 'DownwardAPI:\ttrue\n');
      else if (s.configMap !== undefined)
        w.write(
          LEVEL_2,
          `ConfigMapName:\t${s.configMap.name ?? ''}\n    ConfigMapOptional:\t${optionalText(s.configMap.optional)}\n`,
        );
      else if (s.serviceAccountToken !== undefined)
        w.write(LEVEL_2, `TokenExpirationSeconds:\t${s.serviceAccountToken.expirationSeconds ?? 3600}\n`);
    }
  } else if (v.downwardAPI !== undefined) {
    w.write(LEVEL_2, 'Type:\tDownwardAPI (a volume populated by information about the pod)\n    Items:\n');
    for (const item of v.downwardAPI.items ?? []) {
      if (item.fieldRef !== undefined) w.write(LEVEL_3, `${item.fieldRef.fieldPath} -> ${item.path}\n`);
      if (item.resourceFieldRef !== undefined) w.write(LEVEL_3, `${item.resourceFieldRef.resource} -> ${item.path}\n`);
    }
  } else w.write(LEVEL_1, '<unknown>\n');
}

export function printVolumes(w: PrefixWriter, volumes: readonly Volume[] | undefined, space: string): void {
  if (volumes === undefined || volumes.length === 0) {
    w.write(LEVEL_0, `${space}Volumes:\t<none>\n`);
    return;
  }
  w.write(LEVEL_0, `${space}Volumes:\n`);
  for (const v of volumes) {
    w.write(LEVEL_1, `${space ? ' ' : ''}${v.name}:\n`);
    printVolumeSource(w, v);
  }
}

/** The `Pod Template:` section of the workload describers. */
export function printPodTemplate(w: PrefixWriter, template: PodTemplateSpec | undefined): void {
  w.write(LEVEL_0, 'Pod Template:\n');
  if (template === undefined) {
    w.write(LEVEL_1, '<unset>');
    return;
  }
  const spec = template.spec;
  printLabels(w, '  Labels', template.metadata?.labels);
  if (Object.keys(template.metadata?.annotations ?? {}).length > 0)
    printAnnotations(w, '  Annotations', template.metadata?.annotations);
  if (spec?.serviceAccountName) w.write(LEVEL_1, `Service Account:\t${spec.serviceAccountName}\n`);
  const none = { list: undefined, resolve: undefined };
  if ((spec?.initContainers ?? []).length > 0)
    printContainers(w, { label: 'Init Containers', space: '  ', containers: spec?.initContainers ?? [] }, none);
  printContainers(w, { label: 'Containers', space: '  ', containers: spec?.containers ?? [] }, none);
  printVolumes(w, spec?.volumes, '  ');
  if (spec?.priorityClassName) w.write(LEVEL_1, `Priority Class Name:\t${spec.priorityClassName}\n`);
  printLabels(w, '  Node-Selectors', spec?.nodeSelector);
  printTolerations(w, '  Tolerations', spec?.tolerations);
}

export function describePod(pod: Pod, related: { events: readonly Event[] | undefined }, now: Date): string {
  const w = new PrefixWriter();
  const spec = pod.spec;
  const status = pod.status;
  w.write(LEVEL_0, `Name:\t${pod.metadata.name ?? ''}\n`);
  w.write(LEVEL_0, `Namespace:\t${pod.metadata.namespace ?? ''}\n`);
  if (spec?.priority !== undefined) w.write(LEVEL_0, `Priority:\t${spec.priority}\n`);
  if (spec?.priorityClassName) w.write(LEVEL_0, `Priority Class Name:\t${spec.priorityClassName}\n`);
  if (spec?.serviceAccountName) w.write(LEVEL_0, `Service Account:\t${spec.serviceAccountName}\n`);
  w.write(LEVEL_0, spec?.nodeName ? `Node:\t${spec.nodeName}/${status?.hostIP ?? ''}\n` : 'Node:\t<none>\n');
  if (status?.startTime) w.write(LEVEL_0, `Start Time:\t${rfc1123z(status.startTime)}\n`);
  printLabels(w, 'Labels', pod.metadata.labels);
  printAnnotations(w, 'Annotations', pod.metadata.annotations);
  if (pod.metadata.deletionTimestamp && status?.phase !== 'Failed' && status?.phase !== 'Succeeded') {
    w.write(LEVEL_0, `Status:\tTerminating (lasts ${since(pod.metadata.deletionTimestamp, now)})\n`);
    w.write(LEVEL_0, `Termination Grace Period:\t${pod.metadata.deletionGracePeriodSeconds ?? 0}s\n`);
  } else w.write(LEVEL_0, `Status:\t${status?.phase ?? ''}\n`);
  if (status?.reason) w.write(LEVEL_0, `Reason:\t${status.reason}\n`);
  if (status?.message) w.write(LEVEL_0, `Message:\t${status.message}\n`);
  const seccomp = spec?.securityContext?.seccompProfile;
  if (seccomp !== undefined) {
    w.write(LEVEL_0, `SeccompProfile:\t${seccomp.type}\n`);
    if (seccomp.type === 'Localhost') w.write(LEVEL_0, `LocalhostProfile:\t${seccomp.localhostProfile ?? ''}\n`);
  }
  w.write(LEVEL_0, `IP:\t${status?.podIP ?? ''}\n`);
  const ips = status?.podIPs ?? [];
  if (ips.length === 0) w.write(LEVEL_0, 'IPs:\t<none>\n');
  else {
    w.write(LEVEL_0, 'IPs:\n');
    for (const ip of ips) w.write(LEVEL_1, `IP:\t${ip.ip}\n`);
  }
  const controller = controllerText(pod);
  if (controller !== undefined) w.write(LEVEL_0, `Controlled By:\t${controller}\n`);
  if (status?.nominatedNodeName) w.write(LEVEL_0, `NominatedNodeName:\t${status.nominatedNodeName}\n`);
  const resolve = podFieldResolver(pod);
  if ((spec?.initContainers ?? []).length > 0)
    printContainers(
      w,
      { label: 'Init Containers', space: '', containers: spec?.initContainers ?? [] },
      {
        list: status?.initContainerStatuses,
        resolve,
      },
    );
  printContainers(
    w,
    { label: 'Containers', space: '', containers: spec?.containers ?? [] },
    {
      list: status?.containerStatuses,
      resolve,
    },
  );
  if ((spec?.ephemeralContainers ?? []).length > 0)
    printContainers(
      w,
      { label: 'Ephemeral Containers', space: '', containers: spec?.ephemeralContainers ?? [] },
      {
        list: status?.ephemeralContainerStatuses,
        resolve,
      },
    );
  const gates = spec?.readinessGates ?? [];
  if (gates.length > 0) {
    w.write(LEVEL_0, 'Readiness Gates:\n  Type\tStatus\n');
    for (const g of gates) {
      const found = status?.conditions?.find((c) => c.type === g.conditionType);
      w.write(LEVEL_1, `${g.conditionType} \t${found?.status ?? '<none>'} \n`);
    }
  }
  const conditions = status?.conditions ?? [];
  if (conditions.length > 0) {
    w.write(LEVEL_0, 'Conditions:\n  Type\tStatus\n');
    for (const c of conditions) w.write(LEVEL_1, `${c.type} \t${c.status} \n`);
  }
  printVolumes(w, spec?.volumes, '');
  w.write(LEVEL_0, `QoS Class:\t${status?.qosClass ?? ''}\n`);
  printLabels(w, 'Node-Selectors', spec?.nodeSelector);
  printTolerations(w, 'Tolerations', spec?.tolerations);
  if (related.events !== undefined) printEvents(w, related.events, now);
  return w.text();
}
