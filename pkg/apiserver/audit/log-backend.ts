// The log backend: one JSON line per event, appended to --audit-log-path (or stdout for `-`),
// without ever making a request wait for the disk. This is Kubernetes' buffered backend in
// batch mode (--audit-log-mode=batch), not its default blocking mode: process() only
// serializes the event and puts the line on a bounded queue (--audit-log-batch-buffer-size,
// 10000 by default); a background loop writes the queue out. When the queue is full the
// event is dropped and counted, as Kubernetes drops it with "audit buffer queue blocked"
// (apiserver_audit_error_total{plugin="buffered"}). A slow or stuck disk therefore costs
// events, never latency. Besides Kubernetes' count limit the queue has a byte limit
// (maxQueueBytes, 64 MiB): 10000 events of 100 KiB each would otherwise be a gigabyte.
//
// Events larger than maxEventBytes (--audit-log-truncate-max-event-size, 100 KiB) lose their
// request and response objects and gain `audit.k8s.io/truncated: "true"`; if still too large
// they are dropped, as Kubernetes' truncate backend does.

import type { Writable } from 'node:stream';
import { DEFAULT_MAX_OBJECT_BYTES, TRUNCATED_ANNOTATION, type AuditSink } from './event.js';
import type { AuditEvent } from './types.js';

/** Kubernetes' default --audit-log-batch-buffer-size. */
export const DEFAULT_BUFFER_SIZE = 10000;
/** Kubernetes' default --audit-log-truncate-max-event-size. */
export const DEFAULT_MAX_EVENT_BYTES = DEFAULT_MAX_OBJECT_BYTES;
/** One write takes at most this much of the queue, so a rotation check never waits on a huge chunk. */
const MAX_BATCH_BYTES = 1024 * 1024;
const DROP_REPORT_INTERVAL_MS = 1000;
export const DEFAULT_MAX_QUEUE_BYTES = 64 * 1024 * 1024;

/** Where lines go: the rotating file or a stream such as stdout. */
export interface AuditOutput {
  /** Writes lines in order; returns how many were refused (too long for the file). */
  writeLines(lines: readonly string[]): Promise<{ refused: number }>;
  close(): Promise<void>;
}

/** Lines to a stream (stdout for `--audit-log-path=-`), waiting for each chunk to be flushed. */
export class StreamOutput implements AuditOutput {
  constructor(private readonly stream: Writable) {}

  writeLines(lines: readonly string[]): Promise<{ refused: number }> {
    return new Promise((resolve, reject) => {
      this.stream.write(lines.join(''), (err) => (err ? reject(err) : resolve({ refused: 0 })));
    });
  }

  async close(): Promise<void> {
    // stdout belongs to the process; it is not ours to end.
  }
}

function encodeLine(event: AuditEvent, maxEventBytes: number): { line: string; truncated: boolean } | undefined {
  const line = JSON.stringify(event);
  if (Buffer.byteLength(line) <= maxEventBytes) return { line: `${line}\n`, truncated: false };
  const rest: AuditEvent = { ...event, annotations: { ...event.annotations, [TRUNCATED_ANNOTATION]: 'true' } };
  delete rest.requestObject;
  delete rest.responseObject;
  const shorter = JSON.stringify(rest);
  return Buffer.byteLength(shorter) <= maxEventBytes ? { line: `${shorter}\n`, truncated: true } : undefined;
}

/** The JSON line for an event, truncated or refused (undefined) as the truncate backend does. */
export function encodeEvent(event: AuditEvent, maxEventBytes: number = DEFAULT_MAX_EVENT_BYTES): string | undefined {
  return encodeLine(event, maxEventBytes)?.line;
}

export interface AuditLogBackendOptions {
  output: AuditOutput;
  /** Most events queued or being written at once. */
  bufferSize?: number;
  maxEventBytes?: number;
  /** Most bytes of lines queued or being written at once. */
  maxQueueBytes?: number;
  /** Told of lost events, in kube-apiserver's words; the apiserver logs it. */
  onError?: (message: string) => void;
}

