// RFC 6902 JSON Patch (application/json-patch+json).

import { ApiError } from '../../errors/index.js';
import { isObject } from '../meta.js';
import { isDeepStrictEqual } from 'node:util';

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
  return path.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

type Container = Record<string, unknown> | unknown[];

/** The parent container of the location and the last token. */
function locate(doc: unknown, tokens: string[], path: string): { parent: Container; key: string } {
  let cur: unknown = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(t)];
    else if (isObject(cur)) cur = cur[t];
    else fail(`path "${path}" does not exist`);
    if (cur === undefined) fail(`path "${path}" does not exist`);
  }
  if (!Array.isArray(cur) && !isObject(cur)) fail(`path "${path}" does not exist`);
  return { parent: cur, key: tokens[tokens.length - 1] ?? '' };
}

function arrayIndex(arr: unknown[], key: string, path: string, forInsert: boolean): number {
  if (forInsert && key === '-') return arr.length;
  if (!/^(0|[1-9][0-9]*)$/.test(key)) fail(`invalid array index "${key}" in "${path}"`);
  const i = Number(key);
  if (i > arr.length || (!forInsert && i === arr.length)) fail(`array index ${i} out of range in "${path}"`);
  return i;
}

function get(doc: unknown, path: string): unknown {
  const tokens = pointer(path);
  if (tokens.length === 0) return doc;
  const { parent, key } = locate(doc, tokens, path);
  const v = Array.isArray(parent) ? parent[arrayIndex(parent, key, path, false)] : parent[key];
  if (v === undefined) fail(`path "${path}" does not exist`);
  return v;
}

function remove(doc: unknown, path: string): unknown {
  const { parent, key } = locate(doc, pointer(path), path);
  if (Array.isArray(parent)) return parent.splice(arrayIndex(parent, key, path, false), 1)[0];
  if (!(key in parent)) fail(`path "${path}" does not exist`);
  const v = parent[key];
  delete parent[key];
  return v;
}

function add(doc: unknown, path: string, value: unknown): unknown {
  const tokens = pointer(path);
  if (tokens.length === 0) return value;
  const { parent, key } = locate(doc, tokens, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, path, true), 0, value);
  else parent[key] = value;
  return doc;
}

export function applyJsonPatch(original: unknown, patch: unknown): unknown {
  if (!Array.isArray(patch)) fail('a JSON patch must be a list of operations');
  let doc: unknown = structuredClone(original);
  for (const raw of patch) {
    if (!isObject(raw) || typeof raw['op'] !== 'string' || typeof raw['path'] !== 'string') fail('each operation needs "op" and "path"');
    const op = raw as unknown as Operation;
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
        const v = remove(doc, op.from);
        doc = add(doc, op.path, v);
        break;
      }
      case 'copy': {
        if (op.from === undefined) fail('"copy" needs "from"');
        doc = add(doc, op.path, structuredClone(get(doc, op.from)));
        break;
      }
      case 'test':
        if (!isDeepStrictEqual(get(doc, op.path), op.value)) fail(`test failed at "${op.path}"`);
        break;
      default:
        fail(`unknown operation "${op.op}"`);
    }
  }
  return doc;
}
