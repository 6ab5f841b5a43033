// A leader-elected component (client-go's leaderelection.RunOrDie, re-entrant): each term
// gets its own AbortSignal; losing the lease aborts that term's loops, waits for them to
// stop and campaigns again — the process keeps running (an apiserver away for a minute must
// not leave a cluster with no scheduler or controllers).

import { errorMessage } from '../errors/index.js';
import type { Logger } from './log.js';
import { sleep } from './until.js';

/** What runLeaderElected needs of an elector (the client's Lease-based LeaderElector; a fake in tests). */
export interface Campaigner {
  readonly config: { readonly identity: string; readonly retryPeriodMs: number };
  /** Campaigns until this candidate holds the lease; false when aborted first. */
  acquire(signal: AbortSignal): Promise<boolean>;
  /** Renews; resolves when the lease is lost or `signal` aborts. */
  renewUntilLost(signal: AbortSignal): Promise<void>;
}

export interface LeaderElectedOptions {
  log: Logger;
  /**
   * One term's work: starts its informers and loops on `term` and resolves once all of
   * them have stopped after `term` aborted.
   */
  lead: (term: AbortSignal) => Promise<void>;
}

/**
 * Leads while elected, term after term, until `signal` aborts: campaign; on winning run
 * `lead` with a signal of its own; when the lease is lost (or the loops end by themselves)
 * abort that term, wait for its loops to stop, and campaign again.
 */
export async function runLeaderElected(
  elector: Campaigner,
  signal: AbortSignal,
  opts: LeaderElectedOptions,
): Promise<void> {
  const { identity, retryPeriodMs } = elector.config;
  const log = opts.log.with({ identity });
  while (!signal.aborted) {
    log.info('waiting to lead');
    if (!(await elector.acquire(signal))) return;
    const term = new AbortController();
    const onAbort = (): void => term.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    log.info('is the leader');
    let ended = false;
    const work = opts
      .lead(term.signal)
      .then(
        () => undefined,
        (err: unknown) => {
          if (!term.signal.aborted) log.error(`the leader's loops failed: ${errorMessage(err)}`);
        },
      )
      .finally(() => {
        ended = true;
        term.abort(); // loops that end on their own also end the term (stop renewing for nothing)
      });
    await elector.renewUntilLost(term.signal);
    term.abort();
    signal.removeEventListener('abort', onAbort);
    if (!ended) log.info(signal.aborted ? 'stopping' : 'lost leadership; stopping the loops');
    await work;
    if (signal.aborted) return;
    log.info('loops stopped; campaigning again');
    await sleep(retryPeriodMs, signal);
  }
}
