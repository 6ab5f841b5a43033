// Structural schemas of CustomResourceDefinitions (Kubernetes' apiextensions "structural
// schema" rules): checking that a CRD's openAPIV3Schema is one, and applying it to custom
// objects: pruning unknown fields, filling defaults, and validating types, required fields,
// enums, patterns and bounds with Kubernetes' messages and field paths.
//
// Patterns run on V8's linear-time regular expression engine (the `l` flag), as Kubernetes
// runs them on Go's RE2: a hostile pattern cannot make a match take exponential time, and
// what RE2 refuses (backreferences, lookaround) is refused here too. CEL rules
// (`x-kubernetes-validations`) are not evaluated: no maintained CEL library for JavaScript is
// installed.

import { setFlagsFromString } from 'node:v8';
import type { StatusCause } from '../errors/index.js';
import { isObject } from './meta.js';
import type { JSONSchemaProps } from './types/apiextensions.js';

setFlagsFromString('--enable-experimental-regexp-engine');

/** How deep a schema may nest (Kubernetes bounds it by the CRD's size; a walk here recurses on it). */
export const MAX_SCHEMA_DEPTH = 64;
/** The longest pattern accepted (bounds compile time and the compiled-pattern cache). */
export const MAX_PATTERN_LENGTH = 4096;
const TYPES = ['array', 'boolean', 'integer', 'number', 'object', 'string'];
const NUMERIC_KEYWORDS = ['minimum', 'maximum', 'multipleOf'];
const COUNT_KEYWORDS = ['minLength', 'maxLength', 'minItems', 'maxItems', 'minProperties', 'maxProperties'];

const compiled = new Map<string, RegExp>();
/** V8's linear-time engine (enabled above), which refuses what it cannot match in linear time. */
const LINEAR_FLAG = 'l';

