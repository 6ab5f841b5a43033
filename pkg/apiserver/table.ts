// Server-side printing: kubectl 1.32 has no client-side printers and asks for a
// meta.k8s.io/v1 Table in its Accept header; rows carry the object's metadata (or the whole
// object with includeObject=Object) so -A, --show-labels and --sort-by work.

import type { KubeObject, ListMeta } from '../api/meta.js';
import { toTable } from '../printers/index.js';
import type { ResourceInfo } from '../api/registry.js';

export const TABLE_CONTENT_TYPE = 'application/json;as=Table;v=v1;g=meta.k8s.io';

export function wantsTable(accept: string | undefined): boolean {
  return accept !== undefined && /as=Table/.test(accept) && /g=meta\.k8s\.io/.test(accept);
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export function includeObjectParam(value: unknown): IncludeObject {
  return value === 'None' || value === 'Object' ? value : 'Metadata';
}

export function renderTable(
  objects: KubeObject[],
  r: ResourceInfo,
  opts: { includeObject: IncludeObject; resourceVersion: string; now: Date; listMeta?: ListMeta },
): unknown {
  const table = toTable(objects, r, opts);
  const { continue: token, remainingItemCount } = opts.listMeta ?? {};
  // A paged list's Table carries the continue token kubectl follows.
  if (token === undefined) return table;
  return {
    ...table,
    metadata: { ...table.metadata, continue: token, ...(remainingItemCount !== undefined && { remainingItemCount }) },
  };
}
