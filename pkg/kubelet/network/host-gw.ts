// Pod traffic between hosts, the "host-gw" scheme (DESIGN.md §7): hosts share a layer-2
// network, so each host routes every other node's podCIDR via that node's address. This
// module keeps, level-based from the Node cache:
// - one route per other node (protocol 77, so routes of ours are found again after a
//   restart and stale ones removed when nodes go; only proto-77 routes inside this cluster's
//   CIDR are ours: another cluster on this machine has its own);
// - filter chain <prefix>NET-FORWARD, jumped to from the top of Docker's DOCKER-USER: accept
//   traffic from and to the cluster CIDR, which Docker's FORWARD policy would drop;
// - nat chain <prefix>NET-POSTROUTING: masquerade pod traffic that leaves the cluster CIDR.
// (The prefix is the cluster's, cluster-identity.ts; the service proxy garbage-collects only
// its SVC-/SEP- chains of it.)

import { cidrContains, nodePodCidr, parseCidr } from '../../api/cidr.js';
import { isObject } from '../../api/meta.js';
import type { Node } from '../../api/types/index.js';
import type { Informer } from '../../client/index.js';
import { CommandError, Iptables, runCommand } from '../host/index.js';
import { errorMessage } from '../../errors/index.js';

export const ROUTE_PROTO = '77';

export interface NetChains {
  forward: string;
  postrouting: string;
}

export function netChains(prefix: string): NetChains {
  return { forward: `${prefix}NET-FORWARD`, postrouting: `${prefix}NET-POSTROUTING` };
}

type NodeSource = Pick<Informer<Node>, 'list' | 'addHandler'>;

export interface Route {
  dst: string;
  via: string;
}

/** The routes this node should have: every other node's podCIDR via its InternalIP. */
export function desiredRoutes(nodes: Node[], self: string): Route[] {
  const routes: Route[] = [];
  for (const n of nodes) {
    if (n.metadata.name === self || n.metadata.deletionTimestamp !== undefined) continue;
    const cidr = nodePodCidr(n);
    const addresses = n.status?.addresses ?? [];
    const ip = addresses.find((a) => a.type === 'InternalIP')?.address;
    if (cidr && ip) routes.push({ dst: cidr, via: ip });
  }
  return routes.sort((a, b) => a.dst.localeCompare(b.dst));
}

/** Whether a route's destination (`a.b.c.d/n` or an address) lies inside the CIDR. */
export function withinCidr(dst: string, cidr: string): boolean {
  const outer = parseCidr(cidr);
  const inner = parseCidr(dst.includes('/') ? dst : `${dst}/32`);
  return (
    outer !== undefined &&
    inner !== undefined &&
    inner.bits >= outer.bits &&
    cidrContains(outer, dst.split('/')[0] ?? '')
  );
}

/** The objects of the JSON array `ip -j` or `bridge -j` printed (nothing printed: none). */
function jsonObjects(out: string): Record<string, unknown>[] {
  const parsed: unknown = JSON.parse(out.trim() === '' ? '[]' : out);
  return Array.isArray(parsed) ? parsed.filter(isObject) : [];
}

/** The proto-77 routes inside the cluster CIDR: the ones agents of this cluster made. */
export async function currentRoutes(clusterCIDR: string): Promise<Route[]> {
  const out = await runCommand('ip', ['-j', 'route', 'show', 'proto', ROUTE_PROTO]);
  const routes: Route[] = [];
  for (const r of jsonObjects(out)) {
    const dst = r['dst'];
    const via = r['gateway'];
    if (typeof dst === 'string' && typeof via === 'string' && withinCidr(dst, clusterCIDR)) routes.push({ dst, via });
  }
  return routes;
}

/** Removes this cluster's routes (its proto-77 routes inside its CIDR); returns how many. */
export async function removeRoutes(clusterCIDR: string): Promise<number> {
  const routes = await currentRoutes(clusterCIDR);
  for (const r of routes) await runCommand('ip', ['route', 'del', r.dst, 'proto', ROUTE_PROTO]).catch(() => undefined);
  return routes.length;
}

/** The node's part of the cluster network: its chains' prefix, the CIDRs and the pod bridge. */
export interface HostGwNet {
  chainPrefix: string;
  clusterCIDR: string;
  podCIDR: string;
  bridge: string;
}

