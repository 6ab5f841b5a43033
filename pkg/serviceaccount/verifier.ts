// Authenticates ServiceAccount tokens as kube-apiserver's JWT authenticator does:
// 1. a token whose unverified payload names none of our issuers is not ours (`foreign`), so
//    the caller can try its other authenticators (bootstrap tokens);
// 2. the signature must check out against a listed public key — the one named by `kid`, or
//    any of them for tokens without a kid — with that key's own algorithm only (no `none`,
//    no HS256 keyed with a public key);
// 3. issuer, audience intersection, then nbf/exp/iat with go-jose's leeway of one minute;
// 4. the ServiceAccount, and the Pod, Secret or Node the token is bound to, must still exist
//    with the uid the token names (deleted, or deleted and recreated, means invalid).
// Hostile input never throws: every failure is a result with a reason.

import { compactVerify } from 'jose';
import type { Node, ObjectMeta, Pod, Secret, ServiceAccount } from '../api/index.js';
import type { UserInfo } from '../apiserver/authn.js';
import { parseClaims, serviceAccountUsername, type ObjectRef, type ParsedClaims } from './claims.js';
import type { VerificationKey } from './keys.js';

/** Reads the objects a token names (an informer cache or the store); undefined when absent. */
export interface BoundObjectLookup {
  serviceAccount(namespace: string, name: string): Promise<ServiceAccount | undefined>;
  pod(namespace: string, name: string): Promise<Pod | undefined>;
  secret(namespace: string, name: string): Promise<Secret | undefined>;
  node(name: string): Promise<Node | undefined>;
}

/** The identity of a ServiceAccount token: user.Info with uid and extra, as Kubernetes fills them. */
export interface ServiceAccountUserInfo extends UserInfo {
  uid: string;
  extra: Record<string, string[]>;
}

export const EXTRA_POD_NAME = 'authentication.kubernetes.io/pod-name';
export const EXTRA_POD_UID = 'authentication.kubernetes.io/pod-uid';
export const EXTRA_NODE_NAME = 'authentication.kubernetes.io/node-name';
export const EXTRA_NODE_UID = 'authentication.kubernetes.io/node-uid';
export const EXTRA_CREDENTIAL_ID = 'authentication.kubernetes.io/credential-id';

export interface VerifiedToken {
  user: ServiceAccountUserInfo;
  /** The token's audiences that the request accepts (never empty). */
  audiences: string[];
  namespace: string;
  serviceAccount: ObjectRef;
  pod?: ObjectRef;
  secret?: ObjectRef;
  node?: ObjectRef;
  expiresAt?: Date;
  /** Past `kubernetes.io.warnafter`: still valid (an extended token), but Kubernetes audits it as stale. */
  stale: boolean;
}

/** `foreign`: not a JWT of ours at all, so another authenticator may claim it. */
export type VerifyResult = { ok: true; token: VerifiedToken } | { ok: false; foreign: boolean; reason: string };

export interface TokenVerifierOptions {
  /** Every key that may have signed a live token (current and previous, during rotation). */
  keys: readonly VerificationKey[];
  /** Accepted issuers (every `--service-account-issuer`). */
  issuers: readonly string[];
  /** The apiserver's audiences (`--api-audiences`): what a request accepts unless it says otherwise. */
  audiences: readonly string[];
  lookup: BoundObjectLookup;
  /** Clock skew allowed on exp, nbf and iat; go-jose's (and so Kubernetes') default is 60 s. */
  leewaySeconds?: number;
  now?: () => Date;
}

export interface TokenVerifier {
  verify(token: string, request?: { audiences?: readonly string[] }): Promise<VerifyResult>;
}

// Far above any real token (a few hundred bytes to a few KiB); bounds the work a stranger can cause.
const MAX_TOKEN_LENGTH = 64 * 1024;
const DEFAULT_LEEWAY_SECONDS = 60;

function foreign(reason: string): VerifyResult {
  return { ok: false, foreign: true, reason };
}

function invalid(reason: string): VerifyResult {
  return { ok: false, foreign: false, reason };
}

/** A JSON object from one base64url segment of a compact JWS, or undefined. */
function decodeSegment(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value))
      : undefined;
  } catch {
    return undefined;
  }
}

