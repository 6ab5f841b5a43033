import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  bootstrapTokenSecret,
  generateBootstrapToken,
  isExpired,
  parseBootstrapTokenSecret,
  signDetached,
  verifyDetached,
} from './token.js';

test('a generated token round-trips through its Secret, with expiry', () => {
  const { id, secret, token } = generateBootstrapToken();
  assert.match(token, /^[a-z0-9]{6}\.[a-z0-9]{16}$/);
  const now = new Date('2026-01-01T00:00:00Z');
  const parsed = parseBootstrapTokenSecret(bootstrapTokenSecret(id, secret, { ttlSeconds: 60, now }));
  assert.ok(parsed);
  assert.equal(parsed.id, id);
  assert.deepEqual(parsed.usages, ['authentication', 'signing']);
  assert.equal(isExpired(parsed, new Date('2026-01-01T00:00:59Z')), false);
  assert.equal(isExpired(parsed, new Date('2026-01-01T00:01:00Z')), true);
  const forever = parseBootstrapTokenSecret(bootstrapTokenSecret(id, secret, { ttlSeconds: 0 }));
  assert.equal(forever?.expiration, undefined);
});

test('a Secret with another name, type or a malformed token is not a bootstrap token', () => {
  const s = bootstrapTokenSecret('abcdef', '0123456789abcdef', { ttlSeconds: 0 });
  assert.equal(parseBootstrapTokenSecret({ ...s, type: 'Opaque' }), undefined);
  assert.equal(
    parseBootstrapTokenSecret({ ...s, metadata: { ...s.metadata, name: 'bootstrap-token-zzzzzz' } }),
    undefined,
  );
  assert.equal(
    parseBootstrapTokenSecret(bootstrapTokenSecret('ABCDEF', '0123456789abcdef', { ttlSeconds: 0 })),
    undefined,
  );
  assert.equal(parseBootstrapTokenSecret({ ...s, data: { 'token-id': 42, 'token-secret': null } }), undefined);
  assert.equal(parseBootstrapTokenSecret({ ...s, data: 'not a map' }), undefined);
});

test('a detached JWS verifies only for the same content and token', async () => {
  const jws = await signDetached('kubeconfig text', 'abcdef', '0123456789abcdef');
  assert.match(jws, /^[^.]+\.\.[^.]+$/);
  assert.equal(await verifyDetached(jws, 'kubeconfig text', { id: 'abcdef', secret: '0123456789abcdef' }), true);
  assert.equal(await verifyDetached(jws, 'kubeconfig text!', { id: 'abcdef', secret: '0123456789abcdef' }), false);
  assert.equal(await verifyDetached(jws, 'kubeconfig text', { id: 'abcdef', secret: '0000000000000000' }), false);
});