/** Filter and nat rules for pod traffic (rebuilt whole: declaring a chain flushes it). */
export function baseRules(chains: NetChains, net: Omit<HostGwNet, 'chainPrefix'>): string {
  const { clusterCIDR, podCIDR, bridge: podBridge } = net;
  return [
    '*filter',
    `:${chains.forward} - [0:0]`,
    `-A ${chains.forward} -s ${clusterCIDR} -m comment --comment "coxswain: pod traffic out" -j ACCEPT`,
    `-A ${chains.forward} -d ${clusterCIDR} -m comment --comment "coxswain: pod traffic in" -j ACCEPT`,
    'COMMIT',
    '*nat',
    `:${chains.postrouting} - [0:0]`,
    `-A ${chains.postrouting} -s ${podCIDR} ! -d ${clusterCIDR} ! -o ${podBridge} -m comment --comment "coxswain: pods leaving the cluster" -j MASQUERADE`,
    'COMMIT',
    '',
  ].join('\n');
}

/**
 * Hairpin mode on every port of the pod bridge: a pod that reaches itself through a Service
 * has its packet DNATed back to the port it came from, which a bridge refuses to send out
 * again unless the port allows it (kubelet's hairpin-veth mode).
 */
export async function ensureHairpin(bridge: string): Promise<void> {
  const ports = jsonObjects(await runCommand('bridge', ['-j', '-d', 'link', 'show']));
  for (const p of ports) {
    const ifname = p['ifname'];
    if (p['master'] === bridge && p['hairpin'] === false && typeof ifname === 'string' && ifname !== '') {
      await runCommand('bridge', ['link', 'set', 'dev', ifname, 'hairpin', 'on']).catch(() => undefined);
    }
  }
}

export class HostGwNetwork {
  private dirty = true;
  private running: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** This node's name (no route to itself). */
  private readonly self: string;
  private readonly net: HostGwNet;
  private readonly log: (m: string) => void;

  constructor(
    private readonly nodes: NodeSource,
    options: { self: string; net: HostGwNet; log: (m: string) => void },
  ) {
    this.self = options.self;
    this.net = options.net;
    this.log = options.log;
  }

  async start(signal: AbortSignal): Promise<void> {
    const iptables = new Iptables();
    const chains = netChains(this.net.chainPrefix);
    await iptables.restore(baseRules(chains, this.net));
    const dockerUser = await iptables.hasChain('filter', 'DOCKER-USER');
    await iptables.ensureRule('filter', dockerUser ? 'DOCKER-USER' : 'FORWARD', ['-j', chains.forward]);
    await iptables.ensureRule('nat', 'POSTROUTING', ['-j', chains.postrouting]);
    await this.syncRoutes();
    this.nodes.addHandler({ onAdd: () => this.kick(), onUpdate: () => this.kick(), onDelete: () => this.kick() });
    signal.addEventListener('abort', () => clearTimeout(this.timer), { once: true });
  }

  private kick(): void {
    this.dirty = true;
    if (this.timer === undefined && this.running === undefined) this.timer = setTimeout(() => void this.loop(), 50);
  }

  private async loop(): Promise<void> {
    this.timer = undefined;
    while (this.dirty) {
      this.dirty = false;
      this.running = this.syncRoutes().catch((err: unknown) => {
        this.log(`host-gw routes: ${errorMessage(err)}`);
        this.dirty = true;
        return new Promise<void>((r) => setTimeout(r, 1000));
      });
      await this.running;
      this.running = undefined;
    }
  }

  /** Brings this cluster's proto-77 routes to the desired set. */
  async syncRoutes(): Promise<void> {
    // A node whose podCIDR lies outside the cluster CIDR would get a route no sync removes.
    const want = desiredRoutes(this.nodes.list(), this.self).filter((r) => withinCidr(r.dst, this.net.clusterCIDR));
    const have = await currentRoutes(this.net.clusterCIDR);
    const wantByDst = new Map(want.map((r) => [r.dst, r.via]));
    for (const r of have) {
      if (wantByDst.get(r.dst) !== r.via)
        await runCommand('ip', ['route', 'del', r.dst, 'proto', ROUTE_PROTO]).catch(() => undefined);
    }
    const haveByDst = new Map(have.map((r) => [r.dst, r.via]));
    for (const r of want) {
      if (haveByDst.get(r.dst) === r.via) continue;
      try {
        await runCommand('ip', ['route', 'replace', r.dst, 'via', r.via, 'proto', ROUTE_PROTO]);
        this.log(`host-gw: route ${r.dst} via ${r.via}`);
      } catch (err) {
        // A node whose address is not on our link cannot be reached this way; say so once per sync.
        if (!(err instanceof CommandError)) throw err;
        this.log(`host-gw: cannot route ${r.dst} via ${r.via}: ${err.result.stderr.trim()}`);
      }
    }
  }
}