/** Go's %q of a string list, as Kubernetes' audience message prints it. */
function quotedList(values: readonly string[]): string {
  return `[${values.map((v) => JSON.stringify(v)).join(' ')}]`;
}

/** The header's kid, when it is a string; a present non-string kid is malformed. */
function keyIdOf(header: Record<string, unknown>): string | undefined | false {
  if (header.kid === undefined) return undefined;
  return typeof header.kid === 'string' ? header.kid : false;
}

async function verifiedPayload(token: string, candidates: readonly VerificationKey[]): Promise<unknown> {
  for (const key of candidates) {
    try {
      const { payload } = await compactVerify(token, key.publicKey, { algorithms: [key.algorithm] });
      return JSON.parse(new TextDecoder().decode(payload));
    } catch {
      // wrong key, algorithm or signature: try the next candidate
    }
  }
  return undefined;
}

function timeProblem(claims: ParsedClaims, nowMs: number, leewayMs: number): string | undefined {
  if (claims.exp === undefined) return 'service account token has no expiration';
  if (claims.nbf !== undefined && nowMs + leewayMs < claims.nbf * 1000) {
    return 'service account token is not valid yet';
  }
  if (nowMs - leewayMs > claims.exp * 1000) return 'service account token has expired';
  if (claims.iat !== undefined && nowMs + leewayMs < claims.iat * 1000) {
    return 'service account token is issued in the future';
  }
  return undefined;
}

interface LiveCheck {
  lookup: BoundObjectLookup;
  claims: ParsedClaims;
  /** Objects whose deletion started before this instant no longer back a token. */
  deletedBeforeMs: number;
}

function deletedLongAgo(obj: { metadata: ObjectMeta }, deletedBeforeMs: number): boolean {
  const at = obj.metadata.deletionTimestamp;
  return at !== undefined && Date.parse(at) < deletedBeforeMs;
}

const INVALIDATED = 'service account token has been invalidated';

async function serviceAccountProblem(check: LiveCheck): Promise<string | undefined> {
  const { namespace, serviceaccount } = check.claims.kubernetes;
  const sa = await check.lookup.serviceAccount(namespace, serviceaccount.name);
  if (sa === undefined) return `serviceaccounts "${serviceaccount.name}" not found`;
  if (deletedLongAgo(sa, check.deletedBeforeMs)) return INVALIDATED;
  const uid = sa.metadata.uid ?? '';
  if (uid !== serviceaccount.uid) return `service account UID (${uid}) does not match claim (${serviceaccount.uid})`;
  return undefined;
}

async function boundObjectProblem(check: LiveCheck): Promise<string | undefined> {
  const { namespace, pod, secret, node } = check.claims.kubernetes;
  const bound: { what: string; ref: ObjectRef; get: () => Promise<{ metadata: ObjectMeta } | undefined> }[] = [];
  if (secret !== undefined)
    bound.push({ what: 'secret', ref: secret, get: () => check.lookup.secret(namespace, secret.name) });
  if (pod !== undefined) bound.push({ what: 'pod', ref: pod, get: () => check.lookup.pod(namespace, pod.name) });
  // A pod-bound token only records the pod's node; a token bound to a node alone checks it.
  if (node !== undefined && pod === undefined)
    bound.push({ what: 'node', ref: node, get: () => check.lookup.node(node.name) });
  for (const { what, ref, get } of bound) {
    const obj = await get();
    if (obj === undefined || deletedLongAgo(obj, check.deletedBeforeMs)) return INVALIDATED;
    const uid = obj.metadata.uid ?? '';
    if (uid !== ref.uid) return `${what} UID (${uid}) does not match service account ${what} ref claim (${ref.uid})`;
  }
  return undefined;
}

function userInfo(claims: ParsedClaims): ServiceAccountUserInfo {
  const { namespace, serviceaccount, pod, node } = claims.kubernetes;
  const extra: Record<string, string[]> = {};
  if (pod !== undefined && pod.uid !== '') {
    extra[EXTRA_POD_NAME] = [pod.name];
    extra[EXTRA_POD_UID] = [pod.uid];
  }
  if (claims.jti !== undefined && claims.jti !== '') extra[EXTRA_CREDENTIAL_ID] = [`JTI=${claims.jti}`];
  if (node !== undefined) {
    extra[EXTRA_NODE_NAME] = [node.name];
    if (node.uid !== '') extra[EXTRA_NODE_UID] = [node.uid];
  }
  return {
    name: serviceAccountUsername(namespace, serviceaccount.name),
    uid: serviceaccount.uid,
    groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
    extra,
  };
}

