// Resource arithmetic for scheduling: a pod's requests (max of init containers, sum of app
// containers, as Kubernetes computes the effective request) and a node's allocatable.

import { isObject, type KubeObject } from '../api/meta.js';
import { parseQuantity } from '../api/quantity.js';
import type { Resources } from './framework.js';

type Obj = Record<string, unknown>;

function requestsOf(c: Obj): Resources {
  const res = isObject(c['resources']) ? c['resources'] : {};
  const req = isObject(res['requests']) ? res['requests'] : {};
  return {
    milliCpu: req['cpu'] !== undefined ? Math.round(parseQuantity(req['cpu']) * 1000) : 0,
    memory: req['memory'] !== undefined ? parseQuantity(req['memory']) : 0,
    pods: 0,
  };
}

const memo = new WeakMap<KubeObject, Resources>();

/** A pod's effective requests (memoized per object: cached objects are immutable). */
export function podRequests(pod: KubeObject): Resources {
  const cached = memo.get(pod);
  if (cached !== undefined) return cached;
  const computed = computeRequests(pod);
  memo.set(pod, computed);
  return computed;
}

function computeRequests(pod: KubeObject): Resources {
  const spec = (pod['spec'] ?? {}) as Obj;
  const sum: Resources = { milliCpu: 0, memory: 0, pods: 1 };
  for (const c of (Array.isArray(spec['containers']) ? spec['containers'] : []).filter(isObject)) {
    const r = requestsOf(c);
    sum.milliCpu += r.milliCpu;
    sum.memory += r.memory;
  }
  for (const c of (Array.isArray(spec['initContainers']) ? spec['initContainers'] : []).filter(isObject)) {
    const r = requestsOf(c);
    sum.milliCpu = Math.max(sum.milliCpu, r.milliCpu);
    sum.memory = Math.max(sum.memory, r.memory);
  }
  return sum;
}

export function nodeAllocatable(node: KubeObject): Resources {
  const status = (node['status'] ?? {}) as Obj;
  const a = (isObject(status['allocatable']) ? status['allocatable'] : isObject(status['capacity']) ? status['capacity'] : {}) as Obj;
  return {
    milliCpu: a['cpu'] !== undefined ? Math.round(parseQuantity(a['cpu']) * 1000) : 0,
    memory: a['memory'] !== undefined ? parseQuantity(a['memory']) : 0,
    pods: a['pods'] !== undefined ? parseQuantity(a['pods']) : 110,
  };
}

export function hostPortsOf(pod: KubeObject): string[] {
  const spec = (pod['spec'] ?? {}) as Obj;
  const out: string[] = [];
  for (const c of (Array.isArray(spec['containers']) ? spec['containers'] : []).filter(isObject)) {
    for (const p of (Array.isArray(c['ports']) ? c['ports'] : []).filter(isObject)) {
      if (typeof p['hostPort'] === 'number' && p['hostPort'] > 0) out.push(`${String(p['protocol'] ?? 'TCP')}/${String(p['hostIP'] ?? '0.0.0.0')}/${p['hostPort']}`);
    }
  }
  return out;
}
