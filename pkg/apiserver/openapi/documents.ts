// The OpenAPI documents: one v3 document per served group/version (paths of every resource
// with the kind each operation carries, and the components those kinds reach) and the v2
// document of them all. The shapes follow what Kubernetes serves, which kubectl reads:
// `explain` finds a resource's kind through the GVK of its operations and renders the
// component with that GVK; `create/apply --validate=strict` trusts the server to validate when
// the PATCH operation of the kind declares `fieldValidation`.
//
// One deliberate difference: the PATCH request bodies do not list the strategic-merge-patch
// content type. kubectl computes a client-side apply patch from the v3 components only when
// they do, and then refuses any field a component does not list ("unable to find api field"),
// while our schema leaves rarely used subtrees open (cloud volume types, some status fields).
// Without it kubectl uses its compiled-in patch metadata for the built-in kinds, which the
// list extensions here agree with; the server accepts the strategic merge patch either way.

import { groupVersions, resourcesIn, type GroupVersionKind, type ResourceInfo } from '../../api/registry.js';
import { SERVER_VERSION } from '../discovery.js';
import { customComponentName, customComponents, OBJECT_META } from './custom.js';
import { componentsFrom, kindType, listComponent, PATCH, type JsonSchema } from './schemas.js';

const INFO_VERSION = SERVER_VERSION.gitVersion;

/** `api/v1`, `apis/apps/v1`: how the v3 index names a group/version. */
export function gvKey(group: string, version: string): string {
  return group === '' ? `api/${version}` : `apis/${group}/${version}`;
}

const query = (name: string, description: string, type = 'string'): JsonSchema => ({
  name,
  in: 'query',
  description,
  schema: { type, uniqueItems: true },
});
const pathParam = (name: string, description: string): JsonSchema => ({
  name,
  in: 'path',
  required: true,
  description,
  schema: { type: 'string', uniqueItems: true },
});

const DRY_RUN = query('dryRun', 'When All, the request is validated and answered but nothing is stored.');
const FIELD_MANAGER = query('fieldManager', 'The name of the actor making the change, recorded in managedFields.');
const FIELD_VALIDATION = query(
  'fieldValidation',
  'What to do with unknown or duplicate fields in the body: Ignore, Warn or Strict (refuse the request).',
);
const FORCE = query('force', 'For apply requests: take over fields another manager owns.', 'boolean');
const WRITE_PARAMS = [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION];
const LIST_PARAMS = [
  query('labelSelector', 'Only objects whose labels match this selector.'),
  query('fieldSelector', 'Only objects whose fields match this selector.'),
  query('limit', 'The most objects to return in one page.', 'integer'),
  query('continue', 'The token from the previous page.'),
  query('resourceVersion', 'Read at least this recent a state.'),
  query('timeoutSeconds', 'Close a watch after this many seconds.', 'integer'),
  query('watch', 'Stream changes instead of listing.', 'boolean'),
];

const PATCH_TYPES = ['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json'];
/** What the server accepts (Swagger 2.0's `consumes`, which no client computes patches from). */
const ACCEPTED_PATCH_TYPES = [...PATCH_TYPES, 'application/strategic-merge-patch+json'];

const schemaRef = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
const jsonContent = (schema: JsonSchema): JsonSchema => ({
  'application/json': { schema },
  'application/yaml': { schema },
  'application/vnd.kubernetes.protobuf': { schema },
});

interface OperationSpec {
  action: string;
  id: string;
  description: string;
  gvk: GroupVersionKind;
  params: JsonSchema[];
  /** The component the response (and a create/update body) carries. */
  body: string;
  requestBody?: JsonSchema;
}

function operation(op: OperationSpec): JsonSchema {
  const out: JsonSchema = {
    description: op.description,
    operationId: op.id,
    parameters: op.params,
    responses: {
      '200': { description: 'OK', content: jsonContent(schemaRef(op.body)) },
      '401': { description: 'Unauthorized' },
    },
    'x-kubernetes-action': op.action,
    'x-kubernetes-group-version-kind': { group: op.gvk.group, kind: op.gvk.kind, version: op.gvk.version },
  };
  if (op.requestBody !== undefined) out['requestBody'] = op.requestBody;
  return out;
}

