/**
 * NetworkPolicy enforcement on one node (the part of a CNI plugin's policy agent): informer
 * events only mark the state dirty; one loop rebuilds the node's whole policy payload
 * (rules.ts) at most once per minSyncIntervalMs, applies it in one iptables-restore when it
 * changed, never two at once, with back-off on failure. Chains of pods that went away are
 * deleted by the same payload. The rules stay when the agent stops (its pods keep running
 * and stay isolated); the cluster's teardown removes them with every other chain of its prefix.
 */
import { isIP } from 'node:net';
import { Informer } from '../../client/informer.js';
import type { RestClient } from '../../client/index.js';
import { RESOURCES } from '../../api/registry.js';
import type { Namespace, NetworkPolicy, Pod } from '../../api/types/index.js';
import { CoalescedSync, Iptables, parseChains } from '../host/index.js';
import { errorMessage } from '../../errors/index.js';
import { buildPolicyRules, policyChains, type PolicyChains, type PolicyPod } from './rules.js';

type Source<T extends Pod | Namespace | NetworkPolicy> = Pick<Informer<T>, 'list' | 'addHandler'>;

export interface PolicySources {
  /** Every pod of the cluster (peers are matched by their addresses). */
  pods: Source<Pod>;
  namespaces: Source<Namespace>;
  policies: Source<NetworkPolicy>;
}

export interface PolicyEnforcerOptions {
  /** The cluster's chain prefix (cluster-identity.ts). */
  chainPrefix: string;
  nodeName: string;
  /** The node's pod bridge (rules.ts: local pods are matched on it). */
  podInterface?: string;
  log: (m: string) => void;
  /** Changes within this window are applied together (default 200 ms). */
  minSyncIntervalMs?: number;
  maxBackoffMs?: number;
  /** Tests pass one bound to a network namespace. */
  iptables?: Iptables;
}

/** A pod that has an address on the pod network and can send or receive (peers and locals alike). */
export function policyPod(pod: Readonly<Pod>): PolicyPod | undefined {
  const ip = pod.status?.podIP;
  const phase = pod.status?.phase;
  // Only an IPv4 address goes into a rule (the status is the agent's word, not trusted text).
  if (ip === undefined || isIP(ip) !== 4 || pod.spec?.hostNetwork === true) return undefined;
  if (phase === 'Succeeded' || phase === 'Failed') return undefined;
  return {
    namespace: pod.metadata.namespace ?? 'default',
    name: pod.metadata.name ?? '',
    ip,
    labels: pod.metadata.labels ?? {},
    ports: (pod.spec?.containers ?? []).flatMap((c) => c.ports ?? []),
  };
}

export class NetworkPolicyEnforcer {
  private readonly chains: PolicyChains;
  private readonly iptables: Iptables;
  private readonly loop: CoalescedSync;
  /** The payload last applied (an unchanged one is not applied again) and the chains it declared. */
  private applied: string | undefined;
  private present: string[] | undefined;
  private syncs = 0;

  constructor(
    private readonly sources: PolicySources,
    private readonly options: PolicyEnforcerOptions,
  ) {
    this.chains = policyChains(options.chainPrefix);
    this.iptables = options.iptables ?? new Iptables();
    this.loop = new CoalescedSync(() => this.syncOnce(), {
      minIntervalMs: options.minSyncIntervalMs ?? 200,
      maxBackoffMs: options.maxBackoffMs ?? 30_000,
    });
  }

  /** Number of payloads applied (for tests and the benchmark). */
  get appliedSyncs(): number {
    return this.syncs;
  }

  /** Hooks the dispatch chain in, then syncs whenever something changed; resolves when stopped. */
  async start(signal: AbortSignal): Promise<void> {
    await this.ensureHooks();
    const kick = (): void => this.kick();
    for (const source of [this.sources.pods, this.sources.namespaces, this.sources.policies] as const)
      source.addHandler({ onAdd: kick, onUpdate: kick, onDelete: kick });
    await this.loop.run(signal);
  }

