// Table printing, as Kubernetes' server-side printers do it: the columns kubectl shows for
// each kind (priority 1 = only with -o wide) and the cells of one object. The apiserver
// serves them as meta.k8s.io/v1 Tables; coxctl prints them directly.

import {
  isObject,
  labelSelectorToString,
  type KubeObject,
  type LabelSelector,
  type ResourceInfo,
} from '../api/index.js';
import { readFieldPath } from '../api/field-path.js';
import type { CustomResourceColumnDefinition } from '../api/types/apiextensions.js';

export interface TableColumn {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

export interface Table {
  kind: 'Table';
  apiVersion: 'meta.k8s.io/v1';
  metadata: { resourceVersion: string };
  columnDefinitions: TableColumn[];
  rows: { cells: unknown[]; object?: unknown }[];
}

/** kubectl's HumanDuration: 45s, 3m20s, 10m, 5h3m, 3d5h, 2y… */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(Math.max(0, ms) / 1000);
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 192) return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const years = Math.floor(hours / 24 / 365);
    const days = Math.floor(hours / 24) % 365;
    return days === 0 ? `${years}y` : `${years}y${days}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

function age(obj: KubeObject, now: Date): string {
  const t = obj.metadata.creationTimestamp;
  return t ? humanDuration(now.getTime() - Date.parse(t)) : '<unknown>';
}

function since(ts: unknown, now: Date): string {
  return typeof ts === 'string' && ts !== '' ? humanDuration(now.getTime() - Date.parse(ts)) : '<unknown>';
}

// Readers of fields that may be absent or of another type: a printer shows what there is
// (objects from any server, or not yet defaulted), so nothing here assumes a shape.
const o = (v: unknown): Record<string, unknown> => (isObject(v) ? v : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
const s = (v: unknown, none = '<none>'): string => (typeof v === 'string' && v !== '' ? v : none);

/** A Table column: priority 0 shows by default, 1 only with `-o wide`. */
function col(name: string, opts: { priority?: number; type?: string; format?: string } = {}): TableColumn {
  const { priority = 0, type = 'string', format = '' } = opts;
  return { name, type, format, description: `${name} of the object`, priority };
}

const NAME = col('Name', { format: 'name' });
const AGE = col('Age');

function templateContainers(spec: unknown): { names: string; images: string } {
  const containers = arr(o(o(o(spec)['template'])['spec'])['containers']);
  return {
    names: containers.map((c) => s(o(c)['name'], '')).join(','),
    images: containers.map((c) => s(o(c)['image'], '')).join(','),
  };
}

function selectorText(v: unknown): string {
  if (!isObject(v)) return '<none>';
  const matchLabels = Object.fromEntries(Object.entries(o(v['matchLabels'])).map(([k, x]) => [k, s(x, '')]));
  const matchExpressions = arr(v['matchExpressions']).map((e) => {
    const values = o(e)['values'];
    return {
      key: s(o(e)['key'], ''),
      operator: s(o(e)['operator'], ''),
      values: Array.isArray(values) ? values.map((x) => s(x, '')) : undefined,
    };
  });
  const selector: LabelSelector = { matchLabels, matchExpressions };
  return labelSelectorToString(selector);
}

// ---- pods -----------------------------------------------------------------------------------

function podStatus(pod: KubeObject): { ready: string; status: string; restarts: string } {
  const spec = o(pod['spec']);
  const status = o(pod['status']);
  const containers = arr(spec['containers']);
  const statuses = arr(status['containerStatuses']).map(o);
  const initStatuses = arr(status['initContainerStatuses']).map(o);
  let reason = s(status['reason'], s(status['phase'], 'Pending'));
  let restarts = 0;
  let lastRestart: string | undefined;
  const noteRestart = (cs: Record<string, unknown>): void => {
    restarts += num(cs['restartCount']);
    const finished = o(o(cs['lastState'])['terminated'])['finishedAt'];
    if (typeof finished === 'string' && (lastRestart === undefined || finished > lastRestart)) lastRestart = finished;
  };
  let initializing = false;
  initStatuses.forEach((cs, i) => {
    noteRestart(cs);
    const state = o(cs['state']);
    const term = o(state['terminated']);
    if (state['terminated'] !== undefined && num(term['exitCode']) === 0) return;
    if (initializing) return;
    initializing = true;
    if (state['terminated'] !== undefined)
      reason = s(term['reason']) !== '<none>' ? `Init:${s(term['reason'])}` : `Init:ExitCode:${num(term['exitCode'])}`;
    else if (
      state['waiting'] !== undefined &&
      s(o(state['waiting'])['reason'], '') !== '' &&
      s(o(state['waiting'])['reason'], '') !== 'PodInitializing'
    )
      reason = `Init:${s(o(state['waiting'])['reason'])}`;
    else reason = `Init:${i}/${arr(spec['initContainers']).length}`;
  });
  let ready = 0;
  if (!initializing) {
    let running = false;
    for (const cs of [...statuses].reverse()) {
      noteRestart(cs);
      const state = o(cs['state']);
      if (state['waiting'] !== undefined && s(o(state['waiting'])['reason'], '') !== '')
        reason = s(o(state['waiting'])['reason']);
      else if (state['terminated'] !== undefined) {
        const term = o(state['terminated']);
        reason =
          s(term['reason'], '') !== ''
            ? s(term['reason'])
            : term['signal'] !== undefined
              ? `Signal:${num(term['signal'])}`
              : `ExitCode:${num(term['exitCode'])}`;
      } else if (cs['ready'] === true && state['running'] !== undefined) {
        running = true;
        ready++;
      } else if (state['running'] !== undefined) running = true;
    }
    if (reason === 'Completed' && running) reason = 'Running';
  }
  if (pod.metadata.deletionTimestamp !== undefined)
    reason = status['reason'] === 'NodeLost' ? 'Unknown' : 'Terminating';
  let restartText = String(restarts);
  if (restarts > 0 && lastRestart !== undefined)
    restartText += ` (${humanDuration(Date.now() - Date.parse(lastRestart))} ago)`;
  return { ready: `${ready}/${containers.length}`, status: reason, restarts: restartText };
}

// ---- per-kind columns and rows -----------------------------------------------------------

const ACCESS_MODE_SHORT: Record<string, string> = {
  ReadWriteOnce: 'RWO',
  ReadOnlyMany: 'ROX',
  ReadWriteMany: 'RWX',
  ReadWriteOncePod: 'RWOP',
};

/** kubectl's `RWO,ROX` access modes column. */
function accessModesText(modes: unknown): string {
  return arr(modes)
    .map((m) => ACCESS_MODE_SHORT[String(m)] ?? '')
    .filter((m) => m !== '')
    .join(',');
}

/** A claim or volume's bound capacity, '' while there is none (as kubectl prints it). */
const storageOf = (capacity: unknown): string => {
  const v = o(capacity)['storage'];
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '';
};

function claimRefText(ref: unknown): string {
  const r = o(ref);
  return typeof r['name'] === 'string' ? `${s(r['namespace'], '')}/${r['name']}` : '';
}

interface Printer {
  columns: TableColumn[];
  row: (obj: KubeObject, now: Date) => unknown[];
}

function nodeStatus(node: KubeObject): string {
  const conditions = arr(o(node['status'])['conditions']).map(o);
  const ready = conditions.find((c) => c['type'] === 'Ready');
  let text =
    ready === undefined
      ? 'Unknown'
      : ready['status'] === 'True'
        ? 'Ready'
        : ready['status'] === 'False'
          ? 'NotReady'
          : 'Unknown';
  if (o(node['spec'])['unschedulable'] === true) text += ',SchedulingDisabled';
  return text;
}

function nodeRoles(node: KubeObject): string {
  const roles = Object.keys(node.metadata.labels ?? {})
    .filter((k) => k.startsWith('node-role.kubernetes.io/'))
    .map((k) => k.slice('node-role.kubernetes.io/'.length))
    .filter((r) => r !== '');
  return roles.length > 0 ? roles.sort().join(',') : '<none>';
}

/** kubectl's EXTERNAL-IP: a LoadBalancer's status addresses (or <pending>), external IPs, an ExternalName. */
function serviceExternalIP(svc: KubeObject, external: string[]): string {
  const spec = o(svc['spec']);
  if (spec['type'] === 'LoadBalancer') {
    const lb = arr(o(o(o(svc['status'])['loadBalancer']))['ingress']).map((a) =>
      s(o(a)['ip'], s(o(a)['hostname'], '')),
    );
    const all = [...lb.filter((a) => a !== ''), ...external];
    return all.length > 0 ? all.join(',') : '<pending>';
  }
  if (external.length > 0) return external.join(',');
  return spec['type'] === 'ExternalName' ? s(spec['externalName']) : '<none>';
}

function servicePorts(spec: unknown): string {
  const ports = arr(o(spec)['ports']).map(o);
  if (ports.length === 0) return '<none>';
  return ports
    .map((p) => `${num(p['port'])}${p['nodePort'] ? `:${num(p['nodePort'])}` : ''}/${s(p['protocol'], 'TCP')}`)
    .join(',');
}

function endpointsText(obj: KubeObject): string {
  const list: string[] = [];
  for (const subset of arr(obj['subsets']).map(o)) {
    const ports = arr(subset['ports']).map(o);
    for (const a of arr(subset['addresses']).map(o)) {
      if (ports.length === 0) list.push(s(a['ip'], ''));
      for (const p of ports) list.push(`${s(a['ip'], '')}:${num(p['port'])}`);
    }
  }
  if (list.length === 0) return '<none>';
  return list.length > 3 ? `${list.slice(0, 3).join(',')} + ${list.length - 3} more...` : list.join(',');
}

/** kubectl's EndpointSlice columns: the first three ready-or-not addresses, then a count. */
function sliceEndpointsText(obj: KubeObject): string {
  const list = arr(obj['endpoints']).flatMap((e) => arr(o(e)['addresses']).map((a) => s(a, '')));
  if (list.length === 0) return '<unset>';
  return list.length > 3 ? `${list.slice(0, 3).join(',')} + ${list.length - 3} more...` : list.join(',');
}

function slicePortsText(obj: KubeObject): string {
  const ports = arr(obj['ports']).map((p) => num(o(p)['port']));
  if (ports.length === 0) return '<unset>';
  return ports.length > 3 ? `${ports.slice(0, 3).join(',')} + ${ports.length - 3} more...` : ports.join(',');
}

/** `statefulset.apps/web`: the controller owning a ControllerRevision, as kubectl prints it. */
function controllerText(obj: KubeObject): string {
  const ref = obj.metadata.ownerReferences?.find((r) => r.controller === true);
  if (ref === undefined) return '<none>';
  const group = ref.apiVersion.includes('/') ? `.${ref.apiVersion.split('/')[0] ?? ''}` : '';
  return `${ref.kind.toLowerCase()}${group}/${ref.name}`;
}

function jobStatus(status: unknown, spec: unknown): string {
  const conds = arr(o(status)['conditions']).map(o);
  const has = (t: string): boolean => conds.some((c) => c['type'] === t && c['status'] === 'True');
  if (has('Complete')) return 'Complete';
  if (has('Failed')) return 'Failed';
  if (has('FailureTarget')) return 'FailureTarget';
  if (has('SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  if (o(spec)['suspend'] === true || has('Suspended')) return 'Suspended';
  return 'Running';
}

function jobDuration(status: unknown, now: Date): string {
  const { startTime: start, completionTime: end } = o(status);
  if (typeof start !== 'string') return '';
  const endMs = typeof end === 'string' ? Date.parse(end) : now.getTime();
  return humanDuration(endMs - Date.parse(start));
}

/** ReplicaSets and ReplicationControllers: the same columns, selectors of two shapes. */
function replicaPrinter(selectorOf: (spec: Record<string, unknown>) => unknown): Printer {
  return {
    columns: [
      NAME,
      col('Desired', { type: 'integer' }),
      col('Current', { type: 'integer' }),
      col('Ready', { type: 'integer' }),
      AGE,
      col('Containers', { priority: 1 }),
      col('Images', { priority: 1 }),
      col('Selector', { priority: 1 }),
    ],
    row: (r, now) => {
      const spec = o(r['spec']);
      const st = o(r['status']);
      const c = templateContainers(spec);
      return [
        r.metadata.name,
        num(spec['replicas']),
        num(st['replicas']),
        num(st['readyReplicas']),
        age(r, now),
        c.names,
        c.images,
        selectorText(selectorOf(spec)),
      ];
    },
  };
}

const PRINTERS: Record<string, Printer> = {
  Pod: {
    columns: [
      NAME,
      col('Ready'),
      col('Status'),
      col('Restarts'),
      AGE,
      col('IP', { priority: 1 }),
      col('Node', { priority: 1 }),
      col('Nominated Node', { priority: 1 }),
      col('Readiness Gates', { priority: 1 }),
    ],
    row: (p, now) => {
      const st = podStatus(p);
      const status = o(p['status']);
      const gates = arr(o(p['spec'])['readinessGates']);
      return [
        p.metadata.name,
        st.ready,
        st.status,
        st.restarts,
        age(p, now),
        s(status['podIP']),
        s(o(p['spec'])['nodeName']),
        s(status['nominatedNodeName']),
        gates.length === 0 ? '<none>' : String(gates.length),
      ];
    },
  },
  Deployment: {
    columns: [
      NAME,
      col('Ready'),
      col('Up-to-date', { type: 'integer' }),
      col('Available', { type: 'integer' }),
      AGE,
      col('Containers', { priority: 1 }),
      col('Images', { priority: 1 }),
      col('Selector', { priority: 1 }),
    ],
    row: (d, now) => {
      const spec = o(d['spec']);
      const st = o(d['status']);
      const c = templateContainers(spec);
      return [
        d.metadata.name,
        `${num(st['readyReplicas'])}/${num(spec['replicas'])}`,
        num(st['updatedReplicas']),
        num(st['availableReplicas']),
        age(d, now),
        c.names,
        c.images,
        selectorText(spec['selector']),
      ];
    },
  },
  ReplicaSet: replicaPrinter((spec) => spec['selector']),
  // A ReplicationController's selector is a plain label map.
  ReplicationController: replicaPrinter((spec) => ({ matchLabels: spec['selector'] })),
  DaemonSet: {
    columns: [
      NAME,
      col('Desired', { type: 'integer' }),
      col('Current', { type: 'integer' }),
      col('Ready', { type: 'integer' }),
      col('Up-to-date', { type: 'integer' }),
      col('Available', { type: 'integer' }),
      col('Node Selector'),
      AGE,
      col('Containers', { priority: 1 }),
      col('Images', { priority: 1 }),
      col('Selector', { priority: 1 }),
    ],
    row: (d, now) => {
      const spec = o(d['spec']);
      const st = o(d['status']);
      const c = templateContainers(spec);
      const sel = Object.entries(o(o(o(spec['template'])['spec'])['nodeSelector']))
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(',');
      return [
        d.metadata.name,
        num(st['desiredNumberScheduled']),
        num(st['currentNumberScheduled']),
        num(st['numberReady']),
        num(st['updatedNumberScheduled']),
        num(st['numberAvailable']),
        sel || '<none>',
        age(d, now),
        c.names,
        c.images,
        selectorText(spec['selector']),
      ];
    },
  },
  StatefulSet: {
    columns: [NAME, col('Ready'), AGE, col('Containers', { priority: 1 }), col('Images', { priority: 1 })],
    row: (x, now) => {
      const spec = o(x['spec']);
      const c = templateContainers(spec);
      return [
        x.metadata.name,
        `${num(o(x['status'])['readyReplicas'])}/${num(spec['replicas'])}`,
        age(x, now),
        c.names,
        c.images,
      ];
    },
  },
  Job: {
    columns: [
      NAME,
      col('Status'),
      col('Completions'),
      col('Duration'),
      AGE,
      col('Containers', { priority: 1 }),
      col('Images', { priority: 1 }),
      col('Selector', { priority: 1 }),
    ],
    row: (j, now) => {
      const spec = o(j['spec']);
      const st = o(j['status']);
      const c = templateContainers(spec);
      const completions =
        spec['completions'] === undefined
          ? `${num(st['succeeded'])}/1 of ${num(spec['parallelism'])}`
          : `${num(st['succeeded'])}/${num(spec['completions'])}`;
      return [
        j.metadata.name,
        jobStatus(st, spec),
        completions,
        jobDuration(st, now),
        age(j, now),
        c.names,
        c.images,
        selectorText(spec['selector']),
      ];
    },
  },
  CronJob: {
    columns: [
      NAME,
      col('Schedule'),
      col('Timezone'),
      col('Suspend', { type: 'boolean' }),
      col('Active', { type: 'integer' }),
      col('Last Schedule'),
      AGE,
      col('Containers', { priority: 1 }),
      col('Images', { priority: 1 }),
      col('Selector', { priority: 1 }),
    ],
    row: (cj, now) => {
      const spec = o(cj['spec']);
      const st = o(cj['status']);
      const jobSpec = o(o(spec['jobTemplate'])['spec']);
      const c = templateContainers(jobSpec);
      return [
        cj.metadata.name,
        s(spec['schedule'], ''),
        s(spec['timeZone']),
        spec['suspend'] === true ? 'True' : 'False',
        arr(st['active']).length,
        st['lastScheduleTime'] ? since(st['lastScheduleTime'], now) : '<none>',
        age(cj, now),
        c.names,
        c.images,
        selectorText(jobSpec['selector']),
      ];
    },
  },
  Node: {
    columns: [
      NAME,
      col('Status'),
      col('Roles'),
      AGE,
      col('Version'),
      col('Internal-IP', { priority: 1 }),
      col('External-IP', { priority: 1 }),
      col('OS-Image', { priority: 1 }),
      col('Kernel-Version', { priority: 1 }),
      col('Container-Runtime', { priority: 1 }),
    ],
    row: (n, now) => {
      const st = o(n['status']);
      const info = o(st['nodeInfo']);
      const addrs = arr(st['addresses']).map(o);
      const addr = (t: string): string => s(addrs.find((a) => a['type'] === t)?.['address']);
      return [
        n.metadata.name,
        nodeStatus(n),
        nodeRoles(n),
        age(n, now),
        s(info['kubeletVersion'], ''),
        addr('InternalIP'),
        addr('ExternalIP'),
        s(info['osImage'], '<unknown>'),
        s(info['kernelVersion'], '<unknown>'),
        s(info['containerRuntimeVersion'], '<unknown>'),
      ];
    },
  },
  Service: {
    columns: [
      NAME,
      col('Type'),
      col('Cluster-IP'),
      col('External-IP'),
      col('Port(s)'),
      AGE,
      col('Selector', { priority: 1 }),
    ],
    row: (svc, now) => {
      const spec = o(svc['spec']);
      const external = arr(spec['externalIPs']).map(String);
      const sel = Object.entries(o(spec['selector']))
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(',');
      return [
        svc.metadata.name,
        s(spec['type'], 'ClusterIP'),
        s(spec['clusterIP']),
        serviceExternalIP(svc, external),
        servicePorts(spec),
        age(svc, now),
        sel || '<none>',
      ];
    },
  },
  Endpoints: {
    columns: [NAME, col('Endpoints'), AGE],
    row: (e, now) => [e.metadata.name, endpointsText(e), age(e, now)],
  },
  PersistentVolume: {
    columns: [
      NAME,
      col('Capacity'),
      col('Access Modes'),
      col('Reclaim Policy'),
      col('Status'),
      col('Claim'),
      col('StorageClass'),
      col('VolumeAttributesClass'),
      col('Reason'),
      AGE,
      col('VolumeMode', { priority: 1 }),
    ],
    row: (pv, now) => {
      const spec = o(pv['spec']);
      const status = o(pv['status']);
      return [
        pv.metadata.name,
        storageOf(spec['capacity']),
        accessModesText(spec['accessModes']),
        s(spec['persistentVolumeReclaimPolicy'], ''),
        pv.metadata.deletionTimestamp === undefined ? s(status['phase'], '') : 'Terminating',
        claimRefText(spec['claimRef']),
        s(spec['storageClassName'], ''),
        s(spec['volumeAttributesClassName'], '<unset>'),
        s(status['reason'], ''),
        age(pv, now),
        s(spec['volumeMode'], '<unset>'),
      ];
    },
  },
  PersistentVolumeClaim: {
    columns: [
      NAME,
      col('Status'),
      col('Volume'),
      col('Capacity'),
      col('Access Modes'),
      col('StorageClass'),
      col('VolumeAttributesClass'),
      AGE,
      col('VolumeMode', { priority: 1 }),
    ],
    row: (pvc, now) => {
      const spec = o(pvc['spec']);
      const status = o(pvc['status']);
      const bound = status['phase'] === 'Bound';
      return [
        pvc.metadata.name,
        pvc.metadata.deletionTimestamp === undefined ? s(status['phase'], '') : 'Terminating',
        s(spec['volumeName'], ''),
        bound ? storageOf(status['capacity']) : '',
        bound ? accessModesText(status['accessModes']) : '',
        s(spec['storageClassName'], ''),
        s(spec['volumeAttributesClassName'], '<unset>'),
        age(pvc, now),
        s(spec['volumeMode'], '<unset>'),
      ];
    },
  },
  Ingress: {
    columns: [NAME, col('Class'), col('Hosts'), col('Address'), col('Ports'), AGE],
    row: (ing, now) => {
      const spec = o(ing['spec']);
      const hosts = arr(spec['rules']).map((r) => s(o(r)['host'], '*'));
      const addresses = arr(o(o(o(ing['status'])['loadBalancer']))['ingress']).map((a) =>
        s(o(a)['ip'], s(o(a)['hostname'], '')),
      );
      return [
        ing.metadata.name,
        s(spec['ingressClassName'], '<none>'),
        hosts.length === 0 ? '*' : hosts.join(','),
        addresses.join(','),
        arr(spec['tls']).length > 0 ? '80, 443' : '80',
        age(ing, now),
      ];
    },
  },
  PodDisruptionBudget: {
    columns: [NAME, col('Min Available'), col('Max Unavailable'), col('Allowed Disruptions', { type: 'integer' }), AGE],
    row: (pdb, now) => {
      const spec = o(pdb['spec']);
      const bound = (v: unknown): string => (typeof v === 'number' ? String(v) : s(v, 'N/A'));
      return [
        pdb.metadata.name,
        bound(spec['minAvailable']),
        bound(spec['maxUnavailable']),
        num(o(pdb['status'])['disruptionsAllowed']),
        age(pdb, now),
      ];
    },
  },
  PriorityClass: {
    columns: [
      NAME,
      col('Value', { type: 'integer' }),
      col('Global-Default', { type: 'boolean' }),
      AGE,
      col('PreemptionPolicy'),
    ],
    row: (pc, now) => [
      pc.metadata.name,
      num(pc['value']),
      pc['globalDefault'] === true,
      age(pc, now),
      s(pc['preemptionPolicy'], ''),
    ],
  },
  IngressClass: {
    columns: [NAME, col('Controller'), col('Parameters'), AGE],
    row: (ic, now) => {
      const params = o(o(ic['spec'])['parameters']);
      const kind = s(params['kind'], '');
      const group = s(params['apiGroup'], '');
      return [
        ic.metadata.name,
        s(o(ic['spec'])['controller'], ''),
        kind === '' ? '<none>' : `${kind}${group === '' ? '' : `.${group}`}/${s(params['name'], '')}`,
        age(ic, now),
      ];
    },
  },
  StorageClass: {
    columns: [
      NAME,
      col('Provisioner'),
      col('ReclaimPolicy'),
      col('VolumeBindingMode'),
      col('AllowVolumeExpansion'),
      AGE,
    ],
    row: (sc, now) => {
      const name = sc.metadata.name ?? '';
      const isDefault = sc.metadata.annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true';
      return [
        isDefault ? `${name} (default)` : name,
        s(sc['provisioner'], ''),
        s(sc['reclaimPolicy'], 'Delete'),
        s(sc['volumeBindingMode'], 'Immediate'),
        sc['allowVolumeExpansion'] === true,
        age(sc, now),
      ];
    },
  },
  EndpointSlice: {
    columns: [NAME, col('AddressType'), col('Ports'), col('Endpoints'), AGE],
    row: (e, now) => [e.metadata.name, s(e['addressType'], ''), slicePortsText(e), sliceEndpointsText(e), age(e, now)],
  },
  ControllerRevision: {
    columns: [NAME, col('Controller'), col('Revision', { type: 'integer' }), AGE],
    row: (r, now) => [r.metadata.name, controllerText(r), num(r['revision']), age(r, now)],
  },
  Namespace: {
    columns: [NAME, col('Status'), AGE],
    row: (n, now) => [n.metadata.name, s(o(n['status'])['phase'], 'Active'), age(n, now)],
  },
  ConfigMap: {
    columns: [NAME, col('Data', { type: 'integer' }), AGE],
    row: (c, now) => [
      c.metadata.name,
      Object.keys(o(c['data'])).length + Object.keys(o(c['binaryData'])).length,
      age(c, now),
    ],
  },
  Secret: {
    columns: [NAME, col('Type'), col('Data', { type: 'integer' }), AGE],
    row: (x, now) => [x.metadata.name, s(x['type'], 'Opaque'), Object.keys(o(x['data'])).length, age(x, now)],
  },
  ServiceAccount: {
    columns: [NAME, col('Secrets', { type: 'integer' }), AGE],
    row: (x, now) => [x.metadata.name, arr(x['secrets']).length, age(x, now)],
  },
  Event: {
    columns: [
      col('Last Seen'),
      col('Type'),
      col('Reason'),
      col('Object'),
      col('Message'),
      col('Name', { priority: 1, format: 'name' }),
    ],
    row: (e, now) => {
      const inv = o(e['involvedObject']);
      const last = e['lastTimestamp'] ?? e['eventTime'] ?? e.metadata.creationTimestamp;
      return [
        since(last, now),
        s(e['type'], ''),
        s(e['reason'], ''),
        `${s(inv['kind'], '').toLowerCase()}/${s(inv['name'], '')}`,
        s(e['message'], ''),
        e.metadata.name,
      ];
    },
  },
  NetworkPolicy: {
    columns: [NAME, col('Pod-Selector'), AGE],
    row: (np, now) => [np.metadata.name, selectorText(o(np['spec'])['podSelector']), age(np, now)],
  },
  Lease: {
    columns: [NAME, col('Holder'), AGE],
    row: (l, now) => [l.metadata.name, s(o(l['spec'])['holderIdentity'], ''), age(l, now)],
  },
  // Namespace policy: a quota's `used/hard` per resource, limits apart from requests.
  ResourceQuota: {
    columns: [NAME, AGE, col('Request'), col('Limit')],
    row: (q, now) => {
      const status = o(q['status']);
      const hard = o(status['hard']);
      const used = o(status['used']);
      const entries = Object.keys(hard)
        .sort()
        .map((k) => ({ k, text: `${k}: ${s(used[k], '0')}/${s(hard[k], '0')}` }));
      const join = (limits: boolean): string =>
        entries
          .filter((e) => e.k.startsWith('limits.') === limits)
          .map((e) => e.text)
          .join(', ');
      return [q.metadata.name, age(q, now), join(false), join(true)];
    },
  },
  LimitRange: {
    columns: [NAME, col('Created At')],
    row: (r) => [r.metadata.name, r.metadata.creationTimestamp ?? ''],
  },
  Role: { columns: [NAME, col('Created At')], row: (r) => [r.metadata.name, r.metadata.creationTimestamp ?? ''] },
  ClusterRole: {
    columns: [NAME, col('Created At')],
    row: (r) => [r.metadata.name, r.metadata.creationTimestamp ?? ''],
  },
  RoleBinding: bindingPrinter(),
  ClusterRoleBinding: bindingPrinter(),
  // Kubernetes prints CRDs with the generic convertor: the creation time itself, not an age.
  CustomResourceDefinition: {
    columns: [NAME, col('Created At', { type: 'date' })],
    row: (c) => [c.metadata.name, c.metadata.creationTimestamp ?? null],
  },
  CertificateSigningRequest: {
    columns: [NAME, AGE, col('SignerName'), col('Requestor'), col('RequestedDuration'), col('Condition')],
    row: (c, now) => {
      const spec = o(c['spec']);
      const conds = arr(o(c['status'])['conditions'])
        .map((x) => s(o(x)['type'], ''))
        .filter((x) => x !== '');
      if (o(c['status'])['certificate'] !== undefined) conds.push('Issued');
      const dur = spec['expirationSeconds'];
      return [
        c.metadata.name,
        age(c, now),
        s(spec['signerName'], ''),
        s(spec['username'], ''),
        typeof dur === 'number' ? humanDuration(dur * 1000) : '<none>',
        conds.length > 0 ? conds.join(',') : 'Pending',
      ];
    },
  },
  HorizontalPodAutoscaler: {
    columns: [
      NAME,
      col('Reference'),
      col('Targets'),
      col('MinPods', { type: 'integer' }),
      col('MaxPods', { type: 'integer' }),
      col('Replicas', { type: 'integer' }),
      AGE,
    ],
    row: (h, now) => {
      const spec = o(h['spec']);
      const ref = o(spec['scaleTargetRef']);
      const min = spec['minReplicas'];
      return [
        h.metadata.name,
        `${s(ref['kind'], '')}/${s(ref['name'], '')}`,
        hpaTargets(spec, o(h['status'])),
        typeof min === 'number' ? min : '<unset>',
        num(spec['maxReplicas']),
        num(o(h['status'])['currentReplicas']),
        age(h, now),
      ];
    },
  },
};

/** `cpu: 12%/50%, memory: 20Mi/100Mi`, as Kubernetes' HPA printer writes the Targets column. */
function hpaTargets(spec: Record<string, unknown>, status: Record<string, unknown>): string {
  const metrics = arr(spec['metrics']).map(o);
  if (metrics.length === 0) return '<none>';
  const current = arr(status['currentMetrics']).map(o);
  const parts = metrics.map((m, i) => {
    const key = m['type'] === 'ContainerResource' ? 'containerResource' : 'resource';
    const source = o(m[key]);
    const target = o(source['target']);
    const now = o(o(current[i])[key])['current'];
    const seen = o(now);
    const name = s(source['name'], '');
    if (target['type'] === 'Utilization') {
      const u = seen['averageUtilization'];
      return `${name}: ${typeof u === 'number' ? `${u}%` : '<unknown>'}/${num(target['averageUtilization'])}%`;
    }
    const want = s(target['averageValue'], s(target['value'], ''));
    return `${name}: ${s(seen['averageValue'], '<unknown>')}/${want}`;
  });
  return parts.join(', ');
}

function bindingPrinter(): Printer {
  return {
    columns: [
      NAME,
      col('Role'),
      AGE,
      col('Users', { priority: 1 }),
      col('Groups', { priority: 1 }),
      col('ServiceAccounts', { priority: 1 }),
    ],
    row: (b, now) => {
      const ref = o(b['roleRef']);
      const subjects = arr(b['subjects']).map(o);
      const of = (kind: string): string =>
        subjects
          .filter((x) => x['kind'] === kind)
          .map((x) => (kind === 'ServiceAccount' ? `${s(x['namespace'], '')}/${s(x['name'], '')}` : s(x['name'], '')))
          .join(', ');
      return [
        b.metadata.name,
        `${s(ref['kind'], '')}/${s(ref['name'], '')}`,
        age(b, now),
        of('User'),
        of('Group'),
        of('ServiceAccount'),
      ];
    },
  };
}

const DEFAULT_PRINTER: Printer = { columns: [NAME, AGE], row: (x, now) => [x.metadata.name, age(x, now)] };

/**
 * A custom resource's printer: Name, then its CRD version's additionalPrinterColumns (Age when
 * it declares none), each cell read at the column's JSON path as Kubernetes' table convertor does.
 */
function customPrinter(columns: readonly CustomResourceColumnDefinition[]): Printer {
  if (columns.length === 0) return DEFAULT_PRINTER;
  const cell = (value: unknown, type: string, now: Date): unknown => {
    if (value === undefined || value === null) return null;
    if (type === 'date') return since(value, now);
    if (type === 'integer' || type === 'number') return typeof value === 'number' ? value : null;
    if (type === 'boolean') return typeof value === 'boolean' ? value : null;
    return typeof value === 'string' ? value : JSON.stringify(value);
  };
  return {
    columns: [
      NAME,
      ...columns.map((c) => ({
        name: c.name,
        type: c.type,
        format: c.format ?? '',
        description: c.description ?? '',
        priority: c.priority ?? 0,
      })),
    ],
    row: (x, now) => [x.metadata.name, ...columns.map((c) => cell(readFieldPath(x, c.jsonPath), c.type, now))],
  };
}

function printerFor(r: ResourceInfo): Printer {
  if (r.custom !== undefined) return customPrinter(r.custom.printerColumns);
  return PRINTERS[r.kind] ?? DEFAULT_PRINTER;
}

export function columnsFor(r: ResourceInfo): TableColumn[] {
  return printerFor(r).columns;
}

export function rowFor(obj: KubeObject, r: ResourceInfo, now: Date): unknown[] {
  return printerFor(r).row(obj, now);
}

export function toTable(
  objects: KubeObject[],
  r: ResourceInfo,
  opts: { includeObject: 'None' | 'Metadata' | 'Object'; now: Date; resourceVersion: string },
): Table {
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion: opts.resourceVersion },
    columnDefinitions: columnsFor(r),
    rows: objects.map((obj) => {
      const row: { cells: unknown[]; object?: unknown } = { cells: rowFor(obj, r, opts.now) };
      if (opts.includeObject === 'Object') row.object = obj;
      else if (opts.includeObject === 'Metadata')
        row.object = { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
      return row;
    }),
  };
}
