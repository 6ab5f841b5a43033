// RFC 7386 JSON Merge Patch (application/merge-patch+json), and computing one. Safe by
// construction: the patch is checked as plain data, keys naming a prototype are refused,
// and only own properties are read.

import { isDeepStrictEqual } from 'node:util';
import { checkPlainData, forbiddenKeyError, isForbiddenKey, own } from '../decode/index.js';
import { isObject } from '../meta.js';

function merge(original: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const result: Record<string, unknown> = isObject(original) ? { ...original } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (isForbiddenKey(k)) throw forbiddenKeyError(k, '');
    if (v === null) Reflect.deleteProperty(result, k);
    else result[k] = merge(own(result, k), v);
  }
  return result;
}

export function applyMergePatch(original: unknown, patch: unknown): unknown {
  checkPlainData(patch);
  return merge(original, patch);
}

/** The merge patch that turns `original` into `modified` (undefined when equal). */
export function createMergePatch(original: unknown, modified: unknown): unknown {
  if (!isObject(original) || !isObject(modified)) return isDeepStrictEqual(original, modified) ? undefined : modified;
  const patch: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(modified)) {
    if (isForbiddenKey(k)) throw forbiddenKeyError(k, '');
    const sub = createMergePatch(own(original, k), v);
    if (sub !== undefined) patch[k] = sub;
  }
  for (const k of Object.keys(original)) if (!Object.hasOwn(modified, k)) patch[k] = null;
  return Object.keys(patch).length > 0 ? patch : undefined;
}