export interface AuditLogStats {
  /** Lines written (apiserver_audit_event_total). */
  written: number;
  /** Events dropped because the queue was full or the backend shut down (apiserver_audit_error_total{plugin="buffered"}). */
  dropped: number;
  /** Events written without their objects because they were too large. */
  truncated: number;
  /** Events lost to write errors or refused for size (apiserver_audit_error_total{plugin="log"|"truncate"}). */
  failed: number;
  /** Lines waiting or being written now. */
  queued: number;
  /** Their size in bytes (UTF-16 code units, what the strings hold). */
  queuedBytes: number;
}

export class AuditLogBackend implements AuditSink {
  private readonly output: AuditOutput;
  private readonly bufferSize: number;
  private readonly maxEventBytes: number;
  private readonly maxQueueBytes: number;
  private readonly onError: (message: string) => void;
  private queue: string[] = [];
  private inFlight = 0;
  /** Characters held by the queue and the batch being written. */
  private heldBytes = 0;
  private draining: Promise<void> | undefined;
  private stopped = false;
  private lastDropReport = Number.NEGATIVE_INFINITY;
  private readonly counts = { written: 0, dropped: 0, truncated: 0, failed: 0 };

  constructor(options: AuditLogBackendOptions) {
    this.output = options.output;
    this.bufferSize = Math.max(1, options.bufferSize ?? DEFAULT_BUFFER_SIZE);
    this.maxEventBytes = options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
    this.maxQueueBytes = options.maxQueueBytes ?? DEFAULT_MAX_QUEUE_BYTES;
    this.onError = options.onError ?? (() => undefined);
  }

  /** Queues the event's line; never waits. False when the event was dropped. */
  process(event: AuditEvent): boolean {
    if (this.stopped || this.queue.length + this.inFlight >= this.bufferSize) return this.drop();
    const encoded = encodeLine(event, this.maxEventBytes);
    if (encoded === undefined) {
      this.counts.failed += 1;
      this.onError(
        `Error in audit plugin 'truncate' affecting 1 audit events: event is too large even after truncating`,
      );
      return false;
    }
    if (this.heldBytes + encoded.line.length > this.maxQueueBytes) return this.drop();
    if (encoded.truncated) this.counts.truncated += 1;
    this.queue.push(encoded.line);
    this.heldBytes += encoded.line.length;
    this.draining ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.drain());
    return true;
  }

  private drop(): false {
    this.counts.dropped += 1;
    // At most one message a second: a flood of events must not become a flood of log lines.
    const now = Date.now();
    if (now - this.lastDropReport >= DROP_REPORT_INTERVAL_MS) {
      this.lastDropReport = now;
      this.onError(
        `Error in audit plugin 'buffered' affecting 1 audit events: audit buffer queue blocked (${this.counts.dropped} dropped so far)`,
      );
    }
    return false;
  }

  stats(): AuditLogStats {
    return { ...this.counts, queued: this.queue.length + this.inFlight, queuedBytes: this.heldBytes };
  }

  /** Resolves once every line queued so far is written (or failed). */
  async flush(): Promise<void> {
    while (this.draining !== undefined) await this.draining;
  }

  /** Stops taking events, writes what is queued and closes the output. */
  async shutdown(): Promise<void> {
    this.stopped = true;
    await this.flush();
    await this.output.close();
  }

  private takeBatch(): string[] {
    let bytes = 0;
    let count = 0;
    while (count < this.queue.length && (count === 0 || bytes < MAX_BATCH_BYTES)) {
      bytes += this.queue[count]?.length ?? 0;
      count += 1;
    }
    const batch = this.queue.splice(0, count);
    this.inFlight = batch.length;
    return batch;
  }

  private async drain(): Promise<void> {
    try {
      for (let batch = this.takeBatch(); batch.length > 0; batch = this.takeBatch()) {
        try {
          const { refused } = await this.output.writeLines(batch);
          this.counts.written += batch.length - refused;
          this.counts.failed += refused;
          if (refused > 0)
            this.onError(
              `Error in audit plugin 'log' affecting ${refused} audit events: event larger than the log file`,
            );
        } catch (err) {
          this.counts.failed += batch.length;
          const message = err instanceof Error ? err.message : String(err);
          this.onError(`Error in audit plugin 'log' affecting ${batch.length} audit events: ${message}`);
        } finally {
          this.inFlight = 0;
          this.heldBytes -= batch.reduce((sum, line) => sum + line.length, 0);
        }
      }
    } finally {
      this.draining = undefined;
    }
  }
}
