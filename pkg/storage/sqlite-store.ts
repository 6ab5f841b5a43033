// The embedded store: SQLite through better-sqlite3, after kine's design. A `log` table
// whose AUTOINCREMENT id is the global revision holds one row per write (the history that
// watches replay); a `live` table holds the current row of every key. Updates are
// compare-and-swap on the key's revision.
//
// Durability: WAL journal with synchronous=FULL; a write's promise resolves only after its
// transaction committed, so an acknowledged write survives kill -9 (and power loss).
// Throughput: group commit. Writes issued in the same event-loop turn are applied in one
// transaction, each checked on its own (one conflict does not fail its neighbours).
// Watches: replay from `log` and registration happen in one synchronous step, and events
// are fanned out synchronously right after each commit, so there is no gap and no duplicate.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { KubeObject } from '../api/meta.js';
import {
  StorageError,
  type ListResult,
  type Store,
  type StoreEvent,
  type StoredItem,
  type WatchHandle,
  type WatchOptions,
} from './store.js';
import { WatcherSet } from './watchers.js';

type Op =
  | { kind: 'create'; key: string; value: string }
  | { kind: 'update'; key: string; value: string; expected: number }
  | { kind: 'delete'; key: string; expected: number | undefined };

interface Pending {
  op: Op;
  resolve: (item: StoredItem) => void;
  reject: (err: Error) => void;
}

interface LiveRow {
  key: string;
  revision: number;
  value: string;
}

interface LogRow {
  id: number;
  key: string;
  type: number;
  value: string;
  prev: string | null;
}

const EVENT_TYPES: StoreEvent['type'][] = ['ADDED', 'MODIFIED', 'DELETED'];

export interface SqliteStoreOptions {
  /** Revisions of history kept for watches (older ones are compacted away). */
  historyRevisions?: number;
  /** How often auto-compaction runs. */
  compactIntervalMs?: number;
}

/** Upper bound of a key range that starts with prefix. */
function prefixEnd(prefix: string): string {
  return prefix + '\uffff';
}

function decode(value: string, revision: number): KubeObject {
  const obj = JSON.parse(value) as KubeObject;
  obj.metadata.resourceVersion = String(revision);
  return obj;
}

function encode(obj: KubeObject): string {
  const { resourceVersion: _rv, ...meta } = obj.metadata;
  void _rv;
  return JSON.stringify({ ...obj, metadata: meta });
}

