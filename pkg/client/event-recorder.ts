// Records core/v1 Events about objects, as client-go's recorder: fire and forget, and a
// repeat of the same reason and message about the same object bumps the count of the
// existing Event instead of creating a new one.

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

export class EventRecorder {
  private readonly seen = new Map<string, Seen>();

  constructor(
    private readonly client: RestClient,
    private readonly component: string,
    private readonly host?: string,
  ) {}

  /** Records a Normal event about obj (best effort: a failed write is dropped, as client-go's recorder does). */
  normal(obj: KubeObject, reason: string, message: string): void {
    void this.record(obj, { type: 'Normal', reason, message }).catch(() => undefined);
  }

  /** Records a Warning event about obj. */
  warning(obj: KubeObject, reason: string, message: string): void {
    void this.record(obj, { type: 'Warning', reason, message }).catch(() => undefined);
  }

  private async record(obj: KubeObject, { type, reason, message }: EventFields): Promise<void> {
    if (EVENTS === undefined) return;
    const namespace = obj.metadata.namespace ?? 'default';
    const key = `${obj.metadata.uid ?? ''}/${type}/${reason}/${message}`;
    const now = rfc3339(new Date());
    const prior = this.seen.get(key);
    if (prior !== undefined) {
      prior.count++;
      await this.client.patch(EVENTS, prior.name, {
        type: 'merge',
        body: { count: prior.count, lastTimestamp: now },
        namespace: prior.namespace,
      });
      return;
    }
    const name = `${obj.metadata.name ?? 'object'}.${randomBytes(8).toString('hex')}`;
    this.seen.set(key, { name, namespace, count: 1 });
    if (this.seen.size > 5000) this.seen.delete(this.seen.keys().next().value ?? '');
    await this.client.create(
      EVENTS,
      {
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
      },
      { namespace },
    );
  }
}

/** What a component needs to report events: tests hand in a recorder that keeps them in memory. */
export type EventSink = Pick<EventRecorder, 'normal' | 'warning'>;
