// Keys as kube-apiserver reads them, the key id it derives, and its checks on the token flags.

import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, test } from 'node:test';
import { createCA } from '../pki/index.js';
import { resolveTokenConfig, DEFAULT_ISSUER } from './config.js';
import { keyIdFor, loadSigningKey, parseVerificationKeys } from './keys.js';
import { ecKeyPem, FIXED_EC_KID, FIXED_EC_PKCS8, FIXED_EC_SEC1, rsaKeyPem } from './test-support.js';

describe('signing keys', () => {
  test('a P-256 key in PKCS#8 (as pkg/pki writes it) or SEC1 signs ES256 with the kid openssl derives', () => {
    for (const pem of [FIXED_EC_PKCS8, FIXED_EC_SEC1]) {
      const key = loadSigningKey(pem);
      assert.equal(key.algorithm, 'ES256');
      assert.equal(key.keyId, FIXED_EC_KID);
      assert.equal(keyIdFor(key.publicKey), FIXED_EC_KID);
    }
  });

  test('P-384 and P-521 keys sign ES384 and ES512', () => {
    for (const [namedCurve, alg] of [
      ['P-384', 'ES384'],
      ['P-521', 'ES512'],
    ] as const) {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve });
      assert.equal(loadSigningKey(privateKey.export({ type: 'sec1', format: 'pem' }).toString()).algorithm, alg);
    }
  });

  test('an RSA key (PKCS#1) signs RS256', () => {
    assert.equal(loadSigningKey(rsaKeyPem().privatePem).algorithm, 'RS256');
  });

  test('short RSA keys, Ed25519 keys, public keys and garbage are refused', () => {
    assert.throws(() => loadSigningKey(rsaKeyPem(1024).privatePem), /unsupported key type rsa/);
    const ed = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    assert.throws(() => loadSigningKey(ed), /unsupported key type ed25519/);
    assert.throws(() => loadSigningKey(ecKeyPem().publicPem), /failed to parse service account signing key/);
    assert.throws(() => loadSigningKey('not a key'), /failed to parse service account signing key/);
  });
});

describe('verification keys', () => {
  test('every key in a multi-block file counts: public keys, private keys (their public half), certificates', () => {
    const ec = ecKeyPem();
    const rsa = rsaKeyPem();
    const keys = parseVerificationKeys(`${ec.publicPem}\n${rsa.privatePem}\n${FIXED_EC_SEC1}`);
    assert.deepEqual(
      keys.map((k) => k.algorithm),
      ['ES256', 'RS256', 'ES256'],
    );
    assert.equal(keys[0].keyId, loadSigningKey(ec.privatePem).keyId);
    assert.equal(keys[2].keyId, FIXED_EC_KID);
  });

  test("a certificate's public key verifies, with the kid of its private key", async () => {
    const ca = await createCA('sa-test');
    const [key] = parseVerificationKeys(ca.certPem);
    assert.equal(key.algorithm, 'ES256');
    assert.equal(key.keyId, loadSigningKey(ca.keyPem).keyId);
  });

  test('the same key twice is listed once; non-key blocks are skipped', () => {
    const ec = ecKeyPem();
    const junk = '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n';
    const keys = parseVerificationKeys(`${junk}${ec.publicPem}${ec.privatePem}`);
    assert.equal(keys.length, 1);
  });

  test('a file with no usable key is an error with Kubernetes message', () => {
    assert.throws(() => parseVerificationKeys(''), /data does not contain any valid RSA or ECDSA public keys/);
    const ed = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    assert.throws(() => parseVerificationKeys(ed), /data does not contain any valid RSA or ECDSA public keys/);
    assert.throws(() => parseVerificationKeys(rsaKeyPem(1024).publicPem), /data does not contain any valid/);
  });
});

describe('token flags', () => {
  test('defaults: the cluster-local issuer, audiences = issuer, no cap, extension on', () => {
    assert.deepEqual(resolveTokenConfig(), {
      ok: true,
      config: {
        issuer: DEFAULT_ISSUER,
        acceptedIssuers: [DEFAULT_ISSUER],
        apiAudiences: [DEFAULT_ISSUER],
        maxTokenExpirationSeconds: 0,
        extendTokenExpiration: true,
      },
    });
  });

  test('the first issuer signs, all are accepted, audiences default to the first', () => {
    const result = resolveTokenConfig({ issuers: ['https://new.example', 'https://old.example'] });
    assert.ok(result.ok);
    assert.equal(result.config.issuer, 'https://new.example');
    assert.deepEqual(result.config.acceptedIssuers, ['https://new.example', 'https://old.example']);
    assert.deepEqual(result.config.apiAudiences, ['https://new.example']);
  });

  test('empty and repeated issuers, and a cap outside 1 hour..2^32 s, are refused together', () => {
    const result = resolveTokenConfig({ issuers: ['', 'https://a', 'https://a'], maxTokenExpirationSeconds: 600 });
    assert.deepEqual(result, {
      ok: false,
      errors: [
        'service-account-issuer should not be an empty string',
        'service-account-issuer "https://a" is already specified',
        'the service-account-max-token-expiration must be between 1 hour and 2^32 seconds',
      ],
    });
    assert.equal(resolveTokenConfig({ maxTokenExpirationSeconds: 2 ** 32 + 1 }).ok, false);
    assert.equal(resolveTokenConfig({ maxTokenExpirationSeconds: 3600 }).ok, true);
    assert.equal(resolveTokenConfig({ issuers: ['not a url : at all'] }).ok, false);
    // Kubernetes accepts issuers that are not URLs, when they contain no ':'.
    assert.equal(resolveTokenConfig({ issuers: ['kubernetes/serviceaccount'] }).ok, true);
  });
});
