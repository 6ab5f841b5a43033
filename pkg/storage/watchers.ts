// The set of live watchers of a store, shared by the SQLite store and the watch cache:
// prefix filtering, in-order synchronous fan-out, isolation of failing callbacks.

import type { StoreEvent, WatchHandle, WatchOptions } from './store.js';

interface Watcher {
  prefix: string;
  options: WatchOptions;
  stopped: boolean;
}

export class WatcherSet {
  private readonly watchers = new Set<Watcher>();

  /** Registers a watcher; call only after replaying its history, in the same synchronous step. */
  add(prefix: string, options: WatchOptions): WatchHandle {
    const watcher: Watcher = { prefix, options, stopped: false };
    this.watchers.add(watcher);
    return {
      stop: () => {
        watcher.stopped = true;
        this.watchers.delete(watcher);
      },
    };
  }

  emit(event: StoreEvent): void {
    for (const w of this.watchers) {
      if (w.stopped || !event.key.startsWith(w.prefix)) continue;
      try {
        w.options.onEvent(event);
      } catch {
        // One watcher's failure must not affect the others or the write.
      }
    }
  }

  /** Ends every watch with an error (the store broke or closed). */
  fail(err: Error): void {
    for (const w of this.watchers) {
      w.stopped = true;
      w.options.onError(err);
    }
    this.watchers.clear();
  }

  clear(): void {
    for (const w of this.watchers) w.stopped = true;
    this.watchers.clear();
  }
}
