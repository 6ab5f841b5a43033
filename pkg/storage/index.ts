// The storage module: the Store interface and its errors, the embedded SQLite and the etcd
// backends, and the watch cache that serves the apiserver's reads and watches from memory.
// (The shared contract tests, store-suite.ts, are imported by test files directly.)

export * from './store.js';
export { SqliteStore, type SqliteStoreOptions } from './sqlite-store.js';
export { EtcdStore, type EtcdStoreOptions, type EtcdTls } from './etcd-store.js';
export { WatchCache, type WatchCacheOptions } from './watch-cache.js';
