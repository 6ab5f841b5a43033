// Bounded pod work per sync (Kubernetes' burstReplicas and slowStartBatch): one sync creates
// or deletes at most BURST_REPLICAS pods, in batches of 1, 2, 4, … that stop at the first
// batch with a failure, so a huge count or a template the API refuses costs a few calls,
// and one object cannot hold a worker (and starve the other objects) for long.

/** The most pods one sync of one object creates or deletes (Kubernetes' burstReplicas). */
export const BURST_REPLICAS = 500;

/** How many of `wanted` (any number, even absurd) one sync may act on. */
export function burst(wanted: number): number {
  if (!Number.isFinite(wanted) || wanted <= 0) return 0;
  return Math.min(Math.floor(wanted), BURST_REPLICAS);
}

export interface SlowStartResult {
  /** Calls that succeeded. */
  succeeded: number;
  /** Calls never made because an earlier batch failed. */
  skipped: number;
  /** The first failure (undefined when none failed). */
  error?: unknown;
}

/**
 * Calls fn(i) for i in [0, count) (count capped by burst()) in doubling batches; a batch
 * runs concurrently, and a batch with a failure ends the run.
 */
export async function slowStartBatch(
  count: number,
  fn: (i: number) => Promise<unknown>,
  initialBatch = 1,
): Promise<SlowStartResult> {
  const total = burst(count);
  let done = 0;
  let succeeded = 0;
  for (let size = Math.min(initialBatch, total); done < total; size = Math.min(size * 2, total - done)) {
    const start = done;
    const results = await Promise.allSettled(Array.from({ length: size }, (_, k) => fn(start + k)));
    done += size;
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    succeeded += results.length - results.filter((r) => r.status === 'rejected').length;
    if (failure !== undefined) return { succeeded, skipped: total - done, error: failure.reason };
  }
  return { succeeded, skipped: 0 };
}

/** Calls fn on every item at once (deletes: Kubernetes runs them in parallel); the items whose call failed, and the first error. */
export async function settleAll<T>(
  items: readonly T[],
  fn: (item: T) => Promise<unknown>,
): Promise<{ failed: T[]; error?: unknown }> {
  const results = await Promise.allSettled(items.map(fn));
  const failed: T[] = [];
  let error: unknown;
  results.forEach((r, i) => {
    const item = items[i];
    if (r.status === 'fulfilled' || item === undefined) return;
    if (failed.length === 0) error = r.reason;
    failed.push(item);
  });
  return failed.length > 0 ? { failed, error } : { failed };
}
