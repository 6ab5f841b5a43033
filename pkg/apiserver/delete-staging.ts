// The store side of a delete: either write the staged "deleting" state (a deletionTimestamp
// waiting for finalizers, a node agent or a controller) or remove the object, then tell the
// strategy; and how a collection is deleted one by one.

import { isDeepStrictEqual } from 'node:util';
import type { KubeObject } from '../api/meta.js';
import type { ResourceInfo } from '../api/registry.js';
import { ApiError } from '../errors/index.js';
import type { StoredItem } from '../storage/store.js';
import type { StoreWrites } from './dry-run.js';
import type { Strategy } from './registry/types.js';
import { withType } from './write-meta.js';

export interface DeleteOutcome {
  object: KubeObject;
  /** Whether the object is gone from the store (else it is staged for deletion). */
  deleted: boolean;
}

export interface DeleteCommit {
  r: ResourceInfo;
  strategy: Strategy;
  writes: StoreWrites;
  key: string;
  /** The object as read, with its revision. */
  item: StoredItem;
  /** The staged state, when the strategy staged the deletion. */
  staged: KubeObject | undefined;
  dryRun: boolean;
}

/** Writes the staged state (unless nothing changed) or removes the object, on the read revision. */
export async function commitDeletion(c: DeleteCommit): Promise<DeleteOutcome> {
  const { r, item } = c;
  if (c.staged !== undefined) {
    if (isDeepStrictEqual(c.staged, item.object)) return { object: withType(r, item.object), deleted: false };
    const stored = await c.writes.update(c.key, c.staged, item.revision);
    return { object: withType(r, stored.object), deleted: false };
  }
  const deleted = await c.writes.delete(c.key, item.revision);
  if (!c.dryRun) await c.strategy.afterDelete?.(deleted.object);
  return { object: withType(r, deleted.object), deleted: true };
}

/** Deletes each object of a collection; one already gone is skipped. */
export async function deleteEach(
  items: KubeObject[],
  deleteOne: (obj: KubeObject) => Promise<DeleteOutcome>,
): Promise<KubeObject[]> {
  const out: KubeObject[] = [];
  for (const obj of items) {
    try {
      out.push((await deleteOne(obj)).object);
    } catch (err) {
      if (!(err instanceof ApiError && err.reason === 'NotFound')) throw err;
    }
  }
  return out;
}
