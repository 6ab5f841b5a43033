// Resource arithmetic for scheduling: a pod's requests (max of init containers, sum of app
// containers, as Kubernetes computes the effective request) and a node's allocatable.

import { parseQuantity } from '../api/quantity.js';
import type { Container } from '../api/types/index.js';
import type { NodeView, PodView, Resources } from './framework.js';

function requestsOf(c: Container): Resources {
  const req = c.resources?.requests ?? {};
  return {
    milliCpu: req['cpu'] !== undefined ? Math.round(parseQuantity(req['cpu']) * 1000) : 0,
    memory: req['memory'] !== undefined ? parseQuantity(req['memory']) : 0,
    pods: 0,
  };
}

const memo = new WeakMap<PodView, Resources>();

/** A pod's effective requests (memoized per object: cached objects are immutable). */
export function podRequests(pod: PodView): Resources {
  const cached = memo.get(pod);
  if (cached !== undefined) return cached;
  const computed = computeRequests(pod);
  memo.set(pod, computed);
  return computed;
}

function computeRequests(pod: PodView): Resources {
  const sum: Resources = { milliCpu: 0, memory: 0, pods: 1 };
  for (const c of pod.spec?.containers ?? []) {
    const r = requestsOf(c);
    sum.milliCpu += r.milliCpu;
    sum.memory += r.memory;
  }
  for (const c of pod.spec?.initContainers ?? []) {
    const r = requestsOf(c);
    sum.milliCpu = Math.max(sum.milliCpu, r.milliCpu);
    sum.memory = Math.max(sum.memory, r.memory);
  }
  return sum;
}

export function nodeAllocatable(node: NodeView): Resources {
  const a = node.status?.allocatable ?? node.status?.capacity ?? {};
  return {
    milliCpu: a['cpu'] !== undefined ? Math.round(parseQuantity(a['cpu']) * 1000) : 0,
    memory: a['memory'] !== undefined ? parseQuantity(a['memory']) : 0,
    pods: a['pods'] !== undefined ? parseQuantity(a['pods']) : 110,
  };
}

const hostPortsMemo = new WeakMap<PodView, string[]>();

/** The host ports a pod asks for, as `protocol/hostIP/port` (asked once per node per pod: memoised). */
export function hostPortsOf(pod: PodView): string[] {
  let ports = hostPortsMemo.get(pod);
  if (ports === undefined) {
    ports = listHostPorts(pod);
    hostPortsMemo.set(pod, ports);
  }
  return ports;
}

function listHostPorts(pod: PodView): string[] {
  const out: string[] = [];
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) {
      if (p.hostPort !== undefined && p.hostPort > 0)
        out.push(`${p.protocol ?? 'TCP'}/${p.hostIP ?? '0.0.0.0'}/${p.hostPort}`);
    }
  }
  return out;
}
