// What every value from the wire must be before any code touches it: plain JSON data.
// Objects are plain (prototype Object.prototype or none) and carry no key that could reach
// a prototype (`__proto__`, `constructor`, `prototype`); numbers are finite; nesting and the
// serialised size are bounded. The JSON and YAML decoders and every patch function call
// checkPlainData, so no wire value reaches the rest of the apiserver without it.

import { ApiError, badRequest } from '../../errors/index.js';

/** Keys that would write through to a prototype if ever used as a property name. */
const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

export function isForbiddenKey(key: string): boolean {
  return FORBIDDEN_KEYS.has(key);
}

export interface WireLimits {
  /** Deepest nesting of objects and arrays accepted. */
  maxDepth: number;
  /** Largest JSON serialisation accepted (413 beyond). */
  maxBytes: number;
}

/**
 * Kubernetes refuses JSON nested 10,000 deep; V8's structuredClone and isDeepStrictEqual,
 * which the apiserver runs on every object, overflow the stack near 2,000, so the bound here
 * is 1,000 (real manifests nest a few dozen levels).
 */
export const MAX_DEPTH = 1000;
/** Kubernetes' default limit on a request body, and so on a decoded object (3 MiB). */
export const MAX_BYTES = 3 * 1024 * 1024;
export const DEFAULT_LIMITS: WireLimits = { maxDepth: MAX_DEPTH, maxBytes: MAX_BYTES };

export function forbiddenKeyError(key: string, path: string): ApiError {
  const where = path === '' ? '' : ` (at ${path})`;
  return badRequest(`the field name "${key}" is not allowed in a request${where}`);
}

export function tooDeepError(maxDepth: number): ApiError {
  return badRequest(`the request body nests deeper than the maximum of ${maxDepth} levels`);
}

export function tooLargeError(maxBytes: number): ApiError {
  return new ApiError(
    'RequestEntityTooLarge',
    `Request entity too large: the decoded object is larger than the limit of ${maxBytes} bytes`,
  );
}

/** The own property `key` of `obj`, never an inherited one. */
export function own(obj: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

interface PathLink {
  key: string;
  parent: PathLink | undefined;
}

function render(link: PathLink | undefined): string {
  const parts: string[] = [];
  for (let l = link; l !== undefined; l = l.parent) parts.push(l.key);
  return parts.reverse().reduce((out, p) => (out === '' || p.startsWith('[') ? out + p : `${out}.${p}`), '');
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Throws a 400 ApiError unless `value` is plain JSON data within `limits` (413 when larger
 * than maxBytes); returns about how many bytes its JSON takes. Iterative, so hostile nesting
 * cannot overflow the stack; it stops as soon as a limit is passed, so aliased (shared)
 * subtrees cannot make it run long.
 */
export function checkPlainData(value: unknown, limits: WireLimits = DEFAULT_LIMITS): number {
  const stack: { value: unknown; depth: number; path: PathLink | undefined }[] = [{ value, depth: 0, path: undefined }];
  let bytes = 0;
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const v = next.value;
    if (v === null) bytes += 4;
    else if (typeof v === 'string') bytes += Buffer.byteLength(v) + 2;
    else if (typeof v === 'boolean') bytes += 5;
    else if (typeof v === 'number') {
      if (!Number.isFinite(v))
        throw badRequest(`the number at ${render(next.path) || 'the top level'} is not a finite JSON number`);
      bytes += 8;
    } else if (Array.isArray(v)) {
      if (next.depth >= limits.maxDepth) throw tooDeepError(limits.maxDepth);
      bytes += 2 + v.length;
      if (bytes > limits.maxBytes) throw tooLargeError(limits.maxBytes);
      for (let i = v.length - 1; i >= 0; i--)
        stack.push({ value: v[i], depth: next.depth + 1, path: { key: `[${i}]`, parent: next.path } });
    } else if (typeof v === 'object' && isPlainObject(v)) {
      if (next.depth >= limits.maxDepth) throw tooDeepError(limits.maxDepth);
      if (Object.getOwnPropertySymbols(v).length > 0)
        throw badRequest('the request contains a value that is not JSON data');
      bytes += 2;
      for (const key of Object.keys(v)) {
        const path = { key, parent: next.path };
        if (isForbiddenKey(key)) throw forbiddenKeyError(key, render(path));
        bytes += Buffer.byteLength(key) + 4;
        if (bytes > limits.maxBytes) throw tooLargeError(limits.maxBytes);
        stack.push({ value: v[key], depth: next.depth + 1, path });
      }
    } else {
      throw badRequest(`the value at ${render(next.path) || 'the top level'} is not JSON data`);
    }
    if (bytes > limits.maxBytes) throw tooLargeError(limits.maxBytes);
  }
  return bytes;
}
