// A live in-memory copy of one resource type, for decisions the apiserver makes on every request
// (RBAC's roles and bindings, the node authorizer's pods) without a store read each time: it
// lists once and follows the watch cache's watch, whose fan-out is synchronous, so a write is in
// the mirror by the time the write is acknowledged. If the watch breaks it lists again.

import type { KubeObject } from '../api/meta.js';
import { errorMessage } from '../errors/index.js';
import type { Store, StoreEvent, WatchHandle } from '../storage/index.js';

export interface MirrorOptions<T extends KubeObject> {
  store: Store;
  /** The storage prefix of the type (`storageKey(RESOURCES.rolebindings)`). */
  prefix: string;
  /** Keeps well-formed objects and tells the type; malformed stored data is skipped, never trusted. */
  accept: (obj: KubeObject) => obj is T;
  /** Told of every change after the initial list (and of each object of a re-list as added). */
  onChange?: (change: { type: StoreEvent['type']; object: Readonly<T>; previous: Readonly<T> | undefined }) => void;
  log?: (message: string) => void;
}

const RELIST_DELAY_MS = { first: 100, max: 5000 };

export class StoreMirror<T extends KubeObject> {
  private readonly objects = new Map<string, Readonly<T>>();
  private handle: WatchHandle | undefined;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private delayMs = RELIST_DELAY_MS.first;

  constructor(private readonly opts: MirrorOptions<T>) {}

  /** Resolves once the first list is in; follows changes until stop(). */
  async start(): Promise<void> {
    await this.sync();
  }

  stop(): void {
    this.stopped = true;
    this.handle?.stop();
    if (this.timer !== undefined) clearTimeout(this.timer);
  }

  get(key: string): Readonly<T> | undefined {
    return this.objects.get(key);
  }

  values(): IterableIterator<Readonly<T>> {
    return this.objects.values();
  }

  private async sync(): Promise<void> {
    const { store, prefix, accept } = this.opts;
    const listed = await store.list(prefix);
    const seen = new Set<string>();
    for (const item of listed.items) {
      if (!accept(item.object)) continue;
      seen.add(item.key);
      this.apply({ type: this.objects.has(item.key) ? 'MODIFIED' : 'ADDED', key: item.key, object: item.object });
    }
    for (const [key, object] of [...this.objects]) {
      if (!seen.has(key)) this.apply({ type: 'DELETED', key, object });
    }
    if (this.stopped) return;
    this.handle = store.watch(prefix, listed.revision, {
      onEvent: (e) => this.apply(e),
      onError: (err) => this.relistLater(err),
    });
  }

  private apply(e: { type: StoreEvent['type']; key: string; object: KubeObject }): void {
    const previous = this.objects.get(e.key);
    if (e.type === 'DELETED') {
      this.objects.delete(e.key);
      if (previous !== undefined) this.opts.onChange?.({ type: 'DELETED', object: previous, previous });
      return;
    }
    if (!this.opts.accept(e.object)) {
      // A malformed write replaces a good one: forget the old state rather than keep granting it.
      this.objects.delete(e.key);
      if (previous !== undefined) this.opts.onChange?.({ type: 'DELETED', object: previous, previous });
      return;
    }
    this.objects.set(e.key, e.object);
    this.opts.onChange?.({ type: e.type, object: e.object, previous });
  }

  private relistLater(err: Error): void {
    if (this.stopped) return;
    this.opts.log?.(`mirror of ${this.opts.prefix}: watch ended (${err.message}); listing again`);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.sync().then(
        () => (this.delayMs = RELIST_DELAY_MS.first),
        (e: unknown) => {
          this.opts.log?.(`mirror of ${this.opts.prefix}: list failed: ${errorMessage(e)}`);
          this.delayMs = Math.min(this.delayMs * 2, RELIST_DELAY_MS.max);
          this.relistLater(e instanceof Error ? e : new Error(errorMessage(e)));
        },
      );
    }, this.delayMs);
    this.timer.unref();
  }
}
