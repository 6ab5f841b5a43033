// The loop of a rule programmer (the service proxy, network policies): informer events only
// mark the state dirty; one loop rebuilds the whole rule set from the caches, so marks made
// during a sync coalesce into the next one, two syncs never run at once, syncs come at most
// once per minIntervalMs, and a failed sync is retried with exponential back-off.

export interface CoalescedSyncOptions {
  minIntervalMs: number;
  maxBackoffMs: number;
}

export class CoalescedSync {
  private dirty = true;
  private wake: (() => void) | undefined;

  constructor(
    /** One sync from the current state; false when it failed (it is then retried). */
    private readonly sync: () => Promise<boolean>,
    private readonly options: CoalescedSyncOptions,
  ) {}

  markDirty(): void {
    this.dirty = true;
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** Syncs whenever marked (and once at the start) until the signal aborts; resolves when stopped. */
  async run(signal: AbortSignal): Promise<void> {
    this.dirty = true;
    let failures = 0;
    const onAbort = (): void => this.markDirty();
    signal.addEventListener('abort', onAbort, { once: true });
    const { minIntervalMs, maxBackoffMs } = this.options;
    try {
      while (!signal.aborted) {
        if (!this.dirty) {
          await new Promise<void>((resolve) => (this.wake = resolve));
          continue;
        }
        this.dirty = false;
        const ok = await this.sync();
        failures = ok ? 0 : failures + 1;
        if (!ok) this.dirty = true;
        await sleep(ok ? minIntervalMs : Math.min(maxBackoffMs, minIntervalMs * 2 ** Math.min(failures, 20)), signal);
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
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
