// The etcd store: the Store interface over etcd v3, with Kubernetes' mapping.
//
// - One etcd key per object: the store key with its `root` replaced by `prefix`
//   (the apiserver: `/registry/<group>/<plural>/<ns>/<name>` under --etcd-prefix).
// - The value is the object's JSON without resourceVersion, through the same encryption
//   transformers as the SQLite store (value-codec.ts).
// - resourceVersion = the key's mod_revision; the store revision = etcd's header revision.
// - create = txn(create_revision == 0, put); update = txn(mod_revision == expected, put);
//   delete = txn(mod_revision == expected, delete with prev_kv). A failed compare reads the
//   key in the same txn, to tell KeyExists / KeyNotFound / Conflict and the live revision.
//   A delete without an expected revision reads, then compare-and-swaps (bounded retries).
// - list reads one revision in pages (`LIST_PAGE` keys a request), so a large prefix is never
//   one giant response, and every page is consistent with the first one's revision.
// - watch: one etcd watch stream per store watch, from fromRevision+1 with prev_kv. A
//   broken stream resumes from the last delivered revision (no gap, no duplicate); etcd's
//   compact_revision becomes StorageError('Compacted').
// - Requests carry a deadline; "unavailable", "too many requests", leader changes and
//   timeouts are retried with exponential back-off a bounded number of times, then reported
//   as StorageError('Unavailable'). Only etcd's answer to the txn counts as success: a write
//   is never reported done unless etcd committed it. (A retried write whose first attempt
//   did commit finds its own bytes at the key and reports that commit.)
//
// The etcd3 package serves as the gRPC client (connection pool, TLS, generated stubs); its
// own retry and circuit-breaker policies are replaced by no-ops, and its high-level watcher
// is not used: it resumes from the header revision of the last response, which can skip
// events, and drops the compact revision of a cancelled watch.

import { GRPCDeadlineExceededError, GRPCResourceExhastedError, GRPCUnavailableError, type Etcd3 } from 'etcd3';
import type { IKeyValue, IResponseHeader, IWatchResponse, KVClient } from 'etcd3';
import type { KubeObject } from '../api/meta.js';
import { errorMessage } from '../errors/index.js';
import type { ResourceTransformers } from './encryption/index.js';
import {
  StorageError,
  type ListResult,
  type Store,
  type StoredItem,
  type WatchHandle,
  type WatchOptions,
} from './store.js';
import { decode, unavailable, ValueCodec } from './value-codec.js';
import { EtcdWatch } from './etcd/watch.js';
import { EtcdKeys } from './etcd/keys.js';
import { etcdClient, MemberSkipped, type EtcdTls } from './etcd/client.js';
import { retrying, type RetryPolicy } from './etcd/retry.js';

export type { EtcdTls } from './etcd/client.js';

export interface EtcdStoreOptions {
  /** Client URLs, e.g. https://127.0.0.1:2379. */
  endpoints: string[];
  tls?: EtcdTls;
  /** etcd key prefix that replaces `root` in every store key (default ''). */
  prefix?: string;
  /** The start every store key has, replaced by `prefix` in etcd (default ''). */
  root?: string;
  /** Encryption at rest: the transformer of each resource (from buildResourceTransformers). */
  transformers?: ResourceTransformers;
  /** Most recent revisions always kept for watches to resume from (default 50,000). */
  historyRevisions?: number;
  /** How often auto-compaction runs (default 5 min, as kube-apiserver); 0 turns it off. */
  compactIntervalMs?: number;
  /** Deadline of one request and retry schedule (see retry.ts for the defaults). */
  retry?: Partial<RetryPolicy>;
}

/** Keys a list reads per request. */
const LIST_PAGE = 500;
/** Read-then-compare-and-swap rounds of a delete without an expected revision. */
const DELETE_CAS_ROUNDS = 10;

const num = (s: string | number | undefined): number => Number(s ?? 0);

/** Errors worth another attempt: etcd or the network may be back in a moment. */
export function isTransient(err: unknown): boolean {
  // A certificate etcd or we refuse will be refused again: say so at once.
  if (/certificate|SSL routines|handshake/i.test(errorMessage(err))) return false;
  // Passed over because another member answered, which itself failed in the meantime.
  if (err instanceof MemberSkipped) return true;
  if (
    err instanceof GRPCUnavailableError ||
    err instanceof GRPCDeadlineExceededError ||
    err instanceof GRPCResourceExhastedError
  )
    return true;
  return /too many requests|leader changed|no leader|timed out|timeout|unavailable|ECONNREFUSED|ECONNRESET/i.test(
    errorMessage(err),
  );
}

