// A rate-limited, de-duplicating work queue (client-go's workqueue), for reconcile loops.
//
// Contract:
// - add(key) while the key waits is a no-op (duplicates collapse);
// - a key handed out by get() is never handed to a second worker until done(key); adds in
//   the meantime mark it dirty and it is queued again at done();
// - addRateLimited(key) re-adds after a per-key exponential back-off (base doubling up to
//   max); forget(key) resets that key's back-off (call it after a success);
// - shutDown() makes get() resolve undefined once the queue drains.

export interface WorkQueueOptions {
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** A named queue reports to the process's metrics provider (workqueue_*{name}). */
  name?: string;
}

/** What a named queue reports (client-go's workqueue metrics); times in seconds. */
export interface WorkQueueMetrics {
  add(): void;
  depth(n: number): void;
  retry(): void;
  queued(seconds: number): void;
  worked(seconds: number): void;
}

export type WorkQueueMetricsProvider = (name: string) => WorkQueueMetrics;

let metricsProvider: WorkQueueMetricsProvider | undefined;

/** Set once by a process that exports metrics (the controller-manager); queues made later report. */
export function setWorkQueueMetricsProvider(provider: WorkQueueMetricsProvider | undefined): void {
  metricsProvider = provider;
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly waiters: ((key: string | undefined) => void)[] = [];
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private shuttingDown = false;
  private readonly metrics: WorkQueueMetrics | undefined;
  /** When each waiting key was added, and when each key in work was handed out (performance.now()). */
  private readonly addedAt = new Map<string, number>();
  private readonly startedAt = new Map<string, number>();

  constructor(options: WorkQueueOptions = {}) {
    this.baseDelayMs = options.baseDelayMs ?? 5;
    this.maxDelayMs = options.maxDelayMs ?? 300_000;
    this.metrics = options.name === undefined ? undefined : metricsProvider?.(options.name);
  }

  private handOut(key: string): void {
    this.dirty.delete(key);
    this.processing.add(key);
    if (this.metrics === undefined) return;
    const now = performance.now();
    this.metrics.queued((now - (this.addedAt.get(key) ?? now)) / 1000);
    this.addedAt.delete(key);
    this.startedAt.set(key, now);
    this.metrics.depth(this.queue.length);
  }

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.metrics !== undefined) {
      this.metrics.add();
      this.addedAt.set(key, performance.now());
    }
    if (this.processing.has(key)) return;
    const waiter = this.waiters.shift();
    if (waiter) {
      this.handOut(key);
      waiter(key);
    } else {
      this.queue.push(key);
      this.metrics?.depth(this.queue.length);
    }
  }

  /** The next key to work on; undefined after shutDown once nothing is left. */
  get(): Promise<string | undefined> {
    const key = this.queue.shift();
    if (key !== undefined) {
      this.handOut(key);
      return Promise.resolve(key);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  done(key: string): void {
    this.processing.delete(key);
    const started = this.startedAt.get(key);
    if (started !== undefined && this.metrics !== undefined) {
      this.startedAt.delete(key);
      this.metrics.worked((performance.now() - started) / 1000);
    }
    if (this.dirty.has(key)) {
      this.dirty.delete(key);
      this.add(key);
    }
  }

  /** Re-adds after this key's next back-off delay. */
  addRateLimited(key: string): void {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    this.metrics?.retry();
    this.addAfter(key, Math.min(this.baseDelayMs * 2 ** n, this.maxDelayMs));
  }

  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const existing = this.timers.get(key);
    if (existing) clearTimeout(existing);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.timers.set(key, timer);
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  get length(): number {
    return this.queue.length;
  }

  shutDown(): void {
    this.shuttingDown = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const w of this.waiters.splice(0)) w(undefined);
  }
}
