// OpenAPI schemas of the served kinds, generated from the one schema the server validates
// with (pkg/api/schema.ts), the descriptions beside it (schema-docs.ts) and the list merge
// strategies the strategic-merge-patch and server-side-apply code use (listStrategy). Nothing
// here restates a field: a field the validator knows is a property here, and only then.
//
// Object schemas become named components (`io.k8s.api.core.v1.Container`), shared by every
// kind that uses the same schema node, as Kubernetes shares its Go types.

import { OBJECT_META, schemaFor, type Schema } from '../../api/schema.js';
import { FIELD_DESCRIPTIONS, KIND_DESCRIPTIONS, KIND_FIELDS, TYPE_DOCS, type TypeDoc } from '../../api/schema-docs.js';
import { listStrategy } from '../../api/patch/index.js';
import { RESOURCE_LIST, type GroupVersionKind } from '../../api/registry.js';

export type ObjectSchema = Extract<Schema, { object: Record<string, Schema> }>;
export type JsonSchema = { [key: string]: unknown };

/** Where a named type first appears: a kind, and the field path from its root (`[]` steps into list items). */
interface Site {
  kind: GroupVersionKind;
  path: string[];
}

export interface NamedType {
  /** The component name: `io.k8s.api.apps.v1.Deployment`. */
  name: string;
  /** The last segment: `Deployment`. */
  short: string;
  node: ObjectSchema;
  site: Site;
  /** Set for the root of a kind. */
  gvk?: GroupVersionKind;
}

export const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
export const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
export const PATCH = 'io.k8s.apimachinery.pkg.apis.meta.v1.Patch';
export const LIST_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta';
const META_PREFIX = 'io.k8s.apimachinery.pkg.apis.meta.v1.';

/** Components every document can carry, whatever its kinds reference. */
export const SHARED_COMPONENTS: Record<string, JsonSchema> = {
  [INT_OR_STRING]: {
    description: 'Either an integer or a string; fields of this type say which strings they take.',
    oneOf: [{ type: 'integer' }, { type: 'string' }],
    format: 'int-or-string',
  },
  [QUANTITY]: {
    description: 'An amount with an optional suffix: binary (Ki, Mi, Gi…), decimal (k, M, G…) or milli (m).',
    oneOf: [{ type: 'string' }, { type: 'number' }],
  },
  [PATCH]: { description: 'A patch, in the format its content type names.', type: 'object' },
  [LIST_META]: {
    description: 'Metadata of a list: where it was read and how to continue it.',
    type: 'object',
    properties: {
      resourceVersion: { type: 'string', description: 'The version of the collection the list was read at.' },
      continue: { type: 'string', description: 'A token to fetch the next page; empty on the last page.' },
      remainingItemCount: {
        type: 'integer',
        format: 'int64',
        description: 'How many items were left out of this page, when known.',
      },
      selfLink: { type: 'string', description: 'Deprecated; not set.' },
    },
  },
};

function isObjectSchema(s: Schema): s is ObjectSchema {
  return typeof s === 'object' && 'object' in s;
}

function isFreeForm(node: ObjectSchema): boolean {
  return node.open === true && Object.keys(node.object).length === 0;
}

function packageOf(group: string): string {
  return group === '' ? 'core' : (group.split('.')[0] ?? group);
}

function componentName(gvk: GroupVersionKind, short: string, pkg?: TypeDoc['pkg']): string {
  if (pkg === 'meta') return META_PREFIX + short;
  if (pkg === 'core') return `io.k8s.api.core.v1.${short}`;
  return `io.k8s.api.${packageOf(gvk.group)}.${gvk.version}.${short}`;
}

