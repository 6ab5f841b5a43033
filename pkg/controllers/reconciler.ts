// The shape every controller shares (sample-controller's): event handlers only enqueue
// keys; workers take a key, reconcile it from the informer caches (level-based,
// idempotent), and on error retry with per-key back-off. A reconcile may ask to be looked
// at again after a delay.

import { WorkQueue } from '../client/index.js';

export interface ReconcileResult {
  requeueAfterMs?: number;
}

export type Reconcile = (key: string) => Promise<ReconcileResult | void>;

export class ReconcileLoop {
  readonly queue = new WorkQueue({ baseDelayMs: 50, maxDelayMs: 60_000 });

  constructor(
    private readonly name: string,
    private readonly reconcile: Reconcile,
    private readonly log: (msg: string) => void,
  ) {}

  enqueue(key: string): void {
    this.queue.add(key);
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
        this.log(`${this.name} ${key}: ${err instanceof Error ? err.message : String(err)}`);
        this.queue.addRateLimited(key);
      } finally {
        this.queue.done(key);
      }
    }
  }
}
