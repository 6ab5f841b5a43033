// The embedded store: SQLite through better-sqlite3, after kine's design.
//
// One table, `kv`: each row is one write event, and its AUTOINCREMENT id is the global
// revision. A row records the key, whether it created or deleted the key, the key's create
// revision, the revision it replaced (prev_revision) and the object as JSON (for a delete:
// the last state). The live state of a key is its latest row unless that row is a delete.
// Updates and deletes are compare-and-swap on the key's latest revision.
//
// Durability: WAL journal with synchronous=FULL, and a write's promise resolves only after
// its transaction committed, so an acknowledged write survives kill -9 and power loss. The
// database is opened in exclusive locking mode: a second process on the same data
// directory fails at open instead of corrupting revisions and watches.
//
// Throughput: group commit. Writes issued in the same event-loop turn are applied in one
// transaction (one fsync), each checked on its own, so one op's conflict does not fail its
// neighbours.
//
// Watches: the replay from the table and the registration happen in one synchronous step,
// and events are fanned out synchronously right after each commit, before any write's
// promise resolves: no gap, no duplicate, and a caller that awaited a write has already
// seen it in every watch.
//
// Compaction to revision C removes every row at or below C that a later row at or below C
// superseded, and deletes at or below C. What remains of the old history is the latest row
// of each key as of C, which is exactly the previous state any later row refers to, so
// replays from C or later still carry prevObject. Objects handed out are fresh copies;
// events are shared between watchers and must be treated as read-only.
//
// Space: the database uses auto_vacuum=INCREMENTAL (a database made before that is
// VACUUMed once at open to switch). Compaction frees rows; the pages they leave are then
// handed back to the file system by `incremental_vacuum`, a bounded number of pages per
// step with the event loop free in between, and a checkpoint, so the file shrinks back
// instead of only ever growing.
//
// Encryption at rest (`transformers`, from --encryption-provider-config): each value's JSON
// goes through its resource's transformer (toStorage) before the insert and back
// (fromStorage) on every read: get, list, the returned items and events, watch replay with
// previous values. A value a transformer changed is stored as a BLOB; plaintext rows (TEXT,
// written before encryption was configured) still read when identity is among the
// providers, and are reported stale, as are values written with an older key. A value
// that cannot be decrypted is a StorageError('Unavailable') for that key alone.
// Files: the data directory is 0700 and the database, -wal and -shm files 0600.
// Plaintext left on disk: with transformers configured the database runs with
// secure_delete=ON, so pages freed by compaction (old revisions, which may still hold the
// plaintext of a value written before encryption) are zeroed, and each compaction ends
// with a TRUNCATE checkpoint, which empties the WAL. What remains until then: the plaintext
// of a live, not yet rewritten value (rewrite it: `kubectl replace`), old revisions still
// within the retained history (historyRevisions), and WAL frames not yet checkpointed.

import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { KubeObject } from '../api/meta.js';
import { errorMessage } from '../errors/index.js';
import type { ResourceTransformers } from './encryption/index.js';
import {
  StorageError,
  type ListResult,
  type Store,
  type StoreEvent,
  type StoredItem,
  type WatchHandle,
  type WatchOptions,
} from './store.js';
import { decode, unavailable, ValueCodec, type StoredValue, type Written } from './value-codec.js';
import { WatcherSet } from './watchers.js';

export interface SqliteStoreOptions {
  /** Most recent revisions always kept for watches to resume from (default 50,000). */
  historyRevisions?: number;
  /** How often auto-compaction runs (default 60 s). */
  compactIntervalMs?: number;
  /** Encryption at rest: the transformer of each resource (from buildResourceTransformers). */
  transformers?: ResourceTransformers;
}

/** The database file inside the data directory. */
export const DATABASE_FILE = 'coxswain.db';

type Op =
  | { kind: 'create'; key: string; value: Written }
  | { kind: 'update'; key: string; value: Written; expected: number }
  | { kind: 'delete'; key: string; expected: number | undefined };

interface Pending {
  op: Op;
  resolve: (item: StoredItem) => void;
  reject: (err: Error) => void;
}

