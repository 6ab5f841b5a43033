// Authenticating ServiceAccount tokens: each case is a token someone presents and the answer
// kube-apiserver's authenticator gives — the identity, or a refusal with its reason.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SignJWT } from 'jose';
import { DEFAULT_ISSUER } from './config.js';
import { loadSigningKey, parseVerificationKeys } from './keys.js';
import { createTokenSigner } from './signer.js';
import { ecKeyPem, issue, newEcSigningKey, refusal, rsaKeyPem, world } from './test-support.js';
import {
  createTokenVerifier,
  EXTRA_CREDENTIAL_ID,
  EXTRA_NODE_NAME,
  EXTRA_NODE_UID,
  EXTRA_POD_NAME,
  EXTRA_POD_UID,
} from './verifier.js';

describe('a bound token, issued and verified', () => {
  test('carries Kubernetes claims, kid and alg, and verifies to the ServiceAccount identity', async () => {
    const w = world();
    const { token, claims } = await issue(w);
    const [header, payload] = token
      .split('.')
      .slice(0, 2)
      .map((s) => JSON.parse(Buffer.from(s, 'base64url').toString()));
    assert.deepEqual(header, { alg: 'ES256', kid: w.key.keyId });
    const iat = Math.floor(w.clock.now().getTime() / 1000);
    assert.deepEqual(payload, {
      iss: DEFAULT_ISSUER,
      sub: 'system:serviceaccount:team:builder',
      aud: [DEFAULT_ISSUER],
      exp: iat + 3600,
      iat,
      nbf: iat,
      jti: claims.jti,
      'kubernetes.io': {
        namespace: 'team',
        serviceaccount: { name: 'builder', uid: 'sa-uid-1' },
        pod: { name: 'web-0', uid: 'pod-uid-1' },
        node: { name: 'node-a', uid: 'node-uid-1' },
      },
    });
    assert.match(String(claims.jti), /^[0-9a-f-]{36}$/);

    const result = await createTokenVerifier(w.verifierOptions).verify(token);
    assert.ok(result.ok);
    assert.deepEqual(result.token.user, {
      name: 'system:serviceaccount:team:builder',
      uid: 'sa-uid-1',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:team', 'system:authenticated'],
      extra: {
        [EXTRA_POD_NAME]: ['web-0'],
        [EXTRA_POD_UID]: ['pod-uid-1'],
        [EXTRA_NODE_NAME]: ['node-a'],
        [EXTRA_NODE_UID]: ['node-uid-1'],
        [EXTRA_CREDENTIAL_ID]: [`JTI=${String(claims.jti)}`],
      },
    });
    assert.deepEqual(result.token.audiences, [DEFAULT_ISSUER]);
    assert.deepEqual(result.token.pod, { name: 'web-0', uid: 'pod-uid-1' });
    assert.equal(result.token.namespace, 'team');
    assert.equal(result.token.expiresAt?.getTime(), (iat + 3600) * 1000);
    assert.equal(result.token.stale, false);
  });

  test('RSA keys sign RS256 tokens that verify the same way', async () => {
    const w = world(loadSigningKey(rsaKeyPem().privatePem));
    const { token } = await issue(w);
    assert.equal(JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()).alg, 'RS256');
    assert.ok((await createTokenVerifier(w.verifierOptions).verify(token)).ok);
  });

  test('an unbound token has no pod or node extras, only the credential id', async () => {
    const w = world();
    const { token } = await issue(w, { boundTo: {} });
    const result = await createTokenVerifier(w.verifierOptions).verify(token);
    assert.ok(result.ok);
    assert.deepEqual(Object.keys(result.token.user.extra), [EXTRA_CREDENTIAL_ID]);
  });
});

