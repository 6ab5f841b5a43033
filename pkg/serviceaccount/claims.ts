// The claims of a bound ServiceAccount token, as Kubernetes writes them: the registered
// claims (iss, sub, aud, exp, iat, nbf, jti) and the private `kubernetes.io` claim naming
// the namespace, the ServiceAccount and the object the token is bound to, each by name and
// uid, so the authenticator can tell a deleted-and-recreated object from the original.

import { randomUUID } from 'node:crypto';
import { isObject } from '../api/index.js';

/** An object a token names: its name and the uid it had when the token was issued. */
export interface ObjectRef {
  name: string;
  uid: string;
}

/** The private `kubernetes.io` claim. */
export interface KubernetesClaim {
  namespace: string;
  serviceaccount: ObjectRef;
  pod?: ObjectRef;
  secret?: ObjectRef;
  node?: ObjectRef;
  /** Seconds since the epoch after which use of the token is logged as stale (extended tokens). */
  warnafter?: number;
}

// A type, not an interface: jose's JWTPayload wants an index-compatible object type.
export type TokenClaims = {
  iss: string;
  sub: string;
  aud: string[];
  exp: number;
  iat: number;
  nbf: number;
  jti?: string;
  'kubernetes.io': KubernetesClaim;
};

/** Objects a token may be bound to. A Secret binding excludes the others; a Pod may carry its Node. */
export interface BoundObjects {
  pod?: ObjectRef;
  secret?: ObjectRef;
  node?: ObjectRef;
}

export interface ClaimsInput {
  issuer: string;
  namespace: string;
  serviceAccount: ObjectRef;
  audiences: readonly string[];
  /** Lifetime of the token (its `exp`), in seconds. */
  expirationSeconds: number;
  boundTo?: BoundObjects;
  /** For extended tokens: seconds after which use is stale though the token is still valid. */
  warnAfterSeconds?: number;
  now: Date;
  /** The token's id; a random UUID when absent, as Kubernetes does. */
  jti?: string;
}

const SA_USER_PREFIX = 'system:serviceaccount:';

/** The user name of a ServiceAccount: `system:serviceaccount:<namespace>:<name>`. */
export function serviceAccountUsername(namespace: string, name: string): string {
  return `${SA_USER_PREFIX}${namespace}:${name}`;
}

/** Kubernetes' claims for a token; throws on bindings it would never issue (programming errors). */
export function buildClaims(input: ClaimsInput): TokenClaims {
  const { boundTo = {}, now } = input;
  if (boundTo.secret !== undefined && (boundTo.pod !== undefined || boundTo.node !== undefined)) {
    throw new Error('internal error, token can only be bound to one object type');
  }
  const seconds = Math.floor(now.getTime() / 1000);
  const kubernetes: KubernetesClaim = {
    namespace: input.namespace,
    serviceaccount: { name: input.serviceAccount.name, uid: input.serviceAccount.uid },
  };
  if (boundTo.pod !== undefined) kubernetes.pod = { ...boundTo.pod };
  if (boundTo.secret !== undefined) kubernetes.secret = { ...boundTo.secret };
  if (boundTo.node !== undefined) kubernetes.node = { ...boundTo.node };
  if (input.warnAfterSeconds !== undefined && input.warnAfterSeconds > 0) {
    kubernetes.warnafter = seconds + input.warnAfterSeconds;
  }
  return {
    iss: input.issuer,
    sub: serviceAccountUsername(input.namespace, input.serviceAccount.name),
    aud: [...input.audiences],
    exp: seconds + input.expirationSeconds,
    iat: seconds,
    nbf: seconds,
    jti: input.jti ?? randomUUID(),
    'kubernetes.io': kubernetes,
  };
}

// ---- reading claims back from a verified payload ------------------------------------------

/** The claims a verified token carries; registered claims other than iss are optional, as in JWT. */
export interface ParsedClaims {
  iss: string;
  sub?: string;
  aud: string[];
  exp?: number;
  iat?: number;
  nbf?: number;
  jti?: string;
  kubernetes: KubernetesClaim;
}

function objectRef(value: unknown): ObjectRef | undefined {
  if (!isObject(value) || typeof value.name !== 'string' || value.name === '') return undefined;
  // go-jose leaves a missing uid empty; an empty uid then never matches a live object's.
  const uid = value.uid === undefined ? '' : value.uid;
  return typeof uid === 'string' ? { name: value.name, uid } : undefined;
}

/** An optional ref: absent is fine (`null` too, as in JSON); present but malformed is not. */
function optionalRef(value: unknown): ObjectRef | undefined | false {
  if (value === undefined || value === null) return undefined;
  return objectRef(value) ?? false;
}

function optionalNumber(value: unknown): number | undefined | false {
  if (value === undefined) return undefined;
  return typeof value === 'number' && Number.isFinite(value) ? value : false;
}

function optionalString(value: unknown): string | undefined | false {
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : false;
}

/** `aud` may be one string or a list of strings (RFC 7519 §4.1.3). */
function audiences(value: unknown): string[] | false {
  if (value === undefined) return [];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((a): a is string => typeof a === 'string')) return value;
  return false;
}

function kubernetesClaim(value: unknown): KubernetesClaim | string {
  if (!isObject(value)) return 'token has no kubernetes.io claim';
  const serviceaccount = objectRef(value.serviceaccount);
  if (typeof value.namespace !== 'string' || value.namespace === '' || serviceaccount === undefined) {
    return 'kubernetes.io claim does not name a namespace and service account';
  }
  const pod = optionalRef(value.pod);
  const secret = optionalRef(value.secret);
  const node = optionalRef(value.node);
  const warnafter = optionalNumber(value.warnafter);
  if (pod === false || secret === false || node === false || warnafter === false) {
    return 'kubernetes.io claim is malformed';
  }
  const claim: KubernetesClaim = { namespace: value.namespace, serviceaccount };
  if (pod !== undefined) claim.pod = pod;
  if (secret !== undefined) claim.secret = secret;
  if (node !== undefined) claim.node = node;
  if (warnafter !== undefined) claim.warnafter = warnafter;
  return claim;
}

/** The claims of a payload whose signature checked out, or why they are unusable. */
export function parseClaims(payload: unknown): ParsedClaims | string {
  if (!isObject(payload)) return 'token payload is not a JSON object';
  if (typeof payload.iss !== 'string') return 'token has no issuer';
  const aud = audiences(payload.aud);
  const sub = optionalString(payload.sub);
  const jti = optionalString(payload.jti);
  const exp = optionalNumber(payload.exp);
  const iat = optionalNumber(payload.iat);
  const nbf = optionalNumber(payload.nbf);
  if (aud === false || sub === false || jti === false || exp === false || iat === false || nbf === false) {
    return 'token has malformed registered claims';
  }
  const kubernetes = kubernetesClaim(payload['kubernetes.io']);
  if (typeof kubernetes === 'string') return kubernetes;
  const claims: ParsedClaims = { iss: payload.iss, aud, kubernetes };
  if (sub !== undefined) claims.sub = sub;
  if (jti !== undefined) claims.jti = jti;
  if (exp !== undefined) claims.exp = exp;
  if (iat !== undefined) claims.iat = iat;
  if (nbf !== undefined) claims.nbf = nbf;
  return claims;
}
