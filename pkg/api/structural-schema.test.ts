import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  compilePattern,
  defaultBySchema,
  MAX_PATTERN_LENGTH,
  MAX_SCHEMA_DEPTH,
  pruneBySchema,
  structuralSchemaErrors,
  validateBySchema,
} from './structural-schema.js';
import type { JSONSchemaProps } from './types/apiextensions.js';

const ROOT = 'spec.versions[0].schema.openAPIV3Schema';

const SCHEMA: JSONSchemaProps = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      required: ['size'],
      properties: {
        size: { type: 'integer', minimum: 1, maximum: 10 },
        color: { type: 'string', enum: ['red', 'blue'], default: 'red' },
        label: { type: 'string', pattern: '^[a-z]+$', minLength: 2, maxLength: 4 },
        port: { 'x-kubernetes-int-or-string': true },
        tags: { type: 'array', minItems: 1, maxItems: 2, items: { type: 'string' } },
        extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
        limits: { type: 'object', additionalProperties: { type: 'integer', default: 0 } },
        nested: { type: 'object', properties: { depth: { type: 'integer', default: 3 } } },
        maybe: { type: 'string', nullable: true },
      },
    },
  },
};

const messages = (causes: { field?: string; message?: string }[]): string[] =>
  causes.map((c) => `${c.field ?? ''}: ${c.message ?? ''}`);

test('a structural schema passes; the root needs type object', () => {
  assert.deepEqual(structuralSchemaErrors(SCHEMA, ROOT), []);
  assert.deepEqual(messages(structuralSchemaErrors({ properties: {} }, ROOT)), [
    `${ROOT}.type: Required value: must not be empty at the root`,
  ]);
  assert.deepEqual(messages(structuralSchemaErrors({ type: 'string' }, ROOT)), [
    `${ROOT}.type: Invalid value: "string": must be object at the root`,
  ]);
  assert.deepEqual(messages(structuralSchemaErrors('nope', ROOT)), [`${ROOT}: Required value: schemas are required`]);
});

test('fields and array items need a type; junctors may not set one; $ref is refused', () => {
  const errors = messages(
    structuralSchemaErrors(
      {
        type: 'object',
        properties: {
          a: { properties: { b: { type: 'string' } } },
          c: { type: 'array', items: { properties: {} } },
          d: { type: 'string', anyOf: [{ type: 'string' }] },
          e: { $ref: '#/definitions/e' },
          f: { type: 'object', properties: {}, additionalProperties: { type: 'string' } },
          g: { type: 'array' },
          h: { type: 'strange' },
        },
      },
      ROOT,
    ),
  );
  assert.deepEqual(errors, [
    `${ROOT}.properties[a].type: Required value: must not be empty for specified object fields`,
    `${ROOT}.properties[c].items.type: Required value: must not be empty for specified array items`,
    `${ROOT}.properties[d].anyOf[0].type: Forbidden: must be empty to be structural`,
    `${ROOT}.properties[e].$ref: Forbidden: $ref is not supported`,
    `${ROOT}.properties[e].type: Required value: must not be empty for specified object fields`,
    `${ROOT}.properties[f].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive`,
    `${ROOT}.properties[g].items: Required value: must be specified`,
    `${ROOT}.properties[h].type: Unsupported value: "strange": supported values: "array", "boolean", "integer", "number", "object", "string"`,
  ]);
});

