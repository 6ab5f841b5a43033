// The TokenRequest API (`POST .../serviceaccounts/<name>/token`, `kubectl create token`) as
// Kubernetes' REST storage handles it: the body's name and namespace must match the URL's, the
// ServiceAccount must exist, audiences default to the apiserver's, expirationSeconds defaults
// to an hour and is validated (10 minutes to 2^32 seconds), the bound object (Pod, Secret or
// Node) must exist with the given uid, a configured maximum shortens the lifetime with a
// warning, and the kubelet's 3607-second pod-bound tokens are extended to a year but marked
// to warn after their requested life. Errors are ApiErrors with Kubernetes' reasons and messages.

import type { KubeObject, Node, Pod, Secret, ServiceAccount } from '../api/index.js';
import { isObject } from '../api/index.js';
import { ApiError, badRequest, conflict, invalid, notFound, type StatusCause } from '../errors/index.js';
import type { BoundObjects, ObjectRef } from './claims.js';
import {
  DEFAULT_TOKEN_EXPIRATION_SECONDS,
  EXPIRATION_EXTENSION_SECONDS,
  MAX_TOKEN_EXPIRATION_SECONDS,
  MIN_TOKEN_EXPIRATION_SECONDS,
  WARN_ONLY_BOUND_TOKEN_EXPIRATION_SECONDS,
  type ServiceAccountTokenConfig,
} from './config.js';
import type { TokenSigner } from './signer.js';
import type { BoundObjectLookup } from './verifier.js';

// authentication.k8s.io/v1 TokenRequest (these types belong in pkg/api/types once wired).
export interface BoundObjectReference {
  kind?: string;
  apiVersion?: string;
  name?: string;
  uid?: string;
}

export interface TokenRequestSpec {
  audiences: string[];
  expirationSeconds?: number;
  boundObjectRef?: BoundObjectReference;
}

export interface TokenRequestStatus {
  token: string;
  /** RFC 3339, whole seconds, as metav1.Time. */
  expirationTimestamp: string;
}

export interface TokenRequest extends KubeObject {
  spec: TokenRequestSpec;
  status?: TokenRequestStatus;
}

const GROUP = 'authentication.k8s.io';
const API_VERSION = `${GROUP}/v1`;
const KIND = { kind: 'TokenRequest', group: GROUP };

function decodeError(why: string): ApiError {
  return badRequest(`TokenRequest in version "v1" cannot be handled as a TokenRequest: ${why}`);
}

function optionalStringField(obj: Record<string, unknown>, key: string, path: string): string | undefined | ApiError {
  const value = obj[key];
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? value : decodeError(`${path}.${key} must be a string`);
}

function parseBoundObjectRef(value: unknown): BoundObjectReference | undefined | ApiError {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) return decodeError('spec.boundObjectRef must be an object');
  const ref: BoundObjectReference = {};
  for (const key of ['kind', 'apiVersion', 'name', 'uid'] as const) {
    const field = optionalStringField(value, key, 'spec.boundObjectRef');
    if (field instanceof ApiError) return field;
    if (field !== undefined) ref[key] = field;
  }
  return ref;
}

function parseSpec(value: unknown): TokenRequestSpec | ApiError {
  if (value === undefined || value === null) return { audiences: [] };
  if (!isObject(value)) return decodeError('spec must be an object');
  const audiences = value.audiences ?? [];
  if (!Array.isArray(audiences) || !audiences.every((a): a is string => typeof a === 'string')) {
    return decodeError('spec.audiences must be a list of strings');
  }
  const spec: TokenRequestSpec = { audiences: [...audiences] };
  const seconds = value.expirationSeconds;
  if (seconds !== undefined && seconds !== null) {
    if (typeof seconds !== 'number' || !Number.isSafeInteger(seconds)) {
      return decodeError('spec.expirationSeconds must be an integer');
    }
    spec.expirationSeconds = seconds;
  }
  const ref = parseBoundObjectRef(value.boundObjectRef);
  if (ref instanceof ApiError) return ref;
  if (ref !== undefined) spec.boundObjectRef = ref;
  return spec;
}

/** The TokenRequest in a request body, or a BadRequest for bodies the decoder would refuse. */
export function parseTokenRequest(body: unknown): TokenRequest | ApiError {
  if (!isObject(body)) return decodeError('the body is not a JSON object');
  if (body.kind !== undefined && body.kind !== 'TokenRequest')
    return decodeError(`kind ${JSON.stringify(body.kind)} is not TokenRequest`);
  if (body.apiVersion !== undefined && body.apiVersion !== API_VERSION) {
    return decodeError(`apiVersion ${JSON.stringify(body.apiVersion)} is not ${API_VERSION}`);
  }
  const metadata = body.metadata ?? {};
  if (!isObject(metadata)) return decodeError('metadata must be an object');
  const name = optionalStringField(metadata, 'name', 'metadata');
  const namespace = optionalStringField(metadata, 'namespace', 'metadata');
  if (name instanceof ApiError) return name;
  if (namespace instanceof ApiError) return namespace;
  const spec = parseSpec(body.spec);
  if (spec instanceof ApiError) return spec;
  const meta: TokenRequest['metadata'] = {};
  if (name !== undefined) meta.name = name;
  if (namespace !== undefined) meta.namespace = namespace;
  return { apiVersion: API_VERSION, kind: 'TokenRequest', metadata: meta, spec };
}

