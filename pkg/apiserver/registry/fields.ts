// Reading the nested objects of a stored object without casts.

import { isObject } from '../../api/meta.js';

/** A field of an object that holds an object, or an empty one. */
export function objectAt(obj: Record<string, unknown>, field: string): Record<string, unknown> {
  const value = obj[field];
  return isObject(value) ? value : {};
}
