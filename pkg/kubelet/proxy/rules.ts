/**
 * Pure builder of the iptables-restore payload that implements Services
 * (ClusterIP and NodePort) with NAT rules, in the manner of kube-proxy's
 * iptables mode. Everything is rebuilt on every sync (level-based).
 */
import { createHash } from 'node:crypto';
import type { Endpoints, Service } from './types.js';

export type { Endpoints, Service } from './types.js';

export const CHAIN_PREFIX = 'COX-';
export const SERVICES_CHAIN = 'COX-SERVICES';
export const NODEPORTS_CHAIN = 'COX-NODEPORTS';
export const POSTROUTING_CHAIN = 'COX-POSTROUTING';
export const MARK_MASQ_CHAIN = 'COX-MARK-MASQ';
export const MASQ_MARK = '0x4000/0x4000';

export interface NatRulesInput {
  services: Service[];
  endpoints: Endpoints[];
  nodeIPs?: string[];
  clusterCIDR: string;
  /** COX-* chains currently present, as `table` → names (nat and filter). */
  existingChains: string[];
  /** COX-* chains currently present in the filter table. */
  existingFilterChains?: string[];
}

/** Stable 16-character chain suffix. */
export function chainHash(...parts: string[]): string {
  return createHash('sha256').update(parts.join('/')).digest('hex').slice(0, 16).toUpperCase();
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
    const match = ports.find(
      (p) => (p.name ?? '') === portName && (p.protocol ?? 'TCP').toUpperCase() === protocol,
    );
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

/**
 * Builds the full payload (a `*nat` section followed by a `*filter` section) for
 * `iptables-restore --noflush`. Jumps from the built-in chains are not included;
 * the applier ensures them separately.
 */
export function buildNatRules(input: NatRulesInput): string {
  const natChains: string[] = [SERVICES_CHAIN, NODEPORTS_CHAIN, POSTROUTING_CHAIN, MARK_MASQ_CHAIN];
  const natRules: string[] = [];
  const filterChains: string[] = [SERVICES_CHAIN];
  const filterRules: string[] = [];
  const nodePortRules: string[] = [];

  natRules.push(`-A ${POSTROUTING_CHAIN} -m mark ! --mark ${MASQ_MARK} -j RETURN`);
  natRules.push(`-A ${POSTROUTING_CHAIN} -j MARK --xor-mark 0x4000`);
  natRules.push(`-A ${POSTROUTING_CHAIN} -m comment --comment "coxswain service traffic requiring SNAT" -j MASQUERADE`);
  natRules.push(`-A ${MARK_MASQ_CHAIN} -j MARK --set-xmark ${MASQ_MARK}`);

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
          `-A ${SERVICES_CHAIN} -d ${clusterIP}/32 -p ${p} -m comment --comment ${quote(`${svcName} has no endpoints`)} -m ${p} --dport ${port.port} -j REJECT --reject-with icmp-port-unreachable`,
        );
        if (nodePort !== undefined) {
          filterRules.push(
            `-A ${SERVICES_CHAIN} -p ${p} -m comment --comment ${quote(`${svcName} has no endpoints`)} -m addrtype --dst-type LOCAL -m ${p} --dport ${nodePort} -j REJECT --reject-with icmp-port-unreachable`,
          );
        }
        continue;
      }

      const svcChain = `COX-SVC-${chainHash(ns, name, portName, proto)}`;
      natChains.push(svcChain);
      natRules.push(
        `-A ${SERVICES_CHAIN} -d ${clusterIP}/32 -p ${p} -m comment --comment ${quote(`${svcName} cluster IP`)} -m ${p} --dport ${port.port} -j ${svcChain}`,
      );
      if (nodePort !== undefined) {
        nodePortRules.push(
          `-A ${NODEPORTS_CHAIN} -p ${p} -m comment --comment ${quote(svcName)} -m ${p} --dport ${nodePort} -j ${svcChain}`,
        );
      }
      // Masquerade every service connection (like --masquerade-all) so replies
      // from an endpoint on the same bridge as the client come back through us.
      natRules.push(`-A ${svcChain} -j ${MARK_MASQ_CHAIN}`);
      const n = backends.length;
      backends.forEach((b, i) => {
        const sepChain = `COX-SEP-${chainHash(ns, name, portName, proto, `${b.ip}:${b.port}`)}`;
        natChains.push(sepChain);
        const stat = i < n - 1 ? ` -m statistic --mode random --probability ${formatProbability(n - i)}` : '';
        natRules.push(`-A ${svcChain} -m comment --comment ${quote(svcName)}${stat} -j ${sepChain}`);
        natRules.push(`-A ${sepChain} -p ${p} -m comment --comment ${quote(svcName)} -m ${p} -j DNAT --to-destination ${b.ip}:${b.port}`);
      });
    }
  }

  natRules.push(...nodePortRules);
  natRules.push(
    `-A ${SERVICES_CHAIN} -m comment --comment "coxswain service nodeports" -m addrtype --dst-type LOCAL -j ${NODEPORTS_CHAIN}`,
  );

  const out: string[] = ['*nat'];
  const declared = new Set(natChains);
  const staleNat = input.existingChains.filter((c) => c.startsWith(CHAIN_PREFIX) && !declared.has(c)).sort();
  for (const c of [...natChains, ...staleNat]) out.push(`:${c} - [0:0]`);
  out.push(...natRules);
  for (const c of staleNat) out.push(`-X ${c}`);
  out.push('COMMIT');

  out.push('*filter');
  const declaredF = new Set(filterChains);
  const staleF = (input.existingFilterChains ?? []).filter((c) => c.startsWith(CHAIN_PREFIX) && !declaredF.has(c)).sort();
  for (const c of [...filterChains, ...staleF]) out.push(`:${c} - [0:0]`);
  out.push(...filterRules);
  for (const c of staleF) out.push(`-X ${c}`);
  out.push('COMMIT');
  return out.join('\n') + '\n';
}