describe('key rotation', () => {
  test('a token signed by the old key verifies while the old public key is listed, and not after', async () => {
    const w = world();
    const { token: oldToken } = await issue(w);
    const newSigner = createTokenSigner({ signingKey: newEcSigningKey(), issuer: DEFAULT_ISSUER });
    const { token: newToken } = await issue(w, { signer: newSigner });

    const during = createTokenVerifier({
      ...w.verifierOptions,
      keys: [newSigner.verificationKey, w.signer.verificationKey],
    });
    assert.ok((await during.verify(oldToken)).ok);
    assert.ok((await during.verify(newToken)).ok);

    const after = createTokenVerifier({ ...w.verifierOptions, keys: [newSigner.verificationKey] });
    assert.ok((await after.verify(newToken)).ok);
    assert.match(refusal(await after.verify(oldToken)).reason, /no public key with key id/);
  });

  test('keys read from a --service-account-key-file verify tokens of the matching private key', async () => {
    const pem = ecKeyPem();
    const w = world(loadSigningKey(pem.privatePem));
    const { token } = await issue(w);
    const keys = parseVerificationKeys(`${rsaKeyPem().publicPem}${pem.publicPem}`);
    assert.ok((await createTokenVerifier({ ...w.verifierOptions, keys }).verify(token)).ok);
  });

  test('a token without kid is tried against every listed key', async () => {
    const w = world();
    const { claims } = await issue(w);
    const noKid = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256' }).sign(w.key.privateKey);
    const other = newEcSigningKey();
    const verifier = createTokenVerifier({ ...w.verifierOptions, keys: [other, w.signer.verificationKey] });
    assert.ok((await verifier.verify(noKid)).ok);
    const withoutOurs = createTokenVerifier({ ...w.verifierOptions, keys: [other] });
    assert.equal(refusal(await withoutOurs.verify(noKid)).reason, 'token signature is invalid');
  });
});

describe('time', () => {
  test('valid until exp plus a minute of leeway, then expired', async () => {
    const w = world();
    const { token } = await issue(w, { expirationSeconds: 600 });
    const verifier = createTokenVerifier(w.verifierOptions);
    w.clock.advance(600 + 59);
    assert.ok((await verifier.verify(token)).ok);
    w.clock.advance(2);
    assert.equal(refusal(await verifier.verify(token)).reason, 'service account token has expired');
  });

  test('a token from the future (nbf/iat ahead beyond the leeway) is not valid yet', async () => {
    const w = world();
    const { token } = await issue(w);
    const verifier = createTokenVerifier(w.verifierOptions);
    w.clock.advance(-30);
    assert.ok((await verifier.verify(token)).ok, 'within the leeway');
    w.clock.advance(-60);
    assert.equal(refusal(await verifier.verify(token)).reason, 'service account token is not valid yet');
  });

  test('a future iat alone is refused as issued in the future', async () => {
    const w = world();
    const { claims } = await issue(w);
    const token = await w.signer.sign({ ...claims, nbf: claims.nbf - 600, iat: claims.iat + 600 });
    const reason = refusal(await createTokenVerifier(w.verifierOptions).verify(token)).reason;
    assert.equal(reason, 'service account token is issued in the future');
  });

  test('a signed token without exp is refused', async () => {
    const w = world();
    const { claims } = await issue(w);
    const noExp: Record<string, unknown> = { ...claims };
    delete noExp.exp;
    const token = await new SignJWT(noExp)
      .setProtectedHeader({ alg: 'ES256', kid: w.key.keyId })
      .sign(w.key.privateKey);
    assert.equal(
      refusal(await createTokenVerifier(w.verifierOptions).verify(token)).reason,
      'service account token has no expiration',
    );
  });

  test('past warnafter an extended token still verifies, marked stale', async () => {
    const w = world();
    const token = await w.signer.issue({
      namespace: 'team',
      serviceAccount: { name: 'builder', uid: 'sa-uid-1' },
      audiences: [DEFAULT_ISSUER],
      expirationSeconds: 365 * 24 * 3600,
      warnAfterSeconds: 3607,
      now: w.clock.now(),
    });
    w.clock.advance(3608);
    const result = await createTokenVerifier(w.verifierOptions).verify(token.token);
    assert.ok(result.ok);
    assert.equal(result.token.stale, true);
  });
});

describe('audiences', () => {
  test('a token for another audience is refused by the apiserver, with Kubernetes message', async () => {
    const w = world();
    const { token } = await issue(w, { audiences: ['vault'] });
    const verifier = createTokenVerifier(w.verifierOptions);
    assert.equal(
      refusal(await verifier.verify(token)).reason,
      `token audiences ["vault"] is invalid for the target audiences ["${DEFAULT_ISSUER}"]`,
    );
    const forVault = await verifier.verify(token, { audiences: ['vault', 'other'] });
    assert.ok(forVault.ok);
    assert.deepEqual(forVault.token.audiences, ['vault']);
  });

  test('the answer lists only the audiences both sides share', async () => {
    const w = world();
    const { token } = await issue(w, { audiences: ['a', 'b', DEFAULT_ISSUER] });
    const result = await createTokenVerifier(w.verifierOptions).verify(token, { audiences: ['b', 'c'] });
    assert.ok(result.ok);
    assert.deepEqual(result.token.audiences, ['b']);
  });

  test('a token without aud is meant for the apiserver (legacy behaviour)', async () => {
    const w = world();
    const { token } = await issue(w, { audiences: [] });
    const result = await createTokenVerifier(w.verifierOptions).verify(token);
    assert.ok(result.ok);
    assert.deepEqual(result.token.audiences, [DEFAULT_ISSUER]);
  });
});

