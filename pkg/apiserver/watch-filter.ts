// Watch filtering by selection, as Kubernetes' watch does it: an object entering the
// selection arrives as ADDED, one leaving it as DELETED, and one staying in it as MODIFIED.

import type { KubeObject } from '../api/meta.js';
import type { ResourceInfo } from '../api/registry.js';
import type { StoreEvent, StoredItem } from '../storage/store.js';
import type { WatchListener } from './rest-types.js';
import { withType } from './write-meta.js';

/** A watch's resource, its selection and where its events go. */
export interface Selection {
  r: ResourceInfo;
  filter: (obj: KubeObject) => boolean;
  listener: WatchListener;
}

/** Replays the current state of the selection as ADDED events (a watch from resourceVersion 0). */
export function replayAsAdded({ r, filter, listener }: Selection, items: StoredItem[]): void {
  for (const item of items) {
    const obj = withType(r, item.object);
    if (filter(obj)) listener({ type: 'ADDED', object: obj });
  }
}

/** Turns store events into the events of a selection. */
export function selectionEvents({ r, filter, listener }: Selection): (ev: StoreEvent) => void {
  return (ev) => {
    const now = filter(ev.object);
    const before = ev.prevObject !== undefined && filter(ev.prevObject);
    const obj = withType(r, ev.object);
    if (ev.type === 'ADDED') {
      if (now) listener({ type: 'ADDED', object: obj });
    } else if (ev.type === 'DELETED') {
      if (before || now) listener({ type: 'DELETED', object: obj });
    } else if (now && before) listener({ type: 'MODIFIED', object: obj });
    else if (now) listener({ type: 'ADDED', object: obj });
    else if (before) listener({ type: 'DELETED', object: obj });
  };
}
