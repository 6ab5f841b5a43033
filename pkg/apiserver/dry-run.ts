// Server-side dry run at the storage boundary (Kubernetes' DryRunnableStorage): every write
// of the REST layer goes through a StoreWrites; for a dry run it is one that checks what
// the store would check (the key exists or not, the expected revision) and answers with
// what would have been stored, writing nothing. So every verb and subresource takes the
// same path up to the last step, and a dry run can never persist by a forgotten branch.

import { deepCopy } from '../api/meta.js';
import { StorageError, type Store, type StoredItem } from '../storage/store.js';

export type StoreWrites = Pick<Store, 'create' | 'update' | 'delete'>;

async function live(store: Store, key: string, expectedRevision: number | undefined): Promise<StoredItem> {
  const item = await store.get(key);
  if (item === undefined) throw new StorageError('KeyNotFound', `key ${key} not found`, { key });
  if (expectedRevision !== undefined && item.revision !== expectedRevision) {
    throw new StorageError('Conflict', `key ${key} is at revision ${item.revision}, not ${expectedRevision}`, {
      key,
      revision: item.revision,
    });
  }
  return item;
}

export function dryRunWrites(store: Store): StoreWrites {
  return {
    async create(key, object) {
      const existing = await store.get(key);
      if (existing !== undefined)
        throw new StorageError('KeyExists', `key ${key} already exists (revision ${existing.revision})`, {
          key,
          revision: existing.revision,
        });
      const copy = deepCopy(object);
      // Nothing was stored, so there is no revision to report.
      delete copy.metadata.resourceVersion;
      return { key, object: copy, revision: 0 };
    },
    async update(key, object, expectedRevision) {
      const item = await live(store, key, expectedRevision);
      const copy = deepCopy(object);
      copy.metadata.resourceVersion = String(item.revision);
      return { key, object: copy, revision: item.revision };
    },
    async delete(key, expectedRevision) {
      return live(store, key, expectedRevision);
    },
  };
}
