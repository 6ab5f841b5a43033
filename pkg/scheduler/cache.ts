// The scheduler's view of the cluster: one NodeInfo per node with the pods on it (bound,
// or assumed while their binding is in flight), kept up to date incrementally from the
// node and pod informers.

import type { NodeInfo, NodeView, PodView, Resources } from './framework.js';

/** Where a pod is counted, and whether only because the scheduler assumed it there. */
interface Placement {
  node: string;
  pod: PodView;
  assumed: boolean;
}
import { hasRequiredAntiAffinity } from './plugins/inter-pod-affinity.js';
import { hostPortsOf, nodeAllocatable, podRequests } from './resources.js';

function add(a: Resources, b: Resources, sign: 1 | -1): void {
  a.milliCpu += sign * b.milliCpu;
  a.memory += sign * b.memory;
  a.pods += sign * b.pods;
}

function isTerminal(pod: PodView): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

export class SchedulerCache {
  private readonly nodes = new Map<string, NodeInfo>();
  /** The nodes as an array, kept until one is added or removed (NodeInfos change in place). */
  private list: NodeInfo[] | undefined;
  /** uid → node the pod counts against. */
  private readonly placed = new Map<string, Placement>();

  upsertNode(node: NodeView): void {
    const name = node.metadata.name ?? '';
    const existing = this.nodes.get(name);
    if (existing !== undefined) {
      existing.node = node;
      existing.labels = node.metadata.labels ?? {};
      existing.allocatable = nodeAllocatable(node);
      return;
    }
    const info: NodeInfo = {
      node,
      name,
      labels: node.metadata.labels ?? {},
      pods: [],
      requested: { milliCpu: 0, memory: 0, pods: 0 },
      allocatable: nodeAllocatable(node),
      usedHostPorts: new Set(),
      antiAffinityPods: [],
    };
    this.nodes.set(name, info);
    this.list = undefined;
    for (const p of this.placed.values()) if (p.node === name) this.account(info, p.pod, 1);
  }

  removeNode(name: string): void {
    if (this.nodes.delete(name)) this.list = undefined;
  }

  private account(info: NodeInfo, pod: PodView, sign: 1 | -1): void {
    add(info.requested, podRequests(pod), sign);
    if (sign === 1) {
      info.pods.push(pod);
      for (const p of hostPortsOf(pod)) info.usedHostPorts.add(p);
      if (hasRequiredAntiAffinity(pod)) info.antiAffinityPods.push(pod);
    } else {
      info.pods = info.pods.filter((p) => p.metadata.uid !== pod.metadata.uid);
      if (hostPortsOf(pod).length > 0) info.usedHostPorts = new Set(info.pods.flatMap(hostPortsOf));
      if (hasRequiredAntiAffinity(pod))
        info.antiAffinityPods = info.antiAffinityPods.filter((p) => p.metadata.uid !== pod.metadata.uid);
    }
  }

  private place(uid: string, p: Placement): void {
    const { node, pod, assumed } = p;
    this.unplace(uid);
    this.placed.set(uid, { node, pod, assumed });
    const info = this.nodes.get(node);
    if (info !== undefined) this.account(info, pod, 1);
  }

  private unplace(uid: string): void {
    const prev = this.placed.get(uid);
    if (prev === undefined) return;
    this.placed.delete(uid);
    const info = this.nodes.get(prev.node);
    if (info !== undefined) this.account(info, prev.pod, -1);
  }

  /** A pod from the informer: counted on its node while bound and not finished. */
  upsertPod(pod: PodView): void {
    const uid = pod.metadata.uid ?? '';
    const node = pod.spec?.nodeName;
    if (node === undefined || node === '' || isTerminal(pod)) {
      // Keep an assumption until the binding shows up.
      if (this.placed.get(uid)?.assumed !== true) this.unplace(uid);
      return;
    }
    this.place(uid, { node, pod, assumed: false });
  }

  removePod(pod: PodView): void {
    this.unplace(pod.metadata.uid ?? '');
  }

  /** Counts a pod on a node before its binding is confirmed. */
  assume(pod: PodView, node: string): void {
    this.place(pod.metadata.uid ?? '', {
      node,
      pod: { ...pod, spec: { containers: [], ...pod.spec, nodeName: node } },
      assumed: true,
    });
  }

  /** Drops an assumption whose binding failed. */
  forget(pod: PodView): void {
    if (this.placed.get(pod.metadata.uid ?? '')?.assumed) this.unplace(pod.metadata.uid ?? '');
  }

  isAssumed(uid: string): boolean {
    return this.placed.get(uid)?.assumed === true;
  }

  /** Every node, shared between cycles: read-only to callers. */
  snapshot(): readonly NodeInfo[] {
    this.list ??= [...this.nodes.values()];
    return this.list;
  }

  nodeCount(): number {
    return this.nodes.size;
  }
}
