// The live watchers of a store (used by the SQLite store and by the watch cache).
//
// - Fan-out by prefix: watchers are grouped by their prefix; a prefix that ends in '/' is
//   found by looking up each '/'-bounded prefix of the event's key, so an event costs a few
//   map lookups however many watchers and prefixes exist. Other prefixes are checked one
//   by one (rare: the apiserver always watches '/'-terminated prefixes).
// - Exactly once, in order: every watcher remembers the last revision it was given and
//   skips anything at or below it. That covers a watch registered from a callback in the
//   middle of a fan-out (its replay already included the event being fanned out) and a
//   watch from a revision the store has not reached yet.
// - Delivery is synchronous, so a slow callback delays the others but can never reorder
//   events. A callback that throws has its watch ended through onError (it may have missed
//   the event); the others carry on.

import type { StoreEvent, WatchHandle, WatchOptions } from './store.js';
import { errorMessage } from '../errors/index.js';

interface Watcher {
  readonly options: WatchOptions;
  lastRevision: number;
  stopped: boolean;
  stop: () => void;
}

export class WatcherSet {
  /** Watchers whose prefix ends with '/' (or is empty), by prefix. */
  private readonly aligned = new Map<string, Set<Watcher>>();
  /** Watchers with any other prefix, by prefix. */
  private readonly unaligned = new Map<string, Set<Watcher>>();
  private count = 0;

  /** Watchers currently registered. */
  get size(): number {
    return this.count;
  }

  /**
   * Registers a watcher that has already been given every event up to `lastRevision`.
   * Call it in the same synchronous step as the replay, so no event falls in between.
   */
  add(prefix: string, lastRevision: number, options: WatchOptions): WatchHandle {
    const watcher: Watcher = { options, lastRevision, stopped: false, stop: () => undefined };
    const groups = prefix === '' || prefix.endsWith('/') ? this.aligned : this.unaligned;
    let group = groups.get(prefix);
    if (group === undefined) {
      group = new Set();
      groups.set(prefix, group);
    }
    group.add(watcher);
    this.count++;
    const remove = (): void => {
      if (watcher.stopped) return;
      watcher.stopped = true;
      this.count--;
      const g = groups.get(prefix);
      if (g === undefined) return;
      g.delete(watcher);
      if (g.size === 0) groups.delete(prefix);
    };
    watcher.stop = remove;
    return { stop: remove };
  }

  /** Delivers one event to every watcher whose prefix matches its key. */
  emit(event: StoreEvent): void {
    if (this.count === 0) return;
    const key = event.key;
    const root = this.aligned.get('');
    if (root !== undefined) this.deliver(root, event);
    for (let i = key.indexOf('/'); i >= 0; i = key.indexOf('/', i + 1)) {
      const group = this.aligned.get(key.slice(0, i + 1));
      if (group !== undefined) this.deliver(group, event);
    }
    if (this.unaligned.size > 0) {
      for (const [prefix, group] of this.unaligned) if (key.startsWith(prefix)) this.deliver(group, event);
    }
  }

  private deliver(group: Set<Watcher>, event: StoreEvent): void {
    for (const w of group) {
      if (w.stopped || event.revision <= w.lastRevision) continue;
      w.lastRevision = event.revision;
      try {
        w.options.onEvent(event);
      } catch (err) {
        w.stop();
        const reason = errorMessage(err);
        safely(() => w.options.onError(new Error(`watch callback failed at revision ${event.revision}: ${reason}`)));
      }
    }
  }

  /** Ends every watch with an error (the store broke or closed). */
  fail(err: Error): void {
    const all = [...this.aligned.values(), ...this.unaligned.values()].flatMap((g) => [...g]);
    this.aligned.clear();
    this.unaligned.clear();
    this.count = 0;
    for (const w of all) {
      if (w.stopped) continue;
      w.stopped = true;
      safely(() => w.options.onError(err));
    }
  }
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // An error handler that throws must not stop the others from being told.
  }
}
