// ServiceAccount issuer discovery: the two documents kube-apiserver serves so that anyone can
// verify its tokens as OIDC ID tokens — `/.well-known/openid-configuration` and the key set at
// `/openid/v1/jwks`. The issuer must be an https URL without query or fragment; jwks_uri is
// `--service-account-jwks-uri` if given, else https://<external address>/openid/v1/jwks, else
// (no external address configured) <issuer>/openid/v1/jwks.

import type { VerificationKey } from './keys.js';

export const OPENID_CONFIGURATION_PATH = '/.well-known/openid-configuration';
export const JWKS_PATH = '/openid/v1/jwks';
/** Content types and caching kube-apiserver answers the two documents with. */
export const OPENID_CONFIGURATION_CONTENT_TYPE = 'application/json';
export const JWKS_CONTENT_TYPE = 'application/jwk-set+json';
export const DISCOVERY_CACHE_CONTROL = 'public, max-age=3600';

export interface OpenIdConfiguration {
  issuer: string;
  jwks_uri: string;
  response_types_supported: string[];
  subject_types_supported: string[];
  id_token_signing_alg_values_supported: string[];
}

/** A public key as a JWK (RFC 7517), with the key id, use and algorithm verifiers need. */
export interface PublicJwk {
  kty: 'RSA' | 'EC';
  kid: string;
  use: 'sig';
  alg: string;
  n?: string;
  e?: string;
  crv?: string;
  x?: string;
  y?: string;
}

export interface Jwks {
  keys: PublicJwk[];
}

export interface DiscoveryOptions {
  issuer: string;
  /** `--service-account-jwks-uri`; must be https. */
  jwksUri?: string;
  /** host[:port] the apiserver is reached at from outside; used when jwksUri is absent. */
  externalAddress?: string;
  keys: readonly VerificationKey[];
}

export interface DiscoveryDocuments {
  configuration: OpenIdConfiguration;
  jwks: Jwks;
}

function parseUrl(raw: string): URL | undefined {
  try {
    return new URL(raw);
  } catch {
    return undefined;
  }
}

function checkIssuer(issuer: string): void {
  if (issuer === '') throw new Error('empty issuer URL');
  const url = parseUrl(issuer);
  if (url === undefined) throw new Error(`issuer URL is invalid: ${issuer}`);
  if (url.protocol !== 'https:') throw new Error(`issuer URL must use https scheme, got: ${issuer}`);
  if (url.search !== '') throw new Error(`issuer URL may not include a query, got: ${issuer}`);
  if (url.hash !== '' || issuer.includes('#')) throw new Error(`issuer URL may not include a fragment, got: ${issuer}`);
}

function jwksUriFor(options: DiscoveryOptions): string {
  if (options.jwksUri !== undefined && options.jwksUri !== '') {
    const url = parseUrl(options.jwksUri);
    if (url === undefined) throw new Error(`jwksURI is invalid: ${options.jwksUri}`);
    if (url.protocol !== 'https:') throw new Error(`jwksURI requires https scheme, parsed as: ${url.href}`);
    return options.jwksUri;
  }
  const address = options.externalAddress ?? '';
  // kube-apiserver always has an external address; without one the issuer's own URL serves.
  if (address === '') return `${options.issuer.replace(/\/+$/, '')}${JWKS_PATH}`;
  const problem = `attempted to build jwks_uri from external address ${address}, but could not construct a valid URL`;
  // The address must be host[:port] only: anything that changes the URL's shape is refused.
  const url = parseUrl(`https://${address}${JWKS_PATH}`);
  if (url === undefined || url.host !== address.toLowerCase() || url.pathname !== JWKS_PATH || url.search !== '') {
    throw new Error(problem);
  }
  return url.href;
}

/** One verification key as a public JWK; private members are never exported. */
export function publicJwk(key: VerificationKey): PublicJwk {
  const jwk = key.publicKey.export({ format: 'jwk' });
  const base = { kid: key.keyId, use: 'sig' as const, alg: key.algorithm };
  if (jwk.kty === 'RSA') return { kty: 'RSA', ...base, n: jwk.n, e: jwk.e };
  return { kty: 'EC', ...base, crv: jwk.crv, x: jwk.x, y: jwk.y };
}

/** Both discovery documents; throws (at startup) on an issuer or jwks_uri Kubernetes would refuse. */
export function discoveryDocuments(options: DiscoveryOptions): DiscoveryDocuments {
  checkIssuer(options.issuer);
  const jwksUri = jwksUriFor(options);
  if (options.keys.length === 0) throw new Error('no keys provided for validating keyset');
  const algorithms = [...new Set(options.keys.map((k) => k.algorithm))].sort();
  return {
    configuration: {
      issuer: options.issuer,
      jwks_uri: jwksUri,
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: algorithms,
    },
    jwks: { keys: options.keys.map(publicJwk) },
  };
}
