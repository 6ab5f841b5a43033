// CustomResourceDefinitions with two apiservers on one real etcd: each learns CRDs from its
// watch of the store, not only from its own writes. A CRD created through A is served by B
// (validation and defaults included) and its objects are shared; deleted through B, A stops
// serving it and its objects are gone from the store.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { customResourcesOf } from '../pkg/api/custom-resources.js';
import { RESOURCES, type ResourceInfo } from '../pkg/api/registry.js';
import type { CustomResourceDefinition } from '../pkg/api/types/apiextensions.js';
import { ApiError } from '../pkg/errors/index.js';
import { loadKubeconfig, RestClient } from '../pkg/client/index.js';
import { eventually } from './harness/clients.js';
import { startControlPlane, type ControlPlane, type ExtraApiserver } from './harness/control-plane.js';

let plane: ControlPlane;
let second: ExtraApiserver;
let clientA: RestClient;
let clientB: RestClient;

const clientFor = (server: string): RestClient =>
  new RestClient({ ...loadKubeconfig({ path: plane.pki.adminKubeconfig }), server });

const CRD: CustomResourceDefinition = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'gizmos.ha.example.com' },
  spec: {
    group: 'ha.example.com',
    scope: 'Cluster',
    names: { plural: 'gizmos', kind: 'Gizmo' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                properties: { level: { type: 'integer', maximum: 5, default: 2 } },
              },
            },
          },
        },
      },
    ],
  },
};

before(async () => {
  plane = await startControlPlane({ etcd: true });
  second = await plane.addApiserver();
  clientA = clientFor(plane.server);
  clientB = clientFor(second.server);
});

after(async () => {
  await plane.stop();
});

function gizmos(): ResourceInfo {
  const r = customResourcesOf(CRD)[0];
  assert.ok(r !== undefined);
  return r;
}

async function status(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 200;
  } catch (err) {
    if (err instanceof ApiError) return err.code;
    throw err;
  }
}

test('a CRD created through one apiserver is served by the other, cluster-scoped, with its schema', async () => {
  await clientA.create(RESOURCES.customresourcedefinitions, CRD);
  const r = gizmos();
  await eventually(async () => (await status(clientB.list(r))) === 200, { what: 'B serves gizmos' });
  const created = await clientB.create(r, {
    apiVersion: 'ha.example.com/v1',
    kind: 'Gizmo',
    metadata: { name: 'g1' },
    spec: {},
  });
  assert.deepEqual(created['spec'], { level: 2 });
  assert.equal(
    await status(
      clientB.create(r, {
        apiVersion: 'ha.example.com/v1',
        kind: 'Gizmo',
        metadata: { name: 'g2' },
        spec: { level: 9 },
      }),
    ),
    422,
  );
  const fromA = await clientA.get(r, 'g1');
  assert.equal(fromA.metadata.uid, created.metadata.uid);
});

test('a CRD deleted through one apiserver takes its objects and stops being served by the other', async () => {
  const r = gizmos();
  await clientB.delete(RESOURCES.customresourcedefinitions, 'gizmos.ha.example.com');
  await eventually(
    async () => (await status(clientA.get(RESOURCES.customresourcedefinitions, 'gizmos.ha.example.com'))) === 404,
    {
      what: 'the CRD is gone',
    },
  );
  await eventually(async () => (await status(clientA.list(r))) === 404, { what: 'A stops serving gizmos' });
  // Created again, through A: the old object is gone from the store.
  await clientA.create(RESOURCES.customresourcedefinitions, CRD);
  await eventually(async () => (await status(clientB.list(r))) === 200, { what: 'B serves gizmos again' });
  assert.equal(await status(clientB.get(r, 'g1')), 404);
});
