// The Store: the one small interface between the apiserver and durable state (DESIGN.md §4).
// Keys are strings (`/registry/<group>/<plural>/<ns>/<name>`); values are API objects. One
// global, strictly increasing revision numbers every write; it is the objects'
// metadata.resourceVersion. The one backend today is embedded SQLite; any backend (etcd is
// planned) must pass the shared suite in store-suite.ts.
//
// Contract:
// - Every object returned carries metadata.resourceVersion = the revision of its last write.
// - create fails with KeyExists when the key is live; update/delete with an expected revision
//   fail with Conflict when the live revision differs, KeyNotFound when the key is absent.
// - watch(prefix, R) delivers every event with revision > R under the prefix, in revision
//   order, exactly once; if R is older than the retained history it fails with Compacted.
// - A write whose promise resolved survives kill -9 of the process.

import type { KubeObject } from '../api/meta.js';

export type StorageErrorCode = 'KeyExists' | 'KeyNotFound' | 'Conflict' | 'Compacted' | 'Unavailable';

export class StorageError extends Error {
  readonly code: StorageErrorCode;
  readonly key: string;
  /** For Compacted: the oldest revision still watchable. For Conflict: the live revision. */
  readonly revision: number | undefined;

  /** `at`: the key the operation was on, and the revision that refused it (see `revision`). */
  constructor(code: StorageErrorCode, message: string, at: { key: string; revision?: number }) {
    super(message);
    this.name = 'StorageError';
    this.code = code;
    this.key = at.key;
    this.revision = at.revision;
  }
}

export const isStorageError = (err: unknown, code: StorageErrorCode): err is StorageError =>
  err instanceof StorageError && err.code === code;

export interface StoredItem {
  key: string;
  object: KubeObject;
  /** Revision of the last write to this key (= object.metadata.resourceVersion). */
  revision: number;
  /**
   * The stored value was not written by the first provider (key) of the encryption config:
   * an update must write it even when nothing changed, so that rewriting re-encrypts it.
   */
  stale?: boolean;
}

export type StoreEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: StoreEventType;
  key: string;
  revision: number;
  /** The new state; for DELETED, the last state with resourceVersion = the delete's revision. */
  object: KubeObject;
  /** The state before this event (MODIFIED and DELETED), for selector transitions. */
  prevObject?: KubeObject;
  /** As StoredItem.stale, for `object` (history replayed from disk; never for a new write). */
  stale?: boolean;
}

export interface ListResult {
  items: StoredItem[];
  /** The store revision the list is consistent with. */
  revision: number;
  /**
   * Live keys whose value cannot be read (e.g. encrypted with a key no longer configured):
   * not in items. A consumer that serves reads must answer these keys with the error, not
   * as absent; a backend that never fails to decode leaves this out.
   */
  unreadable?: { key: string; revision: number; error: StorageError }[];
}

export interface WatchHandle {
  stop(): void;
  /**
   * Asks the store to report its progress (etcd's WatchProgressRequest): onProgress is then
   * called with a revision every event up to which was delivered. Absent when not supported.
   */
  requestProgress?(): void;
}

export interface WatchOptions {
  /** Called for each event, in revision order. */
  onEvent: (event: StoreEvent) => void;
  /** Called once if the watch breaks (e.g. Compacted, store closed); no events follow. */
  onError: (err: Error) => void;
  /**
   * The store reports that no event of this watch lies between the last one delivered and
   * `revision` (etcd's progress notifications): the watcher is current up to it.
   */
  onProgress?: (revision: number) => void;
  /**
   * The watcher wants only events whose object (or previous object) has this index value,
   * e.g. the pods of one node: a store that indexes its watchers then hands it only those,
   * instead of every event under the prefix. Others deliver everything; the caller filters
   * either way.
   */
  index?: WatchIndex;
}

/** An index of watchers: its name, how an object's value is found, and the value wanted. */
export interface WatchIndex {
  name: string;
  of: (object: KubeObject) => string | undefined;
  value: string;
}

export interface Store {
  /** The latest revision. */
  currentRevision(): Promise<number>;
  get(key: string): Promise<StoredItem | undefined>;
  /**
   * A read that may miss the newest writes of other processes (a watch cache answering from
   * memory without first catching up with the store): for checks whose answer the write
   * itself enforces again, as Kubernetes' admission reads its informers. Left out by stores
   * whose get is as cheap.
   */
  peek?(key: string): Promise<StoredItem | undefined>;
  /** list's counterpart of peek: for lists with resourceVersion=0 ("any version"). */
  peekList?(prefix: string): Promise<ListResult>;
  list(prefix: string): Promise<ListResult>;
  create(key: string, object: KubeObject): Promise<StoredItem>;
  update(key: string, object: KubeObject, expectedRevision: number): Promise<StoredItem>;
  /** Deletes; with expectedRevision, only if the live revision matches. Returns the deleted state. */
  delete(key: string, expectedRevision?: number): Promise<StoredItem>;
  /** Events with revision > fromRevision under prefix. Throws (or reports) Compacted when too old. */
  watch(prefix: string, fromRevision: number, options: WatchOptions): WatchHandle;
  /** Forgets history at or below revision; watches from there get Compacted. */
  compact(revision: number): Promise<void>;
  close(): Promise<void>;
}
