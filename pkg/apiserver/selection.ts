// Label and field selection of objects (list, watch, deletecollection).

import type { KubeObject } from '../api/meta.js';
import { fieldIndex, matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from '../api/selectors.js';
import type { WatchIndex } from '../storage/store.js';
import type { Selectors } from './rest-types.js';

/** A filter built from label and field selectors (both optional). */
export function buildFilter(sel: Selectors): (obj: KubeObject) => boolean {
  const labels = sel.labelSelector ? parseLabelSelector(sel.labelSelector) : undefined;
  const fields = sel.fieldSelector ? parseFieldSelector(sel.fieldSelector) : undefined;
  return (obj) =>
    (labels === undefined || matchesLabels(labels, obj.metadata.labels)) &&
    (fields === undefined || matchesFields(fields, obj));
}

/** The watcher index a selection can be filed under (its first field equality); undefined without one. */
export function buildIndex(sel: Selectors): WatchIndex | undefined {
  return sel.fieldSelector ? fieldIndex(parseFieldSelector(sel.fieldSelector)) : undefined;
}
