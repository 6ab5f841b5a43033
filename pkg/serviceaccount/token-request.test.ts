// `kubectl create token` and the kubelet's token requests: each case is a TokenRequest body
// and what kube-apiserver answers — the token and its expiry, or the error users see.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import type { ApiError } from '../errors/index.js';
import { parseClaims, type KubernetesClaim } from './claims.js';
import { DEFAULT_ISSUER, resolveTokenConfig, type ServiceAccountTokenConfig } from './config.js';
import { issue, refusal, world, type World } from './test-support.js';
import { bindableKind, createTokenRequest, validateTokenRequestSpec, type TokenRequest } from './token-request.js';
import { createTokenVerifier } from './verifier.js';

function config(more: Partial<ServiceAccountTokenConfig> = {}): ServiceAccountTokenConfig {
  const result = resolveTokenConfig();
  assert.ok(result.ok);
  return { ...result.config, ...more };
}

async function request(
  w: World,
  body: unknown,
  more: { name?: string; config?: Partial<ServiceAccountTokenConfig> } = {},
): ReturnType<typeof createTokenRequest> {
  return createTokenRequest({
    namespace: 'team',
    serviceAccountName: more.name ?? 'builder',
    body,
    lookup: w.objects,
    signer: w.signer,
    config: config(more.config),
    now: w.clock.now(),
  });
}

async function granted(w: World, body: unknown, more: Parameters<typeof request>[2] = {}): Promise<TokenRequest> {
  const outcome = await request(w, body, more);
  if (!outcome.ok) assert.fail(`refused: ${outcome.error.message}`);
  return outcome.tokenRequest;
}

async function refused(w: World, body: unknown, more: Parameters<typeof request>[2] = {}): Promise<ApiError> {
  const outcome = await request(w, body, more);
  if (outcome.ok) assert.fail('the request should have been refused');
  return outcome.error;
}

/** The kubernetes.io claim of a token, read without verifying it. */
function kubernetesClaim(token: string | undefined): KubernetesClaim {
  const claims = parseClaims(decodeJwt(token ?? ''));
  if (typeof claims === 'string') assert.fail(claims);
  return claims.kubernetes;
}

function spec(more: Record<string, unknown>): unknown {
  return { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: more };
}

describe('TokenRequest defaults and status', () => {
  test('an empty request gets the apiserver audiences, an hour, and a token that authenticates', async () => {
    const w = world();
    const out = await granted(w, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: {} });
    assert.deepEqual(out.metadata, { name: 'builder', namespace: 'team', creationTimestamp: '2026-11-29T12:00:00Z' });
    assert.deepEqual(out.spec, { audiences: [DEFAULT_ISSUER], expirationSeconds: 3600 });
    assert.equal(out.status?.expirationTimestamp, '2026-11-29T13:00:00Z');
    const token = out.status?.token ?? '';
    const claims = decodeJwt(token);
    assert.equal(claims.sub, 'system:serviceaccount:team:builder');
    assert.equal(claims.exp, Date.parse('2026-11-29T13:00:00Z') / 1000);
    const verified = await createTokenVerifier(w.verifierOptions).verify(token);
    assert.ok(verified.ok);
    assert.equal(verified.token.user.uid, 'sa-uid-1');
  });

  test('kubectl create token --duration 2h --audience vault', async () => {
    const w = world();
    const out = await granted(w, spec({ audiences: ['vault'], expirationSeconds: 7200 }));
    assert.deepEqual(decodeJwt(out.status?.token ?? '').aud, ['vault']);
    assert.equal(out.status?.expirationTimestamp, '2026-11-29T14:00:00Z');
  });

  test('a body without kind, apiVersion or spec is decoded with defaults', async () => {
    const w = world();
    const out = await granted(w, {});
    assert.deepEqual(out.spec.audiences, [DEFAULT_ISSUER]);
  });
});

