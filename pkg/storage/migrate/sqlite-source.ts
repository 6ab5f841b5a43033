// The SQLite store's data directory as a migration source: the live row of every key of
// sqlite-store.ts' `kv` table (its latest row, unless that is a delete), in key order, a
// page at a time, with the value's bytes as stored.
//
// In use: the apiserver opens the database in exclusive locking mode and keeps the lock.
// The source takes that same lock before reading (no wait: a held lock is an apiserver
// running on it) and keeps it until closed, so no apiserver can start on the folder and
// change it in the middle of a migration. Nothing in the file is changed (SQLite may
// replay a WAL left by a killed apiserver, as the apiserver itself would at its start).

import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { errorMessage } from '../../errors/index.js';
import { DATABASE_FILE } from '../sqlite-store.js';
import { MigrationError, type MigrationPage, type MigrationSource } from '../migrate.js';

interface LiveRow {
  name: string;
  deleted: number;
  value: string | Buffer;
}

const hasTable = (db: Database.Database, name: string): boolean =>
  db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;

export class SqliteSource implements MigrationSource {
  readonly describe: string;
  readonly revision: number;
  private readonly db: Database.Database;
  private readonly pageAfter: Database.Statement<[string, number], LiveRow>;

  private constructor(db: Database.Database, describe: string) {
    this.db = db;
    this.describe = describe;
    this.revision =
      db.prepare<[], { seq: number }>("SELECT seq FROM sqlite_sequence WHERE name = 'kv'").get()?.seq ?? 0;
    // The latest row of each of the next `limit` keys; deletes are dropped after the page
    // is cut, so the cursor still moves past a deleted key.
    this.pageAfter = db.prepare(`
      SELECT kv.name, kv.deleted, kv.value FROM kv
      JOIN (SELECT MAX(id) AS id FROM kv WHERE name > ? GROUP BY name ORDER BY name LIMIT ?) AS m ON kv.id = m.id
      ORDER BY kv.name`);
  }

  /** Opens the data directory (the apiserver's --data-dir) and holds its lock; throws MigrationError. */
  static open(dataDir: string): SqliteSource {
    const describe = `sqlite:${resolve(dataDir)}`;
    const file = join(dataDir, DATABASE_FILE);
    if (!existsSync(file)) throw new MigrationError(`${describe}: no Coxswain store there (${file} does not exist)`);
    let db: Database.Database;
    try {
      db = new Database(file, { fileMustExist: true });
    } catch (err) {
      throw new MigrationError(`${describe}: cannot open ${file}: ${errorMessage(err)}`);
    }
    try {
      db.pragma('busy_timeout = 0');
      db.pragma('locking_mode = EXCLUSIVE');
      // A write transaction takes the lock, which exclusive mode then keeps until close.
      db.exec('BEGIN EXCLUSIVE');
      db.exec('COMMIT');
      if (!hasTable(db, 'kv'))
        throw new MigrationError(`${describe}: ${file} is not a Coxswain store (it has no kv table)`);
      if (hasTable(db, 'live'))
        throw new MigrationError(
          `${describe}: ${file} has the first store layout: start the apiserver on it once (it upgrades it), then stop it`,
        );
      return new SqliteSource(db, describe);
    } catch (err) {
      db.close();
      if (err instanceof MigrationError) throw err;
      const message = errorMessage(err);
      if (/busy|locked/i.test(message))
        throw new MigrationError(`${describe} is in use (an apiserver holds ${file}): stop it before migrating`);
      throw new MigrationError(`${describe}: cannot read ${file}: ${message}`);
    }
  }

  page(after: string | undefined, limit: number): Promise<MigrationPage> {
    // '' sorts before every key: the first page.
    const rows = this.pageAfter.all(after ?? '', limit);
    const last = rows[rows.length - 1];
    const entries = rows
      .filter((r) => r.deleted === 0)
      .map((r) => ({ key: r.name, value: typeof r.value === 'string' ? Buffer.from(r.value, 'utf8') : r.value }));
    return Promise.resolve({ entries, next: rows.length < limit || last === undefined ? undefined : last.name });
  }

  close(): void {
    this.db.close();
  }
}