function collectionPath(r: ResourceInfo, namespaced: boolean): string {
  const prefix = r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
  return `${prefix}${namespaced ? '/namespaces/{namespace}' : ''}/${r.plural}`;
}

const writeBody = (name: string): JsonSchema => ({ required: true, content: jsonContent(schemaRef(name)) });
const PATCH_BODY: JsonSchema = {
  required: true,
  content: Object.fromEntries(PATCH_TYPES.map((c) => [c, { schema: schemaRef(PATCH) }])),
};

/** What a verb becomes as an operation: its HTTP method, action, id prefix, wording, parameters and body. */
interface VerbOperation {
  method: string;
  action: string;
  id: string;
  text: string;
  params: JsonSchema[];
  body?: 'write' | 'patch';
}

/** A list answers with the list kind; the other collection verbs with the kind itself. */
const LIST_VERB: Record<string, VerbOperation> = {
  list: { method: 'get', action: 'list', id: 'list', text: 'List', params: LIST_PARAMS },
};

const COLLECTION_VERBS: Record<string, VerbOperation> = {
  create: { method: 'post', action: 'post', id: 'create', text: 'Create', params: WRITE_PARAMS, body: 'write' },
  deletecollection: {
    method: 'delete',
    action: 'deletecollection',
    id: 'deleteCollection',
    text: 'Delete a collection of',
    params: [DRY_RUN, ...LIST_PARAMS.slice(0, 2)],
  },
};

const OBJECT_VERBS: Record<string, VerbOperation> = {
  get: { method: 'get', action: 'get', id: 'read', text: 'Read', params: [] },
  update: { method: 'put', action: 'put', id: 'replace', text: 'Replace', params: WRITE_PARAMS, body: 'write' },
  patch: {
    method: 'patch',
    action: 'patch',
    id: 'patch',
    text: 'Partially update',
    params: [...WRITE_PARAMS, FORCE],
    body: 'patch',
  },
  delete: {
    method: 'delete',
    action: 'delete',
    id: 'delete',
    text: 'Delete',
    params: [
      DRY_RUN,
      query('gracePeriodSeconds', 'Seconds the object gets to stop before it is removed.', 'integer'),
      query('propagationPolicy', 'How dependents are removed: Orphan, Background or Foreground.'),
    ],
  },
};

/** Subresources such as binding and eviction are also created on an existing object. */
const SUBRESOURCE_VERBS: Record<string, VerbOperation> = {
  ...OBJECT_VERBS,
  create: { method: 'post', action: 'post', id: 'create', text: 'Create', params: WRITE_PARAMS, body: 'write' },
};

/** What the operations of one path act on. */
interface Target {
  gvk: GroupVersionKind;
  /** The component the responses carry (and create/update bodies). */
  component: string;
  /** `NamespacedPod`, `NamespacedDeploymentScale`: the operationId's tail. */
  idSuffix: string;
  /** How the description names it: `Pod objects`, `the scale of a Deployment`. */
  what: string;
  params: JsonSchema[];
}

/** The operations of `verbs` on one path; verbs a table does not know are left out. */
function operations(target: Target, verbs: readonly string[], table: Record<string, VerbOperation>): JsonSchema {
  const entry: JsonSchema = {};
  for (const verb of verbs) {
    const v = Object.hasOwn(table, verb) ? table[verb] : undefined;
    if (v === undefined) continue;
    const op: OperationSpec = {
      action: v.action,
      id: `${v.id}${target.idSuffix}`,
      description: `${v.text} ${target.what}.`,
      gvk: target.gvk,
      params: [...target.params, ...v.params],
      body: target.component,
    };
    if (v.body === 'write') op.requestBody = writeBody(target.component);
    if (v.body === 'patch') op.requestBody = PATCH_BODY;
    entry[v.method] = operation(op);
  }
  return entry;
}

