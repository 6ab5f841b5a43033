// etcd as a migration target: store keys mapped under the prefix as EtcdStore maps them
// (etcd/keys.ts), values written as given. Each key is its own put, so each object gets its
// own revision (its resourceVersion), as if an apiserver had written it; puts run a bounded
// number at a time. A put or delete is idempotent, so one whose answer was lost is simply
// sent again. Every call has a deadline and bounded retries (etcd/retry.ts); a certificate
// etcd refuses, or that does not verify, fails at once.
//
// The marker of an unfinished migration is the key `<prefix>.migrating`: beside the prefix,
// never under it, so no apiserver lists it, and the "target is empty" check does not see it.

import type { Etcd3, KVClient } from 'etcd3';
import { etcdClient, type EtcdTls } from '../etcd/client.js';
import { EtcdKeys } from '../etcd/keys.js';
import { retrying, type RetryPolicy } from '../etcd/retry.js';
import { grpcMessage, isTransient } from '../etcd-store.js';
import { MigrationError, type MigrationEntry, type MigrationPage, type MigrationTarget } from '../migrate.js';

export interface EtcdTargetOptions {
  endpoints: string[];
  tls?: EtcdTls;
  /** The etcd prefix (--etcd-prefix) that replaces `root` in every store key. */
  prefix: string;
  /** The start of every store key (/registry). */
  root: string;
  retry?: Partial<RetryPolicy>;
}

/** Writes in flight at once. */
const CONCURRENCY = 128;

export class EtcdTarget implements MigrationTarget {
  readonly describe: string;
  private readonly client: Etcd3;
  private readonly kv: KVClient;
  private readonly keys: EtcdKeys;
  private readonly range: { start: Buffer; end: Buffer };
  private readonly marker: Buffer;
  private readonly policy: Partial<RetryPolicy>;

  constructor(options: EtcdTargetOptions) {
    this.describe = `etcd:${options.endpoints.join(',')} under ${options.prefix}`;
    this.client = etcdClient(options.endpoints, options.tls);
    this.kv = this.client.kv;
    this.keys = new EtcdKeys(options.root, options.prefix);
    this.range = this.keys.range('/');
    this.marker = Buffer.from(`${options.prefix}.migrating`, 'utf8');
    this.policy = options.retry ?? {};
  }

  private call<T>(what: string, fn: (deadline: Date) => Promise<T>): Promise<T> {
    return retrying(fn, {
      policy: this.policy,
      isTransient,
      stop: () => false,
      fail: (err, attempts) =>
        new MigrationError(`${this.describe}: ${what} failed after ${attempts} attempt(s): ${grpcMessage(err)}`),
    });
  }

  async page(after: string | undefined, limit: number): Promise<MigrationPage> {
    const from = after === undefined ? this.range.start : Buffer.concat([this.keys.toEtcd(after), Buffer.from([0])]);
    const res = await this.call('read', (deadline) =>
      this.kv.range({ key: from, range_end: this.range.end, limit }, { deadline }),
    );
    const entries: MigrationEntry[] = [];
    for (const kv of res.kvs) {
      const key = this.keys.fromEtcd(kv.key);
      if (key !== undefined) entries.push({ key, value: kv.value });
    }
    const last = entries[entries.length - 1];
    return { entries, next: res.more && last !== undefined ? last.key : undefined };
  }

  async countKeys(): Promise<number> {
    const res = await this.call('count', (deadline) =>
      this.kv.range({ key: this.range.start, range_end: this.range.end, count_only: true }, { deadline }),
    );
    return Number(res.count);
  }

  put(entries: MigrationEntry[]): Promise<void> {
    return eachBounded(entries, (e) =>
      this.call(`write of ${e.key}`, (deadline) =>
        this.kv.put({ key: this.keys.toEtcd(e.key), value: e.value }, { deadline }),
      ),
    );
  }

  remove(keys: string[]): Promise<void> {
    return eachBounded(keys, (k) =>
      this.call(`delete of ${k}`, (deadline) => this.kv.deleteRange({ key: this.keys.toEtcd(k) }, { deadline })),
    );
  }

  async readMarker(): Promise<string | undefined> {
    const res = await this.call('read', (deadline) => this.kv.range({ key: this.marker }, { deadline }));
    return res.kvs[0]?.value.toString('utf8');
  }

  async createMarker(value: string): Promise<boolean> {
    const res = await this.call('write', (deadline) =>
      this.kv.txn(
        {
          compare: [{ key: this.marker, target: 'Create', result: 'Equal', create_revision: 0 }],
          success: [{ request_put: { key: this.marker, value: Buffer.from(value, 'utf8') } }],
          failure: [{ request_range: { key: this.marker } }],
        },
        { deadline },
      ),
    );
    // A retry whose first attempt committed finds its own marker.
    return res.succeeded || res.responses[0]?.response_range.kvs[0]?.value.toString('utf8') === value;
  }

  async removeMarker(): Promise<void> {
    await this.call('delete', (deadline) => this.kv.deleteRange({ key: this.marker }, { deadline }));
  }

  close(): void {
    this.client.close();
  }
}

/** Runs fn on every item, CONCURRENCY at a time; after a failure no further item starts. */
async function eachBounded<T>(items: T[], fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const item = items[next++];
      if (item === undefined) continue;
      try {
        await fn(item);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
  const failure = results.find((r) => r.status === 'rejected');
  if (failure !== undefined && failure.status === 'rejected') throw failure.reason;
}
