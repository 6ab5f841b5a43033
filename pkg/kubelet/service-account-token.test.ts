// Projected ServiceAccount tokens: requested bound to the pod, reused until 80 % of their life,
// refreshed after, kept while a refresh fails, and written with the CA and namespace files.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Pod } from '../api/types/index.js';
import { isObject } from '../api/meta.js';
import { PodTokens } from './service-account-token.js';
import { prepareVolumes } from './volumes.js';

const pod: Pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web', namespace: 'app', uid: 'u-1' },
  spec: {
    serviceAccountName: 'builder',
    containers: [{ name: 'c', image: 'i' }],
    volumes: [
      {
        name: 'kube-api-access-abcde',
        projected: {
          sources: [
            { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
            { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
            { downwardAPI: { items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }] } },
          ],
        },
      },
    ],
  },
};

function fakeApi(): { api: ConstructorParameters<typeof PodTokens>[0]; asked: unknown[]; fail: { now: boolean } } {
  const asked: unknown[] = [];
  const fail = { now: false };
  return {
    asked,
    fail,
    api: {
      createSubresource: async (_r, name, req) => {
        if (fail.now) throw new Error('apiserver unavailable');
        asked.push({ name, ...req });
        return { status: { token: `token-${asked.length}` } };
      },
    },
  };
}

test('a token is requested bound to the pod, reused until 80 % of its life, then refreshed', async () => {
  let now = 1_000_000;
  const { api, asked, fail } = fakeApi();
  const tokens = new PodTokens(api, { now: () => now });
  const first = await tokens.token(pod, { expirationSeconds: 3607 });
  assert.equal(first.token, 'token-1');
  const req = asked[0];
  assert.ok(isObject(req));
  assert.equal(req['name'], 'builder');
  assert.equal(req['subresource'], 'token');
  assert.deepEqual(isObject(req['body']) ? req['body']['spec'] : undefined, {
    audiences: [],
    expirationSeconds: 3607,
    boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: 'web', uid: 'u-1' },
  });
  now += 0.7 * 3607 * 1000;
  assert.equal((await tokens.token(pod, { expirationSeconds: 3607 })).token, 'token-1');
  now += 0.2 * 3607 * 1000;
  fail.now = true;
  assert.equal((await tokens.token(pod, { expirationSeconds: 3607 })).token, 'token-1', 'kept while refresh fails');
  fail.now = false;
  assert.equal((await tokens.token(pod, { expirationSeconds: 3607 })).token, 'token-2');
  tokens.forget('u-1');
  assert.equal((await tokens.token(pod, { expirationSeconds: 3607 })).token, 'token-3');
});

test('the kube-api-access volume holds the token, the CA and the namespace', async () => {
  const root = mkdtempSync(join(tmpdir(), 'sa-volume-'));
  try {
    const { api } = fakeApi();
    const reader = {
      get: async <T>(): Promise<T> => {
        const cm: unknown = { metadata: { name: 'kube-root-ca.crt' }, data: { 'ca.crt': 'PEM' } };
        return cm as T; // the fake serves one ConfigMap whatever is asked
      },
    };
    const dirs = await prepareVolumes(pod, reader, { rootDir: root, tokens: new PodTokens(api, { now: () => 0 }) });
    const dir = dirs.get('kube-api-access-abcde');
    assert.ok(dir);
    assert.equal(readFileSync(join(dir, 'token'), 'utf8'), 'token-1');
    assert.equal(readFileSync(join(dir, 'ca.crt'), 'utf8'), 'PEM');
    assert.equal(readFileSync(join(dir, 'namespace'), 'utf8'), 'app');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