export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly queue: Pending[] = [];
  private flushScheduled = false;
  private readonly watchers = new WatcherSet();
  private readonly historyRevisions: number;
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  private readonly stmt: {
    getLive: Database.Statement<[string], LiveRow>;
    listLive: Database.Statement<[string, string], LiveRow>;
    insertLog: Database.Statement<[string, number, string, string | null]>;
    upsertLive: Database.Statement<[string, number, string]>;
    deleteLive: Database.Statement<[string]>;
    replay: Database.Statement<[number, string, string], LogRow>;
    seq: Database.Statement<[], { seq: number }>;
    getMeta: Database.Statement<[string], { value: number }>;
    setMeta: Database.Statement<[string, number]>;
    compactLog: Database.Statement<[number]>;
  };

  private constructor(db: Database.Database, options: SqliteStoreOptions) {
    this.db = db;
    this.historyRevisions = options.historyRevisions ?? 50_000;
    db.exec(`
      CREATE TABLE IF NOT EXISTS log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        key TEXT NOT NULL,
        type INTEGER NOT NULL,
        value TEXT NOT NULL,
        prev TEXT
      );
      CREATE TABLE IF NOT EXISTS live (
        key TEXT PRIMARY KEY,
        revision INTEGER NOT NULL,
        value TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
    `);
    this.stmt = {
      getLive: db.prepare('SELECT key, revision, value FROM live WHERE key = ?'),
      listLive: db.prepare('SELECT key, revision, value FROM live WHERE key >= ? AND key < ? ORDER BY key'),
      insertLog: db.prepare('INSERT INTO log (key, type, value, prev) VALUES (?, ?, ?, ?)'),
      upsertLive: db.prepare('INSERT INTO live (key, revision, value) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET revision = excluded.revision, value = excluded.value'),
      deleteLive: db.prepare('DELETE FROM live WHERE key = ?'),
      replay: db.prepare('SELECT id, key, type, value, prev FROM log WHERE id > ? AND key >= ? AND key < ? ORDER BY id'),
      seq: db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'log'"),
      getMeta: db.prepare('SELECT value FROM meta WHERE name = ?'),
      setMeta: db.prepare('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value'),
      compactLog: db.prepare('DELETE FROM log WHERE id <= ?'),
    };
    this.timer = setInterval(() => this.autoCompact(), options.compactIntervalMs ?? 60_000);
    this.timer.unref();
  }

  static open(dataDir: string, options: SqliteStoreOptions = {}): SqliteStore {
    mkdirSync(dataDir, { recursive: true });
    const db = new Database(join(dataDir, 'coxswain.db'));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    return new SqliteStore(db, options);
  }

  private revisionNow(): number {
    return this.stmt.seq.get()?.seq ?? 0;
  }

  private compactedRevision(): number {
    return this.stmt.getMeta.get('compacted')?.value ?? 0;
  }

  currentRevision(): Promise<number> {
    return Promise.resolve(this.revisionNow());
  }

  get(key: string): Promise<StoredItem | undefined> {
    this.assertOpen();
    const row = this.stmt.getLive.get(key);
    return Promise.resolve(row === undefined ? undefined : { key, revision: row.revision, object: decode(row.value, row.revision) });
  }

  list(prefix: string): Promise<ListResult> {
    this.assertOpen();
    const rows = this.stmt.listLive.all(prefix, prefixEnd(prefix));
    return Promise.resolve({
      items: rows.map((r) => ({ key: r.key, revision: r.revision, object: decode(r.value, r.revision) })),
      revision: this.revisionNow(),
    });
  }

  create(key: string, object: KubeObject): Promise<StoredItem> {
    return this.enqueue({ kind: 'create', key, value: encode(object) });
  }

  update(key: string, object: KubeObject, expectedRevision: number): Promise<StoredItem> {
    return this.enqueue({ kind: 'update', key, value: encode(object), expected: expectedRevision });
  }

  delete(key: string, expectedRevision?: number): Promise<StoredItem> {
    return this.enqueue({ kind: 'delete', key, expected: expectedRevision });
  }

  private enqueue(op: Op): Promise<StoredItem> {
    if (this.closed) return Promise.reject(new StorageError('Unavailable', op.key, 'the store is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ op, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Applies every queued write in one transaction, then acknowledges and fans out. */
  private flush(): void {
    this.flushScheduled = false;
    const batch = this.queue.splice(0);
    if (batch.length === 0) return;
    const outcomes: ({ ok: true; item: StoredItem; event: StoreEvent } | { ok: false; err: Error })[] = [];
    try {
      this.db.transaction(() => {
        for (const p of batch) outcomes.push(this.applyOne(p.op));
      })();
    } catch (err) {
      const failure = err instanceof Error ? err : new Error(String(err));
      for (const p of batch) p.reject(new StorageError('Unavailable', p.op.key, `store write failed: ${failure.message}`));
      return;
    }
    for (const outcome of outcomes) if (outcome.ok) this.watchers.emit(outcome.event);
    for (const [i, p] of batch.entries()) {
      const outcome = outcomes[i];
      if (outcome === undefined) p.reject(new StorageError('Unavailable', p.op.key, 'write lost'));
      else if (outcome.ok) p.resolve(outcome.item);
      else p.reject(outcome.err);
    }
  }

  private applyOne(op: Op): { ok: true; item: StoredItem; event: StoreEvent } | { ok: false; err: Error } {
    const live = this.stmt.getLive.get(op.key);
    if (op.kind === 'create') {
      if (live !== undefined) return { ok: false, err: new StorageError('KeyExists', op.key, `key ${op.key} already exists`, live.revision) };
      const revision = Number(this.stmt.insertLog.run(op.key, 0, op.value, null).lastInsertRowid);
      this.stmt.upsertLive.run(op.key, revision, op.value);
      const object = decode(op.value, revision);
      return { ok: true, item: { key: op.key, revision, object }, event: { type: 'ADDED', key: op.key, revision, object } };
    }
    if (live === undefined) return { ok: false, err: new StorageError('KeyNotFound', op.key, `key ${op.key} not found`) };
    if (op.expected !== undefined && op.expected !== live.revision) {
      return { ok: false, err: new StorageError('Conflict', op.key, `key ${op.key} is at revision ${live.revision}, not ${op.expected}`, live.revision) };
    }
    const prevObject = decode(live.value, live.revision);
    if (op.kind === 'update') {
      const revision = Number(this.stmt.insertLog.run(op.key, 1, op.value, live.value).lastInsertRowid);
      this.stmt.upsertLive.run(op.key, revision, op.value);
      const object = decode(op.value, revision);
      return { ok: true, item: { key: op.key, revision, object }, event: { type: 'MODIFIED', key: op.key, revision, object, prevObject } };
    }
    const revision = Number(this.stmt.insertLog.run(op.key, 2, live.value, live.value).lastInsertRowid);
    this.stmt.deleteLive.run(op.key);
    const object = decode(live.value, revision);
    return { ok: true, item: { key: op.key, revision, object }, event: { type: 'DELETED', key: op.key, revision, object, prevObject } };
  }

  watch(prefix: string, fromRevision: number, options: WatchOptions): WatchHandle {
    this.assertOpen();
    const compacted = this.compactedRevision();
    if (fromRevision < compacted) {
      throw new StorageError('Compacted', prefix, `revision ${fromRevision} has been compacted (oldest is ${compacted})`, compacted);
    }
    // Replay and registration are one synchronous step: no commit can fall between them.
    const rows = this.stmt.replay.all(fromRevision, prefix, prefixEnd(prefix));
    for (const row of rows) {
      const event: StoreEvent = { type: EVENT_TYPES[row.type] ?? 'MODIFIED', key: row.key, revision: row.id, object: decode(row.value, row.id) };
      if (row.prev !== null) event.prevObject = decode(row.prev, row.id);
      options.onEvent(event);
    }
    return this.watchers.add(prefix, options);
  }

  compact(revision: number): Promise<void> {
    this.assertOpen();
    const target = Math.min(revision, this.revisionNow());
    if (target <= this.compactedRevision()) return Promise.resolve();
    this.db.transaction(() => {
      this.stmt.compactLog.run(target);
      this.stmt.setMeta.run('compacted', target);
    })();
    return Promise.resolve();
  }

  private autoCompact(): void {
    if (this.closed) return;
    const keepFrom = this.revisionNow() - this.historyRevisions;
    if (keepFrom > this.compactedRevision()) void this.compact(keepFrom);
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.flush();
    this.closed = true;
    clearInterval(this.timer);
    this.watchers.fail(new StorageError('Unavailable', '', 'the store was closed'));
    this.db.close();
    return Promise.resolve();
  }

  private assertOpen(): void {
    if (this.closed) throw new StorageError('Unavailable', '', 'the store is closed');
  }
}
