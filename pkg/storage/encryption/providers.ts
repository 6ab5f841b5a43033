// The value transformers of encryption at rest, byte-compatible with Kubernetes' on-disk
// format, so data encrypted here reads in kube-apiserver and the other way round:
//
//   aescbc:    k8s:enc:aescbc:v1:<key>:    + 16-byte random IV + AES-CBC(PKCS#7 padding)
//   aesgcm:    k8s:enc:aesgcm:v1:<key>:    + 12-byte random nonce + AES-GCM ciphertext + 16-byte tag
//   secretbox: k8s:enc:secretbox:v1:<key>: + 24-byte random nonce + NaCl secretbox (tag first)
//   identity:  the plain bytes, no prefix
//
// Kubernetes passes the storage key (`/registry/secrets/ns/name`) to every transformer as
// authenticated data, but only AES-GCM uses it: a GCM value copied under another key fails
// to open. AES-CBC and secretbox ignore it, as there, so values stay readable by Kubernetes.
// AES-CBC has no integrity check at all (only the padding is verified), which is why
// Kubernetes recommends secretbox or aesgcm over it for tamper detection.

import { createCipheriv, createDecipheriv, type CipherGCMTypes } from 'node:crypto';
import nacl from 'tweetnacl';

/** The plaintext of a stored value, and whether it should be rewritten (not the first provider/key). */
export interface ReadResult {
  data: Buffer;
  stale: boolean;
}

/** Turns values into their stored form and back; `storageKey` is the value's store key. */
export interface ValueTransformer {
  toStorage(plain: Uint8Array, storageKey: string): Buffer;
  fromStorage(stored: Uint8Array, storageKey: string): ReadResult;
}

/** A stored value that cannot be read: tampered with, written with an unknown key, truncated. */
export class EncryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EncryptionError';
  }
}

/** Where transformers get random IVs and nonces; tests pass a fixed source. */
export type RandomSource = (size: number) => Buffer;

export const ENCRYPTED_PREFIX = 'k8s:enc:';
export const AESCBC_PREFIX = 'k8s:enc:aescbc:v1:';
export const AESGCM_PREFIX = 'k8s:enc:aesgcm:v1:';
export const SECRETBOX_PREFIX = 'k8s:enc:secretbox:v1:';

const AES_BLOCK = 16;
const GCM_NONCE = 12;
const GCM_TAG = 16;
const SECRETBOX_NONCE = 24;

function aesBits(key: Uint8Array): 128 | 192 | 256 {
  const bits = key.length * 8;
  if (bits !== 128 && bits !== 192 && bits !== 256)
    throw new EncryptionError(`AES keys are 16, 24 or 32 bytes, got ${key.length}`);
  return bits;
}

const cbcAlgorithm = (key: Uint8Array): string => `aes-${aesBits(key)}-cbc`;
const gcmAlgorithm = (key: Uint8Array): CipherGCMTypes => `aes-${aesBits(key)}-gcm`;

/** Errors name the key's full prefix, so a log line says which key failed. */
function fail(label: string, reason: string): never {
  throw new EncryptionError(`${label}: ${reason}`);
}

function shorterThanRequired(label: string): never {
  return fail(label, 'the stored data was shorter than the required size');
}

export function aesCbcTransformer(options: { key: Uint8Array; label: string; random: RandomSource }): ValueTransformer {
  const { key, label, random } = options;
  const algorithm = cbcAlgorithm(key);
  return {
    toStorage(plain) {
      const iv = random(AES_BLOCK);
      const cipher = createCipheriv(algorithm, key, iv); // Node pads with PKCS#7, as Kubernetes does
      return Buffer.concat([iv, cipher.update(plain), cipher.final()]);
    },
    fromStorage(stored) {
      // An IV and at least one block: Kubernetes would index an empty result here.
      if (stored.length < 2 * AES_BLOCK) shorterThanRequired(label);
      const body = stored.subarray(AES_BLOCK);
      if (body.length % AES_BLOCK !== 0) fail(label, 'the stored data is not a multiple of the block size');
      const decipher = createDecipheriv(algorithm, key, stored.subarray(0, AES_BLOCK));
      decipher.setAutoPadding(false); // checked below with Kubernetes' rule and messages
      const padded = Buffer.concat([decipher.update(body), decipher.final()]);
      const padding = padded[padded.length - 1] ?? 0;
      if (padding === 0 || padding > padded.length)
        fail(label, 'invalid PKCS7 data (empty or not padded): wrong key or corrupted data');
      const size = padded.length - padding;
      for (let i = size; i < padded.length; i++) {
        if (padded[i] !== padding) fail(label, 'invalid padding on input: wrong key or corrupted data');
      }
      return { data: padded.subarray(0, size), stale: false };
    },
  };
}