/** The pattern compiled for linear-time matching, or the reason it cannot be. */
export function compilePattern(pattern: string): RegExp | string {
  const hit = compiled.get(pattern);
  if (hit !== undefined) return hit;
  if (pattern.length > MAX_PATTERN_LENGTH) return `may not be longer than ${MAX_PATTERN_LENGTH} characters`;
  try {
    const re = new RegExp(pattern, LINEAR_FLAG);
    if (compiled.size >= 1000) compiled.clear();
    compiled.set(pattern, re);
    return re;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

// ---- is a CRD's schema structural? -----------------------------------------------------

const required = (field: string, why: string): StatusCause => ({
  reason: 'FieldValueRequired',
  field,
  message: `Required value: ${why}`,
});
const forbidden = (field: string, why: string): StatusCause => ({
  reason: 'FieldValueForbidden',
  field,
  message: `Forbidden: ${why}`,
});
const invalidValue = (field: string, value: unknown, why: string): StatusCause => ({
  reason: 'FieldValueInvalid',
  field,
  message: `Invalid value: ${JSON.stringify(value)}: ${why}`,
});

interface SchemaSite {
  field: string;
  depth: number;
  /** Inside allOf/anyOf/oneOf/not: types and defaults are not allowed there. */
  inJunctor: boolean;
  /** What the node describes: the root, an object's field, or an array's items. */
  level: 'root' | 'field' | 'item';
  out: StatusCause[];
}

/**
 * The reasons `schema` (a CRD version's openAPIV3Schema at `field`) is not a structural schema
 * Coxswain can serve, as Kubernetes words them; empty when it is one.
 */
export function structuralSchemaErrors(schema: unknown, field: string): StatusCause[] {
  const out: StatusCause[] = [];
  if (!isObject(schema)) return [required(field, 'schemas are required')];
  if (schema['type'] === undefined || schema['type'] === '')
    out.push(required(`${field}.type`, 'must not be empty at the root'));
  else if (schema['type'] !== 'object')
    out.push(invalidValue(`${field}.type`, schema['type'], 'must be object at the root'));
  for (const key of ['nullable', 'default']) {
    if (schema[key] !== undefined) out.push(forbidden(`${field}.${key}`, `${key} cannot be set at the root`));
  }
  checkNode(schema, { field, depth: 0, inJunctor: false, level: 'root', out });
  return out;
}

function checkNode(node: Record<string, unknown>, site: SchemaSite): void {
  const { field, depth, out } = site;
  if (depth > MAX_SCHEMA_DEPTH) {
    out.push(forbidden(field, `the schema may not nest deeper than ${MAX_SCHEMA_DEPTH} levels`));
    return;
  }
  if (node['$ref'] !== undefined) out.push(forbidden(`${field}.$ref`, '$ref is not supported'));
  const type = node['type'];
  if (type !== undefined) {
    if (site.inJunctor) out.push(forbidden(`${field}.type`, 'must be empty to be structural'));
    else if (typeof type !== 'string' || !TYPES.includes(type))
      out.push({
        reason: 'FieldValueNotSupported',
        field: `${field}.type`,
        message: `Unsupported value: ${JSON.stringify(type)}: supported values: ${TYPES.map((t) => `"${t}"`).join(', ')}`,
      });
  }
  if (site.inJunctor && node['default'] !== undefined)
    out.push(forbidden(`${field}.default`, 'must be undefined to be structural'));
  const exempt = node['x-kubernetes-int-or-string'] === true || node['x-kubernetes-embedded-resource'] === true;
  const properties = node['properties'];
  const additional = node['additionalProperties'];
  if (properties !== undefined && additional !== undefined && additional !== false)
    out.push(forbidden(`${field}.additionalProperties`, 'additionalProperties and properties are mutual exclusive'));
  if (!site.inJunctor && !exempt && (type === undefined || type === '') && site.level !== 'root') {
    const what = site.level === 'item' ? 'array items' : 'object fields';
    out.push(required(`${field}.type`, `must not be empty for specified ${what}`));
  }
  if (type === 'array' && node['items'] === undefined) out.push(required(`${field}.items`, 'must be specified'));
  const pattern = node['pattern'];
  if (pattern !== undefined) {
    const re = typeof pattern === 'string' ? compilePattern(pattern) : 'must be a string';
    if (typeof re === 'string')
      out.push(invalidValue(`${field}.pattern`, pattern, `must be a valid regular expression, but isn't: ${re}`));
  }
  for (const key of NUMERIC_KEYWORDS) {
    const v = node[key];
    if (v !== undefined && typeof v !== 'number') out.push(invalidValue(`${field}.${key}`, v, 'must be a number'));
  }
  for (const key of COUNT_KEYWORDS) {
    const v = node[key];
    if (v !== undefined && !(typeof v === 'number' && Number.isSafeInteger(v) && v >= 0))
      out.push(invalidValue(`${field}.${key}`, v, 'must be a non-negative integer'));
  }
  if (node['enum'] !== undefined && !Array.isArray(node['enum']))
    out.push(invalidValue(`${field}.enum`, node['enum'], 'must be an array'));
  if (node['required'] !== undefined && !isStringList(node['required']))
    out.push(invalidValue(`${field}.required`, node['required'], 'must be a list of field names'));
  const child = (value: unknown, where: { at: string; level: SchemaSite['level']; junctor?: boolean }): void => {
    const inJunctor = where.junctor ?? site.inJunctor;
    if (isObject(value)) checkNode(value, { field: where.at, depth: depth + 1, inJunctor, level: where.level, out });
    else out.push(invalidValue(where.at, value, 'must be a schema object'));
  };
  if (properties !== undefined) {
    if (!isObject(properties)) out.push(invalidValue(`${field}.properties`, properties, 'must be an object'));
    else for (const [k, v] of Object.entries(properties)) child(v, { at: `${field}.properties[${k}]`, level: 'field' });
  }
  if (isObject(additional)) child(additional, { at: `${field}.additionalProperties`, level: 'field' });
  if (node['items'] !== undefined) child(node['items'], { at: `${field}.items`, level: 'item' });
  for (const junctor of ['allOf', 'anyOf', 'oneOf']) {
    const list = node[junctor];
    if (list === undefined) continue;
    if (!Array.isArray(list)) out.push(invalidValue(`${field}.${junctor}`, list, 'must be an array'));
    else list.forEach((s, i) => child(s, { at: `${field}.${junctor}[${i}]`, level: site.level, junctor: true }));
  }
  if (node['not'] !== undefined) child(node['not'], { at: `${field}.not`, level: site.level, junctor: true });
}

function isStringList(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((s) => typeof s === 'string');
}

// ---- pruning ----------------------------------------------------------------------------

/** Fields every object keeps whatever its schema says. */
const TYPE_META = new Set(['apiVersion', 'kind', 'metadata']);

/**
 * Removes the fields the schema does not specify (unless it preserves unknown fields there),
 * as Kubernetes prunes custom objects; returns their paths.
 */
export function pruneBySchema(obj: Record<string, unknown>, schema: JSONSchemaProps): string[] {
  const unknown: string[] = [];
  pruneObject(obj, schema, { path: '', unknown, root: true });
  return unknown;
}

interface PruneSite {
  path: string;
  unknown: string[];
  root: boolean;
}

function pruneValue(value: unknown, schema: JSONSchemaProps, site: PruneSite): void {
  if (Array.isArray(value)) {
    const items = schema.items;
    if (items === undefined) return;
    value.forEach((v, i) => pruneValue(v, items, { ...site, path: `${site.path}[${i}]`, root: false }));
  } else if (isObject(value)) pruneObject(value, schema, site);
}

function pruneObject(obj: Record<string, unknown>, schema: JSONSchemaProps, site: PruneSite): void {
  const properties = schema.properties ?? {};
  const additional = schema.additionalProperties;
  const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true;
  for (const [k, v] of Object.entries(obj)) {
    const at = site.path === '' ? k : `${site.path}.${k}`;
    const keepsMeta = (site.root || schema['x-kubernetes-embedded-resource'] === true) && TYPE_META.has(k);
    const sub = Object.hasOwn(properties, k) ? properties[k] : isObject(additional) ? additional : undefined;
    if (sub !== undefined) {
      if (!(keepsMeta && k === 'metadata')) pruneValue(v, sub, { path: at, unknown: site.unknown, root: false });
      continue;
    }
    if (keepsMeta || preserve || additional === true) continue;
    site.unknown.push(at);
    Reflect.deleteProperty(obj, k);
  }
}

// ---- defaulting -------------------------------------------------------------------------

/** Fills the schema's defaults into fields that are absent (or null where not nullable), as Kubernetes does. */
export function defaultBySchema(value: unknown, schema: JSONSchemaProps): void {
  if (Array.isArray(value)) {
    const items = schema.items;
    if (items !== undefined) for (const v of value) defaultBySchema(v, items);
    return;
  }
  if (!isObject(value)) return;
  for (const [k, sub] of Object.entries(schema.properties ?? {})) {
    const current = value[k];
    if (sub.default !== undefined && (current === undefined || (current === null && sub.nullable !== true)))
      value[k] = structuredClone(sub.default);
    defaultBySchema(value[k], sub);
  }
  const additional = schema.additionalProperties;
  if (isObject(additional)) {
    const props = schema.properties ?? {};
    for (const [k, v] of Object.entries(value)) {
      if (Object.hasOwn(props, k)) continue;
      // A null map value takes the values' default, as a null field takes its own.
      if (v === null && additional.default !== undefined && additional.nullable !== true)
        value[k] = structuredClone(additional.default);
      defaultBySchema(value[k], additional);
    }
  }
}

// ---- validation -------------------------------------------------------------------------

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function typeMatches(value: unknown, schema: JSONSchemaProps): boolean {
  if (schema['x-kubernetes-int-or-string'] === true)
    return typeof value === 'string' || (typeof value === 'number' && Number.isInteger(value));
  const type = schema.type;
  if (type === undefined || type === '') return true;
  const got = jsonType(value);
  return got === type || (type === 'number' && got === 'integer');
}

/** The causes that make `value` at `path` fail `schema` (types, required, enum, pattern, bounds). */
export function validateBySchema(value: unknown, schema: JSONSchemaProps, path: string): StatusCause[] {
  const out: StatusCause[] = [];
  validateNode(value, schema, { path, out });
  return out;
}

interface ValidateSite {
  path: string;
  out: StatusCause[];
}

function at(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function validateNode(value: unknown, schema: JSONSchemaProps, site: ValidateSite): void {
  const { path, out } = site;
  if (value === null) {
    if (schema.nullable === true) return;
    if (schema.type !== undefined && schema.type !== '') {
      out.push({
        reason: 'FieldValueTypeInvalid',
        field: path,
        message: `Invalid value: "null": ${path} in body must be of type ${schema.type}: "null"`,
      });
    }
    return;
  }
  if (!typeMatches(value, schema)) {
    const got = jsonType(value);
    const want = schema['x-kubernetes-int-or-string'] === true ? 'integer,string' : (schema.type ?? '');
    out.push({
      reason: 'FieldValueTypeInvalid',
      field: path,
      message: `Invalid value: "${got}": ${path} in body must be of type ${want}: "${got}"`,
    });
    return;
  }
  if (schema.enum !== undefined && !schema.enum.some((e) => sameJson(e, value))) {
    out.push({
      reason: 'FieldValueNotSupported',
      field: path,
      message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}`,
    });
  }
  if (typeof value === 'string') validateString(value, schema, site);
  else if (typeof value === 'number') validateNumber(value, schema, site);
  else if (Array.isArray(value)) validateArray(value, schema, site);
  else if (isObject(value)) validateObjectValue(value, schema, site);
  for (const sub of schema.allOf ?? []) validateNode(value, sub, site);
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function validateString(value: string, schema: JSONSchemaProps, { path, out }: ValidateSite): void {
  const chars = [...value].length;
  if (schema.minLength !== undefined && chars < schema.minLength)
    out.push(invalidValue(path, value, `${path} in body should be at least ${schema.minLength} chars long`));
  if (schema.maxLength !== undefined && chars > schema.maxLength)
    out.push({
      reason: 'FieldValueTooLong',
      field: path,
      message: `Too long: may not be more than ${schema.maxLength} bytes`,
    });
  if (schema.pattern !== undefined) {
    const re = compilePattern(schema.pattern);
    // A pattern that no longer compiles was refused when the CRD was written; never crash here.
    if (typeof re !== 'string' && !re.test(value))
      out.push(invalidValue(path, value, `${path} in body should match '${schema.pattern}'`));
  }
}

function validateNumber(value: number, schema: JSONSchemaProps, { path, out }: ValidateSite): void {
  const { minimum, maximum } = schema;
  if (minimum !== undefined) {
    const exclusive = schema.exclusiveMinimum === true;
    if (exclusive ? value <= minimum : value < minimum)
      out.push(
        invalidValue(
          path,
          value,
          `${path} in body should be greater than ${exclusive ? '' : 'or equal to '}${minimum}`,
        ),
      );
  }
  if (maximum !== undefined) {
    const exclusive = schema.exclusiveMaximum === true;
    if (exclusive ? value >= maximum : value > maximum)
      out.push(
        invalidValue(path, value, `${path} in body should be less than ${exclusive ? '' : 'or equal to '}${maximum}`),
      );
  }
  if (schema.multipleOf !== undefined && schema.multipleOf > 0 && value % schema.multipleOf !== 0)
    out.push(invalidValue(path, value, `${path} in body should be a multiple of ${schema.multipleOf}`));
}

function validateArray(value: unknown[], schema: JSONSchemaProps, site: ValidateSite): void {
  const { path, out } = site;
  if (schema.minItems !== undefined && value.length < schema.minItems)
    out.push(invalidValue(path, value.length, `${path} in body should have at least ${schema.minItems} items`));
  if (schema.maxItems !== undefined && value.length > schema.maxItems)
    out.push({
      reason: 'FieldValueTooMany',
      field: path,
      message: `Too many: ${value.length}: must have at most ${schema.maxItems} items`,
    });
  const items = schema.items;
  if (items !== undefined) value.forEach((v, i) => validateNode(v, items, { path: `${path}[${i}]`, out }));
}

function validateObjectValue(value: Record<string, unknown>, schema: JSONSchemaProps, site: ValidateSite): void {
  const { path, out } = site;
  for (const name of schema.required ?? []) {
    if (value[name] === undefined)
      out.push({ reason: 'FieldValueRequired', field: at(path, name), message: 'Required value' });
  }
  const count = Object.keys(value).length;
  if (schema.minProperties !== undefined && count < schema.minProperties)
    out.push(invalidValue(path, count, `${path} in body should have at least ${schema.minProperties} properties`));
  if (schema.maxProperties !== undefined && count > schema.maxProperties)
    out.push(invalidValue(path, count, `${path} in body should have at most ${schema.maxProperties} properties`));
  const properties = schema.properties ?? {};
  const additional = schema.additionalProperties;
  for (const [k, v] of Object.entries(value)) {
    // The root's metadata is ObjectMeta, checked by the generic metadata validation.
    if (path === '' && (k === 'metadata' || k === 'apiVersion' || k === 'kind')) continue;
    const sub = Object.hasOwn(properties, k) ? properties[k] : isObject(additional) ? additional : undefined;
    if (sub !== undefined) validateNode(v, sub, { path: at(path, k), out });
  }
}
