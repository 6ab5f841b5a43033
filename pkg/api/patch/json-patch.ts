// RFC 6902 JSON Patch (application/json-patch+json). Safe by construction: the patch is
// checked as plain data first, pointer tokens naming a prototype key are refused (400),
// every read and write goes through own properties, and the work is bounded as
// Kubernetes bounds it (10,000 operations; copied data counted against the object size limit).

import { isDeepStrictEqual } from 'node:util';
import { ApiError, badRequest } from '../../errors/index.js';
import { checkPlainData, forbiddenKeyError, isForbiddenKey, MAX_BYTES, MAX_DEPTH, own } from '../decode/index.js';
import { isObject } from '../meta.js';

/** Kubernetes' limit on the operations of one JSON patch. */
export const MAX_JSON_PATCH_OPERATIONS = 10_000;

interface Operation {
  op: string;
  path: string;
  value?: unknown;
  from?: string;
}

function fail(message: string): never {
  throw new ApiError('Invalid', `the json patch could not be applied: ${message}`);
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) fail(`path "${path}" must start with "/"`);
  const tokens = path
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  for (const t of tokens) if (isForbiddenKey(t)) throw forbiddenKeyError(t, path);
  return tokens;
}

type Container = Record<string, unknown> | unknown[];

function child(cur: Container, token: string, path: string): unknown {
  if (!Array.isArray(cur)) return own(cur, token);
  if (!/^(0|[1-9][0-9]*)$/.test(token)) fail(`invalid array index "${token}" in "${path}"`);
  return cur[Number(token)];
}

/** The parent container of the location and the last token. */
function locate(doc: unknown, tokens: string[], path: string): { parent: Container; key: string } {
  let cur: unknown = doc;
  for (const t of tokens.slice(0, -1)) {
    if (!Array.isArray(cur) && !isObject(cur)) fail(`path "${path}" does not exist`);
    cur = child(cur, t, path);
    if (cur === undefined) fail(`path "${path}" does not exist`);
  }
  if (!Array.isArray(cur) && !isObject(cur)) fail(`path "${path}" does not exist`);
  return { parent: cur, key: tokens[tokens.length - 1] ?? '' };
}

/** The index of an existing element of `arr` named by `key`. */
function arrayIndex(arr: unknown[], key: string, path: string): number {
  const i = parseIndex(key, path);
  if (i >= arr.length) fail(`array index ${i} out of range in "${path}"`);
  return i;
}

/** Where `key` inserts into `arr`: an existing index, the end, or `-` (append). */
function insertionIndex(arr: unknown[], key: string, path: string): number {
  if (key === '-') return arr.length;
  const i = parseIndex(key, path);
  if (i > arr.length) fail(`array index ${i} out of range in "${path}"`);
  return i;
}

function parseIndex(key: string, path: string): number {
  if (!/^(0|[1-9][0-9]*)$/.test(key)) fail(`invalid array index "${key}" in "${path}"`);
  return Number(key);
}

function get(doc: unknown, path: string): unknown {
  const tokens = pointer(path);
  if (tokens.length === 0) return doc;
  const { parent, key } = locate(doc, tokens, path);
  const v = Array.isArray(parent) ? parent[arrayIndex(parent, key, path)] : own(parent, key);
  if (v === undefined) fail(`path "${path}" does not exist`);
  return v;
}

function remove(doc: unknown, path: string): unknown {
  const { parent, key } = locate(doc, pointer(path), path);
  if (Array.isArray(parent)) return parent.splice(arrayIndex(parent, key, path), 1)[0];
  if (!Object.hasOwn(parent, key)) fail(`path "${path}" does not exist`);
  const v = parent[key];
  Reflect.deleteProperty(parent, key);
  return v;
}

function add(doc: unknown, path: string, value: unknown): unknown {
  const tokens = pointer(path);
  if (tokens.length === 0) return value;
  const { parent, key } = locate(doc, tokens, path);
  if (Array.isArray(parent)) parent.splice(insertionIndex(parent, key, path), 0, value);
  else Object.defineProperty(parent, key, { value, enumerable: true, writable: true, configurable: true });
  return doc;
}

/** Copies a value of the document, counting it against what one patch may copy. */
function copyOf(value: unknown, budget: { bytes: number }): unknown {
  budget.bytes -= checkPlainData(value, { maxDepth: MAX_DEPTH, maxBytes: Math.max(0, budget.bytes) });
  return structuredClone(value);
}

export function applyJsonPatch(original: unknown, patch: unknown): unknown {
  if (!Array.isArray(patch)) throw badRequest('a JSON patch must be a list of operations');
  if (patch.length > MAX_JSON_PATCH_OPERATIONS) {
    throw new ApiError(
      'RequestEntityTooLarge',
      `The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${patch.length}`,
    );
  }
  checkPlainData(patch);
  const budget = { bytes: MAX_BYTES };
  let doc: unknown = structuredClone(original);
  for (const raw of patch) {
    if (!isObject(raw) || typeof raw['op'] !== 'string' || typeof raw['path'] !== 'string')
      fail('each operation needs "op" and "path"');
    const from = raw['from'];
    if (from !== undefined && typeof from !== 'string') fail('"from" must be a string');
    const op: Operation = {
      op: raw['op'],
      path: raw['path'],
      value: raw['value'],
      ...(from !== undefined ? { from } : {}),
    };
    switch (op.op) {
      case 'add':
        doc = add(doc, op.path, structuredClone(op.value));
        break;
      case 'remove':
        remove(doc, op.path);
        break;
      case 'replace':
        if (pointer(op.path).length === 0) doc = structuredClone(op.value);
        else {
          remove(doc, op.path);
          doc = add(doc, op.path, structuredClone(op.value));
        }
        break;
      case 'move': {
        if (op.from === undefined) fail('"move" needs "from"');
        pointer(op.path);
        const v = remove(doc, op.from);
        doc = add(doc, op.path, v);
        break;
      }
      case 'copy': {
        if (op.from === undefined) fail('"copy" needs "from"');
        pointer(op.path);
        doc = add(doc, op.path, copyOf(get(doc, op.from), budget));
        break;
      }
      case 'test':
        if (!isDeepStrictEqual(get(doc, op.path), op.value)) fail(`test failed at "${op.path}"`);
        break;
      default:
        fail(`unknown operation "${op.op}"`);
    }
  }
  // Moves and copies can nest deeper or grow larger than any one input was.
  checkPlainData(doc, { maxDepth: MAX_DEPTH, maxBytes: 2 * MAX_BYTES });
  return doc;
}
