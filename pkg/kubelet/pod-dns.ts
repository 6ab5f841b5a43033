// A pod's /etc/resolv.conf, as the kubelet decides it from dnsPolicy and dnsConfig:
// - ClusterFirst (the default): the cluster DNS, with the search path
//   `<ns>.svc.<domain> svc.<domain> <domain>` and ndots:5; on hostNetwork pods it falls
//   back to Default, unless the policy is ClusterFirstWithHostNet;
// - Default: the node's own resolver configuration (Docker copies the host's);
// - None: only what dnsConfig says.
// dnsConfig's nameservers and searches are appended, its options override by name.

export interface ClusterDns {
  nameservers: string[];
  domain: string;
}

export interface ResolvConf {
  nameservers: string[];
  searches: string[];
  options: string[];
}

interface PodDnsSpec {
  dnsPolicy?: string;
  hostNetwork?: boolean;
  dnsConfig?: { nameservers?: string[]; searches?: string[]; options?: { name?: string; value?: string }[] };
}

const MAX_NAMESERVERS = 3;
const MAX_SEARCHES = 32;

/** undefined: leave the container runtime's default (the node's resolver). */
export function podResolvConf(
  spec: PodDnsSpec,
  namespace: string,
  cluster: ClusterDns | undefined,
): ResolvConf | undefined {
  let policy = spec.dnsPolicy ?? 'ClusterFirst';
  if (policy === 'ClusterFirst' && spec.hostNetwork === true) policy = 'Default';
  if (policy === 'ClusterFirstWithHostNet') policy = 'ClusterFirst';
  if (policy === 'ClusterFirst' && cluster === undefined) policy = 'Default';
  let base: ResolvConf;
  if (policy === 'ClusterFirst' && cluster !== undefined) {
    const d = cluster.domain;
    base = {
      nameservers: [...cluster.nameservers],
      searches: [`${namespace}.svc.${d}`, `svc.${d}`, d],
      options: ['ndots:5'],
    };
  } else if (policy === 'None') {
    base = { nameservers: [], searches: [], options: [] };
  } else {
    if (spec.dnsConfig === undefined) return undefined;
    base = { nameservers: [], searches: [], options: [] };
  }
  const extra = spec.dnsConfig ?? {};
  const nameservers = [...new Set([...base.nameservers, ...(extra.nameservers ?? [])])].slice(0, MAX_NAMESERVERS);
  const searches = [...new Set([...base.searches, ...(extra.searches ?? [])])].slice(0, MAX_SEARCHES);
  const options = new Map<string, string>();
  for (const o of base.options) {
    const [name = '', value] = o.split(':');
    options.set(name, value === undefined ? name : `${name}:${value}`);
  }
  for (const o of extra.options ?? [])
    if (o.name) options.set(o.name, o.value !== undefined && o.value !== '' ? `${o.name}:${o.value}` : o.name);
  return { nameservers, searches, options: [...options.values()] };
}

export function renderResolvConf(conf: ResolvConf): string {
  const lines = conf.nameservers.map((n) => `nameserver ${n}`);
  if (conf.searches.length > 0) lines.push(`search ${conf.searches.join(' ')}`);
  if (conf.options.length > 0) lines.push(`options ${conf.options.join(' ')}`);
  return lines.join('\n') + '\n';
}
