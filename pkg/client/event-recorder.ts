// Records core/v1 Events about objects, as client-go's recorder: fire and forget, and a
// repeat of the same reason and message about the same object bumps the count of the
// existing Event instead of creating a new one. As client-go's broadcaster, events are
// written one at a time from a bounded queue (a full queue drops the new event): a burst of
// events never competes with the component's own writes (a scheduler's bindings) for the
// apiserver, and never piles up in memory.

import { rfc3339 } from '../api/meta.js';
import { randomBytes } from 'node:crypto';
import type { KubeObject } from '../api/meta.js';
import { findByPlural } from '../api/registry.js';
import type { RestClient } from './rest-client.js';

const EVENTS = findByPlural('', 'v1', 'events');

interface EventFields {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

interface Seen {
  name: string;
  namespace: string;
  count: number;
}

/** Events waiting to be written, as client-go's maxQueuedEvents. */
const MAX_QUEUED_EVENTS = 1000;

export class EventRecorder {
  private readonly seen = new Map<string, Seen>();
  private readonly pending: (() => Promise<void>)[] = [];
  private writing = false;

  constructor(
    private readonly client: RestClient,
    private readonly component: string,
    private readonly host?: string,
  ) {}

  /** Records a Normal event about obj (best effort: a failed write is dropped, as client-go's recorder does). */
  normal(obj: KubeObject, reason: string, message: string): void {
    this.enqueue(this.record(obj, { type: 'Normal', reason, message }));
  }

  /** Records a Warning event about obj. */
  warning(obj: KubeObject, reason: string, message: string): void {
    this.enqueue(this.record(obj, { type: 'Warning', reason, message }));
  }

  private enqueue(write: (() => Promise<void>) | undefined): void {
    if (write === undefined || this.pending.length >= MAX_QUEUED_EVENTS) return;
    this.pending.push(write);
    if (!this.writing) void this.drain();
  }

  private async drain(): Promise<void> {
    this.writing = true;
    for (let write = this.pending.shift(); write !== undefined; write = this.pending.shift()) {
      await write().catch(() => undefined);
    }
    this.writing = false;
  }

  /** The write that records an event, made now (it must not see later changes to obj). */
  private record(obj: KubeObject, { type, reason, message }: EventFields): (() => Promise<void>) | undefined {
    if (EVENTS === undefined) return undefined;
    const namespace = obj.metadata.namespace ?? 'default';
    const key = `${obj.metadata.uid ?? ''}/${type}/${reason}/${message}`;
    const now = rfc3339(new Date());
    const prior = this.seen.get(key);
    if (prior !== undefined) {
      prior.count++;
      const body = { count: prior.count, lastTimestamp: now };
      const { name, namespace: at } = prior;
      return async () => {
        await this.client.patch(EVENTS, name, { type: 'merge', body, namespace: at });
      };
    }
    const name = `${obj.metadata.name ?? 'object'}.${randomBytes(8).toString('hex')}`;
    this.seen.set(key, { name, namespace, count: 1 });
    if (this.seen.size > 5000) this.seen.delete(this.seen.keys().next().value ?? '');
    const event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        name: obj.metadata.name,
        namespace: obj.metadata.namespace,
        uid: obj.metadata.uid,
        resourceVersion: obj.metadata.resourceVersion,
      },
      reason,
      message,
      type,
      count: 1,
      firstTimestamp: now,
      lastTimestamp: now,
      source: { component: this.component, ...(this.host ? { host: this.host } : {}) },
      reportingComponent: this.component,
      reportingInstance: this.host ?? '',
    };
    return async () => {
      await this.client.create(EVENTS, event, { namespace });
    };
  }
}

/** What a component needs to report events: tests hand in a recorder that keeps them in memory. */
export type EventSink = Pick<EventRecorder, 'normal' | 'warning'>;
