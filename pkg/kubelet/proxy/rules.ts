/**
 * Pure builder of the iptables-restore payload that implements Services
 * (ClusterIP and NodePort) with NAT rules, in the manner of kube-proxy's
 * iptables mode. Everything is rebuilt on every sync (level-based).
 */
import { createHash } from 'node:crypto';
import { isIPv4 } from 'node:net';
import { cidrContains, parseCidr } from '../../api/cidr.js';
import type { Endpoints, Service } from './types.js';

export type { Endpoints, Service } from './types.js';

export const MASQ_MARK = '0x4000/0x4000';

/**
 * The proxy's chains, all under its cluster's prefix (cluster-identity.ts), so that two
 * clusters on one machine keep apart. Per-service chains are `<prefix>SVC-<hash>` and
 * `<prefix>SEP-<hash>`; only those are garbage-collected (other chains of the prefix, such as
 * the pod network's, belong to someone else).
 */
export interface ProxyChains {
  prefix: string;
  services: string;
  nodePorts: string;
  postrouting: string;
  markMasq: string;
}

export function proxyChains(prefix: string): ProxyChains {
  return {
    prefix,
    services: `${prefix}SERVICES`,
    nodePorts: `${prefix}NODEPORTS`,
    postrouting: `${prefix}POSTROUTING`,
    markMasq: `${prefix}MARK-MASQ`,
  };
}

/** Whether a chain is a per-service chain of these (the ones a sync may find stale). */
export function isServiceChain(chains: ProxyChains, name: string): boolean {
  return name.startsWith(`${chains.prefix}SVC-`) || name.startsWith(`${chains.prefix}SEP-`);
}

export interface NatRulesInput {
  chains: ProxyChains;
  services: Service[];
  endpoints: Endpoints[];
  nodeIPs?: string[];
  clusterCIDR: string;
  /**
   * This node's pod CIDR. Given, only connections that need it are masqueraded (from outside
   * the cluster CIDR, or to a backend on this node's bridge), so a backend on another host sees
   * the client pod's own address, which NetworkPolicy ingress rules match on; without it,
   * every service connection is masqueraded.
   */
  podCIDR?: string;
  /** Chains of the prefix currently present in the nat table. */
  existingChains: string[];
  /** Chains of the prefix currently present in the filter table. */
  existingFilterChains?: string[];
}

/** Stable 12-character chain suffix (a 11-character prefix + `SVC-` + 12 stays within 28). */
export function chainHash(...parts: string[]): string {
  return createHash('sha256').update(parts.join('/')).digest('hex').slice(0, 12).toUpperCase();
}

function formatProbability(n: number): string {
  return (1 / n).toFixed(11);
}

function quote(s: string): string {
  return `"${s.replace(/["\\]/g, '')}"`;
}

interface Backend {
  ip: string;
  port: number;
}