export function aesGcmTransformer(options: { key: Uint8Array; label: string; random: RandomSource }): ValueTransformer {
  const { key, label, random } = options;
  const algorithm = gcmAlgorithm(key);
  return {
    toStorage(plain, storageKey) {
      const nonce = random(GCM_NONCE);
      const cipher = createCipheriv(algorithm, key, nonce, { authTagLength: GCM_TAG });
      cipher.setAAD(Buffer.from(storageKey, 'utf8'));
      return Buffer.concat([nonce, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    },
    fromStorage(stored, storageKey) {
      if (stored.length < GCM_NONCE + GCM_TAG) shorterThanRequired(label);
      const decipher = createDecipheriv(algorithm, key, stored.subarray(0, GCM_NONCE), { authTagLength: GCM_TAG });
      decipher.setAAD(Buffer.from(storageKey, 'utf8'));
      decipher.setAuthTag(stored.subarray(stored.length - GCM_TAG));
      const body = stored.subarray(GCM_NONCE, stored.length - GCM_TAG);
      try {
        return { data: Buffer.concat([decipher.update(body), decipher.final()]), stale: false };
      } catch {
        return fail(
          label,
          'message authentication failed: the data was tampered with, moved from another key, or the key changed',
        );
      }
    },
  };
}

export function secretboxTransformer(options: {
  key: Uint8Array;
  label: string;
  random: RandomSource;
}): ValueTransformer {
  const { key, label, random } = options;
  if (key.length !== nacl.secretbox.keyLength)
    throw new EncryptionError(`expected key size 32 for secretbox provider, got ${key.length}`);
  return {
    toStorage(plain) {
      const nonce = random(SECRETBOX_NONCE);
      return Buffer.concat([nonce, nacl.secretbox(plain, nonce, key)]);
    },
    fromStorage(stored) {
      if (stored.length < SECRETBOX_NONCE + nacl.secretbox.overheadLength) shorterThanRequired(label);
      // Copies: tweetnacl wants plain Uint8Arrays and reads them by index.
      const nonce = Uint8Array.from(stored.subarray(0, SECRETBOX_NONCE));
      const box = Uint8Array.from(stored.subarray(SECRETBOX_NONCE));
      const opened = nacl.secretbox.open(box, nonce, key);
      if (opened === null)
        return fail(label, 'message authentication failed: the data was tampered with or the key changed');
      return { data: Buffer.from(opened), stale: false };
    },
  };
}

/** Plain bytes; refuses values that carry the encrypted prefix, so they are tried elsewhere. */
export const identityTransformer: ValueTransformer = {
  toStorage: (plain) => Buffer.from(plain),
  fromStorage(stored) {
    if (startsWith(stored, ENCRYPTED_PREFIX))
      throw new EncryptionError('identity transformer tried to read encrypted data');
    return { data: Buffer.from(stored), stale: false };
  },
};

export function startsWith(data: Uint8Array, prefix: string | Uint8Array): boolean {
  const bytes = typeof prefix === 'string' ? Buffer.from(prefix, 'utf8') : prefix;
  if (data.length < bytes.length) return false;
  for (let i = 0; i < bytes.length; i++) if (data[i] !== bytes[i]) return false;
  return true;
}

export interface PrefixedTransformer {
  /** '' for identity. */
  prefix: string;
  transformer: ValueTransformer;
}

/**
 * Kubernetes' prefix transformers: writes go through the first, with its prefix prepended;
 * a read goes to every transformer whose prefix the value starts with, in order, until one
 * succeeds (two aescbc providers share a prefix while rotating), and is stale unless the
 * first one read it. An identity failure (encrypted data) is skipped silently.
 */
export function prefixTransformers(
  transformers: PrefixedTransformer[],
  noMatch: (stored: Uint8Array) => string,
): ValueTransformer {
  const first = transformers[0];
  if (first === undefined) throw new EncryptionError('at least one transformer is required');
  return {
    toStorage(plain, storageKey) {
      return Buffer.concat([Buffer.from(first.prefix, 'utf8'), first.transformer.toStorage(plain, storageKey)]);
    },
    fromStorage(stored, storageKey) {
      const errors: string[] = [];
      for (const [index, { prefix, transformer }] of transformers.entries()) {
        if (!startsWith(stored, prefix)) continue;
        const prefixBytes = Buffer.byteLength(prefix, 'utf8');
        try {
          const result = transformer.fromStorage(stored.subarray(prefixBytes), storageKey);
          return { data: result.data, stale: result.stale || index !== 0 };
        } catch (err) {
          if (prefix !== '') errors.push(err instanceof Error ? err.message : String(err));
        }
      }
      if (errors.length === 1) throw new EncryptionError(errors[0] ?? '');
      if (errors.length > 1) throw new EncryptionError(`[${errors.join(', ')}]`);
      throw new EncryptionError(noMatch(stored));
    },
  };
}

/** A key name at the start of bytes, up to its ':' (printable ASCII, at most 250 bytes). */
export function leadingKeyName(bytes: Uint8Array): string | undefined {
  const head = Buffer.from(bytes.subarray(0, 251)).toString('latin1');
  return /^([\x21-\x39\x3b-\x7e]{1,250}):/.exec(head)?.[1];
}

/** The provider and key name a stored value carries in its prefix, for messages and reports. */
export function describeStoredValue(stored: Uint8Array): { provider: string; keyName?: string } {
  if (!startsWith(stored, ENCRYPTED_PREFIX)) return { provider: 'identity' };
  // Only a short header is looked at, and only printable ASCII is reported.
  const header = /^k8s:enc:([a-z0-9]{1,32}):v[0-9]{1,3}:/.exec(Buffer.from(stored.subarray(0, 48)).toString('latin1'));
  if (header === null) return { provider: 'unknown' };
  const [whole, provider = 'unknown'] = header;
  const keyName = leadingKeyName(stored.subarray(whole.length));
  return keyName === undefined ? { provider: 'unknown' } : { provider, keyName };
}
