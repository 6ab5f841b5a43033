// kubectl describe node: identity, taints, lease, conditions, addresses, capacity, system
// info, the non-terminated pods with their share of the node, and the allocated totals.

import { formatUsage, podResources, usageOfList, type Usage } from '../../api/quota-usage.js';
import { canonicalQuantity } from '../../api/milli-quantity.js';
import type { Event, Lease, Node, Pod, ResourceList } from '../../api/types/index.js';
import { printAnnotations, printEvents, printLabels, printTaints, rfc1123z, since } from './common.js';
import { LEVEL_0, LEVEL_1, PrefixWriter } from './prefix-writer.js';

const ROLE_PREFIX = 'node-role.kubernetes.io/';
const STANDARD = new Set(['cpu', 'memory', 'ephemeral-storage']);

export interface NodeRelated {
  events: readonly Event[] | undefined;
  /** The node's Lease, or why it could not be read. */
  lease: Lease | { error: string };
  /** Its non-terminated pods; undefined when the caller may not list pods. */
  pods: readonly Pod[] | undefined;
}

function roles(node: Node): string {
  const found = new Set<string>();
  for (const [k, v] of Object.entries(node.metadata.labels ?? {})) {
    if (k.startsWith(ROLE_PREFIX) && k.length > ROLE_PREFIX.length) found.add(k.slice(ROLE_PREFIX.length));
    else if (k === 'kubernetes.io/role' && v !== '') found.add(v);
  }
  return found.size === 0 ? '<none>' : [...found].sort().join(',');
}

function printResourceList(w: PrefixWriter, title: string, list: ResourceList | undefined): void {
  const names = Object.keys(list ?? {}).sort();
  if (names.length === 0) return;
  w.write(LEVEL_0, `${title}:\n`);
  for (const name of names) w.write(LEVEL_0, `  ${name}:\t${canonicalQuantity(list?.[name])}\n`);
}

/** A share of the allocatable amount, truncated to a whole percent as kubectl does. */
function percent(used: bigint, allocatable: bigint, name: string): number {
  if (allocatable === 0n) return 0;
  // CPU compares thousandths; everything else whole units (Quantity.Value rounds up).
  const scale = (v: bigint): number => (name === 'cpu' ? Number(v) : Math.ceil(Number(v) / 1000));
  return Math.trunc((scale(used) / scale(allocatable)) * 100);
}

function share(usage: Usage, allocatable: Usage, name: string): string {
  const used = usage.get(name) ?? 0n;
  return `${formatUsage(name, used)} (${percent(used, allocatable.get(name) ?? 0n, name)}%)`;
}

function printPods(w: PrefixWriter, on: { node: Node; pods: readonly Pod[] }, now: Date): void {
  const { node, pods } = on;
  const allocatable = usageOfList(
    Object.keys(node.status?.allocatable ?? {}).length > 0 ? node.status?.allocatable : node.status?.capacity,
  );
  w.write(LEVEL_0, `Non-terminated Pods:\t(${pods.length} in total)\n`);
  w.write(LEVEL_1, 'Namespace\tName\t\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge\n');
  w.write(LEVEL_1, '---------\t----\t\t------------\t----------\t---------------\t-------------\t---\n');
  const requests: Usage = new Map();
  const limits: Usage = new Map();
  for (const pod of pods) {
    const req = podResources(pod, 'requests');
    const lim = podResources(pod, 'limits');
    for (const [k, v] of req) requests.set(k, (requests.get(k) ?? 0n) + v);
    for (const [k, v] of lim) limits.set(k, (limits.get(k) ?? 0n) + v);
    w.write(
      LEVEL_1,
      `${pod.metadata.namespace ?? ''}\t${pod.metadata.name ?? ''}\t\t${share(req, allocatable, 'cpu')}\t${share(lim, allocatable, 'cpu')}\t` +
        `${share(req, allocatable, 'memory')}\t${share(lim, allocatable, 'memory')}\t${since(pod.metadata.creationTimestamp, now)}\n`,
    );
  }
  w.write(LEVEL_0, 'Allocated resources:\n  (Total limits may be over 100 percent, i.e., overcommitted.)\n');
  w.write(LEVEL_1, 'Resource\tRequests\tLimits\n');
  w.write(LEVEL_1, '--------\t--------\t------\n');
  for (const name of ['cpu', 'memory', 'ephemeral-storage'])
    w.write(LEVEL_1, `${name}\t${share(requests, allocatable, name)}\t${share(limits, allocatable, name)}\n`);
  const names = [...allocatable.keys()].sort();
  for (const name of names.filter((n) => n.startsWith('hugepages-')))
    w.write(LEVEL_1, `${name}\t${share(requests, allocatable, name)}\t${share(limits, allocatable, name)}\n`);
  for (const name of names.filter((n) => !STANDARD.has(n) && !n.startsWith('hugepages-') && n !== 'pods'))
    w.write(
      LEVEL_1,
      `${name}\t${formatUsage(name, requests.get(name) ?? 0n)}\t${formatUsage(name, limits.get(name) ?? 0n)}\n`,
    );
}