describe('TokenRequest validation', () => {
  test('less than 10 minutes is invalid, with Kubernetes message; 10 minutes is fine', async () => {
    const w = world();
    const error = await refused(w, spec({ expirationSeconds: 599 }));
    assert.equal(error.reason, 'Invalid');
    assert.equal(error.code, 422);
    assert.equal(
      error.message,
      'TokenRequest "builder" is invalid: spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 10 minutes',
    );
    assert.ok((await request(w, spec({ expirationSeconds: 600 }))).ok);
  });

  test('more than 2^32 seconds is invalid', async () => {
    const causes = validateTokenRequestSpec({ audiences: [], expirationSeconds: 2 ** 32 + 1 });
    assert.deepEqual(causes, [
      {
        reason: 'FieldValueInvalid',
        field: 'spec.expirationSeconds',
        message: 'Invalid value: 4294967297: may not specify a duration larger than 2^32 seconds',
      },
    ]);
    assert.deepEqual(validateTokenRequestSpec({ audiences: [], expirationSeconds: 2 ** 32 }), []);
  });

  test('a bound object reference needs a name', () => {
    assert.deepEqual(validateTokenRequestSpec({ audiences: [], boundObjectRef: { kind: 'Pod', apiVersion: 'v1' } }), [
      { reason: 'FieldValueRequired', field: 'spec.boundObjectRef.name', message: 'Required value' },
    ]);
  });

  test('name and namespace in the body must match the URL', async () => {
    const w = world();
    const wrongName = await refused(w, { metadata: { name: 'other' }, spec: {} });
    assert.equal(
      wrongName.message,
      'TokenRequest "builder" is invalid: metadata.name: Invalid value: "other": must match the service account name if specified',
    );
    const wrongNamespace = await refused(w, { metadata: { namespace: 'kube-system' }, spec: {} });
    assert.match(wrongNamespace.message, /must match the service account namespace if specified/);
  });

  test('a missing ServiceAccount is NotFound', async () => {
    const error = await refused(world(), spec({}), { name: 'ghost' });
    assert.equal(error.reason, 'NotFound');
    assert.equal(error.message, 'serviceaccounts "ghost" not found');
  });

  test('bodies the decoder would refuse are BadRequest, not crashes', async () => {
    const w = world();
    for (const body of [
      null,
      'token please',
      [],
      { kind: 'Pod' },
      { apiVersion: 'v1' },
      { metadata: 'x' },
      { spec: 'x' },
      spec({ audiences: 'vault' }),
      spec({ audiences: [1] }),
      spec({ expirationSeconds: '3600' }),
      spec({ expirationSeconds: 3600.5 }),
      spec({ boundObjectRef: 'pod' }),
      spec({ boundObjectRef: { kind: 'Pod', name: 7 } }),
    ]) {
      const error = await refused(w, body);
      assert.equal(error.reason, 'BadRequest', JSON.stringify(body));
      assert.match(error.message, /^TokenRequest in version "v1" cannot be handled as a TokenRequest: /);
    }
  });
});

describe('bound tokens', () => {
  const podRef = { kind: 'Pod', apiVersion: 'v1', name: 'web-0', uid: 'pod-uid-1' };

  test('bound to a pod, the token names the pod and its node, and dies with the pod', async () => {
    const w = world();
    const out = await granted(w, spec({ boundObjectRef: podRef }));
    const token = out.status?.token ?? '';
    assert.deepEqual(decodeJwt(token)['kubernetes.io'], {
      namespace: 'team',
      serviceaccount: { name: 'builder', uid: 'sa-uid-1' },
      pod: { name: 'web-0', uid: 'pod-uid-1' },
      node: { name: 'node-a', uid: 'node-uid-1' },
    });
    const verifier = createTokenVerifier(w.verifierOptions);
    assert.ok((await verifier.verify(token)).ok);
    w.objects.pods.delete('team/web-0');
    assert.equal(refusal(await verifier.verify(token)).reason, 'service account token has been invalidated');
  });

  test('a pod on a node that is gone is still bound, without the node', async () => {
    const w = world();
    w.objects.nodes.delete('node-a');
    const out = await granted(w, spec({ boundObjectRef: { kind: 'Pod', name: 'web-0' } }));
    const claim = decodeJwt(out.status?.token ?? '')['kubernetes.io'];
    assert.deepEqual(claim, {
      namespace: 'team',
      serviceaccount: { name: 'builder', uid: 'sa-uid-1' },
      pod: { name: 'web-0', uid: 'pod-uid-1' },
    });
  });

  test('bound to a Secret or a Node', async () => {
    const w = world();
    const toSecret = await granted(
      w,
      spec({ boundObjectRef: { kind: 'Secret', apiVersion: 'v1', name: 'builder-token' } }),
    );
    assert.deepEqual(decodeJwt(toSecret.status?.token ?? '')['kubernetes.io'], {
      namespace: 'team',
      serviceaccount: { name: 'builder', uid: 'sa-uid-1' },
      secret: { name: 'builder-token', uid: 'secret-uid-1' },
    });
    const toNode = await granted(w, spec({ boundObjectRef: { kind: 'Node', apiVersion: 'v1', name: 'node-a' } }));
    assert.deepEqual(kubernetesClaim(toNode.status?.token).node, { name: 'node-a', uid: 'node-uid-1' });
  });

  test('a missing bound object is NotFound; a stale uid is a Conflict with Kubernetes message', async () => {
    const w = world();
    const missing = await refused(w, spec({ boundObjectRef: { ...podRef, name: 'web-9' } }));
    assert.equal(missing.reason, 'NotFound');
    assert.equal(missing.message, 'pods "web-9" not found');
    const stale = await refused(w, spec({ boundObjectRef: { ...podRef, uid: 'pod-uid-0' } }));
    assert.equal(stale.reason, 'Conflict');
    assert.equal(
      stale.message,
      'Operation cannot be fulfilled on Pod "web-0": the UID in the bound object reference (pod-uid-0) does not match the UID in record. The object might have been deleted and then recreated',
    );
  });

  test('a pod of another ServiceAccount cannot carry this one', async () => {
    const w = world();
    w.objects.addPod('team', 'other-0', { uid: 'pod-uid-9', serviceAccountName: 'default' });
    const error = await refused(w, spec({ boundObjectRef: { kind: 'Pod', name: 'other-0' } }));
    assert.equal(error.reason, 'BadRequest');
    assert.equal(
      error.message,
      'cannot bind token for serviceaccount "builder" to pod running with different serviceaccount name.',
    );
  });

  test('only core Pods, Secrets and Nodes can be bound', async () => {
    const w = world();
    const configMap = await refused(w, spec({ boundObjectRef: { kind: 'ConfigMap', apiVersion: 'v1', name: 'x' } }));
    assert.equal(configMap.message, 'cannot bind token to object of type /v1, Kind=ConfigMap');
    const appsPod = bindableKind({ kind: 'Pod', apiVersion: 'apps/v1', name: 'x' });
    assert.ok(typeof appsPod !== 'string');
    assert.equal(appsPod.message, 'cannot bind token to object of type apps/v1, Kind=Pod');
    assert.equal(bindableKind({ kind: 'Secret', name: 'x' }), 'Secret');
  });
});

