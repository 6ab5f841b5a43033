/**
 * ServiceProxy: the kube-proxy role of the node agent. Informer events only
 * mark the state dirty; one loop rebuilds the whole ruleset, at most once per
 * minSyncIntervalMs, never two syncs at once, with back-off on failure.
 */
import type { Informer } from '../../client/informer.js';
import { ProxyIptables } from './iptables.js';
import type { ProxyChains } from './rules.js';
import type { Endpoints, Service } from './types.js';
import { errorMessage } from '../../errors/index.js';
import { CoalescedSync } from '../host/index.js';

export type Source<T extends Service | Endpoints> = Pick<Informer<T>, 'list' | 'addHandler'>;

export interface ServiceProxyOptions {
  /** This cluster's chains (cluster-identity.ts gives the prefix). */
  chains: ProxyChains;
  clusterCIDR: string;
  /** This node's pod CIDR: masquerade only what needs it (rules.ts). */
  podCIDR?: string;
  log: (m: string) => void;
  minSyncIntervalMs?: number;
  nodeIPs?: string[];
  onSynced?: (at: number) => void;
  /** Applier to use (tests pass one bound to a network namespace). */
  iptables?: Pick<ProxyIptables, 'sync'>;
  maxBackoffMs?: number;
}

export interface SyncInfo {
  at: number;
  durationMs: number;
  ok: boolean;
}

export class ServiceProxy {
  private readonly iptables: Pick<ProxyIptables, 'sync'>;
  private readonly loop: CoalescedSync;
  private last: SyncInfo | undefined;

  constructor(
    private readonly sources: { services: Source<Service>; endpoints: Source<Endpoints> },
    private readonly options: ServiceProxyOptions,
  ) {
    this.loop = new CoalescedSync(() => this.syncOnce(), {
      minIntervalMs: options.minSyncIntervalMs ?? 100,
      maxBackoffMs: options.maxBackoffMs ?? 30_000,
    });
    this.iptables = options.iptables ?? new ProxyIptables();
    const mark = (): void => this.markDirty();
    for (const s of [sources.services, sources.endpoints]) {
      s.addHandler({ onAdd: mark, onUpdate: mark, onDelete: mark });
    }
  }

  lastSync(): SyncInfo | undefined {
    return this.last;
  }

  markDirty(): void {
    this.loop.markDirty();
  }

  /** Runs the sync loop until the signal aborts; resolves when it has stopped. */
  start(signal: AbortSignal): Promise<void> {
    return this.loop.run(signal);
  }

  private async syncOnce(): Promise<boolean> {
    const t0 = Date.now();
    try {
      await this.iptables.sync({
        chains: this.options.chains,
        services: this.sources.services.list(),
        endpoints: this.sources.endpoints.list(),
        nodeIPs: this.options.nodeIPs,
        clusterCIDR: this.options.clusterCIDR,
        ...(this.options.podCIDR !== undefined ? { podCIDR: this.options.podCIDR } : {}),
      });
      const at = Date.now();
      this.last = { at, durationMs: at - t0, ok: true };
      this.options.onSynced?.(at);
      return true;
    } catch (err) {
      const at = Date.now();
      this.last = { at, durationMs: at - t0, ok: false };
      this.options.log(`service proxy sync failed: ${errorMessage(err)}`);
      return false;
    }
  }
}
