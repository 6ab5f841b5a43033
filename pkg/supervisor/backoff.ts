// Restart back-off of a supervised process: the first restart comes after `initialMs`, each
// further one waits twice as long up to `maxMs`; a process that ran `resetAfterMs` or longer
// before it exited counts as healthy and starts over at `initialMs`.

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  resetAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 500, maxMs: 30_000, resetAfterMs: 60_000 };

export class RestartBackoff {
  private last = 0;

  constructor(private readonly policy: BackoffPolicy = DEFAULT_BACKOFF) {}

  /** The wait (ms) before restarting a process that ran for `ranMs` before it exited. */
  next(ranMs: number): number {
    if (ranMs >= this.policy.resetAfterMs) this.last = 0;
    this.last = this.last === 0 ? this.policy.initialMs : Math.min(this.last * 2, this.policy.maxMs);
    return this.last;
  }
}
