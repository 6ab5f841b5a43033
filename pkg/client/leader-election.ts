// Leader election on a coordination.k8s.io Lease (client-go's leaderelection): the holder
// renews the lease every retry period; another candidate takes over once the lease has
// not been renewed for its duration. A leader that cannot renew within the renew deadline
// steps down. runLeaderElected is what a component runs: each term gets its own
// AbortSignal; losing the lease aborts that term's loops, waits for them to stop and
// campaigns again — the process keeps running (an apiserver away for a minute must not
// leave a cluster with no scheduler or controllers).

import { microTime } from '../api/meta.js';
import { mustFind } from '../api/registry.js';
import type { KubeObject } from '../api/meta.js';
import { errorMessage, isAlreadyExists, isConflict, isNotFound } from '../errors/index.js';
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

export interface LeaderElectedOptions {
  log: (msg: string) => void;
  /**
   * One term's work: starts its informers and loops on `term` and resolves once all of
   * them have stopped after `term` aborted.
   */
  lead: (term: AbortSignal) => Promise<void>;
}

/** What runLeaderElected needs of an elector (LeaderElector; a fake in tests). */
export interface Campaigner {
  readonly config: Pick<LeaderElectionConfig, 'identity' | 'retryPeriodMs'>;
  acquire(signal: AbortSignal): Promise<boolean>;
  renewUntilLost(signal: AbortSignal): Promise<void>;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}


/** Resolves after ms, or at once on abort (the listener is removed either way: sleeps repeat for as long as the process lives). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const onAbort = (): void => {
      clearTimeout(t);
      resolve();
    };
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
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
  constructor(private readonly client: RestClient, readonly config: LeaderElectionConfig) {}

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
      const outcome = await withTimeout(this.tryAcquireOrRenew(), left).catch(() => 'failed' as const);
      if (outcome === true) lastRenew = Date.now();
      else if (outcome === false) return; // someone else holds it
      if (Date.now() - lastRenew > this.config.renewDeadlineMs) return;
    }
  }
}

/**
 * Leads while elected, term after term, until `signal` aborts: campaign; on winning run
 * `lead` with a signal of its own; when the lease is lost (or the loops end by themselves)
 * abort that term, wait for its loops to stop, and campaign again.
 */
export async function runLeaderElected(elector: Campaigner, signal: AbortSignal, opts: LeaderElectedOptions): Promise<void> {
  const { identity, retryPeriodMs } = elector.config;
  while (!signal.aborted) {
    opts.log(`${identity} waiting to lead`);
    if (!(await elector.acquire(signal))) return;
    const term = new AbortController();
    const onAbort = (): void => term.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    opts.log(`${identity} is the leader`);
    let ended = false;
    const work = opts.lead(term.signal).then(
      () => undefined,
      (err: unknown) => {
        if (!term.signal.aborted) opts.log(`the leader's loops failed: ${errorMessage(err)}`);
      },
    ).finally(() => {
      ended = true;
      term.abort(); // loops that end on their own also end the term (stop renewing for nothing)
    });
    await elector.renewUntilLost(term.signal);
    term.abort();
    signal.removeEventListener('abort', onAbort);
    if (!ended) opts.log(signal.aborted ? 'stopping' : 'lost leadership; stopping the loops');
    await work;
    if (signal.aborted) return;
    opts.log('loops stopped; campaigning again');
    await sleep(retryPeriodMs, signal);
  }
}