/** Ready endpoints of a service port, matched by port name (or the single unnamed port). */
export function readyBackends(ep: Endpoints | undefined, portName: string, protocol: string): Backend[] {
  const out: Backend[] = [];
  const seen = new Set<string>();
  for (const subset of ep?.subsets ?? []) {
    const ports = subset.ports ?? [];
    const match = ports.find((p) => (p.name ?? '') === portName && (p.protocol ?? 'TCP').toUpperCase() === protocol);
    if (!match) continue;
    for (const a of subset.addresses ?? []) {
      const key = `${a.ip}:${match.port}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ ip: a.ip, port: match.port });
    }
  }
  out.sort((x, y) => (x.ip === y.ip ? x.port - y.port : x.ip < y.ip ? -1 : 1));
  return out;
}

/** The IPv4 addresses in a LoadBalancer Service's status (servicelb writes the nodes' addresses). */
export function loadBalancerIPs(svc: Service): string[] {
  if (svc.spec?.type !== 'LoadBalancer') return [];
  return (svc.status?.loadBalancer?.ingress ?? []).flatMap((i) => (i.ip !== undefined && isIPv4(i.ip) ? [i.ip] : []));
}

/**
 * Builds the full payload (a `*nat` section followed by a `*filter` section) for
 * `iptables-restore --noflush`. Jumps from the built-in chains are not included;
 * the applier ensures them separately.
 */
export function buildNatRules(input: NatRulesInput): string {
  const { chains } = input;
  const natChains: string[] = [chains.services, chains.nodePorts, chains.postrouting, chains.markMasq];
  const natRules: string[] = [];
  const filterChains: string[] = [chains.services];
  const filterRules: string[] = [];
  const nodePortRules: string[] = [];

  natRules.push(`-A ${chains.postrouting} -m mark ! --mark ${MASQ_MARK} -j RETURN`);
  natRules.push(`-A ${chains.postrouting} -j MARK --xor-mark 0x4000`);
  natRules.push(
    `-A ${chains.postrouting} -m comment --comment "coxswain service traffic requiring SNAT" -j MASQUERADE`,
  );
  natRules.push(`-A ${chains.markMasq} -j MARK --set-xmark ${MASQ_MARK}`);

  const epByKey = new Map<string, Endpoints>();
  for (const ep of input.endpoints) {
    epByKey.set(`${ep.metadata.namespace ?? 'default'}/${ep.metadata.name ?? ''}`, ep);
  }

  const services = [...input.services].sort((a, b) => {
    const ka = `${a.metadata.namespace ?? ''}/${a.metadata.name ?? ''}`;
    const kb = `${b.metadata.namespace ?? ''}/${b.metadata.name ?? ''}`;
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });

  for (const svc of services) {
    const ns = svc.metadata.namespace ?? 'default';
    const name = svc.metadata.name ?? '';
    const spec = svc.spec ?? {};
    const type = spec.type ?? 'ClusterIP';
    if (type === 'ExternalName') continue;
    const clusterIP = spec.clusterIP;
    if (!clusterIP || clusterIP === 'None') continue;
    const ep = epByKey.get(`${ns}/${name}`);
    const isNodePort = type === 'NodePort' || type === 'LoadBalancer';

    for (const port of spec.ports ?? []) {
      const proto = (port.protocol ?? 'TCP').toUpperCase();
      if (proto !== 'TCP' && proto !== 'UDP') continue;
      const p = proto.toLowerCase();
      const portName = port.name ?? '';
      const svcName = `${ns}/${name}${portName ? `:${portName}` : ''}`;
      const backends = readyBackends(ep, portName, proto);
      const nodePort = isNodePort && port.nodePort ? port.nodePort : undefined;

      if (backends.length === 0) {
        filterRules.push(
          `-A ${chains.services} -d ${clusterIP}/32 -p ${p} -m comment --comment ${quote(`${svcName} has no endpoints`)} -m ${p} --dport ${port.port} -j REJECT --reject-with icmp-port-unreachable`,
        );
        if (nodePort !== undefined) {
          filterRules.push(
            `-A ${chains.services} -p ${p} -m comment --comment ${quote(`${svcName} has no endpoints`)} -m addrtype --dst-type LOCAL -m ${p} --dport ${nodePort} -j REJECT --reject-with icmp-port-unreachable`,
          );
        }
        continue;
      }

      const svcChain = `${chains.prefix}SVC-${chainHash(ns, name, portName, proto)}`;
      natChains.push(svcChain);
      natRules.push(
        `-A ${chains.services} -d ${clusterIP}/32 -p ${p} -m comment --comment ${quote(`${svcName} cluster IP`)} -m ${p} --dport ${port.port} -j ${svcChain}`,
      );
      // A LoadBalancer's addresses (servicelb: the nodes' own) answer at the Service port.
      for (const ip of loadBalancerIPs(svc)) {
        natRules.push(
          `-A ${chains.services} -d ${ip}/32 -p ${p} -m comment --comment ${quote(`${svcName} loadbalancer IP`)} -m ${p} --dport ${port.port} -j ${svcChain}`,
        );
      }
      if (nodePort !== undefined) {
        nodePortRules.push(
          `-A ${chains.nodePorts} -p ${p} -m comment --comment ${quote(svcName)} -m ${p} --dport ${nodePort} -j ${svcChain}`,
        );
      }
      // Masquerade so replies from an endpoint on the same bridge as the client come back
      // through us: every connection (like --masquerade-all), or with the node's pod CIDR known
      // those from outside the cluster here and those to local backends in the SEP chains.
      const local = input.podCIDR === undefined ? undefined : parseCidr(input.podCIDR);
      natRules.push(
        local === undefined
          ? `-A ${svcChain} -j ${chains.markMasq}`
          : `-A ${svcChain} ! -s ${input.clusterCIDR} -j ${chains.markMasq}`,
      );
      const n = backends.length;
      backends.forEach((b, i) => {
        const sepChain = `${chains.prefix}SEP-${chainHash(ns, name, portName, proto, `${b.ip}:${b.port}`)}`;
        natChains.push(sepChain);
        const stat = i < n - 1 ? ` -m statistic --mode random --probability ${formatProbability(n - i)}` : '';
        natRules.push(`-A ${svcChain} -m comment --comment ${quote(svcName)}${stat} -j ${sepChain}`);
        if (local !== undefined && cidrContains(local, b.ip)) natRules.push(`-A ${sepChain} -j ${chains.markMasq}`);
        natRules.push(
          `-A ${sepChain} -p ${p} -m comment --comment ${quote(svcName)} -m ${p} -j DNAT --to-destination ${b.ip}:${b.port}`,
        );
      });
    }
  }

  natRules.push(...nodePortRules);
  natRules.push(
    `-A ${chains.services} -m comment --comment "coxswain service nodeports" -m addrtype --dst-type LOCAL -j ${chains.nodePorts}`,
  );

  const out: string[] = ['*nat'];
  const declared = new Set(natChains);
  const staleNat = input.existingChains.filter((c) => isServiceChain(chains, c) && !declared.has(c)).sort();
  for (const c of [...natChains, ...staleNat]) out.push(`:${c} - [0:0]`);
  out.push(...natRules);
  for (const c of staleNat) out.push(`-X ${c}`);
  out.push('COMMIT');

  out.push('*filter');
  const declaredF = new Set(filterChains);
  const staleF = (input.existingFilterChains ?? [])
    .filter((c) => isServiceChain(chains, c) && !declaredF.has(c))
    .sort();
  for (const c of [...filterChains, ...staleF]) out.push(`:${c} - [0:0]`);
  out.push(...filterRules);
  for (const c of staleF) out.push(`-X ${c}`);
  out.push('COMMIT');
  return out.join('\n') + '\n';
}
