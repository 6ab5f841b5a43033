import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createDecipheriv } from 'node:crypto';
import nacl from 'tweetnacl';
import { parseEncryptionConfiguration } from './config.js';
import { EncryptionError } from './providers.js';
import { buildResourceTransformers } from './transformers.js';
import {
  PLAIN,
  SECRETS,
  SECRET_VALUE,
  STORAGE_KEY,
  b64,
  counting,
  key,
  printableRuns,
  refused,
  secretsTransformer,
} from './fixtures.js';

/** The stored bytes with one bit flipped, counted from the end. */
function tamper(stored: Buffer, offsetFromEnd: number): Buffer {
  const copy = Buffer.from(stored);
  const at = copy.length - offsetFromEnd;
  copy[at] = (copy[at] ?? 0) ^ 0x01;
  return copy;
}

describe('round trips', () => {
  for (const provider of ['aescbc', 'aesgcm', 'secretbox'] as const) {
    it(`${provider}: what is written reads back, fresh, behind the key's prefix`, () => {
      const t = secretsTransformer([[provider, 'key1', key(1)], 'identity']);
      const stored = t.toStorage(PLAIN, STORAGE_KEY);
      assert.ok(stored.subarray(0, 40).toString('latin1').startsWith(`k8s:enc:${provider}:v1:key1:`));
      assert.deepEqual(t.fromStorage(stored, STORAGE_KEY), { data: PLAIN, stale: false });
      // Fresh IVs and nonces: the same value never encrypts to the same bytes twice.
      assert.notDeepEqual(t.toStorage(PLAIN, STORAGE_KEY), stored);
    });

    it(`${provider}: empty and large values round-trip`, () => {
      const t = secretsTransformer([[provider, 'k', key(2)]]);
      for (const value of [Buffer.alloc(0), Buffer.alloc(1, 1), Buffer.alloc(16, 2), Buffer.alloc(1 << 20, 3)]) {
        assert.deepEqual(t.fromStorage(t.toStorage(value, STORAGE_KEY), STORAGE_KEY).data, value);
      }
    });

    it(`${provider}: the stored bytes do not contain the plaintext (a strings check)`, () => {
      const stored = secretsTransformer([[provider, 'key1', key(1)]]).toStorage(PLAIN, STORAGE_KEY);
      const runs = printableRuns(stored);
      assert.ok(!Buffer.from(stored).includes(SECRET_VALUE));
      assert.ok(!Buffer.from(stored).includes(Buffer.from(SECRET_VALUE).toString('base64')));
      for (const run of runs)
        assert.ok(!run.includes('hunter') && !run.includes('password') && !run.includes('Secret'), run);
    });
  }

  it('aescbc and aesgcm take 16-, 24- and 32-byte keys', () => {
    for (const provider of ['aescbc', 'aesgcm'] as const) {
      for (const size of [16, 24, 32]) {
        const t = secretsTransformer([[provider, 'k', key(5, size)]]);
        assert.deepEqual(t.fromStorage(t.toStorage(PLAIN, STORAGE_KEY), STORAGE_KEY).data, PLAIN);
      }
    }
  });
});

