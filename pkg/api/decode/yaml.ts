// YAML request bodies (application/yaml, application/apply-patch+yaml), decoded into the
// same plain data as JSON: YAML 1.2 core schema, one document, mapping keys as strings,
// alias expansion bounded (the "billion laughs" of CVE-2019-11253), nesting bounded before
// anything recursive runs, and the expanded result checked against the size limit.
//
// The nesting bound is checked on the parser's concrete syntax tree (the parser is
// iterative) before the recursive composer runs: a stack overflow inside the composer can
// leave V8 with a half-compiled regular expression that aborts the process on a later
// request, so it must never happen.

import { Composer, type CST, type Document, isAlias, isMap, isPair, isScalar, isSeq, Lexer, Parser } from 'yaml';
import { badRequest, errorMessage } from '../../errors/index.js';
import type { Decoded } from './json.js';
import {
  checkPlainData,
  DEFAULT_LIMITS,
  forbiddenKeyError,
  isForbiddenKey,
  tooDeepError,
  type WireLimits,
} from './plain-data.js';

/** How many alias nodes (weighted by what they expand to) one document may resolve. */
export const MAX_ALIAS_COUNT = 100;

function firstLine(err: unknown): string {
  return errorMessage(err).split('\n')[0] ?? '';
}

/**
 * Refuses flow collections ({…}, […]) nested deeper than maxDepth, from the lexer's tokens
 * alone, before the parser builds a syntax tree. The parser spends about 1 KiB of heap per
 * level of a deep flow collection (a 100 kB `[[[…]]]` costs ~50 MiB), and that heap
 * outlives ordinary full collections (only V8's memory-reducing collections free it), so
 * hostile bodies refused later, by checkSyntaxDepth, still grew the apiserver by tens of
 * MiB each. The lexer is cheap (no tree; a quoted or block scalar is one token, so
 * brackets inside one do not count) and, flow depth being part of the whole depth, this
 * refuses nothing checkSyntaxDepth would accept.
 */
function checkFlowDepth(text: string, maxDepth: number): void {
  let depth = 0;
  for (const token of new Lexer().lex(text)) {
    if (token === '{' || token === '[') {
      depth += 1;
      if (depth > maxDepth) throw tooDeepError(maxDepth);
    } else if ((token === '}' || token === ']') && depth > 0) {
      depth -= 1;
    }
  }
}

/** Refuses syntax trees nested deeper than maxDepth; iterative. */
function checkSyntaxDepth(tokens: CST.Token[], maxDepth: number): void {
  const stack: { token: CST.Token; depth: number }[] = tokens.map((token) => ({ token, depth: 0 }));
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const { token, depth } = next;
    if (token.type === 'document') {
      if (token.value !== undefined) stack.push({ token: token.value, depth });
    } else if (token.type === 'block-map' || token.type === 'block-seq' || token.type === 'flow-collection') {
      if (depth >= maxDepth) throw tooDeepError(maxDepth);
      for (const item of token.items) {
        if (item.key !== undefined && item.key !== null) stack.push({ token: item.key, depth: depth + 1 });
        if (item.value !== undefined) stack.push({ token: item.value, depth: depth + 1 });
      }
    }
  }
}

/** Depth, forbidden keys and duplicate keys of the parsed tree, without following aliases. */
function scan(root: unknown, maxDepth: number): string[] {
  const duplicates: string[] = [];
  const stack: { node: unknown; depth: number; path: string }[] = [{ node: root, depth: 0, path: '' }];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const { node, depth, path } = next;
    if (isMap(node)) {
      if (depth >= maxDepth) throw tooDeepError(maxDepth);
      const seen = new Set<string>();
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const k: unknown = isScalar(pair.key) ? pair.key.value : pair.key;
        const key = typeof k === 'string' ? k : String(k);
        const keyPath = path === '' ? key : `${path}.${key}`;
        if (isForbiddenKey(key)) throw forbiddenKeyError(key, keyPath);
        if (seen.has(key)) duplicates.push(key);
        seen.add(key);
        stack.push({ node: pair.value, depth: depth + 1, path: keyPath });
      }
    } else if (isSeq(node)) {
      if (depth >= maxDepth) throw tooDeepError(maxDepth);
      node.items.forEach((item, i) => stack.push({ node: item, depth: depth + 1, path: `${path}[${i}]` }));
    } else if (!isAlias(node) && !isScalar(node) && node !== null && node !== undefined) {
      throw badRequest('error decoding YAML: unsupported node');
    }
  }
  return duplicates;
}

export function decodeYaml(text: string, limits: WireLimits = DEFAULT_LIMITS): Decoded {
  checkFlowDepth(text, limits.maxDepth);
  const tokens = Array.from(new Parser().parse(text));
  checkSyntaxDepth(tokens, limits.maxDepth);
  // uniqueKeys off: duplicates are reported by scan(), as for JSON, per fieldValidation.
  const docs: Document.Parsed[] = Array.from(
    new Composer({ schema: 'core', uniqueKeys: false, prettyErrors: false }).compose(tokens),
  );
  if (docs.length > 1) throw badRequest('error decoding YAML: the body holds more than one document');
  const doc = docs[0];
  if (doc === undefined) return { value: null, duplicateFields: [] };
  const error = doc.errors[0];
  if (error !== undefined) throw badRequest(`error decoding YAML: ${firstLine(error)}`);
  const duplicateFields = scan(doc.contents, limits.maxDepth);
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    throw badRequest(`error decoding YAML: ${firstLine(err)}`);
  }
  checkPlainData(value, limits);
  return { value, duplicateFields };
}
