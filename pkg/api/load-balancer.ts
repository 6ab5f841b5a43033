// The addresses a load balancer of the cluster answers on: every Ready node's InternalIP, as
// k3s' ServiceLB gives LoadBalancer Services and its ingress controller gives Ingresses.
// The servicelb controller and the node agents' ingress status writer share this.

import type { Node } from './types/index.js';

export interface LoadBalancerIngress {
  ip?: string;
  hostname?: string;
}

export function isNodeReady(node: Readonly<Node>): boolean {
  return (node.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** The InternalIP of every Ready node, sorted and unique. */
export function readyNodeAddresses(nodes: readonly Readonly<Node>[]): string[] {
  const ips = new Set<string>();
  for (const n of nodes) {
    if (!isNodeReady(n)) continue;
    const ip = (n.status?.addresses ?? []).find((a) => a.type === 'InternalIP')?.address;
    if (ip !== undefined && ip !== '') ips.add(ip);
  }
  return [...ips].sort();
}

/** The status entries for `ips`, one `{ip}` each. */
export function loadBalancerIngress(ips: readonly string[]): LoadBalancerIngress[] {
  return ips.map((ip) => ({ ip }));
}

/** Whether the recorded entries already say exactly `ips` (in order). */
export function sameIngress(recorded: readonly LoadBalancerIngress[] | undefined, ips: readonly string[]): boolean {
  const list = recorded ?? [];
  return list.length === ips.length && list.every((e, i) => e.ip === ips[i] && e.hostname === undefined);
}
