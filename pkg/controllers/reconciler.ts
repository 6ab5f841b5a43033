// The shape every controller shares (sample-controller's): event handlers only enqueue
// keys; workers take a key, reconcile it from the informer caches (level-based,
// idempotent), and on error retry with per-key back-off — unless the error is terminal
// (retrying cannot help: the object itself is wrong), which is logged and not requeued.
// A reconcile may ask to be looked at again after a delay.

import { WorkQueue } from '../client/index.js';
import type { Runnable } from '../component/index.js';

export interface ReconcileResult {
  requeueAfterMs?: number;
}

export type Reconcile = (key: string) => Promise<ReconcileResult | undefined> | Promise<void>;

/** An error retrying cannot fix: the key is dropped until an event enqueues it again. */
export class TerminalError extends Error {
  override readonly name = 'TerminalError';
}

export class ReconcileLoop implements Runnable {
  readonly queue = new WorkQueue({ baseDelayMs: 50, maxDelayMs: 60_000 });

  constructor(
    private readonly name: string,
    private readonly reconcile: Reconcile,
    private readonly log: (msg: string) => void,
  ) {}

  enqueue(key: string): void {
    this.queue.add(key);
  }

  /** Adds the key once `ms` have passed (e.g. a grace period before acting). */
  enqueueAfter(key: string, ms: number): void {
    this.queue.addAfter(key, ms);
  }

  /** The Runnable face: two workers until `signal` aborts. */
  start(signal: AbortSignal): Promise<void> {
    return this.run(signal);
  }

  /** Resolves once every worker has finished its current key after abort (queued keys are dropped: the next run re-lists). */
  async run(signal: AbortSignal, workers = 2): Promise<void> {
    signal.addEventListener('abort', () => this.queue.shutDown(), { once: true });
    if (signal.aborted) this.queue.shutDown();
    await Promise.all(Array.from({ length: workers }, () => this.work(signal)));
  }

  private async work(signal: AbortSignal): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      if (signal.aborted) {
        this.queue.done(key);
        return;
      }
      try {
        const result = await this.reconcile(key);
        this.queue.forget(key);
        if (result && result.requeueAfterMs !== undefined) this.queue.addAfter(key, result.requeueAfterMs);
      } catch (err) {
        const terminal = err instanceof TerminalError;
        this.log(
          `${this.name} ${key}: ${err instanceof Error ? err.message : String(err)}${terminal ? ' (not retried)' : ''}`,
        );
        if (terminal) this.queue.forget(key);
        else this.queue.addRateLimited(key);
      } finally {
        this.queue.done(key);
      }
    }
  }
}
