// Namespace lifecycle on create: a namespaced object needs its namespace to exist and not
// be terminating (Kubernetes' NamespaceLifecycle admission).

import { mustFind, storageKey } from '../api/registry.js';
import { ApiError, notFound } from '../errors/index.js';
import type { Store } from '../storage/store.js';

const NAMESPACES = mustFind('', 'v1', 'namespaces');

/** 404 when the namespace does not exist, 403 when it is being terminated. */
export async function requireActiveNamespace(store: Store, name: string): Promise<void> {
  const key = storageKey(NAMESPACES, undefined, name);
  // From memory first (no round trip to etcd per create); a namespace missing or terminating
  // there is looked up consistently before refusing, as Kubernetes' admission does.
  const cached = await store.peek?.(key);
  const item =
    cached !== undefined && cached.object.metadata.deletionTimestamp === undefined ? cached : await store.get(key);
  if (item === undefined) throw notFound('namespaces', '', name);
  if (item.object.metadata.deletionTimestamp !== undefined) {
    throw new ApiError(
      'Forbidden',
      `unable to create new content in namespace ${name} because it is being terminated`,
      {
        details: {
          name,
          kind: 'namespaces',
          causes: [
            {
              reason: 'NamespaceTerminating',
              message: `namespace ${name} is being terminated`,
              field: 'metadata.namespace',
            },
          ],
        },
      },
    );
  }
}