export function describeNode(node: Node, related: NodeRelated, now: Date): string {
  const w = new PrefixWriter();
  const spec = node.spec;
  const status = node.status;
  w.write(LEVEL_0, `Name:\t${node.metadata.name ?? ''}\n`);
  w.write(LEVEL_0, `Roles:\t${roles(node)}\n`);
  printLabels(w, 'Labels', node.metadata.labels);
  printAnnotations(w, 'Annotations', node.metadata.annotations);
  w.write(LEVEL_0, `CreationTimestamp:\t${rfc1123z(node.metadata.creationTimestamp)}\n`);
  printTaints(w, 'Taints', spec?.taints);
  w.write(LEVEL_0, `Unschedulable:\t${spec?.unschedulable === true}\n`);
  if ('error' in related.lease) w.write(LEVEL_0, `Lease:\tFailed to get lease: ${related.lease.error}\n`);
  else {
    const lease = related.lease.spec;
    w.write(LEVEL_0, 'Lease:\n');
    w.write(LEVEL_1, `HolderIdentity:\t${lease?.holderIdentity ?? '<unset>'}\n`);
    w.write(LEVEL_1, `AcquireTime:\t${lease?.acquireTime ? rfc1123z(lease.acquireTime) : '<unset>'}\n`);
    w.write(LEVEL_1, `RenewTime:\t${lease?.renewTime ? rfc1123z(lease.renewTime) : '<unset>'}\n`);
  }
  const conditions = status?.conditions ?? [];
  if (conditions.length > 0) {
    w.write(LEVEL_0, 'Conditions:\n  Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage\n');
    w.write(LEVEL_1, '----\t------\t-----------------\t------------------\t------\t-------\n');
    for (const c of conditions)
      w.write(
        LEVEL_1,
        `${c.type} \t${c.status} \t${rfc1123z(c.lastHeartbeatTime)} \t${rfc1123z(c.lastTransitionTime)} \t${c.reason ?? ''} \t${c.message ?? ''}\n`,
      );
  }
  w.write(LEVEL_0, 'Addresses:\n');
  for (const a of status?.addresses ?? []) w.write(LEVEL_1, `${a.type}:\t${a.address}\n`);
  printResourceList(w, 'Capacity', status?.capacity);
  printResourceList(w, 'Allocatable', status?.allocatable);
  const info = status?.nodeInfo;
  w.write(LEVEL_0, 'System Info:\n');
  const infoLines: [string, string | undefined][] = [
    ['Machine ID', info?.machineID],
    ['System UUID', info?.systemUUID],
    ['Boot ID', info?.bootID],
    ['Kernel Version', info?.kernelVersion],
    ['OS Image', info?.osImage],
    ['Operating System', info?.operatingSystem],
    ['Architecture', info?.architecture],
    ['Container Runtime Version', info?.containerRuntimeVersion],
    ['Kubelet Version', info?.kubeletVersion],
    ['Kube-Proxy Version', info?.kubeProxyVersion],
  ];
  for (const [title, value] of infoLines) w.write(LEVEL_0, `  ${title}:\t${value ?? ''}\n`);
  if (spec?.podCIDR) w.write(LEVEL_0, `PodCIDR:\t${spec.podCIDR}\n`);
  if ((spec?.podCIDRs ?? []).length > 0) w.write(LEVEL_0, `PodCIDRs:\t${(spec?.podCIDRs ?? []).join(',')}\n`);
  if (spec?.providerID) w.write(LEVEL_0, `ProviderID:\t${spec.providerID}\n`);
  if (related.pods === undefined) w.write(LEVEL_0, 'Pods:\tnot authorized\n');
  else printPods(w, { node, pods: related.pods }, now);
  if (related.events !== undefined) printEvents(w, related.events, now);
  return w.text();
}