type Outcome = { ok: true; item: StoredItem; event: StoreEvent } | { ok: false; err: StorageError };

interface LatestRow {
  id: number;
  deleted: number;
  create_revision: number;
  value: StoredValue;
}

interface EventRow {
  id: number;
  name: string;
  created: number;
  deleted: number;
  prev_revision: number;
  value: StoredValue;
  prev_value: StoredValue | null;
}

/** Rows fetched per query while replaying history into a new watch. */
const REPLAY_PAGE = 1000;
/** Revisions compacted per transaction, so compaction never stalls the event loop for long. */
const COMPACT_STEP = 5000;
/** Free pages returned to the file system per incremental_vacuum step (4 MiB of 4 KiB pages). */
const VACUUM_STEP_PAGES = 1024;
/** SQLite's code for auto_vacuum=INCREMENTAL. */
const AUTO_VACUUM_INCREMENTAL = 2;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS kv (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    created INTEGER NOT NULL,
    deleted INTEGER NOT NULL,
    create_revision INTEGER NOT NULL,
    prev_revision INTEGER NOT NULL,
    value TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS kv_name_id ON kv (name, id);
  CREATE TABLE IF NOT EXISTS kv_meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
`;

/**
 * The bounds of the keys that start with prefix, as SQLite compares TEXT (bytewise UTF-8).
 * Undefined upper bound: no limit.
 */
function prefixRange(prefix: string): [string, string | undefined] {
  if (prefix === '') return ['', undefined];
  const last = prefix.charCodeAt(prefix.length - 1);
  // Bumping an ASCII last character gives the exact successor; otherwise append the
  // highest code point, which sorts after any continuation of the prefix.
  if (last < 0x7f) return [prefix, prefix.slice(0, -1) + String.fromCharCode(last + 1)];
  return [prefix, prefix + '\u{10FFFF}'];
}

/** The data directory 0700, the database files 0600 (they hold every Secret). */
function restrictModes(dataDir: string, file: string): void {
  chmodSync(dataDir, 0o700);
  for (const f of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
}

export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly watchers = new WatcherSet();
  private readonly historyRevisions: number;
  private readonly timer: NodeJS.Timeout;
  private queue: Pending[] = [];
  private flushScheduled = false;
  private closed = false;
  private compaction: Promise<void> = Promise.resolve();
  /** The latest committed revision. */
  private rev: number;
  /** History at or below this revision is gone; watches must start at or after it. */
  private compacted: number;
  private readonly stmt: ReturnType<typeof prepareStatements>;
  private readonly codec: ValueCodec;

  private constructor(db: Database.Database, options: SqliteStoreOptions) {
    this.db = db;
    this.codec = new ValueCodec(options.transformers);
    this.historyRevisions = Math.max(0, options.historyRevisions ?? 50_000);
    this.stmt = prepareStatements(db);
    this.rev = this.stmt.sequence.get()?.seq ?? 0;
    this.compacted = this.stmt.getMeta.get('compacted')?.value ?? 0;
    this.timer = setInterval(() => this.autoCompact(), options.compactIntervalMs ?? 60_000);
    this.timer.unref();
  }

  static open(dataDir: string, options: SqliteStoreOptions = {}): SqliteStore {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const file = join(dataDir, DATABASE_FILE);
    // Created 0600 by us before SQLite opens it (SQLite creates -wal and -shm with the
    // database file's mode); an older, wider file is narrowed.
    if (!existsSync(file)) writeFileSync(file, '', { mode: 0o600 });
    restrictModes(dataDir, file);
    const db = new Database(file);
    try {
      db.pragma('busy_timeout = 2000');
      // Zeroes freed pages, so compaction leaves no old (maybe plaintext) revision behind.
      if (options.transformers !== undefined) db.pragma('secure_delete = ON');
      db.pragma('locking_mode = EXCLUSIVE');
      useIncrementalVacuum(db);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('journal_size_limit = 67108864');
      db.exec(SCHEMA);
      migrateTwoTableLayout(db);
      restrictModes(dataDir, file);
    } catch (err) {
      db.close();
      const message = errorMessage(err);
      if (/busy|locked/i.test(message)) {
        throw unavailable('', `cannot open ${file}: it is in use by another process (${message})`);
      }
      throw unavailable('', `cannot open ${file}: ${message}`);
    }
    return new SqliteStore(db, options);
  }

  currentRevision(): Promise<number> {
    return Promise.resolve(this.rev);
  }

  get(key: string): Promise<StoredItem | undefined> {
    if (this.closed) return Promise.reject(unavailable(key, 'the store is closed'));
    const row = this.stmt.latest.get(key);
    if (row === undefined || row.deleted !== 0) return Promise.resolve(undefined);
    try {
      return Promise.resolve(this.item(key, row.value, row.id));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private item(key: string, value: StoredValue, revision: number): StoredItem {
    const { object, stale } = this.codec.decode(key, value, revision);
    return stale ? { key, revision, object, stale } : { key, revision, object };
  }

  list(prefix: string): Promise<ListResult> {
    if (this.closed) return Promise.reject(unavailable(prefix, 'the store is closed'));
    const [from, to] = prefixRange(prefix);
    const rows = to === undefined ? this.stmt.listAll.all() : this.stmt.listRange.all(from, to);
    const items: StoredItem[] = [];
    const unreadable: NonNullable<ListResult['unreadable']> = [];
    for (const r of rows) {
      try {
        items.push(this.item(r.name, r.value, r.id));
      } catch (err) {
        if (!(err instanceof StorageError)) throw err;
        unreadable.push({ key: r.name, revision: r.id, error: err });
      }
    }
    return Promise.resolve(
      unreadable.length > 0 ? { items, revision: this.rev, unreadable } : { items, revision: this.rev },
    );
  }

  create(key: string, object: KubeObject): Promise<StoredItem> {
    return this.enqueue(key, object, (value) => ({ kind: 'create', key, value }));
  }

  update(key: string, object: KubeObject, expectedRevision: number): Promise<StoredItem> {
    return this.enqueue(key, object, (value) => ({ kind: 'update', key, value, expected: expectedRevision }));
  }

  delete(key: string, expectedRevision?: number): Promise<StoredItem> {
    return this.enqueue(key, undefined, () => ({ kind: 'delete', key, expected: expectedRevision }));
  }

  private enqueue(key: string, object: KubeObject | undefined, makeOp: (value: Written) => Op): Promise<StoredItem> {
    if (this.closed) return Promise.reject(unavailable(key, 'the store is closed'));
    let value: Written = { json: '', stored: '' };
    try {
      // Serialised (and encrypted) now: the caller may change its object once the call returns.
      if (object !== undefined) value = this.codec.encode(key, object);
    } catch (err) {
      return Promise.reject(unavailable(key, `cannot serialise the object for ${key}: ${errorMessage(err)}`));
    }
    const op = makeOp(value);
    return new Promise((resolve, reject) => {
      this.queue.push({ op, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Applies every queued write in one transaction, fans the events out, then answers. */
  private flush(): void {
    this.flushScheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    const outcomes: Outcome[] = [];
    let last = this.rev;
    try {
      this.db.transaction(() => {
        for (const p of batch) {
          const outcome = this.applyOne(p.op);
          outcomes.push(outcome);
          if (outcome.ok) last = outcome.item.revision;
        }
      })();
    } catch (err) {
      const reason = errorMessage(err);
      for (const p of batch) p.reject(unavailable(p.op.key, `store write failed: ${reason}`));
      return;
    }
    this.rev = last;
    for (const outcome of outcomes) if (outcome.ok) this.watchers.emit(outcome.event);
    batch.forEach((p, i) => {
      const outcome = outcomes[i];
      if (outcome === undefined) p.reject(unavailable(p.op.key, 'write lost'));
      else if (outcome.ok) p.resolve(outcome.item);
      else p.reject(outcome.err);
    });
  }

  private applyOne(op: Op): Outcome {
    const latest = this.stmt.latest.get(op.key);
    const live = latest !== undefined && latest.deleted === 0 ? latest : undefined;
    if (op.kind === 'create') {
      if (live !== undefined) {
        return {
          ok: false,
          err: new StorageError('KeyExists', `key ${op.key} already exists (revision ${live.id})`, {
            key: op.key,
            revision: live.id,
          }),
        };
      }
      // A create is its own create revision (0 in the row: the id is not known before the insert).
      const revision = this.insert(op.key, {
        created: 1,
        deleted: 0,
        createRevision: 0,
        prev: latest?.id ?? 0,
        value: op.value.stored,
      });
      return this.done('ADDED', { key: op.key, revision, json: op.value.json }, undefined);
    }
    if (live === undefined)
      return { ok: false, err: new StorageError('KeyNotFound', `key ${op.key} not found`, { key: op.key }) };
    if (op.expected !== undefined && op.expected !== live.id) {
      return {
        ok: false,
        err: new StorageError('Conflict', `key ${op.key} is at revision ${live.id}, not ${op.expected}`, {
          key: op.key,
          revision: live.id,
        }),
      };
    }
    const createRevision = live.create_revision === 0 ? live.id : live.create_revision;
    let prev: KubeObject;
    try {
      // Before the insert: a value that cannot be read is refused, not half written.
      prev = this.codec.decode(op.key, live.value, live.id).object;
    } catch (err) {
      if (err instanceof StorageError) return { ok: false, err };
      throw err;
    }
    if (op.kind === 'update') {
      const value = op.value.stored;
      const revision = this.insert(op.key, { created: 0, deleted: 0, createRevision, prev: live.id, value });
      return this.done('MODIFIED', { key: op.key, revision, json: op.value.json }, prev);
    }
    const revision = this.insert(op.key, { created: 0, deleted: 1, createRevision, prev: live.id, value: live.value });
    return this.done('DELETED', { key: op.key, revision, json: JSON.stringify(prev) }, prev);
  }

  private insert(
    key: string,
    row: { created: number; deleted: number; createRevision: number; prev: number; value: StoredValue },
  ): number {
    const result = this.stmt.insert.run(key, row.created, row.deleted, row.createRevision, row.prev, row.value);
    return Number(result.lastInsertRowid);
  }

  private done(
    type: StoreEvent['type'],
    written: { key: string; revision: number; json: string },
    prev: KubeObject | undefined,
  ): Outcome {
    const { key, revision, json } = written;
    // The caller and the watchers get separate copies: neither can change the other's.
    const event: StoreEvent = { type, key, revision, object: decode(json, revision) };
    if (prev !== undefined) event.prevObject = prev;
    return { ok: true, item: { key, revision, object: decode(json, revision) }, event };
  }

  watch(prefix: string, fromRevision: number, options: WatchOptions): WatchHandle {
    if (this.closed) throw unavailable(prefix, 'the store is closed');
    if (fromRevision < this.compacted) {
      throw new StorageError(
        'Compacted',
        `revision ${fromRevision} has been compacted; the oldest watchable revision is ${this.compacted}`,
        { key: prefix, revision: this.compacted },
      );
    }
    // Replay and registration are one synchronous step: no commit can fall between them.
    const [from, to] = prefixRange(prefix);
    let after = Math.max(fromRevision, 0);
    let delivered = after;
    for (;;) {
      const rows =
        to === undefined
          ? this.stmt.replayAll.all(after, REPLAY_PAGE)
          : this.stmt.replayRange.all(after, from, to, REPLAY_PAGE);
      for (const row of rows) {
        options.onEvent(this.toEvent(row));
        delivered = row.id;
      }
      if (rows.length < REPLAY_PAGE) break;
      after = rows[rows.length - 1]?.id ?? this.rev;
    }
    return this.watchers.add(prefix, Math.max(delivered, fromRevision), options);
  }

  /** A history row as an event; throws StorageError('Unavailable') for a value it cannot read. */
  private toEvent(row: EventRow): StoreEvent {
    const key = row.name;
    const { object, stale } = this.codec.decode(key, row.value, row.id);
    const event: StoreEvent =
      row.created !== 0
        ? { type: 'ADDED', key, revision: row.id, object }
        : { type: row.deleted !== 0 ? 'DELETED' : 'MODIFIED', key, revision: row.id, object };
    if (row.deleted !== 0) event.prevObject = this.codec.decode(key, row.value, row.prev_revision).object;
    else if (row.created === 0 && row.prev_value !== null)
      event.prevObject = this.codec.decode(key, row.prev_value, row.prev_revision).object;
    if (stale && row.deleted === 0) event.stale = true;
    return event;
  }

  /** Forgets history at or below revision (clamped to the current one). */
  compact(revision: number): Promise<void> {
    if (this.closed) return Promise.reject(unavailable('', 'the store is closed'));
    // One compaction at a time; a later request starts where the earlier one ended.
    const run = this.compaction.then(() => this.compactTo(Math.min(revision, this.rev)));
    this.compaction = run.catch(() => undefined);
    return run;
  }

  private async compactTo(target: number): Promise<void> {
    while (!this.closed && this.compacted < target) {
      const step = Math.min(target, this.compacted + COMPACT_STEP);
      this.compactStep(this.compacted, step);
      this.compacted = step;
      // Let writes and reads in between the steps.
      if (step < target) await new Promise((resolve) => setImmediate(resolve));
    }
    await this.releaseFreePages();
  }

  /** Gives the pages compaction freed back to the file system, a bounded step at a time. */
  private async releaseFreePages(): Promise<void> {
    const freePages = (): number => this.stmt.freePages.get()?.freelist_count ?? 0;
    let released = false;
    for (let free = freePages(); !this.closed && free > 0;) {
      this.db.exec(`PRAGMA incremental_vacuum(${VACUUM_STEP_PAGES})`);
      released = true;
      const left = freePages();
      if (left >= free) break; // nothing more can be released (should not happen in incremental mode)
      free = left;
      // The group commit and reads run between the steps.
      await new Promise((resolve) => setImmediate(resolve));
    }
    // The file is cut to the database's new size when the WAL is checkpointed into it. With
    // encryption, TRUNCATE also empties the WAL, whose frames may hold the freed plaintext.
    if (this.closed) return;
    if (this.codec.encrypting) this.db.pragma('wal_checkpoint(TRUNCATE)');
    else if (released) this.db.pragma('wal_checkpoint(PASSIVE)');
  }

  /** Compacts (from, to]: every row superseded by a row in the window, and deletes in it. */
  private compactStep(from: number, to: number): void {
    this.db.transaction(() => {
      const superseded = this.stmt.supersededIn.all(from, to);
      for (const { prev_revision } of superseded) this.stmt.deleteRow.run(prev_revision);
      this.stmt.deleteTombstonesIn.run(from, to);
      this.stmt.setMeta.run('compacted', to);
    })();
  }

  private autoCompact(): void {
    if (this.closed) return;
    const keepFrom = this.rev - this.historyRevisions;
    if (keepFrom > this.compacted) {
      this.compact(keepFrom).catch(() => {
        // Retried on the next tick; a failing disk also fails writes, which report it.
      });
    }
  }

  /** The revision at or after which watches can start. */
  oldestWatchableRevision(): number {
    return this.compacted;
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.flush();
    this.closed = true;
    clearInterval(this.timer);
    this.watchers.fail(unavailable('', 'the store was closed'));
    this.db.close();
    return Promise.resolve();
  }
}

function prepareStatements(db: Database.Database) {
  const latestPerKey = (where: string): string => `
    SELECT kv.id, kv.name, kv.value FROM kv
    JOIN (SELECT MAX(id) AS id FROM kv ${where} GROUP BY name) AS m ON kv.id = m.id
    WHERE kv.deleted = 0 ORDER BY kv.name`;
  const replay = (where: string): string => `
    SELECT kv.id, kv.name, kv.created, kv.deleted, kv.prev_revision, kv.value, p.value AS prev_value
    FROM kv LEFT JOIN kv AS p ON p.id = kv.prev_revision AND kv.created = 0 AND kv.deleted = 0
    WHERE kv.id > ? ${where} ORDER BY kv.id LIMIT ?`;
  return {
    latest: db.prepare<[string], LatestRow>(
      'SELECT id, deleted, create_revision, value FROM kv WHERE name = ? ORDER BY id DESC LIMIT 1',
    ),
    listRange: db.prepare<[string, string], { id: number; name: string; value: StoredValue }>(
      latestPerKey('WHERE name >= ? AND name < ?'),
    ),
    listAll: db.prepare<[], { id: number; name: string; value: StoredValue }>(latestPerKey('')),
    insert: db.prepare<[string, number, number, number, number, StoredValue]>(
      'INSERT INTO kv (name, created, deleted, create_revision, prev_revision, value) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    // Unary + keeps SQLite on the id range (the history after R) rather than the name index
    // (every row under the prefix, then sorted).
    replayRange: db.prepare<[number, string, string, number], EventRow>(replay('AND +kv.name >= ? AND +kv.name < ?')),
    replayAll: db.prepare<[number, number], EventRow>(replay('')),
    supersededIn: db.prepare<[number, number], { prev_revision: number }>(
      'SELECT prev_revision FROM kv WHERE id > ? AND id <= ? AND prev_revision > 0',
    ),
    deleteRow: db.prepare<[number]>('DELETE FROM kv WHERE id = ?'),
    deleteTombstonesIn: db.prepare<[number, number]>('DELETE FROM kv WHERE id > ? AND id <= ? AND deleted = 1'),
    freePages: db.prepare<[], { freelist_count: number }>('PRAGMA freelist_count'),
    sequence: db.prepare<[], { seq: number }>("SELECT seq FROM sqlite_sequence WHERE name = 'kv'"),
    getMeta: db.prepare<[string], { value: number }>('SELECT value FROM kv_meta WHERE name = ?'),
    setMeta: db.prepare<[string, number]>(
      'INSERT INTO kv_meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value',
    ),
  };
}

/**
 * Puts the database in auto_vacuum=INCREMENTAL: set before the first table of a new file;
 * an existing file in another mode is rebuilt once with VACUUM (the only way to switch).
 */
function useIncrementalVacuum(db: Database.Database): void {
  if (db.pragma('auto_vacuum', { simple: true }) === AUTO_VACUUM_INCREMENTAL) return;
  db.pragma('auto_vacuum = INCREMENTAL');
  const hasTables = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' LIMIT 1").get() !== undefined;
  if (hasTables) db.exec('VACUUM');
}

/**
 * Carries data written by the first version of this store (a `log` table plus a `live`
 * table) into `kv`: every live object keeps its revision, the history before it is gone
 * (watches must start at or after the old latest revision), and revisions continue.
 */
function migrateTwoTableLayout(db: Database.Database): void {
  const hasLive = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'live'").get() !== undefined;
  if (!hasLive) return;
  db.transaction(() => {
    const empty = db.prepare('SELECT 1 FROM kv LIMIT 1').get() === undefined;
    if (empty) {
      const oldSeq =
        db.prepare<[], { seq: number }>("SELECT seq FROM sqlite_sequence WHERE name = 'log'").get()?.seq ?? 0;
      db.exec(`INSERT INTO kv (id, name, created, deleted, create_revision, prev_revision, value)
               SELECT revision, key, 1, 0, 0, 0, value FROM live ORDER BY revision`);
      const bumped = db.prepare("UPDATE sqlite_sequence SET seq = MAX(seq, ?) WHERE name = 'kv'").run(oldSeq).changes;
      if (bumped === 0 && oldSeq > 0)
        db.prepare("INSERT INTO sqlite_sequence (name, seq) VALUES ('kv', ?)").run(oldSeq);
      db.prepare("INSERT OR REPLACE INTO kv_meta (name, value) VALUES ('compacted', ?)").run(oldSeq);
    }
    db.exec('DROP TABLE live; DROP TABLE IF EXISTS log; DROP TABLE IF EXISTS meta;');
  })();
}
