// Signs ServiceAccount tokens as compact JWS with jose: the protected header carries the
// algorithm of the key and Kubernetes' key id (`kid`), so verifiers holding several keys pick
// the right one.

import { SignJWT } from 'jose';
import { buildClaims, type ClaimsInput, type TokenClaims } from './claims.js';
import type { SigningKey, VerificationKey } from './keys.js';

export interface TokenSigner {
  /** The issuer written into every token (the first `--service-account-issuer`). */
  readonly issuer: string;
  /** The public half, for the verifier's key list and the JWKS document. */
  readonly verificationKey: VerificationKey;
  /** Signs the claims as they are. */
  sign(claims: TokenClaims): Promise<string>;
  /** Builds Kubernetes' claims for this issuer and signs them. */
  issue(input: Omit<ClaimsInput, 'issuer'>): Promise<{ token: string; claims: TokenClaims }>;
}

export function createTokenSigner(options: { signingKey: SigningKey; issuer: string }): TokenSigner {
  const { signingKey, issuer } = options;
  const verificationKey: VerificationKey = {
    keyId: signingKey.keyId,
    algorithm: signingKey.algorithm,
    publicKey: signingKey.publicKey,
  };
  const sign = (claims: TokenClaims): Promise<string> =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: signingKey.algorithm, kid: signingKey.keyId })
      .sign(signingKey.privateKey);
  return {
    issuer,
    verificationKey,
    sign,
    async issue(input) {
      const claims = buildClaims({ ...input, issuer });
      return { token: await sign(claims), claims };
    },
  };
}
