import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ApiError } from '../../errors/index.js';
import { onlyClientErrors, rejectsWith } from '../../errors/testing.js';
import { checkPlainData, decodeJson, decodeYaml, MAX_DEPTH } from './index.js';

function assertPrototypeClean(): void {
  assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), PROTOTYPE_KEYS);
}
const PROTOTYPE_KEYS = Object.getOwnPropertyNames(Object.prototype).sort();

test('JSON decodes to the same data and reports duplicate keys by name', () => {
  const { value, duplicateFields } = decodeJson(
    '{"spec":{"replicas":1,"template":{"a":[{"x":1,"x":2}]},"replicas":3},"kind":"D"}',
  );
  assert.deepEqual(value, { spec: { replicas: 3, template: { a: [{ x: 2 }] } }, kind: 'D' });
  assert.deepEqual(duplicateFields, ['x', 'replicas']);
  assert.deepEqual(decodeJson('[1,"a",null,true,{"b":{}}]').duplicateFields, []);
});

test('prototype keys are refused wherever they are, however they are spelled', () => {
  for (const body of [
    '{"__proto__":{"x":1}}',
    '{"metadata":{"labels":{"constructor":"a"}}}',
    '{"a":[{"b":{"prototype":1}}]}',
    '{"a":{"\\u005f_proto__":{"polluted":true}}}',
  ])
    rejectsWith(() => decodeJson(body), 400, /is not allowed/);
  rejectsWith(() => decodeYaml('metadata:\n  __proto__:\n    polluted: true\n'), 400, /"__proto__"/);
  rejectsWith(() => decodeYaml('a: [{constructor: 1}]'), 400, /"constructor"/);
  // Values may say anything; only keys are refused.
  assert.deepEqual(decodeJson('{"a":"__proto__"}').value, { a: '__proto__' });
  assertPrototypeClean();
});

