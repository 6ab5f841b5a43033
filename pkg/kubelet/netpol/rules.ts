/**
 * Pure builder of the iptables-restore payload (filter table) that enforces NetworkPolicies
 * for the pods of one node, rebuilt whole from policies, pods and namespaces on every sync.
 *
 * Chains (all `<cluster prefix>NP…`, so this cluster's teardown removes them and another
 * cluster's stay apart):
 * - `NP-FWD`, jumped to from the host's FORWARD path (DOCKER-USER) and INPUT: replies of
 *   allowed connections (conntrack ESTABLISHED,RELATED) return at once; a new connection from
 *   a local pod isolated for egress goes to its `NPE-` chain, one to a local pod isolated for
 *   ingress to its `NPI-` chain (both, in that order, when both ends are isolated);
 * - `NPI-<pod>` / `NPE-<pod>`: one jump per rule of every policy selecting the pod (policies
 *   are additive), then RETURN if a rule allowed the packet, DROP otherwise;
 * - `NPR-<rule>`: one per policy rule, shared by the pods it selects: marks the packet allowed
 *   when its peer (source for ingress, destination for egress) matches; `NPX-<peer>` for an
 *   ipBlock with except (excepted blocks return unmarked first).
 * Nothing is ever ACCEPTed here: an allowed packet returns to the chains it came from, so
 * Docker's and other clusters' rules still apply. Destinations are matched after kube-proxy's
 * DNAT (nat PREROUTING runs before filter FORWARD), so Service traffic is checked against the
 * backend pod, as Kubernetes' CNI plugins do.
 */
import { createHash } from 'node:crypto';
import { cidrContains, formatCidr, parseCidr, type Cidr } from '../../api/cidr.js';
import { labelSelectorFromObject, matchesLabels, type LabelSelector } from '../../api/selectors.js';
import type { NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort, PolicyType } from '../../api/types/index.js';

/** The mark bit an allowing rule chain sets (kube-proxy uses 0x4000 and 0x8000). */
export const ALLOW_MARK = '0x20000/0x20000';

/** A pod as policies see it: where it is, its labels and its named ports. */
export interface PolicyPod {
  namespace: string;
  name: string;
  ip: string;
  labels: Record<string, string>;
  ports: { name?: string; containerPort: number; protocol?: string }[];
}

export interface PolicyRulesInput {
  /** The cluster's chain prefix (cluster-identity.ts). */
  prefix: string;
  /** Pods of this node with an address (the ones to isolate). */
  localPods: readonly PolicyPod[];
  /**
   * The node's pod bridge: local pods' traffic is matched as leaving and entering it, so an
   * address another cluster on this machine also uses is not mistaken for one of ours.
   */
  podInterface?: string;
  /** Every pod of the cluster with an address (the peers). */
  pods: readonly PolicyPod[];
  /** Labels of each namespace, by name. */
  namespaces: ReadonlyMap<string, Record<string, string>>;
  policies: readonly NetworkPolicy[];
  /** Chains of the NP prefix present now (stale ones are deleted). */
  existingChains?: readonly string[];
}

export interface PolicyChains {
  /** Every chain of policy enforcement starts with this. */
  prefix: string;
  main: string;
}

export function policyChains(clusterPrefix: string): PolicyChains {
  return { prefix: `${clusterPrefix}NP`, main: `${clusterPrefix}NP-FWD` };
}

function hash(...parts: string[]): string {
  return createHash('sha256').update(parts.join('/')).digest('hex').slice(0, 12).toUpperCase();
}

function quote(s: string): string {
  return `"${s.replace(/["\\\n]/g, '').slice(0, 200)}"`;
}

/** A selector as requirements; a malformed one (never stored: validation refuses it) matches nothing. */
function compile(sel: LabelSelector | undefined): ReturnType<typeof labelSelectorFromObject> {
  try {
    return labelSelectorFromObject(sel);
  } catch {
    return undefined;
  }
}

function policyTypes(policy: NetworkPolicy): PolicyType[] {
  const spec = policy.spec;
  if (spec?.policyTypes !== undefined && spec.policyTypes.length > 0) return spec.policyTypes;
  return (spec?.egress ?? []).length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
}

