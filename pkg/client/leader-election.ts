// Leader election on a coordination.k8s.io Lease (client-go's leaderelection): the holder
// renews the lease every retry period; another candidate takes over once the lease has
// not been renewed for its duration. A leader that cannot renew within the renew deadline
// steps down (and its process should exit, as Kubernetes components do).

import { microTime } from '../api/meta.js';
import { mustFind } from '../api/registry.js';
import type { KubeObject } from '../api/meta.js';
import { isAlreadyExists, isConflict, isNotFound } from '../errors/index.js';
import type { RestClient } from './rest-client.js';

const LEASES = mustFind('coordination.k8s.io', 'v1', 'leases');

export interface LeaderElectionConfig {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationSeconds: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

export interface LeaderCallbacks {
  onStartedLeading: (signal: AbortSignal) => void;
  onStoppedLeading: () => void;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}


function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });
}

export class LeaderElector {
  constructor(private readonly client: RestClient, private readonly config: LeaderElectionConfig) {}

  /** One attempt to acquire or renew; true when we hold the lease afterwards. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const now = new Date();
    const c = this.config;
    let lease: KubeObject | undefined;
    try {
      lease = await this.client.get(LEASES, c.name, { namespace: c.namespace });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    if (lease === undefined) {
      try {
        await this.client.create(LEASES, {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: c.name, namespace: c.namespace },
          spec: { holderIdentity: c.identity, leaseDurationSeconds: c.leaseDurationSeconds, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 },
        }, { namespace: c.namespace });
        return true;
      } catch (err) {
        if (isAlreadyExists(err)) return false;
        throw err;
      }
    }
    const spec = (lease['spec'] ?? {}) as LeaseSpec;
    const renewed = Date.parse(spec.renewTime ?? '') || 0;
    const expired = renewed + (spec.leaseDurationSeconds ?? c.leaseDurationSeconds) * 1000 < now.getTime();
    const mine = spec.holderIdentity === c.identity;
    if (!mine && !expired && spec.holderIdentity) return false;
    const next: LeaseSpec = {
      ...spec,
      holderIdentity: c.identity,
      leaseDurationSeconds: c.leaseDurationSeconds,
      renewTime: microTime(now),
      ...(mine ? {} : { acquireTime: microTime(now), leaseTransitions: (spec.leaseTransitions ?? 0) + 1 }),
    };
    try {
      await this.client.update(LEASES, { ...lease, spec: next }, { namespace: c.namespace });
      return true;
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
  }

  /** Campaigns until elected, leads while renewing, and returns after stepping down or abort. */
  async run(signal: AbortSignal, callbacks: LeaderCallbacks): Promise<void> {
    while (!signal.aborted) {
      let ok = false;
      try {
        ok = await this.tryAcquireOrRenew();
      } catch {
        ok = false;
      }
      if (ok) break;
      await sleep(this.config.retryPeriodMs, signal);
    }
    if (signal.aborted) return;
    const leading = new AbortController();
    signal.addEventListener('abort', () => leading.abort(), { once: true });
    callbacks.onStartedLeading(leading.signal);
    let lastRenew = Date.now();
    while (!signal.aborted) {
      await sleep(this.config.retryPeriodMs, signal);
      if (signal.aborted) break;
      try {
        if (await this.tryAcquireOrRenew()) lastRenew = Date.now();
        else break; // someone else holds it
      } catch {
        // transient: keep trying until the deadline
      }
      if (Date.now() - lastRenew > this.config.renewDeadlineMs) break;
    }
    leading.abort();
    callbacks.onStoppedLeading();
  }
}
