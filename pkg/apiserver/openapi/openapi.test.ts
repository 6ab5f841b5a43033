import assert from 'node:assert/strict';
import { test } from 'node:test';
import { listStrategy } from '../../api/patch/index.js';
import { RESOURCE_LIST } from '../../api/registry.js';
import { KIND_DESCRIPTIONS } from '../../api/schema-docs.js';
import { buildOpenApi } from '../openapi.js';
import { allGvDocuments, gvKey, v2Document } from './documents.js';
import { componentSchema, typeTable, type JsonSchema } from './schemas.js';

const docs = allGvDocuments();

function isRecord(v: unknown): v is JsonSchema {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function schemasOf(doc: JsonSchema): Record<string, JsonSchema> {
  const components = doc['components'];
  const schemas = isRecord(components) ? components['schemas'] : undefined;
  assert.ok(isRecord(schemas));
  const out: Record<string, JsonSchema> = {};
  for (const [k, v] of Object.entries(schemas)) if (isRecord(v)) out[k] = v;
  return out;
}

function refsIn(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => refsIn(v, out));
  else if (isRecord(value)) {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else refsIn(v, out);
    }
  }
  return out;
}

/** Follows `$ref` and single-entry `allOf` to the schema they name. */
function resolve(schema: JsonSchema, schemas: Record<string, JsonSchema>): JsonSchema {
  const allOf = schema['allOf'];
  if (Array.isArray(allOf) && allOf.length === 1 && isRecord(allOf[0])) return resolve(allOf[0], schemas);
  const ref = schema['$ref'];
  if (typeof ref === 'string') {
    const target = schemas[ref.replace('#/components/schemas/', '')];
    assert.ok(target !== undefined, ref);
    return target;
  }
  return schema;
}

function kindComponent(doc: JsonSchema, gvk: { kind: string; group: string; version: string }): JsonSchema | undefined {
  const { kind, group, version } = gvk;
  return Object.values(schemasOf(doc)).find((s) => {
    const gvks = s['x-kubernetes-group-version-kind'];
    return (
      Array.isArray(gvks) &&
      gvks.some((g) => isRecord(g) && g['kind'] === kind && g['group'] === group && g['version'] === version)
    );
  });
}

test('every served kind has a component with its GVK and a PATCH operation declaring fieldValidation', () => {
  for (const r of RESOURCE_LIST) {
    const doc = docs.get(gvKey(r.group, r.version));
    assert.ok(doc !== undefined, `${r.group}/${r.version}`);
    assert.ok(kindComponent(doc, r), `${r.kind} component`);
    const paths = doc['paths'];
    assert.ok(isRecord(paths));
    const ops = Object.values(paths)
      .flatMap((p) => (isRecord(p) ? Object.values(p) : []))
      .filter(isRecord);
    const ofKind = ops.filter((op) => {
      const g = op['x-kubernetes-group-version-kind'];
      return isRecord(g) && g['kind'] === r.kind && g['group'] === r.group;
    });
    assert.ok(ofKind.length > 0, `${r.kind} has operations`);
    if (r.verbs.includes('patch')) {
      const patch = ofKind.find((op) => op['x-kubernetes-action'] === 'patch');
      const params = patch?.['parameters'];
      assert.ok(Array.isArray(params) && params.some((p) => isRecord(p) && p['name'] === 'fieldValidation'), r.kind);
    }
  }
});

test('every $ref resolves inside its document (v3 and v2)', () => {
  for (const [key, doc] of docs) {
    const schemas = schemasOf(doc);
    for (const ref of refsIn(doc)) {
      assert.ok(ref.startsWith('#/components/schemas/'), ref);
      assert.ok(Object.hasOwn(schemas, ref.slice('#/components/schemas/'.length)), `${key}: ${ref}`);
    }
  }
  const v2 = v2Document(docs.values());
  const definitions = v2['definitions'];
  assert.ok(isRecord(definitions));
  for (const ref of refsIn(v2)) {
    assert.ok(ref.startsWith('#/definitions/') && Object.hasOwn(definitions, ref.slice('#/definitions/'.length)), ref);
  }
});

test('the list extensions say what the strategic merge patch and apply code do, at every list of every kind', () => {
  let checked = 0;
  for (const r of RESOURCE_LIST) {
    const doc = docs.get(gvKey(r.group, r.version));
    assert.ok(doc !== undefined);
    const schemas = schemasOf(doc);
    const root = kindComponent(doc, r);
    assert.ok(root !== undefined);
    const kind = { group: r.group, kind: r.kind };
    const walk = (schema: JsonSchema, path: string[], depth: number): void => {
      if (depth > 30) return;
      const s = resolve(schema, schemas);
      if (s['type'] === 'array') {
        const strategy = listStrategy(kind, path);
        const label = `${r.kind} ${path.join('.')}`;
        if (strategy?.type === 'merge') {
          assert.equal(s['x-kubernetes-patch-strategy'], 'merge', label);
          assert.equal(s['x-kubernetes-patch-merge-key'], strategy.key, label);
          assert.equal(s['x-kubernetes-list-type'], 'map', label);
          assert.deepEqual(s['x-kubernetes-list-map-keys'], [strategy.key], label);
        } else if (strategy?.type === 'set') {
          assert.equal(s['x-kubernetes-list-type'], 'set', label);
          assert.equal(s['x-kubernetes-patch-strategy'], 'merge', label);
        } else {
          assert.equal(s['x-kubernetes-list-type'], 'atomic', label);
          assert.equal(s['x-kubernetes-patch-merge-key'], undefined, label);
        }
        checked++;
        if (isRecord(s['items'])) walk(s['items'], [...path, '[]'], depth + 1);
        return;
      }
      const props = s['properties'];
      if (isRecord(props))
        for (const [f, v] of Object.entries(props)) if (isRecord(v)) walk(v, [...path, f], depth + 1);
      if (isRecord(s['additionalProperties'])) walk(s['additionalProperties'], [...path, '*'], depth + 1);
    };
    walk(root, [], 0);
  }
  assert.ok(checked > 200, `checked ${checked} lists`);
});

test('every kind, every type and every field has a description', () => {
  for (const k of typeTable().kinds) assert.ok(KIND_DESCRIPTIONS[k.short], `kind ${k.short}`);
  const missing: string[] = [];
  for (const t of typeTable().byName.values()) {
    const c = componentSchema(t, new Set());
    if (typeof c['description'] !== 'string') missing.push(t.short);
    const props = c['properties'];
    assert.ok(isRecord(props));
    for (const [f, v] of Object.entries(props)) {
      if (!isRecord(v) || typeof v['description'] !== 'string' || v['description'] === '')
        missing.push(`${t.short}.${f}`);
    }
  }
  assert.deepEqual(missing, []);
});

test('documents are built once: the same bytes and hashes every time, and the index names them by hash', () => {
  const a = buildOpenApi();
  const b = buildOpenApi();
  assert.deepEqual([...a.groupVersions.keys()], [...b.groupVersions.keys()]);
  const index = JSON.parse(a.index.body.toString()) as { paths: Record<string, { serverRelativeURL: string }> };
  for (const [key, doc] of a.groupVersions) {
    assert.equal(doc.etag, b.groupVersions.get(key)?.etag);
    assert.equal(index.paths[key]?.serverRelativeURL, `/openapi/v3/${key}?hash=${doc.etag}`);
    assert.match(doc.etag, /^[0-9A-F]{128}$/);
  }
  assert.equal(typeTable().unresolved.length, 0, `unresolved type docs: ${typeTable().unresolved.join(', ')}`);
});
