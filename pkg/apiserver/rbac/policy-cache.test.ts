// The RBAC policy cache over a real SQLite store and watch cache: a binding written is
// authorizing by the time its write is acknowledged, a deleted one stops at once, and
// malformed stored objects grant nothing.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { RESOURCES, storageKey, type KubeObject } from '../../api/index.js';
import { SqliteStore, WatchCache } from '../../storage/index.js';
import { authorizeRbac } from './authorizer.js';
import { RbacPolicyCache } from './policy-cache.js';

const dir = mkdtempSync(join(tmpdir(), 'rbac-cache-'));
let sqlite: SqliteStore;
let cache: WatchCache;
let policy: RbacPolicyCache;

before(async () => {
  sqlite = SqliteStore.open(dir);
  cache = await WatchCache.start(sqlite);
  policy = new RbacPolicyCache(cache);
  await policy.start();
});

after(async () => {
  policy.stop();
  await cache.close();
  rmSync(dir, { recursive: true, force: true });
});

const RBAC = 'rbac.authorization.k8s.io/v1';
const alice = { name: 'alice', groups: ['system:authenticated'] };
const listPods = { kind: 'resource' as const, verb: 'list', apiGroup: '', resource: 'pods', namespace: 'team' };

function binding(name: string, role: string): KubeObject {
  return {
    apiVersion: RBAC,
    kind: 'RoleBinding',
    metadata: { name, namespace: 'team' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
    subjects: [{ kind: 'User', name: 'alice' }],
  };
}

test('a binding grants from the moment its write is acknowledged until it is deleted', async () => {
  await cache.create(storageKey(RESOURCES.clusterroles, undefined, 'reader'), {
    apiVersion: RBAC,
    kind: 'ClusterRole',
    metadata: { name: 'reader' },
    rules: [{ verbs: ['list'], apiGroups: [''], resources: ['pods'] }],
  });
  assert.equal(authorizeRbac(policy, alice, listPods).allowed, false);
  const key = storageKey(RESOURCES.rolebindings, 'team', 'rb');
  await cache.create(key, binding('rb', 'reader'));
  assert.equal(authorizeRbac(policy, alice, listPods).allowed, true);
  await cache.delete(key);
  assert.equal(authorizeRbac(policy, alice, listPods).allowed, false);
});

test('malformed roles and bindings in the store grant nothing and break nothing', async () => {
  await cache.create(storageKey(RESOURCES.clusterroles, undefined, 'broken'), {
    apiVersion: RBAC,
    kind: 'ClusterRole',
    metadata: { name: 'broken' },
    rules: [{ verbs: 'list', apiGroups: [''], resources: ['pods'] }],
  });
  await cache.create(storageKey(RESOURCES.rolebindings, 'team', 'to-broken'), binding('to-broken', 'broken'));
  await cache.create(storageKey(RESOURCES.rolebindings, 'team', 'bad-ref'), {
    ...binding('bad-ref', 'reader'),
    roleRef: 'reader',
  });
  assert.equal(authorizeRbac(policy, alice, listPods).allowed, false);
  assert.deepEqual(
    policy.roleBindings('team').map((b) => b.metadata.name),
    ['to-broken'],
  );
});

test('a namespaced Role grants in its own namespace only, and stops when deleted; a binding list read earlier is not reused stale', async () => {
  const roleKey = (ns: string): string => storageKey(RESOURCES.roles, ns, 'pod-lister');
  const role = (ns: string): KubeObject => ({
    apiVersion: RBAC,
    kind: 'Role',
    metadata: { name: 'pod-lister', namespace: ns },
    rules: [{ verbs: ['list'], apiGroups: [''], resources: ['pods'] }],
  });
  const toRole: KubeObject = {
    apiVersion: RBAC,
    kind: 'RoleBinding',
    metadata: { name: 'to-role', namespace: 'team' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-lister' },
    subjects: [{ kind: 'User', name: 'alice' }],
  };
  const before = policy.roleBindings('team').length;
  await cache.create(storageKey(RESOURCES.rolebindings, 'team', 'to-role'), toRole);
  assert.equal(policy.roleBindings('team').length, before + 1);
  // The same Role name in another namespace is not the one the binding refers to.
  await cache.create(roleKey('elsewhere'), role('elsewhere'));
  assert.equal(authorizeRbac(policy, alice, listPods).allowed, false);
  await cache.create(roleKey('team'), role('team'));
  assert.equal(authorizeRbac(policy, alice, listPods).allowed, true);
  await cache.delete(roleKey('team'));
  assert.equal(authorizeRbac(policy, alice, listPods).allowed, false);
  await cache.delete(storageKey(RESOURCES.rolebindings, 'team', 'to-role'));
  assert.equal(policy.roleBindings('team').length, before);
});