describe('bound objects must still exist with the same uid', () => {
  test('deleting the pod invalidates its token; a recreated pod of the same name does not revive it', async () => {
    const w = world();
    const { token } = await issue(w);
    const verifier = createTokenVerifier(w.verifierOptions);
    w.objects.pods.delete('team/web-0');
    assert.equal(refusal(await verifier.verify(token)).reason, 'service account token has been invalidated');
    w.objects.addPod('team', 'web-0', { uid: 'pod-uid-2', serviceAccountName: 'builder' });
    assert.equal(
      refusal(await verifier.verify(token)).reason,
      'pod UID (pod-uid-2) does not match service account pod ref claim (pod-uid-1)',
    );
  });

  test('a pod in its grace period still backs its token; one whose deletion began long ago does not', async () => {
    const w = world();
    const { token } = await issue(w);
    const verifier = createTokenVerifier(w.verifierOptions);
    const pod = w.objects.pods.get('team/web-0');
    assert.ok(pod !== undefined);
    pod.metadata.deletionTimestamp = new Date(w.clock.now().getTime() + 30_000).toISOString();
    assert.ok((await verifier.verify(token)).ok);
    pod.metadata.deletionTimestamp = new Date(w.clock.now().getTime() - 120_000).toISOString();
    assert.equal(refusal(await verifier.verify(token)).reason, 'service account token has been invalidated');
  });

  test('a deleted or recreated ServiceAccount invalidates every token of the old one', async () => {
    const w = world();
    const { token } = await issue(w, { boundTo: {} });
    const verifier = createTokenVerifier(w.verifierOptions);
    w.objects.serviceAccounts.delete('team/builder');
    assert.equal(refusal(await verifier.verify(token)).reason, 'serviceaccounts "builder" not found');
    w.objects.addServiceAccount('team', 'builder', 'sa-uid-2');
    assert.equal(
      refusal(await verifier.verify(token)).reason,
      'service account UID (sa-uid-2) does not match claim (sa-uid-1)',
    );
  });

  test('a Secret-bound token dies with its Secret', async () => {
    const w = world();
    const { token } = await issue(w, { boundTo: { secret: { name: 'builder-token', uid: 'secret-uid-1' } } });
    const verifier = createTokenVerifier(w.verifierOptions);
    const ok = await verifier.verify(token);
    assert.ok(ok.ok);
    assert.deepEqual(ok.token.secret, { name: 'builder-token', uid: 'secret-uid-1' });
    w.objects.addSecret('team', 'builder-token', 'secret-uid-2');
    assert.equal(
      refusal(await verifier.verify(token)).reason,
      'secret UID (secret-uid-2) does not match service account secret ref claim (secret-uid-1)',
    );
    w.objects.secrets.delete('team/builder-token');
    assert.equal(refusal(await verifier.verify(token)).reason, 'service account token has been invalidated');
  });

  test('a Node-bound token checks the node; a pod-bound token only records it', async () => {
    const w = world();
    const { token: nodeToken } = await issue(w, { boundTo: { node: { name: 'node-a', uid: 'node-uid-1' } } });
    const { token: podToken } = await issue(w);
    const verifier = createTokenVerifier(w.verifierOptions);
    w.objects.addNode('node-a', 'node-uid-2');
    assert.equal(
      refusal(await verifier.verify(nodeToken)).reason,
      'node UID (node-uid-2) does not match service account node ref claim (node-uid-1)',
    );
    assert.ok((await verifier.verify(podToken)).ok);
  });

  test('a failing lookup refuses the token instead of throwing', async () => {
    const w = world();
    const { token } = await issue(w);
    w.objects.failWith = new Error('store unavailable');
    const { foreign, reason } = refusal(await createTokenVerifier(w.verifierOptions).verify(token));
    assert.equal(foreign, false);
    assert.match(reason, /store unavailable/);
  });
});