describe('expiration caps and extension', () => {
  test('a configured maximum shortens the lifetime, with Kubernetes warning', async () => {
    const w = world();
    const outcome = await request(w, spec({ expirationSeconds: 7200 }), {
      config: { maxTokenExpirationSeconds: 3600 },
    });
    assert.ok(outcome.ok);
    assert.deepEqual(outcome.warnings, ['requested expiration of 7200 seconds shortened to 3600 seconds']);
    assert.equal(outcome.tokenRequest.spec.expirationSeconds, 3600);
    assert.equal(outcome.tokenRequest.status?.expirationTimestamp, '2026-11-29T13:00:00Z');
  });

  test("the kubelet's 3607-second pod-bound token lives a year but warns after 3607 seconds", async () => {
    const w = world();
    const out = await granted(w, spec({ expirationSeconds: 3607, boundObjectRef: { kind: 'Pod', name: 'web-0' } }));
    const claims = decodeJwt(out.status?.token ?? '');
    const iat = Date.parse('2026-11-29T12:00:00Z') / 1000;
    assert.equal(claims.exp, iat + 365 * 24 * 3600);
    assert.equal(kubernetesClaim(out.status?.token).warnafter, iat + 3607);
    assert.equal(out.status?.expirationTimestamp, '2026-11-29T13:00:07Z');
  });

  test('no extension for unbound tokens, foreign audiences, or with the flag off', async () => {
    const w = world();
    const pod = { kind: 'Pod', name: 'web-0' };
    const cases: [Record<string, unknown>, Partial<ServiceAccountTokenConfig>][] = [
      [{ expirationSeconds: 3607 }, {}],
      [{ expirationSeconds: 3607, boundObjectRef: pod, audiences: ['vault'] }, {}],
      [{ expirationSeconds: 3607, boundObjectRef: pod }, { extendTokenExpiration: false }],
    ];
    for (const [body, more] of cases) {
      const out = await granted(w, spec(body), { config: more });
      const claims = decodeJwt(out.status?.token ?? '');
      assert.equal(claims.exp, (claims.iat ?? 0) + 3607, JSON.stringify(body));
      assert.equal(kubernetesClaim(out.status?.token).warnafter, undefined);
    }
  });

  test('a token the TokenRequest issued for vault is refused by the apiserver itself', async () => {
    const w = world();
    const out = await granted(w, spec({ audiences: ['vault'] }));
    const result = await createTokenVerifier(w.verifierOptions).verify(out.status?.token ?? '');
    assert.match(refusal(result).reason, /is invalid for the target audiences/);
    // The same world's helper tokens still work: the refusal is about audience only.
    assert.ok((await createTokenVerifier(w.verifierOptions).verify((await issue(w)).token)).ok);
  });
});