/** A TLS failure (etcd's certificate not verified by our CA, or ours refused): not transient. */
export function isTlsFailure(err: unknown): boolean {
  return /certificate|SSL routines|handshake/i.test(errorMessage(err));
}

/** A gRPC error on one line, without grpc-js' trailing resolver note. */
export function grpcMessage(err: unknown): string {
  return errorMessage(err)
    .replace(/\s*Resolution note:[\s\S]*$/, '')
    .replace(/\s*\n\s*/g, ' ')
    .trim();
}

/** etcd's error for a read at a revision already compacted. */
const isCompactedError = (err: unknown): boolean => /required revision has been compacted/i.test(errorMessage(err));

export class EtcdStore implements Store {
  private readonly client: Etcd3;
  private readonly kv: KVClient;
  private readonly keys: EtcdKeys;
  private readonly codec: ValueCodec;
  private readonly policy: Partial<RetryPolicy>;
  private readonly watches = new Set<EtcdWatch>();
  private readonly historyRevisions: number;
  private readonly timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(options: EtcdStoreOptions) {
    if (options.endpoints.length === 0) throw unavailable('', 'no etcd endpoints given');
    this.client = etcdClient(options.endpoints, options.tls);
    this.kv = this.client.kv;
    this.keys = new EtcdKeys(options.root ?? '', options.prefix ?? '');
    this.codec = new ValueCodec(options.transformers);
    this.policy = options.retry ?? {};
    this.historyRevisions = Math.max(0, options.historyRevisions ?? 50_000);
    const interval = options.compactIntervalMs ?? 5 * 60_000;
    if (interval > 0) {
      this.timer = setInterval(() => this.autoCompact(), interval);
      this.timer.unref();
    }
  }

  /** One etcd call with a deadline, retried while the failure is transient. */
  private call<T>(what: string, key: string, fn: (deadline: Date, attempt: number) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(unavailable(key, 'the store is closed'));
    return retrying(fn, {
      policy: this.policy,
      isTransient,
      stop: () => this.closed,
      fail: (err, attempts) =>
        err instanceof StorageError
          ? err
          : unavailable(key, `etcd ${what} ${key} failed after ${attempts} attempt(s): ${grpcMessage(err)}`),
    });
  }

  async currentRevision(): Promise<number> {
    const res = await this.call('range', '', (deadline) =>
      this.kv.range({ key: this.keys.rangeStart('/'), limit: 1, keys_only: true }, { deadline }),
    );
    return num(res.header.revision);
  }

  /** One cheap read with a short deadline and no retry: is etcd answering now? (readiness) */
  async ping(timeoutMs = 2000): Promise<void> {
    if (this.closed) throw unavailable('', 'the store is closed');
    try {
      await this.kv.range(
        { key: this.keys.rangeStart('/'), limit: 1, keys_only: true },
        { deadline: new Date(Date.now() + timeoutMs) },
      );
    } catch (err) {
      throw unavailable('', grpcMessage(err));
    }
  }

  async get(key: string): Promise<StoredItem | undefined> {
    const etcdKey = this.keys.toEtcd(key);
    const res = await this.call('get', key, (deadline) => this.kv.range({ key: etcdKey }, { deadline }));
    const kv = res.kvs[0];
    return kv === undefined ? undefined : this.item(key, kv.value, num(kv.mod_revision));
  }

  private item(key: string, value: Buffer, revision: number): StoredItem {
    const { object, stale } = this.codec.decode(key, value, revision);
    return stale ? { key, revision, object, stale } : { key, revision, object };
  }

