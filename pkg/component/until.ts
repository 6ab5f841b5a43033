// Periodic work (wait.JitterUntil's shape): run `fn`, wait the period, run again — until the
// signal aborts. The wait starts after `fn` settles, so runs never overlap. Resolves once
// stopped, making a periodic loop a Runnable.

export interface UntilOptions {
  periodMs: number;
  /** Each wait is periodMs × (1 + jitter × random), spreading loops that start together (default 0). */
  jitter?: number;
  /** Called with what `fn` threw; the loop goes on. Without it the first error stops the loop and rejects. */
  onError?: (err: unknown) => void;
}

/** Resolves after ms, or at once on abort; the listener is removed either way (sleeps repeat for a process's life). */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** The wait before the next run: periodMs, stretched by up to `jitter` of itself. */
export function jittered(periodMs: number, jitter = 0, random: () => number = Math.random): number {
  return jitter > 0 ? periodMs * (1 + jitter * random()) : periodMs;
}

export async function until(signal: AbortSignal, fn: () => unknown, period: number | UntilOptions): Promise<void> {
  const opts: UntilOptions = typeof period === 'number' ? { periodMs: period } : period;
  while (!signal.aborted) {
    try {
      await fn();
    } catch (err) {
      if (opts.onError === undefined) throw err;
      opts.onError(err);
    }
    await sleep(jittered(opts.periodMs, opts.jitter), signal);
  }
}
