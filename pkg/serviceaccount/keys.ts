// Keys for ServiceAccount tokens, read as kube-apiserver reads them:
// `--service-account-signing-key-file` is one private key (PKCS#8, SEC1 or PKCS#1 PEM);
// `--service-account-key-file` may hold several PEM blocks — public keys, certificates or
// private keys (their public half) — every one of which verifies tokens, so an old key stays
// listed while tokens it signed are still alive. Only RSA and ECDSA (P-256/384/521) count.
// The key id is Kubernetes': base64url (no padding) of the SHA-256 of the DER SubjectPublicKeyInfo.

import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';

export type SigningAlgorithm = 'RS256' | 'ES256' | 'ES384' | 'ES512';

/** A key that verifies tokens: the public key, its Kubernetes key id and the one algorithm it signs with. */
export interface VerificationKey {
  readonly keyId: string;
  readonly algorithm: SigningAlgorithm;
  readonly publicKey: KeyObject;
}

/** The private key that signs tokens, with its public half. */
export interface SigningKey extends VerificationKey {
  readonly privateKey: KeyObject;
}

// Node names the NIST curves by their OpenSSL names.
const CURVE_ALGORITHMS: Record<string, SigningAlgorithm> = {
  prime256v1: 'ES256',
  'P-256': 'ES256',
  secp384r1: 'ES384',
  'P-384': 'ES384',
  secp521r1: 'ES512',
  'P-521': 'ES512',
};

/** The JWS algorithm Kubernetes signs with for a key (RS256 for RSA, ES256/384/512 by curve), or undefined. */
export function algorithmFor(key: KeyObject): SigningAlgorithm | undefined {
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  if (key.asymmetricKeyType !== 'ec') return undefined;
  const curve = key.asymmetricKeyDetails?.namedCurve;
  return curve === undefined ? undefined : CURVE_ALGORITHMS[curve];
}

/** Kubernetes' key id: base64url of the SHA-256 of the public key's DER SubjectPublicKeyInfo. */
export function keyIdFor(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64url');
}

function verificationKey(publicKey: KeyObject): VerificationKey | undefined {
  const algorithm = algorithmFor(publicKey);
  if (algorithm === undefined) return undefined;
  // jose (like the JWA spec) refuses RSA keys under 2048 bits; refuse them here, at load time.
  if (algorithm === 'RS256' && (publicKey.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) return undefined;
  return { keyId: keyIdFor(publicKey), algorithm, publicKey };
}

/** Reads the signing key (`--service-account-signing-key-file`). Throws on anything but one RSA or ECDSA private key. */
export function loadSigningKey(pem: string): SigningKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: pem, format: 'pem' });
  } catch (err) {
    throw new Error(`failed to parse service account signing key: ${err instanceof Error ? err.message : String(err)}`);
  }
  const verify = verificationKey(createPublicKey(privateKey));
  if (verify === undefined) {
    throw new Error(
      `failed to parse service account signing key: unsupported key type ${privateKey.asymmetricKeyType ?? 'unknown'} (RSA of 2048 bits or more, or ECDSA P-256/P-384/P-521)`,
    );
  }
  return { ...verify, privateKey };
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

/** The public key in one PEM block, whatever kind of block holds it; undefined for blocks that hold none. */
function publicKeyOfBlock(block: string): KeyObject | undefined {
  try {
    // createPublicKey takes public keys and certificates, and derives the public half of private keys.
    return createPublicKey({ key: block, format: 'pem' });
  } catch {
    return undefined;
  }
}

/**
 * Reads verification keys (`--service-account-key-file`): every RSA or ECDSA key in the PEM
 * text. Other blocks are skipped, as Kubernetes tolerates them; none at all is an error.
 */
export function parseVerificationKeys(pem: string): VerificationKey[] {
  const keys: VerificationKey[] = [];
  for (const match of pem.matchAll(PEM_BLOCK)) {
    const publicKey = publicKeyOfBlock(match[0]);
    const key = publicKey === undefined ? undefined : verificationKey(publicKey);
    if (key !== undefined && !keys.some((k) => k.keyId === key.keyId)) keys.push(key);
  }
  if (keys.length === 0) throw new Error('data does not contain any valid RSA or ECDSA public keys');
  return keys;
}
