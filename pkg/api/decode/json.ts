// JSON request bodies: parsed by V8's JSON.parse (iterative, so deep nesting cannot
// overflow it), then scanned once over the text, iteratively, for the nesting depth, keys
// naming a prototype (also when escaped), and what JSON.parse hides: duplicate keys, which
// Kubernetes reports under fieldValidation (JSON.parse keeps only the last).

import { badRequest, errorMessage } from '../../errors/index.js';
import {
  checkPlainData,
  DEFAULT_LIMITS,
  isForbiddenKey,
  forbiddenKeyError,
  tooDeepError,
  type WireLimits,
} from './plain-data.js';

export interface Decoded {
  value: unknown;
  /**
   * Keys that appeared more than once in one object, by name (`replicas`), as Kubernetes'
   * strict decoder names them (`duplicate field "replicas"`).
   */
  duplicateFields: string[];
}

interface Frame {
  /** Keys seen so far, for an object; undefined for an array. */
  keys: Set<string> | undefined;
  /** The path of this container. */
  path: string;
  /** The path of the object's last key, or of the array's current element. */
  current: string;
  /** Index of the current array element. */
  index: number;
}

/** The end (exclusive) of the JSON string starting at `start` (a `"`). */
function stringEnd(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x5c) i += 2;
    else if (c === 0x22) return i + 1;
    else i++;
  }
  return i;
}

/**
 * Duplicate keys, forbidden keys and depth of a text JSON.parse accepted. Iterative, one pass;
 * keys are compared decoded, so `"\u005f_proto__"` is `__proto__`.
 */
function scan(text: string, maxDepth: number): string[] {
  const duplicates: string[] = [];
  const stack: Frame[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length;) {
    const c = text[i];
    const top = stack[stack.length - 1];
    if (c === '{' || c === '[') {
      if (stack.length >= maxDepth) throw tooDeepError(maxDepth);
      const path = top === undefined ? '' : top.current;
      stack.push({ keys: c === '{' ? new Set() : undefined, path, current: `${path}[0]`, index: 0 });
      expectKey = c === '{';
      i++;
    } else if (c === '}' || c === ']') {
      stack.pop();
      expectKey = false;
      i++;
    } else if (c === ',') {
      if (top?.keys !== undefined) expectKey = true;
      else if (top !== undefined) top.current = `${top.path}[${++top.index}]`;
      i++;
    } else if (c === '"') {
      const end = stringEnd(text, i);
      if (expectKey && top?.keys !== undefined) {
        const raw = text.slice(i, end);
        const key = raw.includes('\\') ? String(JSON.parse(raw)) : raw.slice(1, -1);
        top.current = top.path === '' ? key : `${top.path}.${key}`;
        if (isForbiddenKey(key)) throw forbiddenKeyError(key, top.current);
        if (top.keys.has(key)) duplicates.push(key);
        top.keys.add(key);
        expectKey = false;
      }
      i = end;
    } else i++;
  }
  return duplicates;
}

/** Decodes a JSON body into plain data (400 for bad JSON, forbidden keys, depth; 413 for size). */
export function decodeJson(text: string, limits: WireLimits = DEFAULT_LIMITS): Decoded {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw badRequest(`error decoding request body as JSON: ${errorMessage(err)}`);
  }
  const duplicateFields = scan(text, limits.maxDepth);
  checkPlainData(value, limits);
  return { value, duplicateFields };
}