const PROTOCOLS: Record<string, string> = { TCP: 'tcp', UDP: 'udp', SCTP: 'sctp' };

function protocolOf(p: string | undefined): string | undefined {
  return PROTOCOLS[(p ?? 'TCP').toUpperCase()];
}

/**
 * Port matches of a rule's ports: `[]` when no port can match (a named port the pod lacks),
 * `['']` for every port. Named ports resolve against `named` (the pod that owns the port).
 */
function portMatches(ports: readonly NetworkPolicyPort[] | undefined, named: PolicyPod | undefined): string[] {
  if (ports === undefined || ports.length === 0) return [''];
  const out = new Set<string>();
  for (const port of ports) {
    const proto = protocolOf(port.protocol);
    if (proto === undefined) continue;
    if (port.port === undefined) out.add(`-p ${proto}`);
    else if (typeof port.port === 'number') {
      const range =
        port.endPort !== undefined && port.endPort > port.port ? `${port.port}:${port.endPort}` : `${port.port}`;
      out.add(`-p ${proto} -m ${proto} --dport ${range}`);
    } else {
      for (const c of named?.ports ?? []) {
        if (c.name === port.port && protocolOf(c.protocol) === proto)
          out.add(`-p ${proto} -m ${proto} --dport ${c.containerPort}`);
      }
    }
  }
  return [...out];
}

function hasNamedPort(ports: readonly NetworkPolicyPort[] | undefined): boolean {
  return (ports ?? []).some((p) => typeof p.port === 'string');
}

/** The pods a peer's pod and namespace selectors pick (undefined for an ipBlock peer). */
function peerPods(
  peer: NetworkPolicyPeer,
  policyNamespace: string,
  input: Pick<PolicyRulesInput, 'pods' | 'namespaces'>,
): PolicyPod[] | undefined {
  if (peer.ipBlock !== undefined) return undefined;
  const pods = compile(peer.podSelector ?? {});
  const namespaces = peer.namespaceSelector === undefined ? undefined : compile(peer.namespaceSelector);
  return input.pods.filter((p) => {
    const nsOk =
      peer.namespaceSelector === undefined
        ? p.namespace === policyNamespace
        : matchesLabels(namespaces, input.namespaces.get(p.namespace));
    return nsOk && matchesLabels(pods, p.labels);
  });
}

function inBlock(ip: string, block: { cidr: Cidr; except: Cidr[] }): boolean {
  return cidrContains(block.cidr, ip) && !block.except.some((e) => cidrContains(e, ip));
}

function parseBlock(peer: NetworkPolicyPeer): { cidr: Cidr; except: Cidr[] } | undefined {
  // Written from the parsed blocks, never the text: an IPv6 or malformed block matches nothing.
  const cidr = peer.ipBlock === undefined ? undefined : parseCidr(peer.ipBlock.cidr);
  if (cidr === undefined) return undefined;
  const except = (peer.ipBlock?.except ?? []).map((e) => parseCidr(e)).filter((e) => e !== undefined);
  return { cidr, except };
}

function addr(ip: string): string {
  return ip.includes('/') ? ip : `${ip}/32`;
}

interface Payload {
  chains: string[];
  rules: string[];
}

/** One policy rule, direction and index; builds its `NPR-` chain once for every pod it applies to. */
interface RuleRef {
  policy: NetworkPolicy;
  direction: 'ingress' | 'egress';
  index: number;
  ports: NetworkPolicyPort[] | undefined;
  peers: NetworkPolicyPeer[] | undefined;
}

class Builder {
  readonly out: Payload = { chains: [], rules: [] };
  private readonly ruleChains = new Map<string, string | undefined>();

  constructor(
    private readonly input: PolicyRulesInput,
    private readonly chains: PolicyChains,
  ) {}

  private chain(kind: 'I' | 'E' | 'R' | 'X', ...key: string[]): string {
    return `${this.chains.prefix}${kind}-${hash(...key)}`;
  }

  private policyKey(r: RuleRef): string[] {
    const p = r.policy.metadata;
    return [p.namespace ?? '', p.name ?? '', p.uid ?? '', r.direction, String(r.index)];
  }

