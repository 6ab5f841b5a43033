// The shape every controller shares (sample-controller's): event handlers only enqueue
// keys; workers take a key, reconcile it from the informer caches (level-based,
// idempotent), and on error retry with per-key back-off — unless the error is terminal
// (retrying cannot help: the object itself is wrong), which is logged and not requeued.
// A reconcile may ask to be looked at again after a delay. Controllers that look at
// everything every period (node lifecycle, garbage collection) run the same loop on one key.

import { EventRecorder, WorkQueue, type EventSink, type RestClient, type WorkQueueOptions } from '../client/index.js';
import type { Runnable } from '../component/index.js';
import { errorMessage } from '../errors/index.js';

/** What every controller is built with, besides its informers. */
export interface ControllerContext {
  client: RestClient;
  log: (msg: string) => void;
  /** The event sink of a controller by its component name (`replicaset-controller` …); tests pass one that keeps them. */
  recorder?: (component: string) => EventSink;
}

/** Where a controller records its Events: the context's sink, or an EventRecorder writing through the client. */
export function eventsFor(ctx: ControllerContext, component: string): EventSink {
  return ctx.recorder?.(component) ?? new EventRecorder(ctx.client, component);
}

export interface ReconcileResult {
  requeueAfterMs?: number;
}

export type Reconcile = (key: string) => Promise<ReconcileResult | undefined> | Promise<void>;

/** An error retrying cannot fix: the key is dropped until an event enqueues it again. */
export class TerminalError extends Error {
  override readonly name = 'TerminalError';
}

export interface ReconcileLoopOptions {
  log: (msg: string) => void;
  /** Per-key back-off after a failure (default 50 ms, doubling up to 60 s). */
  backoff?: WorkQueueOptions;
}

export class ReconcileLoop implements Runnable {
  readonly queue: WorkQueue;
  private readonly log: (msg: string) => void;

  constructor(
    private readonly name: string,
    private readonly reconcile: Reconcile,
    options: ReconcileLoopOptions,
  ) {
    this.log = options.log;
    this.queue = new WorkQueue({ ...(options.backoff ?? { baseDelayMs: 50, maxDelayMs: 60_000 }), name });
  }

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
        this.log(`${this.name} ${key}: ${errorMessage(err)}${terminal ? ' (not retried)' : ''}`);
        if (terminal) this.queue.forget(key);
        else this.queue.addRateLimited(key);
      } finally {
        this.queue.done(key);
      }
    }
  }
}

/** The one key of a periodic loop. */
const PASS = 'pass';

/**
 * A loop that runs `pass` over everything every `periodMs` (one key, requeued after each
 * pass); a failed pass is logged and tried again after the period as well.
 */
export function periodicLoop(
  name: string,
  pass: () => Promise<void>,
  options: { periodMs: number; log: (msg: string) => void },
): ReconcileLoop {
  const { periodMs, log } = options;
  const loop = new ReconcileLoop(
    name,
    async () => {
      await pass();
      return { requeueAfterMs: periodMs };
    },
    { log, backoff: { baseDelayMs: periodMs, maxDelayMs: periodMs } },
  );
  loop.enqueue(PASS);
  return loop;
}
