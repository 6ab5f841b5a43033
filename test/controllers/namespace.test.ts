// Namespace controller below end to end: deleting a namespace deletes what it holds and then
// finalizes it, so the namespace goes; another namespace is left alone.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually } from '../harness/clients.js';
import { createNamespace, CR, isGone, podSpec, useControllerPlane } from '../harness/controller-plane.js';

const cp = useControllerPlane(['namespace']);

test('a deleted namespace loses its contents and is finalized; its neighbour keeps its own', async () => {
  const { client } = cp;
  for (const ns of ['doomed', 'neighbour']) {
    await createNamespace(client, ns);
    await client.create(
      CR.configmaps,
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data: { a: '1' } },
      { namespace: ns },
    );
    await client.create(
      CR.secrets,
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'keys' }, stringData: { k: 'v' } },
      { namespace: ns },
    );
    await client.create(
      CR.pods,
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: podSpec() },
      { namespace: ns },
    );
  }
  await client.delete(CR.namespaces, 'doomed');
  await eventually(() => isGone(client, CR.namespaces, { name: 'doomed' }), {
    timeoutMs: 60_000,
    intervalMs: 200,
    what: 'namespace doomed gone',
  });
  for (const [r, name] of [
    [CR.configmaps, 'settings'],
    [CR.secrets, 'keys'],
    [CR.pods, 'p'],
  ] as const) {
    assert.equal((await client.list(r, { namespace: 'doomed' })).items.length, 0, `no ${r.plural} left in doomed`);
    assert.equal(
      await isGone(client, r, { name, namespace: 'neighbour' }),
      false,
      `${r.plural}/${name} kept in neighbour`,
    );
  }
  const neighbour = await client.get(CR.namespaces, 'neighbour');
  assert.equal(neighbour.metadata.deletionTimestamp, undefined);
});
