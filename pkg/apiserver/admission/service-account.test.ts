// ServiceAccount admission: the account defaulted and checked, the projected access volume
// added and mounted everywhere unless opted out or already mounted.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod, ServiceAccount } from '../../api/index.js';
import { ApiError } from '../../errors/index.js';
import { admitServiceAccount, SERVICE_ACCOUNT_MOUNT_PATH, type ServiceAccountLookup } from './service-account.js';

const accounts = (...sas: ServiceAccount[]): ServiceAccountLookup => {
  return async (ns, name) => sas.find((s) => s.metadata.namespace === ns && s.metadata.name === name);
};
const sa = (name: string, automount?: boolean): ServiceAccount => ({
  apiVersion: 'v1',
  kind: 'ServiceAccount',
  metadata: { name, namespace: 'app' },
  ...(automount === undefined ? {} : { automountServiceAccountToken: automount }),
});
const pod = (spec: Partial<NonNullable<Pod['spec']>> = {}): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', namespace: 'app' },
  spec: { containers: [{ name: 'a', image: 'i' }], initContainers: [{ name: 'init', image: 'i' }], ...spec },
});

test('a pod runs as default and gets the kube-api-access volume in every container', async () => {
  const out = await admitServiceAccount(pod(), accounts(sa('default')));
  assert.equal(out.spec?.serviceAccountName, 'default');
  const vol = out.spec?.volumes?.find((v) => v.name.startsWith('kube-api-access-'));
  assert.ok(vol);
  assert.match(vol.name, /^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  const sources = vol.projected?.sources ?? [];
  assert.deepEqual(sources[0], { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } });
  assert.equal(sources[1]?.configMap?.name, 'kube-root-ca.crt');
  assert.equal(sources[2]?.downwardAPI?.items?.[0]?.fieldRef?.fieldPath, 'metadata.namespace');
  for (const c of [...(out.spec?.containers ?? []), ...(out.spec?.initContainers ?? [])]) {
    assert.deepEqual(c.volumeMounts, [{ name: vol.name, mountPath: SERVICE_ACCOUNT_MOUNT_PATH, readOnly: true }]);
  }
});

test('automount false on the pod or the account, or an existing mount, adds nothing', async () => {
  const off = await admitServiceAccount(pod({ automountServiceAccountToken: false }), accounts(sa('default')));
  assert.equal(off.spec?.volumes, undefined);
  const saOff = await admitServiceAccount(pod({ serviceAccountName: 'quiet' }), accounts(sa('quiet', false)));
  assert.equal(saOff.spec?.volumes, undefined);
  const podWins = await admitServiceAccount(
    pod({ serviceAccountName: 'quiet', automountServiceAccountToken: true }),
    accounts(sa('quiet', false)),
  );
  assert.equal(podWins.spec?.volumes?.length, 1);
  const own = { name: 'mine', mountPath: SERVICE_ACCOUNT_MOUNT_PATH };
  const mounted = await admitServiceAccount(
    pod({ containers: [{ name: 'a', image: 'i', volumeMounts: [own] }], initContainers: [] }),
    accounts(sa('default')),
  );
  assert.equal(mounted.spec?.volumes, undefined);
});

test('a named account that does not exist is refused; a missing default is let through', async () => {
  await assert.rejects(
    admitServiceAccount(pod({ serviceAccountName: 'ghost' }), accounts()),
    (err: unknown) =>
      err instanceof ApiError &&
      err.code === 403 &&
      err.message ===
        'pods "p" is forbidden: error looking up service account app/ghost: serviceaccount "ghost" not found',
  );
  const early = await admitServiceAccount(pod(), accounts());
  assert.equal(early.spec?.serviceAccountName, 'default');
});
