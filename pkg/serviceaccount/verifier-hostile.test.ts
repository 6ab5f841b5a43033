// Tokens an attacker presents: not JWTs, other issuers, alg none, HS256 keyed with the public
// key, tampered payloads and signatures, strangers' keys, unknown kids, malformed claims. Each
// is refused with a reason, none throws, and the foreign ones are left to other authenticators.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { SignJWT } from 'jose';
import { loadSigningKey } from './keys.js';
import { createTokenSigner } from './signer.js';
import { b64, issue, newEcSigningKey, refusal, rsaKeyPem, world } from './test-support.js';
import { createTokenVerifier } from './verifier.js';

describe('foreign and forged tokens', () => {
  test('what is not a JWT of our issuer is foreign, so other authenticators may try it', async () => {
    const w = world();
    const verifier = createTokenVerifier(w.verifierOptions);
    for (const token of ['', 'abc', 'abcdef.0123456789abcdef', 'a.b.c', 'a.b.c.d.e', `x.${'A'.repeat(70_000)}.y`]) {
      assert.equal(refusal(await verifier.verify(token)).foreign, true, token.slice(0, 20));
    }
    const otherIssuer = createTokenSigner({ signingKey: w.key, issuer: 'https://elsewhere.example' });
    const { token } = await issue(w, { signer: otherIssuer });
    assert.equal(refusal(await verifier.verify(token)).foreign, true);
  });

  test('alg none is refused', async () => {
    const w = world();
    const { claims } = await issue(w);
    for (const header of [{ alg: 'none' }, { alg: 'none', kid: w.key.keyId }]) {
      const token = `${b64(header)}.${b64(claims)}.`;
      const { foreign, reason } = refusal(await createTokenVerifier(w.verifierOptions).verify(token));
      assert.equal(foreign, false);
      assert.equal(reason, 'token signature is invalid');
    }
  });

  test('HS256 keyed with the public key (algorithm confusion) is refused, for EC and RSA keys', async () => {
    for (const key of [newEcSigningKey(), loadSigningKey(rsaKeyPem().privatePem)]) {
      const w = world(key);
      const { claims } = await issue(w);
      const secret = new TextEncoder().encode(key.publicKey.export({ type: 'spki', format: 'pem' }).toString());
      const token = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: key.keyId }).sign(secret);
      assert.equal(
        refusal(await createTokenVerifier(w.verifierOptions).verify(token)).reason,
        'token signature is invalid',
      );
    }
  });

  test('a tampered payload or signature is refused', async () => {
    const w = world();
    const { token, claims } = await issue(w);
    const [header, , signature] = token.split('.');
    const verifier = createTokenVerifier(w.verifierOptions);
    const admin = { ...claims, 'kubernetes.io': { ...claims['kubernetes.io'], namespace: 'kube-system' } };
    assert.equal(
      refusal(await verifier.verify(`${header}.${b64(admin)}.${signature}`)).reason,
      'token signature is invalid',
    );
    const flipped = signature.startsWith('A') ? `B${signature.slice(1)}` : `A${signature.slice(1)}`;
    assert.equal(
      refusal(await verifier.verify(`${header}.${token.split('.')[1]}.${flipped}`)).reason,
      'token signature is invalid',
    );
    assert.equal(
      refusal(await verifier.verify(`${header}.${token.split('.')[1]}.`)).reason,
      'token signature is invalid',
    );
  });

  test('a token signed by a stranger who copies our kid is refused', async () => {
    const w = world();
    const { claims } = await issue(w);
    const stranger = newEcSigningKey();
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: w.key.keyId })
      .sign(stranger.privateKey);
    assert.equal(
      refusal(await createTokenVerifier(w.verifierOptions).verify(token)).reason,
      'token signature is invalid',
    );
  });
});

describe('malformed tokens', () => {
  test('an unknown or malformed kid is refused', async () => {
    const w = world();
    const { claims } = await issue(w);
    const unknownKid = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: 'nope' })
      .sign(w.key.privateKey);
    const verifier = createTokenVerifier(w.verifierOptions);
    assert.equal(refusal(await verifier.verify(unknownKid)).reason, 'no public key with key id "nope"');
    const [, payload, signature] = unknownKid.split('.');
    const numericKid = `${b64({ alg: 'ES256', kid: 7 })}.${payload}.${signature}`;
    assert.equal(refusal(await verifier.verify(numericKid)).reason, 'token header is malformed');
    assert.equal(refusal(await verifier.verify(`%%%.${payload}.${signature}`)).reason, 'token header is malformed');
  });

  test('signed tokens with malformed Kubernetes claims are refused', async () => {
    const w = world();
    const { claims } = await issue(w);
    const verifier = createTokenVerifier(w.verifierOptions);
    const cases: [Record<string, unknown>, string][] = [
      [{ ...claims, 'kubernetes.io': undefined }, 'token has no kubernetes.io claim'],
      [
        { ...claims, 'kubernetes.io': { namespace: 'team' } },
        'kubernetes.io claim does not name a namespace and service account',
      ],
      [
        { ...claims, 'kubernetes.io': { ...claims['kubernetes.io'], pod: 'web-0' } },
        'kubernetes.io claim is malformed',
      ],
      [{ ...claims, aud: [1] }, 'token has malformed registered claims'],
      [{ ...claims, exp: '9999999999' }, 'token has malformed registered claims'],
    ];
    for (const [payload, reason] of cases) {
      const token = await new SignJWT(payload)
        .setProtectedHeader({ alg: 'ES256', kid: w.key.keyId })
        .sign(w.key.privateKey);
      assert.equal(refusal(await verifier.verify(token)).reason, reason);
    }
  });

  test('no string, however odd, makes verify throw or succeed', async () => {
    const w = world();
    const { token } = await issue(w);
    const verifier = createTokenVerifier(w.verifierOptions);
    const [header, payload] = token.split('.');
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string(),
          fc.string().map((s) => `${header}.${payload}.${s}`),
        ),
        async (candidate) => {
          const result = await verifier.verify(candidate);
          assert.equal(result.ok, false);
        },
      ),
      { numRuns: 200 },
    );
  });
});