  private kick(): void {
    this.loop.markDirty();
  }

  /**
   * The dispatch chain is jumped to first thing from Docker's DOCKER-USER (before the pod
   * network's accept of the cluster CIDR) or, without Docker's chain, from FORWARD; and from
   * INPUT, so a pod's egress to its own node (the node-local DNS) is checked too.
   */
  private async ensureHooks(): Promise<void> {
    await this.iptables.ensureChain('filter', this.chains.main);
    const forward = (await this.iptables.hasChain('filter', 'DOCKER-USER')) ? 'DOCKER-USER' : 'FORWARD';
    for (const chain of [forward, 'INPUT']) await this.ensureFirst(chain);
  }

  /** Our jump at the top of a built-in chain: inserted if missing, moved up if something jumps before it. */
  private async ensureFirst(chain: string): Promise<void> {
    const spec = ['-m', 'comment', '--comment', 'coxswain network policies', '-j', this.chains.main];
    await this.iptables.ensureRule('filter', chain, spec);
    const listed = await this.iptables.run('iptables', ['-w', '-t', 'filter', '-S', chain]);
    const first = listed.stdout.split('\n').find((l) => l.startsWith('-A '));
    if (first === undefined || first.endsWith(`-j ${this.chains.main}`)) return;
    await this.iptables.run('iptables', ['-w', '-t', 'filter', '-D', chain, ...spec]);
    await this.iptables.run('iptables', ['-w', '-t', 'filter', '-I', chain, '1', ...spec]);
  }

  /** The payload for the current caches (pure; the benchmark times it). */
  render(existingChains: readonly string[]): string {
    const pods: PolicyPod[] = [];
    const localPods: PolicyPod[] = [];
    for (const pod of this.sources.pods.list()) {
      const p = policyPod(pod);
      if (p === undefined) continue;
      pods.push(p);
      if (pod.spec?.nodeName === this.options.nodeName) localPods.push(p);
    }
    const namespaces = new Map(
      this.sources.namespaces.list().map((ns) => [ns.metadata.name ?? '', ns.metadata.labels ?? {}] as const),
    );
    return buildPolicyRules({
      prefix: this.options.chainPrefix,
      localPods,
      ...(this.options.podInterface !== undefined ? { podInterface: this.options.podInterface } : {}),
      pods,
      namespaces,
      policies: this.sources.policies.list(),
      existingChains,
    });
  }

  /** One sync: applies the payload if it differs from the last one applied. */
  async syncOnce(): Promise<boolean> {
    try {
      this.present ??= await this.iptables.existingChains('filter', this.chains.prefix);
      const payload = this.render(this.present);
      if (payload === this.applied) return true;
      await this.iptables.restore(payload);
      this.applied = payload;
      // What exists now: the chains the payload declared less the ones it deleted.
      const deleted = new Set(payload.split('\n').flatMap((l) => (l.startsWith('-X ') ? [l.slice(3)] : [])));
      this.present = parseChains(payload, this.chains.prefix).filter((c) => !deleted.has(c));
      this.syncs++;
      return true;
    } catch (err) {
      this.present = undefined;
      this.applied = undefined;
      this.options.log(`network policy sync failed: ${errorMessage(err)}`);
      return false;
    }
  }
}

/** Starts enforcement from its own informers (all pods, namespaces, policies); resolves when stopped. */
export async function runNetworkPolicies(
  client: RestClient,
  options: PolicyEnforcerOptions,
  signal: AbortSignal,
): Promise<void> {
  const pods = new Informer(client, RESOURCES.pods);
  const namespaces = new Informer(client, RESOURCES.namespaces);
  const policies = new Informer(client, RESOURCES.networkpolicies);
  for (const inf of [pods, namespaces, policies]) inf.start(signal);
  await Promise.all([pods.waitForSync(signal), namespaces.waitForSync(signal), policies.waitForSync(signal)]);
  await new NetworkPolicyEnforcer({ pods, namespaces, policies }, options).start(signal);
}