describe("Kubernetes' on-disk format, computed independently", () => {
  it('aescbc: prefix + 16-byte IV + AES-CBC with PKCS#7 padding', () => {
    const stored = secretsTransformer([['aescbc', 'key1', key(1)]], counting).toStorage(PLAIN, STORAGE_KEY);
    const iv = counting(16);
    const cipher = createCipheriv('aes-256-cbc', key(1), iv);
    const expected = Buffer.concat([Buffer.from('k8s:enc:aescbc:v1:key1:'), iv, cipher.update(PLAIN), cipher.final()]);
    assert.deepEqual(stored, expected);
    assert.equal((stored.length - 'k8s:enc:aescbc:v1:key1:'.length - 16) % 16, 0);
  });

  it('aesgcm: prefix + 12-byte nonce + ciphertext + 16-byte tag, the storage key as additional data', () => {
    const stored = secretsTransformer([['aesgcm', 'key1', key(1, 16)]], counting).toStorage(PLAIN, STORAGE_KEY);
    const nonce = counting(12);
    const cipher = createCipheriv('aes-128-gcm', key(1, 16), nonce);
    cipher.setAAD(Buffer.from(STORAGE_KEY));
    const expected = Buffer.concat([
      Buffer.from('k8s:enc:aesgcm:v1:key1:'),
      nonce,
      cipher.update(PLAIN),
      cipher.final(),
      cipher.getAuthTag(),
    ]);
    assert.deepEqual(stored, expected);
  });

  it('secretbox: prefix + 24-byte nonce + NaCl secretbox (tag, then ciphertext)', () => {
    const stored = secretsTransformer([['secretbox', 'key1', key(1)]], counting).toStorage(PLAIN, STORAGE_KEY);
    const nonce = counting(24);
    const expected = Buffer.concat([
      Buffer.from('k8s:enc:secretbox:v1:key1:'),
      nonce,
      nacl.secretbox(PLAIN, nonce, key(1)),
    ]);
    assert.deepEqual(stored, expected);
    assert.equal(stored.length, 'k8s:enc:secretbox:v1:key1:'.length + 24 + 16 + PLAIN.length);
  });

  it('reads values produced by other implementations of the format', () => {
    const iv = Buffer.alloc(16, 9);
    const cipher = createCipheriv('aes-256-cbc', key(4), iv);
    const foreign = Buffer.concat([Buffer.from('k8s:enc:aescbc:v1:k:'), iv, cipher.update('{"a":1}'), cipher.final()]);
    assert.equal(
      secretsTransformer([['aescbc', 'k', key(4)]])
        .fromStorage(foreign, STORAGE_KEY)
        .data.toString(),
      '{"a":1}',
    );
  });

  it('identity stores the plain bytes, with no prefix', () => {
    const t = secretsTransformer(['identity']);
    assert.deepEqual(t.toStorage(PLAIN, STORAGE_KEY), PLAIN);
  });
});

describe('tampering and wrong keys', () => {
  for (const provider of ['aesgcm', 'secretbox'] as const) {
    it(`${provider}: a flipped bit anywhere (nonce, ciphertext, tag) is refused with a clear error`, () => {
      const t = secretsTransformer([[provider, 'key1', key(1)]]);
      const stored = t.toStorage(PLAIN, STORAGE_KEY);
      const prefixLength = `k8s:enc:${provider}:v1:key1:`.length;
      for (const offset of [1, 20, PLAIN.length, stored.length - prefixLength - 1]) {
        refused(
          () => t.fromStorage(tamper(stored, offset), STORAGE_KEY),
          new RegExp(`k8s:enc:${provider}:v1:key1: message authentication failed`),
        );
      }
    });

    it(`${provider}: the wrong key under the right name is refused`, () => {
      const stored = secretsTransformer([[provider, 'key1', key(1)]]).toStorage(PLAIN, STORAGE_KEY);
      refused(
        () => secretsTransformer([[provider, 'key1', key(9)]]).fromStorage(stored, STORAGE_KEY),
        /message authentication failed/,
      );
    });

    it(`${provider}: truncated values are refused, never crash`, () => {
      const t = secretsTransformer([[provider, 'key1', key(1)]]);
      const stored = t.toStorage(PLAIN, STORAGE_KEY);
      for (let cut = 0; cut < 60; cut++) {
        const short = stored.subarray(0, `k8s:enc:${provider}:v1:key1:`.length + cut);
        assert.throws(() => t.fromStorage(short, STORAGE_KEY), EncryptionError);
      }
      refused(
        () => t.fromStorage(Buffer.from(`k8s:enc:${provider}:v1:key1:`), STORAGE_KEY),
        /shorter than the required size/,
      );
    });
  }
});

