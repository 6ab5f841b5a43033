// Everything the apiserver needs for ServiceAccount tokens, from its flags and key files: the
// signer, the authenticator and the discovery documents. The signing key always verifies too,
// so the tokens the apiserver signs authenticate even when `--service-account-key-file` lists
// only older keys. Discovery documents that cannot be built (an issuer that is not an https
// URL) leave discovery off with the reason, as kube-apiserver logs it and carries on.

import type { ServiceAccountTokenConfig } from './config.js';
import { loadSigningKey, parseVerificationKeys, type VerificationKey } from './keys.js';
import { discoveryDocuments, type DiscoveryDocuments } from './oidc.js';
import { createTokenSigner, type TokenSigner } from './signer.js';
import { createTokenVerifier, type BoundObjectLookup, type TokenVerifier } from './verifier.js';

export interface ServiceAccountTokensOptions {
  config: ServiceAccountTokenConfig;
  /** Contents of `--service-account-signing-key-file` (pkg/pki's service-account.key). */
  signingKeyPem: string;
  /** Contents of `--service-account-key-file` (pkg/pki's service-account.pub, plus retired keys). */
  verificationKeysPem?: string;
  lookup: BoundObjectLookup;
  /** host[:port] clients reach the apiserver at, for jwks_uri. */
  externalAddress?: string;
  /** `--service-account-jwks-uri`. */
  jwksUri?: string;
  now?: () => Date;
}

export interface ServiceAccountTokens {
  signer: TokenSigner;
  verifier: TokenVerifier;
  /** Every key that verifies, the signing key first. */
  keys: VerificationKey[];
  discovery: { enabled: true; documents: DiscoveryDocuments } | { enabled: false; reason: string };
}

/** Builds signer, verifier and discovery; throws on unreadable keys, as kube-apiserver refuses to start. */
export function createServiceAccountTokens(options: ServiceAccountTokensOptions): ServiceAccountTokens {
  const signingKey = loadSigningKey(options.signingKeyPem);
  const signer = createTokenSigner({ signingKey, issuer: options.config.issuer });
  const listed = options.verificationKeysPem === undefined ? [] : parseVerificationKeys(options.verificationKeysPem);
  const keys = [signer.verificationKey, ...listed.filter((k) => k.keyId !== signingKey.keyId)];
  const verifier = createTokenVerifier({
    keys,
    issuers: options.config.acceptedIssuers,
    audiences: options.config.apiAudiences,
    lookup: options.lookup,
    now: options.now,
  });
  let discovery: ServiceAccountTokens['discovery'];
  try {
    const documents = discoveryDocuments({
      issuer: options.config.issuer,
      jwksUri: options.jwksUri,
      externalAddress: options.externalAddress,
      keys,
    });
    discovery = { enabled: true, documents };
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    discovery = {
      enabled: false,
      reason: `Could not construct pre-rendered responses for ServiceAccountIssuerDiscovery endpoints. Endpoints will not be enabled. Error: ${why}`,
    };
  }
  return { signer, verifier, keys, discovery };
}
