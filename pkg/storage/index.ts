export * from './store.js';
export { SqliteStore, type SqliteStoreOptions } from './sqlite-store.js';
export { WatchCache, type WatchCacheOptions } from './watch-cache.js';
