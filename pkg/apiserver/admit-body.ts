// The hostile-input checks every write's body passes before any strategy sees it: shape and
// type meta (400), field types and integer ranges (400), unknown and duplicate fields per
// fieldValidation (pruned), what a patch may not change (name, namespace, resourceVersion
// as a precondition, uid), and a delete's preconditions.

import { HPA_V1, HPA_V2, convertVersion } from '../api/conversion-autoscaling.js';
import { deepCopy, isObject, type DeleteOptions, type KubeObject, type TypeMeta } from '../api/meta.js';
import { apiVersionOf, type ResourceInfo } from '../api/registry.js';
import { checkTypes, pruneUnknownFields } from '../api/schema.js';
import { pruneBySchema } from '../api/structural-schema.js';
import { ApiError, badRequest, conflict, invalid, type StatusCause } from '../errors/index.js';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

/** Checks a request body's shape and fills namespace/type from the path. */
/** The object in the version its kind is stored in. */
function storageVersionOf(obj: KubeObject): KubeObject {
  if (obj.kind !== 'HorizontalPodAutoscaler' || obj.apiVersion !== HPA_V1) return obj;
  return convertVersion(obj, HPA_V2) ?? obj;
}

/**
 * The body as the object to store. `owned`: the body was decoded for this request alone, so
 * it is taken over and changed in place instead of copied.
 */
export function decodeObject(
  r: ResourceInfo,
  req: { namespace: string | undefined; body: unknown; owned?: boolean },
): KubeObject {
  const { namespace, body } = req;
  if (!isObject(body)) throw badRequest(`the body of the request was not a JSON object`);
  const obj = req.owned === true ? body : deepCopy(body);
  if (obj['metadata'] === undefined) obj['metadata'] = {};
  const metadata = obj['metadata'];
  if (!isObject(metadata))
    throw badRequest(
      `${r.kind} in version "${r.version}" cannot be handled as a ${r.kind}: metadata must be an object`,
    );
  // A missing kind or apiVersion is the URL's, as Kubernetes' decoder defaults them (the
  // Python client sends none for its models); one that is there must match.
  if (obj['kind'] === undefined || obj['kind'] === '') obj['kind'] = r.kind;
  if (obj['apiVersion'] === undefined || obj['apiVersion'] === '') obj['apiVersion'] = apiVersionOf(r);
  checkTypeMeta(r, obj);
  obj.apiVersion = apiVersionOf(r);
  obj.kind = r.kind;
  // The same object, typed: its metadata is the object checked above. A version that is not
  // the stored one is converted to it (HorizontalPodAutoscaler autoscaling/v1 → v2).
  const typed: KubeObject = storageVersionOf(Object.assign(obj, { metadata }));
  const meta = typed.metadata;
  if (r.namespaced) {
    if (
      meta.namespace !== undefined &&
      meta.namespace !== '' &&
      namespace !== undefined &&
      meta.namespace !== namespace
    ) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    meta.namespace = namespace ?? meta.namespace;
    if (meta.namespace === undefined || meta.namespace === '')
      throw badRequest('a namespace must be given for a namespaced resource');
  } else {
    delete meta.namespace;
  }
  const typeCauses = checkTypes(typed);
  if (typeCauses.length > 0) {
    throw new ApiError(
      'BadRequest',
      `${r.kind} in version "${r.version}" cannot be handled as a ${r.kind}: ${describeCauses(typeCauses)}`,
      {
        details: {
          kind: r.kind,
          group: r.group,
          causes: typeCauses,
        },
      },
    );
  }
  return typed;
}

/**
 * Unknown fields are dropped from the object, as Kubernetes' decoder drops them; they and
 * duplicate keys of the body are an error (Strict), warnings (Warn, the default) or
 * nothing (Ignore).
 */
export function checkFields(
  r: ResourceInfo,
  obj: KubeObject,
  fields: { mode: FieldValidation | undefined; duplicates: string[] },
): string[] {
  const { mode, duplicates } = fields;
  const problems = [
    // A custom resource is pruned by its CRD's structural schema.
    ...(r.custom !== undefined ? pruneBySchema(obj, r.custom.schema) : pruneUnknownFields(obj)).map(
      (f) => `unknown field "${f}"`,
    ),
    ...duplicates.map((f) => `duplicate field "${f}"`),
  ];
  if (mode === 'Ignore' || problems.length === 0) return [];
  if (mode === 'Strict') {
    throw new ApiError(
      'BadRequest',
      `${r.kind} in version "${r.version}" cannot be handled as a ${r.kind}: strict decoding error: ${problems.join(', ')}`,
    );
  }
  return problems;
}

/**
 * A patch's result as an object of the resource: 400 unless it is an object with metadata.
 * A patch cannot change what the object is: apiVersion and kind stay the resource's, as
 * Kubernetes decodes the result into the resource's type (so defaults, type checks and
 * validation always see the resource's kind).
 */
export function patchedObject(r: ResourceInfo, value: unknown): KubeObject {
  if (!isObject(value) || !isObject(value['metadata']))
    throw badRequest('the patch produced something that is not an object');
  return Object.assign(value, { apiVersion: apiVersionOf(r), kind: r.kind, metadata: value['metadata'] });
}

