// Bootstrap signer and token cleaner below end to end: a bootstrap token allowed to sign gets
// its JWS signature of kube-public/cluster-info, which verifies with the token; an expired
// token Secret is deleted (token cleaner) and its signature removed (signer); a token that
// does not expire is kept.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  bootstrapTokenSecret,
  bootstrapTokenSecretName,
  CLUSTER_INFO,
  generateBootstrapToken,
  JWS_KEY_PREFIX,
  verifyDetached,
} from '../../pkg/bootstrap/index.js';
import { eventually } from '../harness/clients.js';
import { CR, isGone, useControllerPlane } from '../harness/controller-plane.js';

const cp = useControllerPlane(['bootstrapsigner', 'tokencleaner']);

async function clusterInfo(): Promise<Record<string, string>> {
  const cm = await cp.client.get(CR.configmaps, CLUSTER_INFO.name, { namespace: CLUSTER_INFO.namespace });
  const data = cm['data'];
  const out: Record<string, string> = {};
  if (typeof data === 'object' && data !== null)
    for (const [k, v] of Object.entries(data)) if (typeof v === 'string') out[k] = v;
  return out;
}

test('bootstrap signer: cluster-info gets a signature for a signing token that verifies with it', async () => {
  const { id, secret } = generateBootstrapToken();
  await cp.client.create(CR.secrets, bootstrapTokenSecret(id, secret, { ttlSeconds: 0 }), { namespace: 'kube-system' });
  await eventually(async () => (await clusterInfo())[`${JWS_KEY_PREFIX}${id}`] !== undefined, {
    what: 'signature for the token',
  });
  const data = await clusterInfo();
  const kubeconfig = data['kubeconfig'] ?? '';
  assert.ok(
    await verifyDetached(data[`${JWS_KEY_PREFIX}${id}`] ?? '', kubeconfig, { id, secret }),
    'the signature verifies with the token',
  );
  assert.equal(
    await verifyDetached(data[`${JWS_KEY_PREFIX}${id}`] ?? '', kubeconfig, { id, secret: 'x'.repeat(16) }),
    false,
    'and not with another secret',
  );

  await cp.client.delete(CR.secrets, bootstrapTokenSecretName(id), { namespace: 'kube-system' });
  await eventually(async () => (await clusterInfo())[`${JWS_KEY_PREFIX}${id}`] === undefined, {
    what: 'signature removed with the token',
  });
});

test('token cleaner: an expired token Secret is deleted and its signature dropped; a lasting one is kept', async () => {
  const lasting = generateBootstrapToken();
  const brief = generateBootstrapToken();
  await cp.client.create(CR.secrets, bootstrapTokenSecret(lasting.id, lasting.secret, { ttlSeconds: 0 }), {
    namespace: 'kube-system',
  });
  // Expires 2 s from now: the controllers act on its expiry, the test only observes.
  await cp.client.create(CR.secrets, bootstrapTokenSecret(brief.id, brief.secret, { ttlSeconds: 2 }), {
    namespace: 'kube-system',
  });
  await eventually(
    () => isGone(cp.client, CR.secrets, { name: bootstrapTokenSecretName(brief.id), namespace: 'kube-system' }),
    {
      timeoutMs: 30_000,
      intervalMs: 200,
      what: 'expired token Secret deleted',
    },
  );
  await eventually(
    async () => {
      const data = await clusterInfo();
      return data[`${JWS_KEY_PREFIX}${brief.id}`] === undefined && data[`${JWS_KEY_PREFIX}${lasting.id}`] !== undefined;
    },
    { what: 'only the lasting token signs cluster-info' },
  );
  assert.equal(
    await isGone(cp.client, CR.secrets, { name: bootstrapTokenSecretName(lasting.id), namespace: 'kube-system' }),
    false,
    'the lasting token is kept',
  );
});