test('nesting beyond the limit is a 400, at the limit it decodes', () => {
  const nested = (n: number): string => '['.repeat(n) + ']'.repeat(n);
  assert.ok(Array.isArray(decodeJson(nested(MAX_DEPTH)).value));
  rejectsWith(() => decodeJson(nested(MAX_DEPTH + 1)), 400, /nests deeper/);
  rejectsWith(() => decodeJson(nested(10_000)), 400, /nests deeper/);
  rejectsWith(() => decodeJson(nested(1_000_000)), 400, /nests deeper/);
  rejectsWith(() => decodeJson('{"a":'.repeat(5000) + '1' + '}'.repeat(5000)), 400, /nests deeper/);
  rejectsWith(() => decodeYaml(nested(100_000)), 400, /nests deeper/);
  rejectsWith(() => decodeYaml(nested(MAX_DEPTH + 1)), 400, /nests deeper/);
  rejectsWith(() => decodeYaml('- '.repeat(50_000) + 'x\n'), 400, /nests deeper/);
  const indented = Array.from({ length: MAX_DEPTH + 1 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n') + ' x\n';
  rejectsWith(() => decodeYaml(indented), 400, /nests deeper/);
  rejectsWith(() => decodeYaml(`? ${nested(5000)}\n: v\n`), 400, /nests deeper/);
  // Flow depth is counted on the lexer's tokens: brackets inside a scalar are not nesting.
  const brackets = '['.repeat(MAX_DEPTH + 1) + '{'.repeat(MAX_DEPTH + 1);
  assert.deepEqual(decodeYaml(`a: "${brackets}"\nb: '${brackets}'\nc: |\n  ${brackets}\n`).value, {
    a: brackets,
    b: brackets,
    c: `${brackets}\n`,
  });
  // The decoder is intact afterwards (a stack overflow inside it could have broken it).
  assert.deepEqual(decodeYaml('a: [1, {b: c}]').value, { a: [1, { b: 'c' }] });
});

test('YAML: one document of the core schema; aliases bounded; expanded size bounded', () => {
  assert.deepEqual(decodeYaml('a: 1\nb: [x, "y", ~, true, 1.5]\nc: {d: e}\n').value, {
    a: 1,
    b: ['x', 'y', null, true, 1.5],
    c: { d: 'e' },
  });
  assert.deepEqual(decodeYaml('a: 1\na: 2\n').duplicateFields, ['a']);
  assert.deepEqual(decodeYaml('base: &b {x: 1}\nuse: *b\n').value, { base: { x: 1 }, use: { x: 1 } });
  const laughs = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (const [from, to] of [
    ['a', 'b'],
    ['b', 'c'],
    ['c', 'd'],
    ['d', 'e'],
    ['e', 'f'],
    ['f', 'g'],
    ['g', 'h'],
    ['h', 'i'],
  ]) {
    laughs.push(
      `${to}: &${to} [${Array(9)
        .fill(`*${from ?? ''}`)
        .join(',')}]`,
    );
  }
  rejectsWith(() => decodeYaml(laughs.join('\n')), 400, /alias/);
  const big = 'x'.repeat(64 * 1024);
  const aliased = `a: &a "${big}"\nb: [${Array(60).fill('*a').join(', ')}]\n`;
  rejectsWith(() => decodeYaml(aliased), 413);
  rejectsWith(() => decodeYaml('a: 1\n---\nb: 2\n'), 400, /more than one document/);
  rejectsWith(() => decodeYaml('a: .inf'), 400, /finite/);
  rejectsWith(() => decodeYaml('a: [1, 2'), 400);
});

test('JSON: malformed, non-finite and oversized input are client errors', () => {
  rejectsWith(() => decodeJson('{"a":'), 400, /decoding request body as JSON/);
  rejectsWith(() => decodeJson('{"a":1e400}'), 400, /finite/);
  rejectsWith(() => decodeJson(JSON.stringify({ a: 'x'.repeat(2000) }), { maxDepth: 10, maxBytes: 1000 }), 413);
});

test('checkPlainData refuses what JSON cannot carry', () => {
  class Thing {
    a = 1;
  }
  rejectsWith(() => checkPlainData({ a: new Thing() }), 400, /not JSON data/);
  rejectsWith(() => checkPlainData({ a: () => 1 }), 400, /not JSON data/);
  rejectsWith(() => checkPlainData([undefined]), 400, /not JSON data/);
  rejectsWith(() => checkPlainData({ a: new Map() }), 400, /not JSON data/);
  const prototypeless: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  prototypeless['a'] = 1;
  checkPlainData(prototypeless);
});

// ---- fuzz -----------------------------------------------------------------------------------

const hostileKey = fc.constantFrom('__proto__', 'constructor', 'prototype', '\\u005f_proto__', 'a', 'spec', '$patch');

/** JSON text of random values in which hostile keys may appear at any depth. */
const hostileJsonText = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom('null', 'true', '1', '-2.5e3', '"s"', '"__proto__"', '1e400'),
    fc.array(tie('value'), { maxLength: 4 }).map((items) => `[${items.join(',')}]`),
    fc
      .array(
        fc.tuple(
          fc.oneof(
            hostileKey,
            fc.string({ maxLength: 5 }).map((s) => JSON.stringify(s).slice(1, -1)),
          ),
          tie('value'),
        ),
        { maxLength: 4 },
      )
      .map((pairs) => `{${pairs.map(([k, v]) => `"${k}":${v}`).join(',')}}`),
  ),
})).value;

test('fuzz: decodeJson of any JSON value returns the value or a 4xx, never pollutes', () => {
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 6 }), (v) => {
      const text = JSON.stringify(v);
      try {
        const { value } = decodeJson(text);
        assert.deepEqual(value, JSON.parse(text));
      } catch (err) {
        assert.ok(err instanceof ApiError && err.code >= 400 && err.code < 500, String(err));
      }
    }),
    { numRuns: 1000 },
  );
  fc.assert(
    fc.property(hostileJsonText, (text) => {
      onlyClientErrors(() => decodeJson(text));
      assertPrototypeClean();
    }),
    { numRuns: 2000 },
  );
});

test('fuzz: decodeYaml of random text and of hostile JSON-as-YAML gives data or a 4xx', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string({ maxLength: 200 }),
        hostileJsonText,
        fc.constantFrom('&a [*a]', '*x', '!!js/function x', '? [a]: b', '<<: {a: 1}'),
      ),
      (text) => {
        onlyClientErrors(() => {
          const { value } = decodeYaml(text);
          checkPlainData(value);
        });
        assertPrototypeClean();
      },
    ),
    { numRuns: 1500 },
  );
});
