import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from './sqlite-store.js';
import { runStoreSuite } from './store-suite.js';
import { WatchCache } from './watch-cache.js';

runStoreSuite('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sqlite-store-'));
  const store = SqliteStore.open(dir);
  return { store, cleanup: async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); } };
});

runStoreSuite('watch cache over SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'watch-cache-'));
  const sqlite = SqliteStore.open(dir);
  const store = await WatchCache.start(sqlite, { capacity: 3 });
  return { store, cleanup: async () => { await store.close(); await sqlite.close(); rmSync(dir, { recursive: true, force: true }); } };
});
