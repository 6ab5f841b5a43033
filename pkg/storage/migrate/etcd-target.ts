// etcd as a migration target: store keys mapped under the prefix as EtcdStore maps them
// (etcd/keys.ts), values written as given. Writes are batched into transactions kept under
// etcd's default limits (--max-txn-ops 128, --max-request-bytes 1.5 MiB); a put or delete
// is idempotent, so a batch whose answer was lost is simply sent again. Every call has a
// deadline and bounded retries (etcd/retry.ts); a certificate etcd refuses, or that does
// not verify, fails at once.
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

/** Operations per transaction (etcd's default --max-txn-ops is 128). */
const TXN_OPS = 100;
/** Value bytes per transaction (etcd's default --max-request-bytes is 1.5 MiB). */
const TXN_BYTES = 1024 * 1024;

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

  async put(entries: MigrationEntry[]): Promise<void> {
    for (const batch of batches(entries)) {
      const ops = batch.map((e) => ({ request_put: { key: this.keys.toEtcd(e.key), value: e.value } }));
      await this.call(`write of ${batch.length} key(s) from ${batch[0]?.key ?? '?'}`, (deadline) =>
        this.kv.txn({ success: ops }, { deadline }),
      );
    }
  }

  async remove(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += TXN_OPS) {
      const ops = keys.slice(i, i + TXN_OPS).map((k) => ({ request_delete_range: { key: this.keys.toEtcd(k) } }));
      await this.call('delete', (deadline) => this.kv.txn({ success: ops }, { deadline }));
    }
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

/** Entries in transactions of at most TXN_OPS puts and about TXN_BYTES (one big value goes alone). */
function* batches(entries: MigrationEntry[]): Generator<MigrationEntry[]> {
  let batch: MigrationEntry[] = [];
  let bytes = 0;
  for (const e of entries) {
    if (batch.length > 0 && (batch.length >= TXN_OPS || bytes + e.value.length > TXN_BYTES)) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(e);
    bytes += e.value.length + e.key.length;
  }
  if (batch.length > 0) yield batch;
}