function verifiedToken(claims: ParsedClaims, audiences: string[], nowMs: number): VerifiedToken {
  const { namespace, serviceaccount, pod, secret, node, warnafter } = claims.kubernetes;
  const token: VerifiedToken = {
    user: userInfo(claims),
    audiences,
    namespace,
    serviceAccount: serviceaccount,
    stale: warnafter !== undefined && warnafter * 1000 < nowMs,
  };
  if (pod !== undefined) token.pod = pod;
  if (secret !== undefined) token.secret = secret;
  if (node !== undefined) token.node = node;
  if (claims.exp !== undefined) token.expiresAt = new Date(claims.exp * 1000);
  return token;
}

export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const issuers = new Set(options.issuers);
  const implicitAudiences = [...options.audiences];
  const leewayMs = (options.leewaySeconds ?? DEFAULT_LEEWAY_SECONDS) * 1000;
  const now = options.now ?? (() => new Date());

  /** Signature, issuer, audiences: the claims of a token that is ours and meant for this request. */
  async function checkedClaims(
    token: string,
    requested: readonly string[],
  ): Promise<{ claims: ParsedClaims; audiences: string[] } | VerifyResult> {
    if (token.length > MAX_TOKEN_LENGTH) return foreign('token is too long to be a service account token');
    const segments = token.split('.');
    if (segments.length !== 3) return foreign('not a JWT');
    const unverified = decodeSegment(segments[1]);
    if (unverified === undefined || typeof unverified.iss !== 'string' || !issuers.has(unverified.iss)) {
      return foreign('not issued by a service account issuer');
    }
    const header = decodeSegment(segments[0]);
    const kid = header === undefined ? false : keyIdOf(header);
    if (kid === false) return invalid('token header is malformed');
    const candidates = kid === undefined ? options.keys : options.keys.filter((k) => k.keyId === kid);
    if (candidates.length === 0) {
      return invalid(
        kid === undefined
          ? 'no public keys configured'
          : `no public key with key id ${JSON.stringify(kid.slice(0, 64))}`,
      );
    }
    const payload = await verifiedPayload(token, candidates);
    if (payload === undefined) return invalid('token signature is invalid');
    const claims = parseClaims(payload);
    if (typeof claims === 'string') return invalid(claims);
    if (!issuers.has(claims.iss)) return invalid(`token issuer ${JSON.stringify(claims.iss)} is invalid`);
    // Tokens without audiences (legacy ones) are meant for the apiserver itself.
    const tokenAudiences = claims.aud.length > 0 ? claims.aud : implicitAudiences;
    const audiences = tokenAudiences.filter((a) => requested.includes(a));
    if (audiences.length === 0 && implicitAudiences.length > 0) {
      return invalid(
        `token audiences ${quotedList(tokenAudiences)} is invalid for the target audiences ${quotedList(requested)}`,
      );
    }
    return { claims, audiences };
  }

  return {
    async verify(token, request = {}) {
      try {
        const checked = await checkedClaims(token, request.audiences ?? implicitAudiences);
        if ('ok' in checked) return checked;
        const { claims, audiences } = checked;
        const nowMs = now().getTime();
        const problem = timeProblem(claims, nowMs, leewayMs);
        if (problem !== undefined) return invalid(problem);
        const live: LiveCheck = { lookup: options.lookup, claims, deletedBeforeMs: nowMs - leewayMs };
        const gone = (await serviceAccountProblem(live)) ?? (await boundObjectProblem(live));
        if (gone !== undefined) return invalid(gone);
        return { ok: true, token: verifiedToken(claims, audiences, nowMs) };
      } catch (err) {
        // A failing lookup (the store is down) must not let the token in, nor crash the request.
        return invalid(
          `service account token could not be checked: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    },
  };
}
