// One identity per controller (--use-service-account-credentials, on by default): the
// ReplicaSet controller writes as its own ServiceAccount, which may create pods but not read
// Secrets, and the controller-manager's certificate no longer deletes what users own.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { RESOURCES } from '../pkg/api/registry.js';
import { loadKubeconfig, RestClient } from '../pkg/client/index.js';
import { ApiError } from '../pkg/errors/index.js';
import { adminClient, eventually } from './harness/clients.js';
import { startControlPlane, type ControlPlane } from './harness/control-plane.js';
import { createNamespace, template } from './harness/controller-plane.js';
import { runRoot } from './harness/run-root.js';

const NS = 'identity';
const RS_USER = 'system:serviceaccount:kube-system:replicaset-controller';
let plane: ControlPlane;
let admin: RestClient;
let dir: string;

before(async () => {
  dir = mkdtempSync(join(runRoot(), 'identity-'));
  writeFileSync(
    join(dir, 'policy.yaml'),
    'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: Metadata\n    resources:\n      - group: ""\n        resources: ["pods"]\n  - level: None\n',
  );
  plane = await startControlPlane({
    withControllers: true,
    controllerManagerArgs: ['--controllers', 'replicaset,deployment'],
    extraArgs: ['--audit-policy-file', join(dir, 'policy.yaml'), '--audit-log-path', join(dir, 'audit.log')],
  });
  admin = adminClient(plane);
  await createNamespace(admin, NS);
});

after(async () => {
  admin.close();
  await plane.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Audit events (JSON lines) for creating pods in NS. */
function podCreations(): { user: string; code: number }[] {
  const lines = readFileSync(join(dir, 'audit.log'), 'utf8').split('\n');
  const out: { user: string; code: number }[] = [];
  for (const line of lines) {
    if (line.trim() === '') continue;
    const e: unknown = JSON.parse(line);
    if (typeof e !== 'object' || e === null || !('verb' in e) || e.verb !== 'create') continue;
    if (!('stage' in e) || e.stage !== 'ResponseComplete') continue;
    if (!('objectRef' in e) || typeof e.objectRef !== 'object' || e.objectRef === null) continue;
    if (!('namespace' in e.objectRef) || e.objectRef.namespace !== NS) continue;
    const user =
      'user' in e && typeof e.user === 'object' && e.user !== null && 'username' in e.user ? e.user.username : '';
    const status =
      'responseStatus' in e && typeof e.responseStatus === 'object' && e.responseStatus !== null
        ? e.responseStatus
        : {};
    out.push({ user: String(user), code: 'code' in status ? Number(status.code) : 0 });
  }
  return out;
}

test('a Deployment rolls out, its pods created by the ReplicaSet controller as its own ServiceAccount', async () => {
  await admin.create(
    RESOURCES.deployments,
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: template('web') },
    },
    { namespace: NS },
  );
  await eventually(
    async () => (await admin.list(RESOURCES.pods, { namespace: NS, labelSelector: 'app=web' })).items.length === 2,
    {
      what: '2 pods of web',
    },
  );
  await eventually(() => podCreations().length >= 2, { what: 'the pod creations in the audit log' });
  const creations = podCreations();
  assert.ok(creations.length >= 2);
  for (const c of creations) assert.deepEqual(c, { user: RS_USER, code: 201 });
});

test("the ReplicaSet controller's token may create pods but not read Secrets", async () => {
  const reply = await admin.createSubresource(RESOURCES.serviceaccounts, 'replicaset-controller', {
    subresource: 'token',
    namespace: 'kube-system',
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 600 } },
  });
  const status: unknown = reply['status'];
  const token = typeof status === 'object' && status !== null && 'token' in status ? String(status.token) : '';
  assert.notEqual(token, '');
  const asRs = new RestClient({ ...admin.config, certPem: undefined, keyPem: undefined, token });
  try {
    const review = async (verb: string, resource: string): Promise<unknown> => {
      const r = await asRs.requestJson<Record<string, unknown>>({
        method: 'POST',
        path: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: { resourceAttributes: { namespace: NS, verb, resource } },
        },
      });
      const s = r['status'];
      return typeof s === 'object' && s !== null && 'allowed' in s ? s.allowed : undefined;
    };
    assert.equal(await review('create', 'pods'), true);
    assert.equal(await review('get', 'secrets'), false);
    await assert.rejects(
      asRs.list(RESOURCES.secrets, { namespace: NS }),
      (e) => e instanceof ApiError && e.code === 403,
    );
  } finally {
    asRs.close();
  }
});

test("the controller-manager's own certificate can no longer delete a Deployment", async () => {
  const cm = new RestClient(loadKubeconfig({ path: plane.pki.controllerManagerKubeconfig }));
  try {
    await assert.rejects(
      cm.delete(RESOURCES.deployments, 'web', { namespace: NS }),
      (e) => e instanceof ApiError && e.code === 403,
    );
    const still = await admin.get(RESOURCES.deployments, 'web', { namespace: NS });
    assert.equal(still.metadata.deletionTimestamp, undefined);
  } finally {
    cm.close();
  }
});

test('without ServiceAccount tokens the controllers fall back to the controller-manager identity and still work', async () => {
  const bare = await startControlPlane({
    withControllers: true,
    serviceAccountTokens: false,
    controllerManagerArgs: ['--controllers', 'replicaset'],
  });
  const client = adminClient(bare);
  try {
    await createNamespace(client, NS);
    await client.create(
      RESOURCES.replicasets,
      {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: { name: 'plain' },
        spec: { replicas: 1, selector: { matchLabels: { app: 'plain' } }, template: template('plain') },
      },
      { namespace: NS },
    );
    await eventually(
      async () => (await client.list(RESOURCES.pods, { namespace: NS, labelSelector: 'app=plain' })).items.length === 1,
      { what: 'the pod of plain' },
    );
  } finally {
    client.close();
    await bare.stop();
  }
});