function fieldInvalid(field: string, value: unknown, why: string): StatusCause {
  return { reason: 'FieldValueInvalid', field, message: `Invalid value: ${JSON.stringify(value)}: ${why}` };
}

/** Static validation of a defaulted spec; an empty list means valid. */
export function validateTokenRequestSpec(spec: TokenRequestSpec): StatusCause[] {
  const causes: StatusCause[] = [];
  const seconds = spec.expirationSeconds ?? DEFAULT_TOKEN_EXPIRATION_SECONDS;
  if (seconds < MIN_TOKEN_EXPIRATION_SECONDS) {
    causes.push(fieldInvalid('spec.expirationSeconds', seconds, 'may not specify a duration less than 10 minutes'));
  }
  if (seconds > MAX_TOKEN_EXPIRATION_SECONDS) {
    causes.push(fieldInvalid('spec.expirationSeconds', seconds, 'may not specify a duration larger than 2^32 seconds'));
  }
  if (spec.boundObjectRef !== undefined && (spec.boundObjectRef.name ?? '') === '') {
    causes.push({ reason: 'FieldValueRequired', field: 'spec.boundObjectRef.name', message: 'Required value' });
  }
  return causes;
}

export type BindableKind = 'Pod' | 'Secret' | 'Node';

/** Go's GroupVersionKind.String() for a reference, as Kubernetes' refusal prints it. */
function gvkString(ref: BoundObjectReference): string {
  const apiVersion = ref.apiVersion ?? '';
  const parts = apiVersion.split('/');
  const [group, version] = parts.length === 2 ? parts : parts.length === 1 ? ['', apiVersion] : ['', ''];
  return `${group}/${version}, Kind=${ref.kind ?? ''}`;
}

/** The core kind a token may be bound to, or Kubernetes' BadRequest for any other. */
export function bindableKind(ref: BoundObjectReference): BindableKind | ApiError {
  const apiVersion = ref.apiVersion ?? '';
  const coreGroup = apiVersion === '' || !apiVersion.includes('/');
  if (coreGroup && (ref.kind === 'Pod' || ref.kind === 'Secret' || ref.kind === 'Node')) return ref.kind;
  return badRequest(`cannot bind token to object of type ${gvkString(ref)}`);
}

/** metav1.Time's wire form: RFC 3339 in UTC, whole seconds. */
export function rfc3339Seconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export interface TokenRequestInput {
  /** From the URL. */
  namespace: string;
  /** The ServiceAccount's name, from the URL. */
  serviceAccountName: string;
  body: unknown;
  lookup: BoundObjectLookup;
  signer: TokenSigner;
  config: Pick<ServiceAccountTokenConfig, 'apiAudiences' | 'maxTokenExpirationSeconds' | 'extendTokenExpiration'>;
  now?: Date;
}

export type TokenRequestOutcome =
  { ok: true; tokenRequest: TokenRequest; warnings: string[] } | { ok: false; error: ApiError };

function refOf(obj: KubeObject): ObjectRef {
  return { name: obj.metadata.name ?? '', uid: obj.metadata.uid ?? '' };
}

/** What a reference resolves to: the bindings for the claims, or the error Kubernetes answers. */
async function resolveBinding(
  input: TokenRequestInput,
  ref: BoundObjectReference,
): Promise<{ boundTo: BoundObjects; pod?: Pod } | ApiError> {
  const kind = bindableKind(ref);
  if (kind instanceof ApiError) return kind;
  const name = ref.name ?? '';
  const mismatch = (found: KubeObject): ApiError | undefined => {
    if (ref.uid === undefined || ref.uid === '' || ref.uid === found.metadata.uid) return undefined;
    const why = `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`;
    return conflict({ plural: kind, group: '' }, name, why);
  };
  if (kind !== 'Pod') {
    const found: Secret | Node | undefined =
      kind === 'Secret' ? await input.lookup.secret(input.namespace, name) : await input.lookup.node(name);
    if (found === undefined) return notFound(kind === 'Secret' ? 'secrets' : 'nodes', '', name);
    return mismatch(found) ?? { boundTo: kind === 'Secret' ? { secret: refOf(found) } : { node: refOf(found) } };
  }
  const pod = await input.lookup.pod(input.namespace, name);
  if (pod === undefined) return notFound('pods', '', name);
  const uidProblem = mismatch(pod);
  if (uidProblem !== undefined) return uidProblem;
  if ((pod.spec?.serviceAccountName ?? 'default') !== input.serviceAccountName) {
    return badRequest(
      `cannot bind token for serviceaccount "${input.serviceAccountName}" to pod running with different serviceaccount name.`,
    );
  }
  // A pod-bound token also records the pod's node when it has one (the node may be gone already).
  const nodeName = pod.spec?.nodeName;
  const node = nodeName === undefined || nodeName === '' ? undefined : await input.lookup.node(nodeName);
  return { boundTo: node === undefined ? { pod: refOf(pod) } : { pod: refOf(pod), node: refOf(node) }, pod };
}

