// Restart back-off, as the kubelet's: the first restart of a crashed container is
// immediate, then the wait doubles from 10 s up to 5 min; a container that ran for 10 min
// starts over. The clock is injected so tests can drive time.

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  resetAfterMs?: number;
}

export class Backoff {
  private readonly entries = new Map<string, number>();
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly resetAfterMs: number;

  constructor(options: BackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 10_000;
    this.maxMs = options.maxMs ?? 300_000;
    this.resetAfterMs = options.resetAfterMs ?? 600_000;
  }

  /** How long (ms) until key may restart, counted from when it finished; 0 means now. */
  remaining(key: string, finishedAt: number, now: number): number {
    const delay = this.entries.get(key);
    if (delay === undefined) return 0;
    return Math.max(0, finishedAt + delay - now);
  }

  /** The current delay of key (for messages like `back-off 20s restarting …`). */
  delay(key: string): number {
    return this.entries.get(key) ?? 0;
  }

  /** Records a restart: the next one waits twice as long (or starts over after a long run). */
  restarted(key: string, ranForMs: number): void {
    const cur = this.entries.get(key);
    if (cur === undefined || ranForMs >= this.resetAfterMs) this.entries.set(key, this.initialMs);
    else this.entries.set(key, Math.min(cur * 2, this.maxMs));
  }

  /** Forgets every key that starts with prefix (a pod's containers when the pod goes). */
  forget(prefix: string): void {
    for (const k of [...this.entries.keys()]) if (k.startsWith(prefix)) this.entries.delete(k);
  }
}