/** The path entries of one resource: collection, object, and subresources whose kind has a schema. */
function resourcePaths(r: ResourceInfo, components: Set<string>): Record<string, JsonSchema> {
  const gvk: GroupVersionKind = { group: r.group, version: r.version, kind: r.kind };
  // A custom resource's component is made from its CRD's schema (custom.ts).
  const t = r.custom !== undefined ? { name: customComponentName(r) } : kindType(gvk);
  if (t === undefined) return {};
  components.add(t.name);
  const listName = `${t.name}List`;
  if (r.verbs.includes('list')) components.add(listName);
  const idSuffix = `${r.namespaced ? 'Namespaced' : ''}${r.kind}`;
  const nsParams = r.namespaced ? [pathParam('namespace', 'The namespace of the objects.')] : [];
  const itemParams = [pathParam('name', `The name of the ${r.kind}.`), ...nsParams];
  const itemPath = `${collectionPath(r, r.namespaced)}/{name}`;
  const entries: [string, JsonSchema][] = [];
  const collection = { gvk, idSuffix, what: `${r.kind} objects`, params: nsParams };
  entries.push([
    collectionPath(r, r.namespaced),
    {
      ...operations({ ...collection, component: listName }, r.verbs, LIST_VERB),
      ...operations({ ...collection, component: t.name }, r.verbs, COLLECTION_VERBS),
    },
  ]);
  if (r.namespaced) {
    const all = {
      gvk,
      component: listName,
      idSuffix: `${r.kind}ForAllNamespaces`,
      what: `${r.kind} objects of every namespace`,
      params: [],
    };
    entries.push([collectionPath(r, false), operations(all, r.verbs, LIST_VERB)]);
  }
  entries.push([
    itemPath,
    operations({ gvk, component: t.name, idSuffix, what: `a ${r.kind}`, params: itemParams }, r.verbs, OBJECT_VERBS),
  ]);
  for (const sub of r.subresources) {
    const st = r.custom !== undefined && sub.responseKind.kind === r.kind ? t : kindType(sub.responseKind);
    if (st === undefined) continue;
    components.add(st.name);
    const target: Target = {
      gvk: sub.responseKind,
      component: st.name,
      idSuffix: `${idSuffix}${sub.name.charAt(0).toUpperCase()}${sub.name.slice(1)}`,
      what: `the ${sub.name} of a ${r.kind}`,
      params: itemParams,
    };
    entries.push([`${itemPath}/${sub.name}`, operations(target, sub.verbs, SUBRESOURCE_VERBS)]);
  }
  return Object.fromEntries(entries.filter(([, ops]) => Object.keys(ops).length > 0));
}

/** The v3 document of one group/version. */
export function gvDocument(group: string, version: string): JsonSchema {
  const paths: Record<string, JsonSchema> = {};
  const roots = new Set<string>([PATCH]);
  for (const r of resourcesIn(group, version)) Object.assign(paths, resourcePaths(r, roots));
  const lists: Record<string, JsonSchema> = {};
  for (const r of resourcesIn(group, version)) {
    if (r.custom !== undefined) {
      Object.assign(lists, customComponents(r));
      roots.add(OBJECT_META);
      continue;
    }
    const t = kindType({ group: r.group, version: r.version, kind: r.kind });
    if (t !== undefined && roots.has(`${t.name}List`))
      lists[`${t.name}List`] = listComponent(t, { group: r.group, version: r.version, kind: r.kind });
  }
  const schemas = {
    ...componentsFrom(
      [...roots]
        .filter((n) => !n.endsWith('List') && !Object.hasOwn(lists, n))
        .concat('io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta'),
    ),
    ...lists,
  };
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: INFO_VERSION },
    paths,
    components: { schemas: Object.fromEntries(Object.entries(schemas).sort(([a], [b]) => a.localeCompare(b))) },
  };
}

