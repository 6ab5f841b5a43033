// The default policy reconciler: creates what is missing, repairs what autoupdate defaults lost,
// keeps what admins added, leaves alone what admins own, and is idempotent.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ClusterRole, ClusterRoleBinding } from '../../api/index.js';
import { AUTOUPDATE_ANNOTATION, defaultClusterRoleBindings, defaultClusterRoles } from './bootstrap-policy.js';
import { reconcileDefaultPolicy, type PolicyWriter } from './reconcile.js';

const isBinding = (o: ClusterRole | ClusterRoleBinding): o is ClusterRoleBinding => o.kind === 'ClusterRoleBinding';

class MemoryWriter implements PolicyWriter {
  readonly roles = new Map<string, ClusterRole>();
  readonly bindings = new Map<string, ClusterRoleBinding>();
  getClusterRole = async (name: string): Promise<ClusterRole | undefined> => this.roles.get(name);
  getClusterRoleBinding = async (name: string): Promise<ClusterRoleBinding | undefined> => this.bindings.get(name);
  create = async (obj: ClusterRole | ClusterRoleBinding): Promise<void> => this.put(obj);
  update = async (obj: ClusterRole | ClusterRoleBinding): Promise<void> => this.put(obj);
  private put(obj: ClusterRole | ClusterRoleBinding): void {
    const name = obj.metadata.name ?? '';
    if (isBinding(obj)) this.bindings.set(name, structuredClone(obj));
    else this.roles.set(name, structuredClone(obj));
  }
}

test('an empty cluster gets every default; a second run changes nothing', async () => {
  const w = new MemoryWriter();
  const first = await reconcileDefaultPolicy(w);
  assert.equal(first.created.length, defaultClusterRoles().length + defaultClusterRoleBindings().length);
  assert.ok(first.created.includes('clusterrole/cluster-admin'));
  assert.ok(first.created.includes('clusterrolebinding/system:basic-user'));
  assert.deepEqual(await reconcileDefaultPolicy(w), { created: [], updated: [] });
});

test('lost permissions and subjects come back; what an admin added stays', async () => {
  const w = new MemoryWriter();
  await reconcileDefaultPolicy(w);
  const scheduler = w.roles.get('system:kube-scheduler');
  assert.ok(scheduler);
  const extra = { verbs: ['get'], apiGroups: ['example.com'], resources: ['widgets'] };
  w.roles.set('system:kube-scheduler', { ...scheduler, rules: [extra] });
  const basic = w.bindings.get('system:basic-user');
  assert.ok(basic);
  w.bindings.set('system:basic-user', { ...basic, subjects: [{ kind: 'User', name: 'carol' }] });

  const report = await reconcileDefaultPolicy(w);
  assert.deepEqual(report.updated.sort(), [
    'clusterrole/system:kube-scheduler',
    'clusterrolebinding/system:basic-user',
  ]);
  const rules = w.roles.get('system:kube-scheduler')?.rules ?? [];
  assert.deepEqual(rules[0], extra);
  assert.ok(rules.length > 1);
  const subjects = (w.bindings.get('system:basic-user')?.subjects ?? []).map((s) => s.name);
  assert.deepEqual(subjects, ['carol', 'system:authenticated']);
});

test('a default an admin marked autoupdate=false is left as the admin wrote it', async () => {
  const w = new MemoryWriter();
  await reconcileDefaultPolicy(w);
  const view = w.roles.get('system:aggregate-to-view');
  assert.ok(view);
  const owned: ClusterRole = {
    ...view,
    metadata: { ...view.metadata, annotations: { [AUTOUPDATE_ANNOTATION]: 'false' } },
    rules: [],
  };
  w.roles.set('system:aggregate-to-view', owned);
  assert.deepEqual(await reconcileDefaultPolicy(w), { created: [], updated: [] });
  assert.deepEqual(w.roles.get('system:aggregate-to-view')?.rules, []);
});

test('aggregated roles get their selectors back but their rules are left to aggregation', async () => {
  const w = new MemoryWriter();
  await reconcileDefaultPolicy(w);
  const edit = w.roles.get('edit');
  assert.ok(edit);
  const withoutSelectors: ClusterRole = { ...edit, rules: [] };
  delete withoutSelectors.aggregationRule;
  w.roles.set('edit', withoutSelectors);
  const report = await reconcileDefaultPolicy(w);
  assert.deepEqual(report.updated, ['clusterrole/edit']);
  assert.ok(w.roles.get('edit')?.aggregationRule);
  assert.deepEqual(w.roles.get('edit')?.rules, []);
});