  async list(prefix: string): Promise<ListResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.listOnce(prefix);
      } catch (err) {
        // Compacted between two pages: start again at the new revision (a few times at most).
        if (!isCompactedError(err) || attempt >= 3) throw this.asStorageError(prefix, err);
      }
    }
  }

  private asStorageError(key: string, err: unknown): StorageError {
    return err instanceof StorageError ? err : unavailable(key, `etcd list ${key}: ${errorMessage(err)}`);
  }

  private async listOnce(prefix: string): Promise<ListResult> {
    const { start, end } = this.keys.range(prefix);
    const items: StoredItem[] = [];
    const unreadable: NonNullable<ListResult['unreadable']> = [];
    let revision = 0;
    let from = start;
    // Bounded by the keys that exist at `revision`: each page moves `from` past its last key.
    for (let page = 0; ; page++) {
      const at = revision;
      const res = await this.call('list', prefix, (deadline) =>
        this.kv.range(
          { key: from, range_end: end, limit: LIST_PAGE, ...(at > 0 ? { revision: at } : {}) },
          { deadline },
        ),
      );
      if (page === 0) revision = num(res.header.revision);
      for (const kv of res.kvs) {
        const key = this.keys.fromEtcd(kv.key);
        if (key === undefined || !key.startsWith(prefix)) continue;
        const rev = num(kv.mod_revision);
        try {
          items.push(this.item(key, kv.value, rev));
        } catch (err) {
          if (!(err instanceof StorageError)) throw err;
          unreadable.push({ key, revision: rev, error: err });
        }
      }
      const last = res.kvs[res.kvs.length - 1];
      if (!res.more || last === undefined) break;
      from = Buffer.concat([last.key, Buffer.from([0])]);
    }
    return unreadable.length > 0 ? { items, revision, unreadable } : { items, revision };
  }

  async create(key: string, object: KubeObject): Promise<StoredItem> {
    const etcdKey = this.keys.toEtcd(key);
    const written = this.encode(key, object);
    const res = await this.call('create', key, async (deadline, attempt) => {
      const txn = await this.kv.txn(
        {
          compare: [{ key: etcdKey, target: 'Create', result: 'Equal', create_revision: 0 }],
          success: [{ request_put: { key: etcdKey, value: written.stored } }],
          failure: [{ request_range: { key: etcdKey } }],
        },
        { deadline },
      );
      return { txn, attempt };
    });
    if (res.txn.succeeded) return this.written(key, written.json, res.txn.header);
    const live = liveKv(res.txn.responses[0]?.response_range.kvs);
    // A retry that finds its own bytes: the earlier attempt committed.
    if (live !== undefined && res.attempt > 1 && live.value.equals(written.stored))
      return this.written(key, written.json, { revision: live.mod_revision });
    const rev = num(live?.mod_revision);
    throw new StorageError('KeyExists', `key ${key} already exists (revision ${rev})`, { key, revision: rev });
  }

  async update(key: string, object: KubeObject, expectedRevision: number): Promise<StoredItem> {
    const etcdKey = this.keys.toEtcd(key);
    const written = this.encode(key, object);
    const res = await this.call('update', key, async (deadline, attempt) => {
      const txn = await this.kv.txn(
        {
          compare: [
            { key: etcdKey, target: 'Create', result: 'Greater', create_revision: 0 },
            { key: etcdKey, target: 'Mod', result: 'Equal', mod_revision: expectedRevision },
          ],
          success: [{ request_put: { key: etcdKey, value: written.stored } }],
          failure: [{ request_range: { key: etcdKey } }],
        },
        { deadline },
      );
      return { txn, attempt };
    });
    if (res.txn.succeeded) return this.written(key, written.json, res.txn.header);
    const live = liveKv(res.txn.responses[0]?.response_range.kvs);
    if (live === undefined) throw new StorageError('KeyNotFound', `key ${key} not found`, { key });
    if (res.attempt > 1 && live.value.equals(written.stored))
      return this.written(key, written.json, { revision: live.mod_revision });
    throw conflict(key, expectedRevision, num(live.mod_revision));
  }

  async delete(key: string, expectedRevision?: number): Promise<StoredItem> {
    const etcdKey = this.keys.toEtcd(key);
    for (let round = 0; round < DELETE_CAS_ROUNDS; round++) {
      let expected = expectedRevision;
      if (expected === undefined) {
        const current = await this.get(key);
        if (current === undefined) throw new StorageError('KeyNotFound', `key ${key} not found`, { key });
        expected = current.revision;
      }
      const guard = expected;
      const txn = await this.call('delete', key, (deadline) =>
        this.kv.txn(
          {
            compare: [
              { key: etcdKey, target: 'Create', result: 'Greater', create_revision: 0 },
              { key: etcdKey, target: 'Mod', result: 'Equal', mod_revision: guard },
            ],
            success: [{ request_delete_range: { key: etcdKey, prev_kv: true } }],
            failure: [{ request_range: { key: etcdKey } }],
          },
          { deadline },
        ),
      );
      if (txn.succeeded) {
        const revision = num(txn.header.revision);
        const prev = txn.responses[0]?.response_delete_range.prev_kvs[0];
        if (prev === undefined) throw unavailable(key, `etcd deleted ${key} without its previous value`);
        return { key, revision, object: this.codec.decode(key, prev.value, revision).object };
      }
      const live = liveKv(txn.responses[0]?.response_range.kvs);
      if (live === undefined) throw new StorageError('KeyNotFound', `key ${key} not found`, { key });
      if (expectedRevision !== undefined) throw conflict(key, expectedRevision, num(live.mod_revision));
      // Changed between our read and the delete: read again.
    }
    throw unavailable(key, `delete ${key}: the key kept changing (${DELETE_CAS_ROUNDS} attempts)`);
  }

  private encode(key: string, object: KubeObject): { json: string; stored: Buffer } {
    try {
      const { json, stored } = this.codec.encode(key, object);
      return { json, stored: typeof stored === 'string' ? Buffer.from(stored, 'utf8') : stored };
    } catch (err) {
      throw unavailable(key, `cannot serialise the object for ${key}: ${errorMessage(err)}`);
    }
  }

  private written(key: string, json: string, header: Pick<IResponseHeader, 'revision'>): StoredItem {
    const revision = num(header.revision);
    return { key, revision, object: decode(json, revision) };
  }

  watch(prefix: string, fromRevision: number, options: WatchOptions): WatchHandle {
    if (this.closed) throw unavailable(prefix, 'the store is closed');
    const { start, end } = this.keys.range(prefix);
    const watch = new EtcdWatch({
      client: this.client.watchClient,
      range: { start, end },
      fromRevision: Math.max(0, fromRevision),
      toEvent: (res, ev) => this.toEvent(prefix, res, ev),
      options,
      policy: this.policy,
      done: () => this.watches.delete(watch),
    });
    this.watches.add(watch);
    watch.start();
    return { stop: () => watch.stop(), requestProgress: () => watch.requestProgress() };
  }

  /** An etcd event as a store event; undefined when outside the prefix. Throws when unreadable. */
  private toEvent(prefix: string, _res: IWatchResponse, ev: { type: string; kv: IKeyValue; prev_kv?: IKeyValue }) {
    const key = this.keys.fromEtcd(ev.kv.key);
    if (key === undefined || !key.startsWith(prefix)) return undefined;
    const revision = num(ev.kv.mod_revision);
    const prev = ev.prev_kv;
    const prevObject =
      prev === undefined || prev === null
        ? undefined
        : this.codec.decode(key, prev.value, num(prev.mod_revision)).object;
    if (ev.type === 'Delete') {
      if (prev === undefined || prev === null)
        throw unavailable(key, `etcd reported the delete of ${key} without its last state`);
      const object = this.codec.decode(key, prev.value, revision).object;
      return { type: 'DELETED' as const, key, revision, object, ...(prevObject ? { prevObject } : {}) };
    }
    const { object, stale } = this.codec.decode(key, ev.kv.value, revision);
    const created = num(ev.kv.create_revision) === revision;
    return {
      type: created ? ('ADDED' as const) : ('MODIFIED' as const),
      key,
      revision,
      object,
      ...(prevObject && !created ? { prevObject } : {}),
      ...(stale ? { stale } : {}),
    };
  }

  /** Forgets history below revision (clamped to the current one); etcd keeps each key's latest. */
  async compact(revision: number): Promise<void> {
    const target = Math.min(revision, await this.currentRevision());
    if (target <= 0) return;
    try {
      await this.call('compact', '', (deadline) => this.kv.compact({ revision: target, physical: true }, { deadline }));
    } catch (err) {
      // Already compacted at or past it (another apiserver did): nothing to do.
      if (!isCompactedError(err)) throw err;
    }
  }

  private autoCompact(): void {
    if (this.closed) return;
    this.currentRevision()
      .then((rev) => (rev - this.historyRevisions > 0 ? this.compact(rev - this.historyRevisions) : undefined))
      .catch(() => {
        // Retried on the next tick; etcd being away also fails writes, which report it.
      });
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    for (const w of [...this.watches]) w.fail(unavailable('', 'the store was closed'));
    this.client.close();
    return Promise.resolve();
  }
}

/** The live key-value of a failed txn's read, if the key exists. */
function liveKv(kvs: IKeyValue[] | undefined): IKeyValue | undefined {
  return kvs?.[0];
}

function conflict(key: string, expected: number, live: number): StorageError {
  return new StorageError('Conflict', `key ${key} is at revision ${live}, not ${expected}`, { key, revision: live });
}
