// The live watchers of a store (used by the SQLite store and by the watch cache).
//
// - Fan-out by prefix: watchers are grouped by their prefix; a prefix that ends in '/' is
//   found by looking up each '/'-bounded prefix of the event's key, so an event costs a few
//   map lookups however many watchers and prefixes exist. Other prefixes are checked one
//   by one (rare: the apiserver always watches '/'-terminated prefixes).
// - Indexed watchers: a watcher that gives an index (e.g. spec.nodeName=node-7: each node
//   agent watches only its own pods) is filed under the index value it wants, so an event
//   is handed to the watchers of its object's (and previous object's) value alone: at 1,000
//   agents a pod event costs two map lookups, not 1,000 filter calls.
// - Exactly once, in order: every watcher remembers the last revision it was given and
//   skips anything at or below it. That covers a watch registered from a callback in the
//   middle of a fan-out (its replay already included the event being fanned out) and a
//   watch from a revision the store has not reached yet.
// - Delivery is synchronous, so a slow callback delays the others but can never reorder
//   events. A callback that throws has its watch ended through onError (it may have missed
//   the event); the others carry on.

import type { StoreEvent, WatchHandle, WatchIndex, WatchOptions } from './store.js';
import { errorMessage } from '../errors/index.js';

interface Watcher {
  readonly options: WatchOptions;
  lastRevision: number;
  stopped: boolean;
  stop: () => void;
}

/** The watchers of one prefix: those that want every event, and those filed by index value. */
class Group {
  readonly plain = new Set<Watcher>();
  readonly indexes = new Map<string, { of: WatchIndex['of']; byValue: Map<string, Set<Watcher>> }>();
  size = 0;

  add(watcher: Watcher, index: WatchIndex | undefined): () => void {
    this.size++;
    if (index === undefined) {
      this.plain.add(watcher);
      return () => {
        this.plain.delete(watcher);
        this.size--;
      };
    }
    let byName = this.indexes.get(index.name);
    if (byName === undefined) {
      byName = { of: index.of, byValue: new Map() };
      this.indexes.set(index.name, byName);
    }
    const { byValue } = byName;
    let set = byValue.get(index.value);
    if (set === undefined) {
      set = new Set();
      byValue.set(index.value, set);
    }
    set.add(watcher);
    return () => {
      set.delete(watcher);
      if (set.size === 0) byValue.delete(index.value);
      this.size--;
    };
  }

  /** The watchers an event concerns, each set at most once. */
  *targets(event: StoreEvent): Generator<Set<Watcher>> {
    yield this.plain;
    for (const { of, byValue } of this.indexes.values()) {
      const now = of(event.object);
      const nowSet = now === undefined ? undefined : byValue.get(now);
      if (nowSet !== undefined) yield nowSet;
      if (event.prevObject === undefined) continue;
      const before = of(event.prevObject);
      if (before !== undefined && before !== now) {
        const beforeSet = byValue.get(before);
        if (beforeSet !== undefined) yield beforeSet;
      }
    }
  }

  all(): Watcher[] {
    const out = [...this.plain];
    for (const { byValue } of this.indexes.values()) for (const set of byValue.values()) out.push(...set);
    return out;
  }
}

export class WatcherSet {
  /** Watchers whose prefix ends with '/' (or is empty), by prefix. */
  private readonly aligned = new Map<string, Group>();
  /** Watchers with any other prefix, by prefix. */
  private readonly unaligned = new Map<string, Group>();
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
      group = new Group();
      groups.set(prefix, group);
    }
    const leave = group.add(watcher, options.index);
    this.count++;
    const remove = (): void => {
      if (watcher.stopped) return;
      watcher.stopped = true;
      this.count--;
      leave();
      if (groups.get(prefix)?.size === 0) groups.delete(prefix);
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

  private deliver(group: Group, event: StoreEvent): void {
    for (const set of group.targets(event)) this.deliverTo(set, event);
  }

  private deliverTo(watchers: Set<Watcher>, event: StoreEvent): void {
    for (const w of watchers) {
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
    const all = [...this.aligned.values(), ...this.unaligned.values()].flatMap((g) => g.all());
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
