// Bounded retries with exponential back-off for etcd calls: each attempt has a deadline,
// transient failures (etcd unavailable, too many requests, leader changes, timeouts) are
// tried again, and after `attempts` the last error is reported. Nothing here retries forever.

import { setTimeout as sleep } from 'node:timers/promises';

export interface RetryPolicy {
  /** Attempts in all (default 8). */
  attempts: number;
  /** First pause; doubles each time (default 100 ms). */
  baseDelayMs: number;
  /** Longest pause (default 2 s). */
  maxDelayMs: number;
  /**
   * Deadline of one attempt (default 2 s). A write proposed just before the etcd leader dies
   * is never answered (etcd gives up on it only after its own ~7 s request timeout), while a
   * new leader is elected in about a second: a short deadline sends the retry to the new
   * leader soon. The writes recognise their own earlier commit on retry (etcd-store.ts).
   */
  requestTimeoutMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 8, baseDelayMs: 100, maxDelayMs: 2000, requestTimeoutMs: 2000 };

export function retryPolicy(partial: Partial<RetryPolicy>): RetryPolicy {
  return { ...DEFAULT_RETRY, ...partial };
}

/** The pause before attempt n+1 (n from 1), with jitter so many clients do not retry in step. */
export function backoffDelay(policy: RetryPolicy, attempt: number): number {
  const base = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.5 + Math.random() / 2));
}

export async function retrying<T>(
  fn: (deadline: Date, attempt: number) => Promise<T>,
  how: {
    policy: Partial<RetryPolicy>;
    isTransient: (err: unknown) => boolean;
    stop: () => boolean;
    fail: (err: unknown, attempts: number) => Error;
  },
): Promise<T> {
  const policy = retryPolicy(how.policy);
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(new Date(Date.now() + policy.requestTimeoutMs), attempt);
    } catch (err) {
      if (!how.isTransient(err) || attempt >= policy.attempts || how.stop()) throw how.fail(err, attempt);
    }
    await sleep(backoffDelay(policy, attempt));
  }
}
