// The default policy reconciler: creates what is missing, repairs what autoupdate defaults lost,
// keeps what admins added, leaves alone what admins own, and is idempotent.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from '../../api/index.js';
import {
  AUTOUPDATE_ANNOTATION,
  defaultClusterRoleBindings,
  defaultClusterRoles,
  defaultNamespacedPolicy,
} from './bootstrap-policy.js';
import { reconcileDefaultPolicy, type PolicyWriter } from './reconcile.js';

type PolicyObject = ClusterRole | ClusterRoleBinding | Role | RoleBinding;

/** One map per kind, keyed by namespace/name, as a store would be. */
class MemoryWriter implements PolicyWriter {
  readonly clusterRoles = new Map<string, ClusterRole>();
  readonly clusterRoleBindings = new Map<string, ClusterRoleBinding>();
  readonly roles = new Map<string, Role>();
  readonly roleBindings = new Map<string, RoleBinding>();
  getClusterRole = async (name: string): Promise<ClusterRole | undefined> => copy(this.clusterRoles.get(name));
  getClusterRoleBinding = async (name: string): Promise<ClusterRoleBinding | undefined> =>
    copy(this.clusterRoleBindings.get(name));
  getRole = async (ns: string, name: string): Promise<Role | undefined> => copy(this.roles.get(`${ns}/${name}`));
  getRoleBinding = async (ns: string, name: string): Promise<RoleBinding | undefined> =>
    copy(this.roleBindings.get(`${ns}/${name}`));
  create = async (obj: PolicyObject): Promise<void> => this.put(obj);
  update = async (obj: PolicyObject): Promise<void> => this.put(obj);
  private put(obj: PolicyObject): void {
    const name = obj.metadata.name ?? '';
    const nsName = `${obj.metadata.namespace ?? ''}/${name}`;
    if (isClusterRoleBinding(obj)) this.clusterRoleBindings.set(name, structuredClone(obj));
    else if (isRoleBinding(obj)) this.roleBindings.set(nsName, structuredClone(obj));
    else if (obj.kind === 'Role') this.roles.set(nsName, structuredClone(obj));
    else this.clusterRoles.set(name, structuredClone(obj));
  }
}

const copy = <T>(o: T | undefined): T | undefined => (o === undefined ? undefined : structuredClone(o));
const isClusterRoleBinding = (o: PolicyObject): o is ClusterRoleBinding => o.kind === 'ClusterRoleBinding';
const isRoleBinding = (o: PolicyObject): o is RoleBinding => o.kind === 'RoleBinding';

test('an empty cluster gets every default; a second run changes nothing', async () => {
  const w = new MemoryWriter();
  const first = await reconcileDefaultPolicy(w);
  const namespaced = defaultNamespacedPolicy();
  const total =
    defaultClusterRoles().length +
    defaultClusterRoleBindings().length +
    namespaced.roles.length +
    namespaced.roleBindings.length;
  assert.equal(first.created.length, total);
  assert.ok(first.created.includes('rolebinding/kube-public/kubeadm:bootstrap-signer-clusterinfo'));
  assert.ok(first.created.includes('clusterrole/cluster-admin'));
  assert.ok(first.created.includes('clusterrolebinding/system:basic-user'));
  assert.deepEqual(await reconcileDefaultPolicy(w), { created: [], updated: [] });
});

test('lost permissions and subjects come back; what an admin added stays', async () => {
  const w = new MemoryWriter();
  await reconcileDefaultPolicy(w);
  const scheduler = w.clusterRoles.get('system:kube-scheduler');
  assert.ok(scheduler);
  const extra = { verbs: ['get'], apiGroups: ['example.com'], resources: ['widgets'] };
  w.clusterRoles.set('system:kube-scheduler', { ...scheduler, rules: [extra] });
  const basic = w.clusterRoleBindings.get('system:basic-user');
  assert.ok(basic);
  w.clusterRoleBindings.set('system:basic-user', { ...basic, subjects: [{ kind: 'User', name: 'carol' }] });

  const report = await reconcileDefaultPolicy(w);
  assert.deepEqual(report.updated.sort(), [
    'clusterrole/system:kube-scheduler',
    'clusterrolebinding/system:basic-user',
  ]);
  const rules = w.clusterRoles.get('system:kube-scheduler')?.rules ?? [];
  assert.deepEqual(rules[0], extra);
  assert.ok(rules.length > 1);
  const subjects = (w.clusterRoleBindings.get('system:basic-user')?.subjects ?? []).map((s) => s.name);
  assert.deepEqual(subjects, ['carol', 'system:authenticated']);
});

test('a default an admin marked autoupdate=false is left as the admin wrote it', async () => {
  const w = new MemoryWriter();
  await reconcileDefaultPolicy(w);
  const view = w.clusterRoles.get('system:aggregate-to-view');
  assert.ok(view);
  const owned: ClusterRole = {
    ...view,
    metadata: { ...view.metadata, annotations: { [AUTOUPDATE_ANNOTATION]: 'false' } },
    rules: [],
  };
  w.clusterRoles.set('system:aggregate-to-view', owned);
  assert.deepEqual(await reconcileDefaultPolicy(w), { created: [], updated: [] });
  assert.deepEqual(w.clusterRoles.get('system:aggregate-to-view')?.rules, []);
});

test('aggregated roles get their selectors back but their rules are left to aggregation', async () => {
  const w = new MemoryWriter();
  await reconcileDefaultPolicy(w);
  const edit = w.clusterRoles.get('edit');
  assert.ok(edit);
  const withoutSelectors: ClusterRole = { ...edit, rules: [] };
  delete withoutSelectors.aggregationRule;
  w.clusterRoles.set('edit', withoutSelectors);
  const report = await reconcileDefaultPolicy(w);
  assert.deepEqual(report.updated, ['clusterrole/edit']);
  assert.ok(w.clusterRoles.get('edit')?.aggregationRule);
  assert.deepEqual(w.clusterRoles.get('edit')?.rules, []);
});
