// The bundle the apiserver will build at start: keys from pkg/pki's files, the signer and the
// verifier agreeing, rotation through the key file, and discovery on or off.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resolveTokenConfig, type ServiceAccountTokenConfig } from './config.js';
import { createServiceAccountTokens } from './setup.js';
import { MemoryObjects, TestClock, ecKeyPem, refusal } from './test-support.js';

function config(issuers?: string[]): ServiceAccountTokenConfig {
  const result = resolveTokenConfig({ issuers });
  assert.ok(result.ok);
  return result.config;
}

function objects(): MemoryObjects {
  const store = new MemoryObjects();
  store.addServiceAccount('default', 'default', 'sa-uid');
  return store;
}

const clock = new TestClock();

async function tokenFrom(signingKeyPem: string, lookup: MemoryObjects): Promise<string> {
  const tokens = createServiceAccountTokens({ config: config(), signingKeyPem, lookup, now: clock.now });
  const { token } = await tokens.signer.issue({
    namespace: 'default',
    serviceAccount: { name: 'default', uid: 'sa-uid' },
    audiences: config().apiAudiences,
    expirationSeconds: 3600,
    now: clock.now(),
  });
  return token;
}

describe('createServiceAccountTokens', () => {
  test('with only the signing key, what it signs verifies', async () => {
    const lookup = objects();
    const pki = ecKeyPem();
    const tokens = createServiceAccountTokens({
      config: config(),
      signingKeyPem: pki.privatePem,
      lookup,
      now: clock.now,
    });
    const token = await tokenFrom(pki.privatePem, lookup);
    const result = await tokens.verifier.verify(token);
    assert.ok(result.ok);
    assert.equal(result.token.user.name, 'system:serviceaccount:default:default');
    assert.equal(tokens.keys.length, 1);
  });

  test('rotation: the new key signs, the old public key in the key file keeps old tokens alive', async () => {
    const lookup = objects();
    const oldPki = ecKeyPem();
    const newPki = ecKeyPem();
    const oldToken = await tokenFrom(oldPki.privatePem, lookup);
    const rotated = createServiceAccountTokens({
      config: config(),
      signingKeyPem: newPki.privatePem,
      verificationKeysPem: `${newPki.publicPem}${oldPki.publicPem}`,
      lookup,
      now: clock.now,
    });
    assert.equal(rotated.keys.length, 2, 'the signing key is not listed twice');
    assert.ok((await rotated.verifier.verify(oldToken)).ok);
    assert.ok((await rotated.verifier.verify(await tokenFrom(newPki.privatePem, lookup))).ok);
    if (!rotated.discovery.enabled) assert.fail(rotated.discovery.reason);
    assert.equal(rotated.discovery.documents.jwks.keys.length, 2);

    const retired = createServiceAccountTokens({
      config: config(),
      signingKeyPem: newPki.privatePem,
      lookup,
      now: clock.now,
    });
    assert.match(refusal(await retired.verifier.verify(oldToken)).reason, /no public key with key id/);
  });

  test('a non-https issuer signs and verifies, but leaves discovery off with the reason', async () => {
    const tokens = createServiceAccountTokens({
      config: config(['kubernetes/serviceaccount']),
      signingKeyPem: ecKeyPem().privatePem,
      lookup: objects(),
    });
    assert.equal(tokens.discovery.enabled, false);
    assert.match(
      tokens.discovery.enabled ? '' : tokens.discovery.reason,
      /^Could not construct pre-rendered responses for ServiceAccountIssuerDiscovery endpoints\. .*issuer URL is invalid/,
    );
  });

  test('unreadable keys stop the start', () => {
    assert.throws(
      () => createServiceAccountTokens({ config: config(), signingKeyPem: 'nope', lookup: objects() }),
      /failed to parse service account signing key/,
    );
    assert.throws(
      () =>
        createServiceAccountTokens({
          config: config(),
          signingKeyPem: ecKeyPem().privatePem,
          verificationKeysPem: 'nope',
          lookup: objects(),
        }),
      /data does not contain any valid RSA or ECDSA public keys/,
    );
  });
});