  /**
   * The `NPR-` chain of a rule with peers (undefined: the rule has none, every address
   * matches). Egress port matching happens here, since named ports belong to the destination.
   */
  private ruleChain(r: RuleRef): string | undefined {
    if (r.peers === undefined || r.peers.length === 0) {
      if (r.direction === 'ingress' || !hasNamedPort(r.ports)) return undefined;
    }
    const key = this.policyKey(r).join('/');
    if (this.ruleChains.has(key)) return this.ruleChains.get(key);
    const name = this.chain('R', key);
    this.ruleChains.set(key, name);
    this.out.chains.push(name);
    const flag = r.direction === 'ingress' ? '-s' : '-d';
    const mark = `-j MARK --set-xmark ${ALLOW_MARK}`;
    const ns = r.policy.metadata.namespace ?? '';
    const egressNamed = r.direction === 'egress' && hasNamedPort(r.ports);
    // Egress ports are matched here (named ones per destination pod below); ingress ports
    // were matched on the jump. `[]`: only named ports, nothing to match by number.
    const numericPorts = (r.ports ?? []).filter((p) => typeof p.port !== 'string');
    const numericOnly =
      r.direction === 'ingress' || (r.ports ?? []).length === 0
        ? ['']
        : numericPorts.length === 0
          ? []
          : portMatches(numericPorts, undefined);
    const add = (match: string, ports: string[], target = mark): void => {
      for (const p of ports)
        this.out.rules.push(`-A ${name} ${match}${p === '' ? '' : ` ${p}`} ${target}`.replace(/ +/g, ' '));
    };
    const namedTargets: PolicyPod[] = [];
    if (r.peers === undefined || r.peers.length === 0) {
      namedTargets.push(...this.input.pods);
      add('', numericOnly);
    }
    (r.peers ?? []).forEach((peer, j) => {
      const pods = peerPods(peer, ns, this.input);
      if (pods !== undefined) {
        for (const pod of pods) add(`${flag} ${addr(pod.ip)}`, numericOnly);
        namedTargets.push(...pods);
        return;
      }
      const block = parseBlock(peer);
      if (block === undefined) return;
      if (egressNamed) namedTargets.push(...this.input.pods.filter((p) => inBlock(p.ip, block)));
      if (numericOnly.length === 0) return;
      if (block.except.length === 0) {
        add(`${flag} ${formatCidr(block.cidr)}`, numericOnly);
        return;
      }
      const sub = this.chain('X', key, String(j));
      this.out.chains.push(sub);
      for (const e of block.except) this.out.rules.push(`-A ${sub} ${flag} ${formatCidr(e)} -j RETURN`);
      for (const p of numericOnly)
        this.out.rules.push(`-A ${sub} ${flag} ${formatCidr(block.cidr)}${p === '' ? '' : ` ${p}`} ${mark}`);
      add('', [''], `-j ${sub}`);
    });
    if (egressNamed) {
      const named = r.ports?.filter((p) => typeof p.port === 'string');
      const seen = new Set<string>();
      for (const pod of namedTargets) {
        if (seen.has(pod.ip)) continue;
        seen.add(pod.ip);
        add(`-d ${addr(pod.ip)}`, portMatches(named, pod));
      }
    }
    return name;
  }

