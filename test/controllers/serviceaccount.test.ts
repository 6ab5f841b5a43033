// ServiceAccount controller below end to end: every namespace gets a `default`
// ServiceAccount, and gets it back when it is deleted.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually } from '../harness/clients.js';
import { createNamespace, CR, isGone, useControllerPlane } from '../harness/controller-plane.js';

const cp = useControllerPlane(['serviceaccount']);

test('a new namespace gets a default ServiceAccount, recreated after deletion', async () => {
  const { client } = cp;
  await createNamespace(client, 'fresh');
  await eventually(async () => !(await isGone(client, CR.serviceaccounts, { name: 'default', namespace: 'fresh' })), {
    timeoutMs: 30_000,
    what: 'default ServiceAccount in fresh',
  });
  const sa = await client.get(CR.serviceaccounts, 'default', { namespace: 'fresh' });
  assert.equal(sa.metadata.namespace, 'fresh');
  const uid = sa.metadata.uid;
  await client.delete(CR.serviceaccounts, 'default', { namespace: 'fresh' });
  await eventually(
    async () => {
      try {
        return (await client.get(CR.serviceaccounts, 'default', { namespace: 'fresh' })).metadata.uid !== uid;
      } catch {
        return false;
      }
    },
    { timeoutMs: 30_000, what: 'default ServiceAccount recreated' },
  );
});
