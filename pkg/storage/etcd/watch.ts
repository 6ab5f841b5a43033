// One store watch over its own etcd watch stream.
//
// The stream asks for every event after `last` (start_revision = last + 1) with prev_kv.
// `last` is the revision of the newest event delivered, so when the stream breaks (etcd
// restarted, a member lost, the connection reset) a new one resumes exactly where the old
// one stopped: no gap, and events at or below `last` are dropped, so no duplicate. A
// stream that cannot be re-established after the retry policy's attempts ends the watch
// with Unavailable; etcd's compact_revision ends it with Compacted. onError is called once,
// and nothing is delivered after it or after stop().

import type { IDuplexStream, IEvent, IWatchRequest, IWatchResponse, WatchClient } from 'etcd3';
import { errorMessage } from '../../errors/index.js';
import { StorageError, type StoreEvent, type WatchOptions } from '../store.js';
import { backoffDelay, retryPolicy, type RetryPolicy } from './retry.js';

export interface EtcdWatchParts {
  client: WatchClient;
  range: { start: Buffer; end: Buffer };
  fromRevision: number;
  /** The store event of an etcd event; undefined to skip it. Throws when it cannot be read. */
  toEvent: (res: IWatchResponse, ev: IEvent) => StoreEvent | undefined;
  options: WatchOptions;
  policy: Partial<RetryPolicy>;
  /** Called once when the watch ends (stopped or failed). */
  done: () => void;
}

export class EtcdWatch {
  private readonly parts: EtcdWatchParts;
  private readonly policy: RetryPolicy;
  private stream: IDuplexStream<IWatchRequest, IWatchResponse> | undefined;
  /** Revision of the newest event delivered (or the watch's start). */
  private last: number;
  /** Consecutive failures to (re)establish the stream. */
  private failures = 0;
  private ended = false;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(parts: EtcdWatchParts) {
    this.parts = parts;
    this.policy = retryPolicy(parts.policy);
    this.last = parts.fromRevision;
  }

  start(): void {
    if (this.ended) return;
    this.parts.client
      .watch()
      .then((stream) => this.attach(stream))
      .catch((err: unknown) => this.broken(err));
  }

  private attach(stream: IDuplexStream<IWatchRequest, IWatchResponse>): void {
    if (this.ended) {
      stream.cancel();
      return;
    }
    this.stream = stream;
    stream.on('data', (res) => this.onResponse(stream, res));
    stream.on('error', (err) => this.onStreamEnd(stream, err));
    stream.on('end', () => this.onStreamEnd(stream, new Error('the etcd watch stream ended')));
    stream.write({
      create_request: {
        key: this.parts.range.start,
        range_end: this.parts.range.end,
        start_revision: this.last + 1,
        prev_kv: true,
        progress_notify: true,
      },
    });
  }

  private onResponse(stream: IDuplexStream<IWatchRequest, IWatchResponse>, res: IWatchResponse): void {
    if (this.ended || stream !== this.stream) return;
    const compactedAt = Number(res.compact_revision ?? 0);
    if (compactedAt > 0) {
      this.fail(
        new StorageError(
          'Compacted',
          `revision ${this.last} has been compacted; the oldest watchable revision is ${compactedAt}`,
          { key: '', revision: compactedAt },
        ),
      );
      return;
    }
    if (res.canceled) {
      this.fail(
        new StorageError('Unavailable', `etcd cancelled the watch: ${res.cancel_reason || 'no reason given'}`, {
          key: '',
        }),
      );
      return;
    }
    if (res.created) this.failures = 0;
    if (res.events.length === 0 && !res.created) {
      // A progress notification: every event up to the header's revision has been sent.
      // The resume point (`last`) stays at the last event: a progress notification that ran
      // ahead of an event (etcd before 3.4.25) must not make the stream drop that event.
      const progress = Number(res.header.revision);
      if (progress > this.last) this.parts.options.onProgress?.(progress);
      return;
    }
    for (const ev of res.events) {
      const revision = Number(ev.kv.mod_revision);
      if (revision <= this.last) continue;
      let event: StoreEvent | undefined;
      try {
        event = this.parts.toEvent(res, ev);
      } catch (err) {
        this.fail(err instanceof StorageError ? err : new StorageError('Unavailable', errorMessage(err), { key: '' }));
        return;
      }
      this.last = revision;
      if (event !== undefined) this.parts.options.onEvent(event);
      if (this.ended) return;
    }
  }

  private onStreamEnd(stream: IDuplexStream<IWatchRequest, IWatchResponse>, err: unknown): void {
    if (this.ended || stream !== this.stream) return;
    this.stream = undefined;
    stream.cancel();
    this.broken(err);
  }

  /** The stream could not be made or broke: try again after a pause, a bounded number of times. */
  private broken(err: unknown): void {
    if (this.ended) return;
    this.failures++;
    if (this.failures >= this.policy.attempts) {
      this.fail(
        new StorageError('Unavailable', `etcd watch lost after ${this.failures} attempt(s): ${errorMessage(err)}`, {
          key: '',
        }),
      );
      return;
    }
    this.retryTimer = setTimeout(() => this.start(), backoffDelay(this.policy, this.failures));
  }

  /** Ends the watch with an error (reported once). */
  fail(err: Error): void {
    if (this.ended) return;
    this.end();
    this.parts.options.onError(err);
  }

  stop(): void {
    if (!this.ended) this.end();
  }

  /** Asks etcd for a progress notification on this watch's stream (if it is up). */
  requestProgress(): void {
    if (this.ended || this.stream === undefined) return;
    this.stream.write({ progress_request: {} });
  }

  private end(): void {
    this.ended = true;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    const stream = this.stream;
    this.stream = undefined;
    stream?.cancel();
    this.parts.done();
  }
}