  /** The `NPI-`/`NPE-` chain of a local pod from the rules of the policies selecting it. */
  podChain(pod: PolicyPod, direction: 'ingress' | 'egress', rules: RuleRef[]): string {
    const name = this.chain(direction === 'ingress' ? 'I' : 'E', pod.namespace, pod.name);
    this.out.chains.push(name);
    const body: string[] = [`-A ${name} -j MARK --set-xmark 0x0/${ALLOW_MARK.split('/')[1] ?? ''}`];
    let marks = false;
    for (const r of rules) {
      const target = this.ruleChain(r);
      // Ingress ports belong to this pod (named ports resolve here); egress ports to the peer.
      const ports =
        direction === 'ingress'
          ? portMatches(r.ports, pod)
          : target === undefined
            ? portMatches(r.ports, undefined)
            : [''];
      const comment = `-m comment --comment ${quote(`${r.policy.metadata.name ?? ''} ${direction}[${r.index}]`)}`;
      for (const p of ports) {
        const match = p === '' ? '' : ` ${p}`;
        if (target === undefined) body.push(`-A ${name}${match} ${comment} -j RETURN`);
        else {
          body.push(`-A ${name}${match} ${comment} -j ${target}`);
          marks = true;
        }
      }
    }
    if (!marks) body.shift();
    else body.push(`-A ${name} -m mark --mark ${ALLOW_MARK} -j RETURN`);
    body.push(
      `-A ${name} -m comment --comment ${quote(`${pod.namespace}/${pod.name} ${direction} not allowed by any policy`)} -j DROP`,
    );
    this.out.rules.push(...body);
    return name;
  }
}

/** The policy rules that apply to a pod, per direction it is isolated in (absent: not isolated). */
function rulesFor(
  pod: PolicyPod,
  policies: readonly NetworkPolicy[],
): { ingress: RuleRef[] | undefined; egress: RuleRef[] | undefined } {
  let ingress: RuleRef[] | undefined;
  let egress: RuleRef[] | undefined;
  for (const policy of policies) {
    if (policy.metadata.namespace !== pod.namespace) continue;
    if (!matchesLabels(compile(policy.spec?.podSelector ?? {}), pod.labels)) continue;
    const types = policyTypes(policy);
    if (types.includes('Ingress')) {
      ingress ??= [];
      (policy.spec?.ingress ?? []).forEach((rule, index) =>
        ingress?.push({ policy, direction: 'ingress', index, ports: rule.ports, peers: rule.from }),
      );
    }
    if (types.includes('Egress')) {
      egress ??= [];
      (policy.spec?.egress ?? []).forEach((rule, index) =>
        egress?.push({ policy, direction: 'egress', index, ports: rule.ports, peers: rule.to }),
      );
    }
  }
  return { ingress, egress };
}

function byKey(a: { namespace: string; name: string }, b: { namespace: string; name: string }): number {
  const ka = `${a.namespace}/${a.name}`;
  const kb = `${b.namespace}/${b.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** The whole filter-table payload for this node (stale chains of the NP prefix deleted). */
export function buildPolicyRules(input: PolicyRulesInput): string {
  const chains = policyChains(input.prefix);
  const builder = new Builder(input, chains);
  const policies = [...input.policies].sort((a, b) =>
    byKey(
      { namespace: a.metadata.namespace ?? '', name: a.metadata.name ?? '' },
      { namespace: b.metadata.namespace ?? '', name: b.metadata.name ?? '' },
    ),
  );
  const dispatch: string[] = [`-A ${chains.main} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN`];
  const ingressJumps: string[] = [];
  const bridge =
    input.podInterface !== undefined && /^[\w.-]{1,15}$/.test(input.podInterface) ? input.podInterface : '';
  const inIf = bridge === '' ? '' : ` -i ${bridge}`;
  const outIf = bridge === '' ? '' : ` -o ${bridge}`;
  for (const pod of [...input.localPods].sort(byKey)) {
    const { ingress, egress } = rulesFor(pod, policies);
    if (egress !== undefined)
      dispatch.push(`-A ${chains.main}${inIf} -s ${addr(pod.ip)} -j ${builder.podChain(pod, 'egress', egress)}`);
    if (ingress !== undefined)
      ingressJumps.push(`-A ${chains.main}${outIf} -d ${addr(pod.ip)} -j ${builder.podChain(pod, 'ingress', ingress)}`);
  }
  const declared = new Set([chains.main, ...builder.out.chains]);
  const stale = (input.existingChains ?? []).filter((c) => c.startsWith(chains.prefix) && !declared.has(c)).sort();
  return [
    '*filter',
    ...[...declared, ...stale].map((c) => `:${c} - [0:0]`),
    ...dispatch,
    ...ingressJumps,
    ...builder.out.rules,
    ...stale.map((c) => `-X ${c}`),
    'COMMIT',
    '',
  ].join('\n');
}
