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
  private readonly minInterval: number;
  private readonly maxBackoff: number;
  private readonly iptables: Pick<ProxyIptables, 'sync'>;
  private dirty = true;
  private wake: (() => void) | undefined;
  private last: SyncInfo | undefined;

  constructor(
    private readonly sources: { services: Source<Service>; endpoints: Source<Endpoints> },
    private readonly options: ServiceProxyOptions,
  ) {
    this.minInterval = options.minSyncIntervalMs ?? 100;
    this.maxBackoff = options.maxBackoffMs ?? 30_000;
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
    this.dirty = true;
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** Runs the sync loop until the signal aborts; resolves when it has stopped. */
  async start(signal: AbortSignal): Promise<void> {
    this.dirty = true;
    let failures = 0;
    const onAbort = (): void => {
      const w = this.wake;
      this.wake = undefined;
      w?.();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      while (!signal.aborted) {
        if (!this.dirty) {
          await new Promise<void>((resolve) => (this.wake = resolve));
          continue;
        }
        this.dirty = false;
        const ok = await this.syncOnce();
        failures = ok ? 0 : failures + 1;
        if (!ok) this.dirty = true;
        const wait = ok ? this.minInterval : Math.min(this.maxBackoff, this.minInterval * 2 ** Math.min(failures, 20));
        await sleep(wait, signal);
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
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

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