describe('storage keys, AES-CBC integrity, shared prefixes', () => {
  it('aesgcm binds the value to its storage key: copied under another key, it is refused', () => {
    const t = secretsTransformer([['aesgcm', 'key1', key(1)]]);
    const stored = t.toStorage(PLAIN, STORAGE_KEY);
    refused(() => t.fromStorage(stored, '/registry/core/secrets/attacker/mine'), /message authentication failed/);
  });

  it('aescbc and secretbox do not use the storage key, as in Kubernetes', () => {
    for (const provider of ['aescbc', 'secretbox'] as const) {
      const t = secretsTransformer([[provider, 'key1', key(1)]]);
      const stored = t.toStorage(PLAIN, STORAGE_KEY);
      assert.deepEqual(t.fromStorage(stored, '/registry/core/secrets/other/name').data, PLAIN);
    }
  });

  it('aescbc: a wrong key or corrupted data fails the padding check or block size check', () => {
    const stored = secretsTransformer([['aescbc', 'key1', key(1)]], counting).toStorage(PLAIN, STORAGE_KEY);
    refused(
      () => secretsTransformer([['aescbc', 'key1', key(9)]]).fromStorage(stored, STORAGE_KEY),
      /k8s:enc:aescbc:v1:key1: invalid (PKCS7 data|padding)/,
    );
    const t = secretsTransformer([['aescbc', 'key1', key(1)]]);
    refused(() => t.fromStorage(tamper(stored, 1), STORAGE_KEY), /invalid (PKCS7 data|padding)/);
    refused(
      () => t.fromStorage(stored.subarray(0, stored.length - 3), STORAGE_KEY),
      /not a multiple of the block size/,
    );
    refused(
      () => t.fromStorage(stored.subarray(0, 'k8s:enc:aescbc:v1:key1:'.length + 16), STORAGE_KEY),
      /shorter than the required size/,
    );
  });

  it('aescbc: padding longer than a block is accepted when consistent, as Kubernetes accepts it', () => {
    // A value another writer padded with 25 bytes of value 25 (Kubernetes only checks they agree).
    const iv = Buffer.alloc(16, 1);
    const padded = Buffer.concat([Buffer.from('{"x":1}'), Buffer.alloc(9 + 16, 25)]);
    const cipher = createCipheriv('aes-256-cbc', key(1), iv).setAutoPadding(false);
    const stored = Buffer.concat([Buffer.from('k8s:enc:aescbc:v1:k:'), iv, cipher.update(padded), cipher.final()]);
    assert.equal(
      secretsTransformer([['aescbc', 'k', key(1)]])
        .fromStorage(stored, STORAGE_KEY)
        .data.toString(),
      '{"x":1}',
    );
    // and decrypting it by hand agrees
    const decipher = createDecipheriv('aes-256-cbc', key(1), iv).setAutoPadding(false);
    assert.deepEqual(Buffer.concat([decipher.update(stored.subarray(36)), decipher.final()]), padded);
  });

  it('when two providers share a prefix, every candidate is tried and all errors are reported', () => {
    const stored = secretsTransformer([['aescbc', 'k', key(1)]]).toStorage(PLAIN, STORAGE_KEY);
    const cfg = parseEncryptionConfiguration(
      JSON.stringify({
        apiVersion: 'apiserver.config.k8s.io/v1',
        kind: 'EncryptionConfiguration',
        resources: [
          {
            resources: ['secrets'],
            providers: [
              { aescbc: { keys: [{ name: 'a', secret: b64(key(2)) }] } },
              { aescbc: { keys: [{ name: 'k', secret: b64(key(1)) }] } },
            ],
          },
        ],
      }),
    );
    assert.deepEqual(buildResourceTransformers(cfg).forResource(SECRETS).fromStorage(stored, STORAGE_KEY), {
      data: PLAIN,
      stale: true,
    });
  });
});
