// Typed reads of the store for the apiserver's own lookups (admission, tokens), below the REST
// layer: what is under a resource's keys was checked on the way in (see storedAs).

import { storageKey, type KubeObject, type Resource } from '../api/index.js';
import type { Store } from '../storage/index.js';
import { storedAs } from './write-meta.js';

export type TypedFind = <T extends KubeObject>(
  r: Resource<T>,
  namespace: string | undefined,
  name: string,
) => Promise<T | undefined>;

export function typedFind(store: Store): TypedFind {
  return async (r, namespace, name) => {
    const item = await store.get(storageKey(r, namespace, name));
    return item === undefined ? undefined : storedAs(r, item.object);
  };
}