/**
 * Checks the result of a patch or an apply before it goes on as an update: types and
 * integer ranges (400), unknown and duplicate fields per fieldValidation (pruned), and
 * what it may not change (checkPatchedIdentity).
 */
export function admitPatched(
  change: { r: ResourceInfo; next: KubeObject; current: KubeObject },
  fields: { mode: FieldValidation | undefined; duplicates: string[]; warnings: string[] },
): void {
  const { r, next, current } = change;
  const causes = checkTypes(next);
  if (causes.length > 0)
    throw badRequest(`${r.kind} in version "${r.version}" cannot be handled as a ${r.kind}: ${describeCauses(causes)}`);
  fields.warnings.push(...checkFields(r, next, { mode: fields.mode, duplicates: fields.duplicates }));
  checkPatchedIdentity(r, next, current);
}

/**
 * What a patch may not change, checked on its result as Kubernetes' patch handler does:
 * name and namespace must stay those of the URL (400), a resourceVersion it carries is a
 * precondition (409 when stale, 400 when not a resourceVersion), the uid is immutable (422).
 */
function checkPatchedIdentity(r: ResourceInfo, next: KubeObject, current: KubeObject): void {
  const m = next.metadata;
  const name = current.metadata.name ?? '';
  if (m.name !== name)
    throw badRequest(`the name of the object (${m.name ?? ''}) does not match the name on the URL (${name})`);
  // An empty namespace is the URL's; a cluster-scoped object has none.
  if (r.namespaced && m.namespace !== undefined && m.namespace !== '' && m.namespace !== current.metadata.namespace) {
    throw badRequest(
      `the namespace of the object (${m.namespace}) does not match the namespace on the URL (${current.metadata.namespace ?? ''})`,
    );
  }
  if (!r.namespaced) delete m.namespace;
  const rv = m.resourceVersion;
  if (rv !== undefined && rv !== '' && rv !== current.metadata.resourceVersion) {
    checkResourceVersion(rv);
    throw conflict(r, name);
  }
  const uid = m.uid;
  if (uid !== undefined && uid !== '' && uid !== current.metadata.uid) {
    throw invalid(r, name, [
      {
        reason: 'FieldValueInvalid',
        field: 'metadata.uid',
        message: `Invalid value: ${JSON.stringify(uid)}: field is immutable`,
      },
    ]);
  }
}

/** A delete's preconditions (uid, resourceVersion) must hold for the stored object: 409 otherwise. */
export function checkDeletePreconditions(
  r: ResourceInfo,
  pre: DeleteOptions['preconditions'],
  item: { object: KubeObject; revision: number },
): void {
  const meta = item.object.metadata;
  const name = meta.name ?? '';
  if (pre?.uid !== undefined && pre.uid !== meta.uid) {
    throw conflict(
      r,
      name,
      `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${meta.uid ?? ''}`,
    );
  }
  if (pre?.resourceVersion !== undefined && pre.resourceVersion !== String(item.revision)) {
    throw conflict(
      r,
      name,
      `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${item.revision}`,
    );
  }
}

/** A body must say what it is (apiVersion and kind), and that must be the URL's resource: 400 otherwise. */
export function checkTypeMeta(
  r: ResourceInfo,
  body: Record<string, unknown>,
): asserts body is Record<string, unknown> & TypeMeta {
  const apiVersion = body['apiVersion'];
  const kind = body['kind'];
  if (kind === undefined || kind === '') throw badRequest(`Object 'Kind' is missing in '${abbreviate(body)}'`);
  if (apiVersion === undefined || apiVersion === '')
    throw badRequest(`Object 'apiVersion' is missing in '${abbreviate(body)}'`);
  if (apiVersion !== apiVersionOf(r)) {
    throw badRequest(
      `the API version in the data (${String(apiVersion)}) does not match the expected API version (${apiVersionOf(r)})`,
    );
  }
  if (kind !== r.kind) {
    throw badRequest(
      `the kind in the data (${String(kind)}) does not match the expected kind (${r.kind}) for ${apiVersionOf(r)} ${r.plural}`,
    );
  }
}

/** A resourceVersion sent as a precondition must be one (a revision number): 400 otherwise. */
export function checkResourceVersion(rv: string): void {
  if (!/^[0-9]{1,20}$/.test(rv))
    throw badRequest(`invalid resourceVersion "${rv.slice(0, 100)}": must be a decimal revision`);
}

/** A body in a message, shortened as Kubernetes does. */
function abbreviate(body: unknown): string {
  const text = JSON.stringify(body) ?? '';
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}

function describeCauses(causes: StatusCause[]): string {
  return causes.map((c) => (c.field ? `${c.field}: ${c.message ?? ''}` : (c.message ?? ''))).join('; ');
}

/** Whether a value (e.g. a patch's result) is an object with type meta and metadata. */
export function isKubeObject(value: unknown): value is KubeObject {
  return (
    isObject(value) &&
    isObject(value['metadata']) &&
    typeof value['apiVersion'] === 'string' &&
    typeof value['kind'] === 'string'
  );
}