const pascal = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** Every kind with a schema, and the kinds the registry serves without one, by GVK. */
function servedKinds(): GroupVersionKind[] {
  const out: GroupVersionKind[] = [];
  const seen = new Set<string>();
  const add = (gvk: GroupVersionKind): void => {
    const key = `${gvk.group}/${gvk.version}/${gvk.kind}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(gvk);
    }
  };
  // The built-in kinds only: a custom resource's components come from its CRD (custom.ts).
  const builtIn = RESOURCE_LIST.filter((r) => r.custom === undefined);
  for (const r of builtIn) add({ group: r.group, version: r.version, kind: r.kind });
  for (const r of builtIn) {
    for (const s of r.subresources) if (schemaFor(s.responseKind.kind) !== undefined) add(s.responseKind);
  }
  return out;
}

/** The root schema of a kind; a kind the validator has no schema for is a free-form object. */
function rootSchema(kind: string): ObjectSchema {
  const s = schemaFor(kind);
  if (s !== undefined && isObjectSchema(s)) return s;
  const freeForm: Schema = { object: {}, open: true };
  return { object: { apiVersion: 'string', kind: 'string', metadata: OBJECT_META, spec: freeForm, status: freeForm } };
}

/** Steps from a schema into a field, through any lists and maps around it. */
function descend(from: Schema, field: string, path: string[]): { node: Schema; path: string[] } | undefined {
  if (!isObjectSchema(from) || !Object.hasOwn(from.object, field)) return undefined;
  let node = from.object[field];
  if (node === undefined) return undefined;
  const out = [...path, field];
  for (;;) {
    if (typeof node === 'object' && 'list' in node) {
      node = node.list;
      out.push('[]');
    } else if (typeof node === 'object' && 'map' in node) {
      node = node.map;
      out.push('*');
    } else {
      return { node, path: out };
    }
  }
}

export interface TypeTable {
  byNode: Map<ObjectSchema, NamedType>;
  byName: Map<string, NamedType>;
  kinds: NamedType[];
  /** TYPE_DOCS entries whose `at` does not lead to an object schema (a test keeps this empty). */
  unresolved: string[];
}

function buildTypeTable(): TypeTable {
  const byNode = new Map<ObjectSchema, NamedType>();
  const byName = new Map<string, NamedType>();
  const name = (t: NamedType): void => {
    if (byNode.has(t.node)) return;
    let unique = t.name;
    for (let i = 2; byName.has(unique); i++) unique = `${t.name}${i}`;
    const named = { ...t, name: unique };
    byNode.set(t.node, named);
    byName.set(unique, named);
  };
  const kinds: NamedType[] = [];
  for (const gvk of servedKinds()) {
    const node = rootSchema(gvk.kind);
    const t: NamedType = {
      name: componentName(gvk, gvk.kind),
      short: gvk.kind,
      node,
      site: { kind: gvk, path: [] },
      gvk,
    };
    name(t);
    kinds.push(byNode.get(node) ?? t);
  }
  const rootOf = new Map(kinds.map((k) => [k.short, k]));
  const unresolved: string[] = [];
  for (const [short, doc] of Object.entries(TYPE_DOCS)) {
    const [kindName = '', ...fields] = doc.at.split('.');
    const root = rootOf.get(kindName);
    let at: { node: Schema; path: string[] } | undefined = root && { node: root.node, path: [] };
    for (const f of fields) at = at && descend(at.node, f, at.path);
    if (root === undefined || at === undefined || !isObjectSchema(at.node) || byNode.has(at.node)) {
      unresolved.push(short);
      continue;
    }
    name({
      name: componentName(root.site.kind, short, doc.pkg),
      short,
      node: at.node,
      site: { kind: root.site.kind, path: at.path },
    });
  }
  // Whatever has fields and no name yet is named after where it first appears.
  const visit = (node: ObjectSchema, owner: NamedType, path: string[]): void => {
    for (const field of Object.keys(node.object)) {
      const next = descend(node, field, path);
      if (next === undefined || !isObjectSchema(next.node) || isFreeForm(next.node)) continue;
      const seen = byNode.get(next.node);
      if (seen !== undefined) {
        if (seen.site.kind === owner.site.kind && seen.site.path.join('.') === next.path.join('.')) {
          visit(next.node, seen, next.path);
        }
        continue;
      }
      const short = owner.short + pascal(field);
      name({
        name: componentName(owner.site.kind, short),
        short,
        node: next.node,
        site: { kind: owner.site.kind, path: next.path },
      });
      const named = byNode.get(next.node);
      if (named !== undefined) visit(next.node, named, next.path);
    }
  };
  for (const k of kinds) visit(k.node, k, []);
  // Documented types first reached through another kind are visited from their own site too.
  for (const t of [...byNode.values()]) visit(t.node, t, t.site.path);
  return { byNode, byName, kinds, unresolved };
}

let table: TypeTable | undefined;

/** The names of every schema node, computed once. */
export function typeTable(): TypeTable {
  table ??= buildTypeTable();
  return table;
}

function fieldDescription(owner: NamedType, field: string): string | undefined {
  const typed = TYPE_DOCS[owner.short]?.fields?.[field];
  if (typed !== undefined) return typed;
  if (owner.gvk !== undefined) {
    const onKind = KIND_FIELDS[owner.short]?.[field];
    if (onKind !== undefined) return onKind;
  }
  return FIELD_DESCRIPTIONS[field];
}

export function typeDescription(t: NamedType): string | undefined {
  return t.gvk !== undefined ? KIND_DESCRIPTIONS[t.short] : TYPE_DOCS[t.short]?.description;
}

/** The extensions that tell clients how a list merges, from the same table the server merges with. */
export function listExtensions(site: Site): JsonSchema {
  const strategy = listStrategy({ group: site.kind.group, kind: site.kind.kind }, site.path);
  if (strategy === undefined) return { 'x-kubernetes-list-type': 'atomic' };
  if (strategy.type === 'set') return { 'x-kubernetes-list-type': 'set', 'x-kubernetes-patch-strategy': 'merge' };
  return {
    'x-kubernetes-list-map-keys': [strategy.key],
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-patch-merge-key': strategy.key,
    'x-kubernetes-patch-strategy': 'merge',
  };
}

const ref = (name: string): string => `#/components/schemas/${name}`;

function withDescription(schema: JsonSchema, description: string | undefined): JsonSchema {
  return description === undefined ? schema : { description, ...schema };
}

/** The schema of one value; records the components it refers to in `refs`. */
function valueSchema(node: Schema, site: Site, refs: Set<string>): JsonSchema {
  switch (node) {
    case 'string':
      return { type: 'string' };
    case 'int32':
    case 'int64':
      return { type: 'integer', format: node };
    case 'number':
      return { type: 'number', format: 'double' };
    case 'boolean':
      return { type: 'boolean' };
    case 'freeform':
      return { 'x-kubernetes-preserve-unknown-fields': true };
    case 'intOrString':
      refs.add(INT_OR_STRING);
      return { $ref: ref(INT_OR_STRING) };
    case 'quantity':
      refs.add(QUANTITY);
      return { $ref: ref(QUANTITY) };
  }
  if ('list' in node) {
    const items = valueSchema(node.list, { kind: site.kind, path: [...site.path, '[]'] }, refs);
    return { type: 'array', items, ...listExtensions(site) };
  }
  if ('map' in node) {
    return {
      type: 'object',
      additionalProperties: valueSchema(node.map, { kind: site.kind, path: [...site.path, '*'] }, refs),
    };
  }
  const named = typeTable().byNode.get(node);
  if (named === undefined) return { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  refs.add(named.name);
  return { $ref: ref(named.name) };
}

/** The component of a named type. */
export function componentSchema(t: NamedType, refs: Set<string>): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const [field, node] of Object.entries(t.node.object)) {
    const value = valueSchema(node, { kind: t.site.kind, path: [...t.site.path, field] }, refs);
    const description = fieldDescription(t, field);
    // A reference with a description is wrapped in allOf, as Kubernetes' documents do.
    properties[field] =
      '$ref' in value && description !== undefined
        ? { allOf: [value], description }
        : withDescription(value, description);
  }
  const out: JsonSchema = withDescription({ type: 'object', properties }, typeDescription(t));
  if (t.node.open === true) out['x-kubernetes-preserve-unknown-fields'] = true;
  if (t.gvk !== undefined)
    out['x-kubernetes-group-version-kind'] = [{ group: t.gvk.group, kind: t.gvk.kind, version: t.gvk.version }];
  return out;
}

/** The list kind of a served kind (`PodList`). */
export function listComponent(t: NamedType, gvk: GroupVersionKind): JsonSchema {
  return {
    description: `A list of ${t.short} objects.`,
    type: 'object',
    required: ['items'],
    properties: {
      apiVersion: { type: 'string', description: FIELD_DESCRIPTIONS['apiVersion'] },
      kind: { type: 'string', description: FIELD_DESCRIPTIONS['kind'] },
      metadata: { allOf: [{ $ref: ref(LIST_META) }], description: 'Where the list was read and how to continue it.' },
      items: { type: 'array', items: { $ref: ref(t.name) }, description: `The ${t.short} objects.` },
    },
    'x-kubernetes-group-version-kind': [{ group: gvk.group, kind: `${gvk.kind}List`, version: gvk.version }],
  };
}

/** Components for `roots` and every component they reach. */
export function componentsFrom(roots: Iterable<string>): Record<string, JsonSchema> {
  const out: Record<string, JsonSchema> = {};
  const pending = [...roots];
  const types = typeTable().byName;
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    if (Object.hasOwn(out, name)) continue;
    const shared = SHARED_COMPONENTS[name];
    const t = types.get(name);
    if (shared !== undefined) {
      out[name] = shared;
      continue;
    }
    if (t === undefined) continue;
    const refs = new Set<string>();
    out[name] = componentSchema(t, refs);
    pending.push(...refs);
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

/** The named type of a served kind. */
export function kindType(gvk: GroupVersionKind): NamedType | undefined {
  return typeTable().kinds.find(
    (k) => k.gvk?.group === gvk.group && k.gvk.version === gvk.version && k.gvk.kind === gvk.kind,
  );
}
