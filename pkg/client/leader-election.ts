// Leader election on a coordination.k8s.io Lease (client-go's leaderelection): the holder
// renews the lease every retry period; another candidate takes over once the lease has
// not been renewed for its duration. A leader that cannot renew within the renew deadline
// steps down. What a component runs on top of it, term after term, is pkg/component's
// runLeaderElected.

import { microTime } from '../api/meta.js';
import { RESOURCES } from '../api/registry.js';
import type { Lease, LeaseSpec } from '../api/types/index.js';
import { isAlreadyExists, isConflict, isNotFound } from '../errors/index.js';
import type { RestClient } from './rest-client.js';
import { runLeaderElected, sleep, type Campaigner, type LeaderElectedOptions } from '../component/index.js';

const LEASES = RESOURCES.leases;

export interface LeaderElectionConfig {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationSeconds: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

/** The promise's value, or 'timeout' when it has not settled within ms. */
function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export class LeaderElector implements Campaigner {
  constructor(
    private readonly client: RestClient,
    readonly config: LeaderElectionConfig,
  ) {}

  /** One attempt to acquire or renew; true when we hold the lease afterwards. */
  async tryAcquireOrRenew(): Promise<boolean> {
    return (await this.attempt()) === 'held';
  }

  /**
   * One attempt: 'held' (we hold it now), 'other' (another candidate holds it, unexpired) or
   * 'conflict' (our write lost a race, or a renewal replayed on another apiserver after its
   * connection broke had already been applied: the next attempt reads again).
   */
  private async attempt(): Promise<'held' | 'other' | 'conflict'> {
    const now = new Date();
    const c = this.config;
    let lease: Lease | undefined;
    try {
      lease = await this.client.get(LEASES, c.name, { namespace: c.namespace });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    if (lease === undefined) {
      try {
        await this.client.create(
          LEASES,
          {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name: c.name, namespace: c.namespace },
            spec: {
              holderIdentity: c.identity,
              leaseDurationSeconds: c.leaseDurationSeconds,
              acquireTime: microTime(now),
              renewTime: microTime(now),
              leaseTransitions: 0,
            },
          },
          { namespace: c.namespace },
        );
        return 'held';
      } catch (err) {
        if (isAlreadyExists(err)) return 'conflict';
        throw err;
      }
    }
    const spec: LeaseSpec = lease.spec ?? {};
    const renewed = Date.parse(spec.renewTime ?? '') || 0;
    const expired = renewed + (spec.leaseDurationSeconds ?? c.leaseDurationSeconds) * 1000 < now.getTime();
    const mine = spec.holderIdentity === c.identity;
    if (!mine && !expired && spec.holderIdentity) return 'other';
    const next: LeaseSpec = {
      ...spec,
      holderIdentity: c.identity,
      leaseDurationSeconds: c.leaseDurationSeconds,
      renewTime: microTime(now),
      ...(mine ? {} : { acquireTime: microTime(now), leaseTransitions: (spec.leaseTransitions ?? 0) + 1 }),
    };
    try {
      await this.client.update(LEASES, { ...lease, spec: next }, { namespace: c.namespace });
      return 'held';
    } catch (err) {
      if (isConflict(err)) return 'conflict';
      throw err;
    }
  }

  /** Campaigns until this candidate holds the lease; false when aborted first. */
  async acquire(signal: AbortSignal): Promise<boolean> {
    while (!signal.aborted) {
      try {
        if (await this.tryAcquireOrRenew()) return true;
      } catch {
        // apiserver unreachable or erroring: try again next period
      }
      await sleep(this.config.retryPeriodMs, signal);
    }
    return false;
  }

  /**
   * Renews every retry period; resolves when the lease is lost (someone else holds it, or
   * no renewal succeeded within the renew deadline) or when aborted.
   */
  async renewUntilLost(signal: AbortSignal): Promise<void> {
    let lastRenew = Date.now();
    while (!signal.aborted) {
      await sleep(this.config.retryPeriodMs, signal);
      if (signal.aborted) return;
      // An attempt may not outlast the deadline: a hung apiserver must not keep us leading.
      const left = Math.max(0, lastRenew + this.config.renewDeadlineMs - Date.now());
      // A renewal whose apiserver died goes to the next one (the client fails over); a
      // conflict is retried next period, like a failure, until the deadline.
      const outcome = await withTimeout(this.attempt(), left).catch(() => 'failed' as const);
      if (outcome === 'held') lastRenew = Date.now();
      else if (outcome === 'other') return; // someone else holds it
      if (Date.now() - lastRenew > this.config.renewDeadlineMs) return;
    }
  }
}

/** The leader-election flags every elected component takes (seconds, as strings from the command line). */
export interface LeaderElectionFlags {
  leaderElect: string;
  leaderElectLeaseDuration: string;
  leaderElectRenewDeadline: string;
  leaderElectRetryPeriod: string;
}

/** The elector's config for lease kube-system/`name`, or undefined when --leader-elect=false. */
export function leaderElectionConfig(
  flags: LeaderElectionFlags,
  name: string,
  identity: string,
): LeaderElectionConfig | undefined {
  if (flags.leaderElect === 'false') return undefined;
  return {
    namespace: 'kube-system',
    name,
    identity,
    leaseDurationSeconds: Number(flags.leaderElectLeaseDuration),
    renewDeadlineMs: Number(flags.leaderElectRenewDeadline) * 1000,
    retryPeriodMs: Number(flags.leaderElectRetryPeriod) * 1000,
  };
}

export interface ElectedOptions extends LeaderElectedOptions {
  client: RestClient;
  /** Undefined: no election, `lead` runs once on the process's signal. */
  election: LeaderElectionConfig | undefined;
}

/** Runs `lead` term after term while this process holds the lease; without election, once on `signal`. */
export function runElected(signal: AbortSignal, opts: ElectedOptions): Promise<void> {
  if (opts.election === undefined) return opts.lead(signal);
  return runLeaderElected(new LeaderElector(opts.client, opts.election), signal, opts);
}
