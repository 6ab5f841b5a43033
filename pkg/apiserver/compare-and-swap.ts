// A compare-and-swap loop past the strategy, for a subresource that writes one field itself
// (namespaces/finalize): read, step to the next state (or removal), write on the read revision,
// and retry on conflicts a bounded number of times.

import type { KubeObject } from '../api/meta.js';
import { storageKey, type ResourceInfo } from '../api/registry.js';
import { conflict, notFound } from '../errors/index.js';
import { isStorageError, type Store } from '../storage/store.js';
import type { StoreWrites } from './dry-run.js';
import type { ObjectRef } from './rest-types.js';
import { storageToApiError } from './storage-errors.js';
import { withType } from './write-meta.js';

/** Gives the next object and whether the object goes instead. */
export type SwapStep = (current: KubeObject) => { next: KubeObject; remove: boolean };

export interface SwapRequest {
  store: Store;
  /** Where the write goes (the store, or nowhere for a dry run). */
  writes: StoreWrites;
  r: ResourceInfo;
  ref: ObjectRef;
  step: SwapStep;
}

export async function compareAndSwap({ store, writes, r, ref, step }: SwapRequest): Promise<KubeObject> {
  const { name } = ref;
  const key = storageKey(r, ref.namespace, name);
  for (let attempt = 0; attempt < 20; attempt++) {
    const item = await store.get(key);
    if (item === undefined) throw notFound(r.plural, r.group, name);
    const { next, remove } = step(item.object);
    try {
      if (remove) return withType(r, (await writes.delete(key, item.revision)).object);
      return withType(r, (await writes.update(key, next, item.revision)).object);
    } catch (err) {
      if (isStorageError(err, 'Conflict')) continue;
      throw storageToApiError(err, r, name);
    }
  }
  throw conflict(r, name);
}