/** The request's name and namespace may be omitted, but must match the URL when given. */
function urlMismatch(input: TokenRequestInput, request: TokenRequest): ApiError | undefined {
  const { name, namespace } = request.metadata;
  if (name !== undefined && name !== '' && name !== input.serviceAccountName) {
    return invalid(KIND, input.serviceAccountName, [
      fieldInvalid('metadata.name', name, 'must match the service account name if specified'),
    ]);
  }
  if (namespace !== undefined && namespace !== '' && namespace !== input.namespace) {
    return invalid(KIND, input.serviceAccountName, [
      fieldInvalid('metadata.namespace', namespace, 'must match the service account namespace if specified'),
    ]);
  }
  return undefined;
}

/** Whether every requested audience is one of the apiserver's own. */
function onlyApiAudiences(audiences: readonly string[], apiAudiences: readonly string[]): boolean {
  return audiences.every((a) => apiAudiences.includes(a));
}

/** Handles `create serviceaccounts/token`: the TokenRequest with its status, or the error to answer. */
export async function createTokenRequest(input: TokenRequestInput): Promise<TokenRequestOutcome> {
  const fail = (error: ApiError): TokenRequestOutcome => ({ ok: false, error });
  const request = parseTokenRequest(input.body);
  if (request instanceof ApiError) return fail(request);
  const mismatch = urlMismatch(input, request);
  if (mismatch !== undefined) return fail(mismatch);
  const serviceAccount: ServiceAccount | undefined = await input.lookup.serviceAccount(
    input.namespace,
    input.serviceAccountName,
  );
  if (serviceAccount === undefined) return fail(notFound('serviceaccounts', '', input.serviceAccountName));

  const { config } = input;
  const now = input.now ?? new Date();
  const spec: TokenRequestSpec = {
    ...request.spec,
    audiences: request.spec.audiences.length > 0 ? request.spec.audiences : [...config.apiAudiences],
    expirationSeconds: request.spec.expirationSeconds ?? DEFAULT_TOKEN_EXPIRATION_SECONDS,
  };
  const causes = validateTokenRequestSpec(spec);
  if (causes.length > 0) return fail(invalid(KIND, input.serviceAccountName, causes));

  const binding =
    spec.boundObjectRef === undefined ? { boundTo: {} } : await resolveBinding(input, spec.boundObjectRef);
  if (binding instanceof ApiError) return fail(binding);

  const warnings: string[] = [];
  let seconds = spec.expirationSeconds ?? DEFAULT_TOKEN_EXPIRATION_SECONDS;
  if (config.maxTokenExpirationSeconds > 0 && seconds > config.maxTokenExpirationSeconds) {
    warnings.push(
      `requested expiration of ${seconds} seconds shortened to ${config.maxTokenExpirationSeconds} seconds`,
    );
    seconds = config.maxTokenExpirationSeconds;
  }
  spec.expirationSeconds = seconds;

  // The kubelet's projected tokens: valid for a year, audited as stale after the hour asked for.
  const extend =
    config.extendTokenExpiration &&
    binding.pod !== undefined &&
    seconds === WARN_ONLY_BOUND_TOKEN_EXPIRATION_SECONDS &&
    onlyApiAudiences(spec.audiences, config.apiAudiences);
  const { token } = await input.signer.issue({
    namespace: input.namespace,
    serviceAccount: refOf(serviceAccount),
    audiences: spec.audiences,
    expirationSeconds: extend ? Math.max(EXPIRATION_EXTENSION_SECONDS, config.maxTokenExpirationSeconds) : seconds,
    warnAfterSeconds: extend ? seconds : undefined,
    boundTo: binding.boundTo,
    now,
  });
  const tokenRequest: TokenRequest = {
    apiVersion: API_VERSION,
    kind: 'TokenRequest',
    metadata: {
      name: serviceAccount.metadata.name,
      namespace: input.namespace,
      creationTimestamp: rfc3339Seconds(now),
    },
    spec,
    status: { token, expirationTimestamp: rfc3339Seconds(new Date(now.getTime() + seconds * 1000)) },
  };
  return { ok: true, tokenRequest, warnings };
}
