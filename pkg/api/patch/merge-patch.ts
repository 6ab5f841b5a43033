// RFC 7386 JSON Merge Patch (application/merge-patch+json), and computing one.

import { isDeepStrictEqual } from 'node:util';
import { isObject } from '../meta.js';

export function applyMergePatch(original: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const result: Record<string, unknown> = isObject(original) ? { ...original } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete result[k];
    else result[k] = applyMergePatch(result[k], v);
  }
  return result;
}

/** The merge patch that turns `original` into `modified` (undefined when equal). */
export function createMergePatch(original: unknown, modified: unknown): unknown {
  if (!isObject(original) || !isObject(modified)) return isDeepStrictEqual(original, modified) ? undefined : modified;
  const patch: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(modified)) {
    const sub = createMergePatch(original[k], v);
    if (sub !== undefined) patch[k] = sub;
  }
  for (const k of Object.keys(original)) if (!(k in modified)) patch[k] = null;
  return Object.keys(patch).length > 0 ? patch : undefined;
}