/** Rewrites a v3 schema into Swagger 2.0's dialect: `#/definitions/` refs, no allOf wrappers, no oneOf. */
function toV2Schema(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toV2Schema);
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value);
  const out: JsonSchema = {};
  for (const [k, v] of entries) {
    if (k === '$ref' && typeof v === 'string') out[k] = v.replace('#/components/schemas/', '#/definitions/');
    else if (k === 'allOf' && Array.isArray(v) && v.length === 1) Object.assign(out, toV2Schema(v[0]));
    else if (k === 'oneOf') out['type'] = 'string';
    else out[k] = toV2Schema(v);
  }
  return out;
}

function toV2Parameter(p: unknown): unknown {
  if (typeof p !== 'object' || p === null || !('schema' in p)) return p;
  const { schema, ...rest } = p;
  return { ...rest, ...(typeof schema === 'object' && schema !== null ? schema : {}) };
}

/** A v3 operation in Swagger 2.0's shape. */
function toV2Operation(op: unknown): unknown {
  if (typeof op !== 'object' || op === null) return op;
  const out: JsonSchema = {};
  for (const [k, v] of Object.entries(op)) {
    if (k === 'parameters' && Array.isArray(v)) out[k] = v.map(toV2Parameter);
    else if (k === 'requestBody') continue;
    else if (k === 'responses' && typeof v === 'object' && v !== null) {
      out[k] = Object.fromEntries(
        Object.entries(v).map(([code, resp]: [string, unknown]) => {
          const content = typeof resp === 'object' && resp !== null && 'content' in resp ? resp.content : undefined;
          const json =
            typeof content === 'object' && content !== null && 'application/json' in content
              ? content['application/json']
              : undefined;
          const schema =
            typeof json === 'object' && json !== null && 'schema' in json ? toV2Schema(json.schema) : undefined;
          return [
            code,
            schema === undefined
              ? { description: code === '200' ? 'OK' : 'Unauthorized' }
              : { description: 'OK', schema },
          ];
        }),
      );
    } else out[k] = v;
  }
  const body = 'requestBody' in op ? op.requestBody : undefined;
  if (body !== undefined && Array.isArray(out['parameters'])) {
    out['parameters'] = [
      { name: 'body', in: 'body', required: true, schema: { type: 'object' } },
      ...out['parameters'],
    ];
  }
  const isPatch = out['x-kubernetes-action'] === 'patch';
  out['consumes'] = isPatch ? ACCEPTED_PATCH_TYPES : ['*/*'];
  out['produces'] = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'];
  out['schemes'] = ['https'];
  return out;
}

/** The Swagger 2.0 document of every served group/version together. */
export function v2Document(documents: Iterable<JsonSchema>): JsonSchema {
  const paths: Record<string, unknown> = {};
  const definitions: Record<string, unknown> = {};
  for (const doc of documents) {
    const docPaths = doc['paths'];
    if (typeof docPaths === 'object' && docPaths !== null) {
      for (const [p, entry] of Object.entries(docPaths)) {
        paths[p] =
          typeof entry === 'object' && entry !== null
            ? Object.fromEntries(Object.entries(entry).map(([m, op]) => [m, toV2Operation(op)]))
            : entry;
      }
    }
    const components = doc['components'];
    const schemas =
      typeof components === 'object' && components !== null && 'schemas' in components ? components.schemas : undefined;
    if (typeof schemas === 'object' && schemas !== null) {
      for (const [name, s] of Object.entries(schemas)) definitions[name] = toV2Schema(s);
    }
  }
  return {
    swagger: '2.0',
    info: { title: 'Kubernetes', version: INFO_VERSION },
    paths,
    definitions: Object.fromEntries(Object.entries(definitions).sort(([a], [b]) => a.localeCompare(b))),
  };
}

/** Every served group/version's v3 document, keyed as the v3 index names them. */
export function allGvDocuments(): Map<string, JsonSchema> {
  const out = new Map<string, JsonSchema>();
  for (const gv of groupVersions()) out.set(gvKey(gv.group, gv.version), gvDocument(gv.group, gv.version));
  return out;
}
