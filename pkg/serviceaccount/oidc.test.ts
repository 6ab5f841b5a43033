// Service account issuer discovery: the documents kube-apiserver serves, checked field by
// field, refused for issuers OIDC forbids, and usable by a stock OIDC verifier (jose's).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { DEFAULT_ISSUER } from './config.js';
import { loadSigningKey } from './keys.js';
import { discoveryDocuments, JWKS_PATH, publicJwk } from './oidc.js';
import { FIXED_EC_PKCS8, FIXED_EC_KID, issue, rsaKeyPem, world } from './test-support.js';

const ecKey = loadSigningKey(FIXED_EC_PKCS8);
const rsaKey = loadSigningKey(rsaKeyPem().privatePem);

describe('openid-configuration', () => {
  test('names the issuer, the JWKS at the external address, id_token, public subjects and the key algorithms', () => {
    const docs = discoveryDocuments({
      issuer: DEFAULT_ISSUER,
      externalAddress: '192.0.2.10:6443',
      keys: [rsaKey, ecKey],
    });
    assert.deepEqual(docs.configuration, {
      issuer: DEFAULT_ISSUER,
      jwks_uri: 'https://192.0.2.10:6443/openid/v1/jwks',
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['ES256', 'RS256'],
    });
  });

  test('an explicit jwks URI wins; without an external address the issuer serves the JWKS', () => {
    const explicit = discoveryDocuments({
      issuer: 'https://issuer.example/cluster',
      jwksUri: 'https://keys.example/jwks.json',
      externalAddress: '192.0.2.10:6443',
      keys: [ecKey],
    });
    assert.equal(explicit.configuration.jwks_uri, 'https://keys.example/jwks.json');
    const fallback = discoveryDocuments({ issuer: 'https://issuer.example/cluster/', keys: [ecKey] });
    assert.equal(fallback.configuration.jwks_uri, `https://issuer.example/cluster${JWKS_PATH}`);
  });

  test('issuers OIDC forbids, plain-http jwks URIs, odd external addresses and no keys are refused', () => {
    const refuse = (options: Parameters<typeof discoveryDocuments>[0], message: RegExp): void => {
      assert.throws(() => discoveryDocuments(options), message);
    };
    refuse({ issuer: '', keys: [ecKey] }, /empty issuer URL/);
    refuse({ issuer: 'http://issuer.example', keys: [ecKey] }, /issuer URL must use https scheme/);
    refuse({ issuer: 'kubernetes/serviceaccount', keys: [ecKey] }, /issuer URL is invalid/);
    refuse({ issuer: 'https://issuer.example?a=b', keys: [ecKey] }, /issuer URL may not include a query/);
    refuse({ issuer: 'https://issuer.example#frag', keys: [ecKey] }, /issuer URL may not include a fragment/);
    refuse(
      { issuer: DEFAULT_ISSUER, jwksUri: 'http://keys.example/jwks', keys: [ecKey] },
      /jwksURI requires https scheme/,
    );
    refuse(
      { issuer: DEFAULT_ISSUER, externalAddress: 'evil.example/x?', keys: [ecKey] },
      /could not construct a valid URL/,
    );
    refuse(
      { issuer: DEFAULT_ISSUER, externalAddress: 'user@evil.example', keys: [ecKey] },
      /could not construct a valid URL/,
    );
    refuse({ issuer: DEFAULT_ISSUER, keys: [] }, /no keys provided for validating keyset/);
  });
});

describe('jwks', () => {
  test('lists each public key with kid, use sig and alg, and nothing private', () => {
    const { jwks } = discoveryDocuments({ issuer: DEFAULT_ISSUER, keys: [ecKey, rsaKey] });
    const [ec, rsa] = jwks.keys;
    assert.deepEqual(Object.keys(ec).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
    assert.equal(ec.kid, FIXED_EC_KID);
    assert.equal(ec.alg, 'ES256');
    assert.equal(ec.use, 'sig');
    assert.equal(ec.crv, 'P-256');
    assert.deepEqual(Object.keys(rsa).sort(), ['alg', 'e', 'kid', 'kty', 'n', 'use']);
    assert.equal(rsa.kid, rsaKey.keyId);
    assert.equal(rsa.alg, 'RS256');
    // A signing key given by mistake still publishes only its public half.
    assert.deepEqual(publicJwk(ecKey), ec);
    assert.doesNotMatch(JSON.stringify(jwks), /"(d|p|q|dp|dq|qi)"/);
  });

  test('an OIDC relying party verifies our tokens with nothing but the JWKS', async () => {
    const w = world();
    const { token } = await issue(w, { audiences: ['sts.example'] });
    const { configuration, jwks } = discoveryDocuments({ issuer: DEFAULT_ISSUER, keys: [w.signer.verificationKey] });
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet({ keys: [...jwks.keys] }), {
      issuer: configuration.issuer,
      audience: 'sts.example',
      algorithms: configuration.id_token_signing_alg_values_supported,
      currentDate: w.clock.now(),
    });
    assert.equal(payload.sub, 'system:serviceaccount:team:builder');
    assert.equal(protectedHeader.kid, w.key.keyId);
    await assert.rejects(
      jwtVerify(token, createLocalJWKSet({ keys: [publicJwk(rsaKey)] }), { currentDate: w.clock.now() }),
      /no applicable key found in the JSON Web Key Set/,
    );
  });
});