test('hostile schemas: a self-referencing $ref, deep nesting, bad and huge patterns are refused without hanging', () => {
  const cyclic = { type: 'object', properties: { self: { type: 'object', $ref: '#' } } };
  assert.match(messages(structuralSchemaErrors(cyclic, ROOT)).join('\n'), /\$ref: Forbidden: \$ref is not supported/);
  let deep: Record<string, unknown> = { type: 'string' };
  for (let i = 0; i < 10_000; i++) deep = { type: 'object', properties: { x: deep } };
  const deepErrors = structuralSchemaErrors(deep, ROOT);
  assert.equal(deepErrors.length, 1);
  assert.match(deepErrors[0]?.message ?? '', new RegExp(`may not nest deeper than ${MAX_SCHEMA_DEPTH} levels`));
  const withPattern = (pattern: unknown): string =>
    messages(structuralSchemaErrors({ type: 'object', properties: { p: { type: 'string', pattern } } }, ROOT)).join();
  assert.match(withPattern('(a'), /pattern: Invalid value: "\(a": must be a valid regular expression, but isn't/);
  // Backreferences and lookarounds are what RE2 refuses too: no linear-time match exists.
  assert.match(withPattern('(a)\\1'), /must be a valid regular expression/);
  assert.match(withPattern('(?=a)a'), /must be a valid regular expression/);
  assert.match(withPattern('a'.repeat(MAX_PATTERN_LENGTH + 1)), /may not be longer than/);
  assert.match(withPattern(42), /must be a string/);
  const bounds = messages(
    structuralSchemaErrors(
      { type: 'object', properties: { n: { type: 'integer', minimum: '1', maxLength: -1 } } },
      ROOT,
    ),
  );
  assert.deepEqual(bounds, [
    `${ROOT}.properties[n].minimum: Invalid value: "1": must be a number`,
    `${ROOT}.properties[n].maxLength: Invalid value: -1: must be a non-negative integer`,
  ]);
});

test('a catastrophic-backtracking pattern matches in linear time', () => {
  const re = compilePattern('^(a+)+$');
  assert.ok(re instanceof RegExp);
  // Exponential on a backtracking engine; instant on the linear one (a hang would time the test out).
  assert.equal(re.test(`${'a'.repeat(5000)}b`), false);
  const causes = validateBySchema(
    { v: `${'a'.repeat(5000)}!` },
    { type: 'object', properties: { v: { type: 'string', pattern: '^(a|aa)+$' } } },
    '',
  );
  assert.equal(causes.length, 1);
});

test('pruning drops unknown fields everywhere but where the schema preserves them, and names them', () => {
  const obj: Record<string, unknown> = {
    apiVersion: 'example.com/v1',
    kind: 'Widget',
    metadata: { name: 'w', anything: 1 },
    spec: { size: 1, bogus: true, extra: { kept: { deep: 1 } }, nested: { depth: 1, gone: 2 }, limits: { cpu: 2 } },
    status: { phase: 'x' },
    top: 1,
  };
  assert.deepEqual(pruneBySchema(obj, SCHEMA), ['spec.bogus', 'spec.nested.gone', 'status', 'top']);
  assert.deepEqual(obj, {
    apiVersion: 'example.com/v1',
    kind: 'Widget',
    metadata: { name: 'w', anything: 1 },
    spec: { size: 1, extra: { kept: { deep: 1 } }, nested: { depth: 1 }, limits: { cpu: 2 } },
  });
});

test('defaults fill absent fields (and nulls of non-nullable ones), at every depth, never overwriting', () => {
  const obj: Record<string, unknown> = { spec: { size: 2, color: null, nested: {}, limits: { a: null, b: 5 } } };
  defaultBySchema(obj, SCHEMA);
  assert.deepEqual(obj, { spec: { size: 2, color: 'red', nested: { depth: 3 }, limits: { a: 0, b: 5 } } });
  const blue: Record<string, unknown> = { spec: { color: 'blue' } };
  defaultBySchema(blue, SCHEMA);
  assert.deepEqual(blue, { spec: { color: 'blue' } });
  // A default is copied, never shared between objects.
  const schema: JSONSchemaProps = {
    type: 'object',
    properties: { list: { type: 'array', items: { type: 'string' }, default: ['a'] } },
  };
  const [one, two]: Record<string, unknown>[] = [{}, {}];
  defaultBySchema(one, schema);
  defaultBySchema(two, schema);
  assert.notEqual(one['list'], two['list']);
});

test('validation names every problem with its field path and Kubernetes wording', () => {
  const causes = validateBySchema(
    {
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: { name: 'w' },
      spec: {
        size: 0,
        color: 'pink',
        label: 'ABCDE',
        port: 1.5,
        tags: ['a', 'b', 'c'],
        limits: { cpu: 'x' },
        maybe: null,
      },
    },
    SCHEMA,
    '',
  );
  assert.deepEqual(messages(causes), [
    'spec.size: Invalid value: 0: spec.size in body should be greater than or equal to 1',
    'spec.color: Unsupported value: "pink": supported values: "red", "blue"',
    'spec.label: Too long: may not be more than 4 bytes',
    `spec.label: Invalid value: "ABCDE": spec.label in body should match '^[a-z]+$'`,
    'spec.port: Invalid value: "number": spec.port in body must be of type integer,string: "number"',
    'spec.tags: Too many: 3: must have at most 2 items',
    'spec.limits.cpu: Invalid value: "string": spec.limits.cpu in body must be of type integer: "string"',
  ]);
  assert.deepEqual(messages(validateBySchema({ spec: { size: 11, tags: [] } }, SCHEMA, '')), [
    'spec.size: Invalid value: 11: spec.size in body should be less than or equal to 10',
    'spec.tags: Invalid value: 0: spec.tags in body should have at least 1 items',
  ]);
  assert.deepEqual(messages(validateBySchema({ spec: {} }, SCHEMA, '')), ['spec.size: Required value']);
  assert.deepEqual(messages(validateBySchema({ spec: 'x' }, SCHEMA, '')), [
    'spec: Invalid value: "string": spec in body must be of type object: "string"',
  ]);
  assert.deepEqual(validateBySchema({ spec: { size: 3, port: 'http', label: 'ab' } }, SCHEMA, ''), []);
});

test('a deeply nested value under a preserved field is not walked (no recursion on hostile depth)', () => {
  let deep: unknown = 1;
  for (let i = 0; i < 100_000; i++) deep = { d: deep };
  const obj: Record<string, unknown> = { spec: { size: 1, extra: deep } };
  assert.deepEqual(pruneBySchema(obj, SCHEMA), []);
  assert.deepEqual(validateBySchema(obj, SCHEMA, ''), []);
  defaultBySchema(obj, SCHEMA);
});
