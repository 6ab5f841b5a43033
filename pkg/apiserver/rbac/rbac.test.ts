// RBAC's rule matching, bindings, escalation checks, aggregation and default policy, as
// Kubernetes decides them: each case names a request and the answer kube-apiserver gives.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PolicyRule } from '../../api/index.js';
import type { UserInfo } from '../authn.js';
import { aggregatedRules, type AggregationView } from '../../api/rbac-aggregation.js';
import {
  authorizeRbac,
  rulesFor,
  serviceAccountUser,
  type BindingRef,
  type PolicySource,
  type RoleRules,
} from './authorizer.js';
import {
  CONTROLLER_SERVICE_ACCOUNTS,
  defaultClusterRoleBindings,
  defaultClusterRoles,
  defaultNamespacedPolicy,
  SHARED_CONTROLLERS_ROLE,
} from './bootstrap-policy.js';
import { describeRule, uncoveredRules } from './escalation.js';
import { ruleAllows, type Attributes, type ResourceAttributes } from './rules.js';

function res(verb: string, resource: string, more: Partial<ResourceAttributes> = {}): Attributes {
  return { kind: 'resource', verb, apiGroup: '', resource, ...more };
}

function url(verb: string, path: string): Attributes {
  return { kind: 'nonResource', verb, path };
}

/** A policy source over plain arrays (objects without apiVersion/kind: the authorizer does not read them). */
function source(objs: {
  roles?: RoleRules[];
  clusterRoles?: RoleRules[];
  roleBindings?: BindingRef[];
  clusterRoleBindings?: BindingRef[];
}): PolicySource {
  return {
    role: (ns, name) => objs.roles?.find((r) => r.metadata.namespace === ns && r.metadata.name === name),
    clusterRole: (name) => objs.clusterRoles?.find((r) => r.metadata.name === name),
    roleBindings: (ns) => (objs.roleBindings ?? []).filter((b) => b.metadata.namespace === ns),
    clusterRoleBindings: () => objs.clusterRoleBindings ?? [],
  };
}

const alice: UserInfo = { name: 'alice', groups: ['system:authenticated'] };
const nobody: UserInfo = { name: 'nobody', groups: ['system:authenticated'] };
const anonymous: UserInfo = { name: 'system:anonymous', groups: ['system:unauthenticated'] };
const admin: UserInfo = { name: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] };

describe('one rule against one request', () => {
  test('verbs, groups and resources match exactly or by *', () => {
    const r: PolicyRule = { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] };
    assert.equal(ruleAllows(r, res('get', 'pods')), true);
    assert.equal(ruleAllows(r, res('delete', 'pods')), false);
    assert.equal(ruleAllows(r, res('get', 'secrets')), false);
    assert.equal(ruleAllows(r, res('get', 'pods', { apiGroup: 'apps' })), false);
    const all: PolicyRule = { verbs: ['*'], apiGroups: ['*'], resources: ['*'] };
    assert.equal(ruleAllows(all, res('escalate', 'roles', { apiGroup: 'rbac.authorization.k8s.io' })), true);
    assert.equal(ruleAllows(all, res('get', 'pods', { subresource: 'log' })), true);
  });

  test('a subresource is matched as resource/subresource or */subresource, never by the bare resource', () => {
    const pods: PolicyRule = { verbs: ['get'], apiGroups: [''], resources: ['pods'] };
    assert.equal(ruleAllows(pods, res('get', 'pods', { subresource: 'log' })), false);
    const log: PolicyRule = { verbs: ['get'], apiGroups: [''], resources: ['pods/log'] };
    assert.equal(ruleAllows(log, res('get', 'pods', { subresource: 'log' })), true);
    assert.equal(ruleAllows(log, res('get', 'pods')), false);
    const anyScale: PolicyRule = { verbs: ['update'], apiGroups: ['apps'], resources: ['*/scale'] };
    assert.equal(ruleAllows(anyScale, res('update', 'deployments', { apiGroup: 'apps', subresource: 'scale' })), true);
    assert.equal(ruleAllows(anyScale, res('update', 'deployments', { apiGroup: 'apps' })), false);
  });

  test('resourceNames allow only named requests for those names', () => {
    const r: PolicyRule = {
      verbs: ['get', 'list'],
      apiGroups: [''],
      resources: ['configmaps'],
      resourceNames: ['cfg'],
    };
    assert.equal(ruleAllows(r, res('get', 'configmaps', { name: 'cfg' })), true);
    assert.equal(ruleAllows(r, res('get', 'configmaps', { name: 'other' })), false);
    assert.equal(ruleAllows(r, res('list', 'configmaps')), false);
  });

  test('nonResourceURLs match exactly, by * or by a trailing * prefix, and never a resource request', () => {
    const r: PolicyRule = { verbs: ['get'], nonResourceURLs: ['/healthz', '/apis/*'] };
    assert.equal(ruleAllows(r, url('get', '/healthz')), true);
    assert.equal(ruleAllows(r, url('get', '/healthz/etcd')), false);
    assert.equal(ruleAllows(r, url('get', '/apis/apps/v1')), true);
    assert.equal(ruleAllows(r, url('post', '/healthz')), false);
    assert.equal(ruleAllows(r, res('get', 'pods')), false);
    assert.equal(ruleAllows({ verbs: ['get'], apiGroups: [''], resources: ['pods'] }, url('get', '/api')), false);
  });
});

describe('bindings', () => {
  const podReader: RoleRules = {
    metadata: { name: 'pod-reader', namespace: 'team' },
    rules: [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] }],
  };
  const secretReader: RoleRules = {
    metadata: { name: 'secret-reader' },
    rules: [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'] }],
  };
  const rbRef = (kind: 'Role' | 'ClusterRole', name: string) => ({ apiGroup: 'rbac.authorization.k8s.io', kind, name });

  test('a RoleBinding grants its Role in its namespace only', () => {
    const src = source({
      roles: [podReader],
      roleBindings: [
        {
          metadata: { name: 'rb', namespace: 'team' },
          roleRef: rbRef('Role', 'pod-reader'),
          subjects: [{ kind: 'User', name: 'alice' }],
        },
      ],
    });
    const d = authorizeRbac(src, alice, res('list', 'pods', { namespace: 'team' }));
    assert.deepEqual(d, {
      allowed: true,
      reason: 'RBAC: allowed by RoleBinding "rb/team" of Role "pod-reader" to User "alice"',
    });
    assert.equal(authorizeRbac(src, alice, res('list', 'pods', { namespace: 'other' })).allowed, false);
    assert.equal(authorizeRbac(src, alice, res('list', 'pods')).allowed, false, 'all namespaces need a cluster grant');
    assert.equal(authorizeRbac(src, nobody, res('list', 'pods', { namespace: 'team' })).allowed, false);
    assert.equal(authorizeRbac(src, alice, res('delete', 'pods', { namespace: 'team', name: 'p' })).allowed, false);
  });

  test('a RoleBinding to a ClusterRole grants it inside the binding namespace; a ClusterRoleBinding everywhere', () => {
    const inTeam = source({
      clusterRoles: [secretReader],
      roleBindings: [
        {
          metadata: { name: 'rb', namespace: 'team' },
          roleRef: rbRef('ClusterRole', 'secret-reader'),
          subjects: [{ kind: 'Group', name: 'devs' }],
        },
      ],
    });
    const dev: UserInfo = { name: 'bob', groups: ['devs'] };
    assert.equal(authorizeRbac(inTeam, dev, res('get', 'secrets', { namespace: 'team', name: 's' })).allowed, true);
    assert.equal(
      authorizeRbac(inTeam, dev, res('get', 'secrets', { namespace: 'kube-system', name: 's' })).allowed,
      false,
    );
    const everywhere = source({
      clusterRoles: [secretReader],
      clusterRoleBindings: [
        {
          metadata: { name: 'crb' },
          roleRef: rbRef('ClusterRole', 'secret-reader'),
          subjects: [{ kind: 'Group', name: 'devs' }],
        },
      ],
    });
    assert.equal(
      authorizeRbac(everywhere, dev, res('get', 'secrets', { namespace: 'kube-system', name: 's' })).allowed,
      true,
    );
    // A binding whose role does not exist grants nothing.
    const dangling = source({
      clusterRoleBindings: [
        {
          metadata: { name: 'crb' },
          roleRef: rbRef('ClusterRole', 'gone'),
          subjects: [{ kind: 'Group', name: 'devs' }],
        },
      ],
    });
    assert.equal(authorizeRbac(dangling, dev, res('get', 'secrets', { namespace: 'a', name: 's' })).allowed, false);
  });

  test('a ServiceAccount subject is its system:serviceaccount user, in the binding namespace by default', () => {
    const src = source({
      roles: [podReader],
      roleBindings: [
        {
          metadata: { name: 'rb', namespace: 'team' },
          roleRef: rbRef('Role', 'pod-reader'),
          subjects: [{ kind: 'ServiceAccount', name: 'builder' }],
        },
      ],
    });
    const sa: UserInfo = { name: serviceAccountUser('team', 'builder'), groups: ['system:serviceaccounts'] };
    assert.equal(sa.name, 'system:serviceaccount:team:builder');
    assert.equal(authorizeRbac(src, sa, res('get', 'pods', { namespace: 'team', name: 'p' })).allowed, true);
    const other: UserInfo = { name: serviceAccountUser('other', 'builder'), groups: [] };
    assert.equal(authorizeRbac(src, other, res('get', 'pods', { namespace: 'team', name: 'p' })).allowed, false);
  });

  test('rulesFor lists the cluster-wide and the namespace rules that apply', () => {
    const src = source({
      roles: [podReader],
      clusterRoles: [secretReader],
      roleBindings: [
        {
          metadata: { name: 'rb', namespace: 'team' },
          roleRef: rbRef('Role', 'pod-reader'),
          subjects: [{ kind: 'User', name: 'alice' }],
        },
      ],
      clusterRoleBindings: [
        {
          metadata: { name: 'crb' },
          roleRef: rbRef('ClusterRole', 'secret-reader'),
          subjects: [{ kind: 'User', name: 'alice' }],
        },
      ],
    });
    assert.equal(rulesFor(src, alice, 'team').length, 2);
    assert.equal(rulesFor(src, alice, 'other').length, 1);
    assert.equal(rulesFor(src, nobody, 'team').length, 0);
  });
});

describe('escalation', () => {
  const own: PolicyRule[] = [
    { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods', 'pods/log'] },
    { verbs: ['*'], apiGroups: ['apps'], resources: ['deployments'] },
    { verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['cfg'] },
    { verbs: ['get'], nonResourceURLs: ['/apis/*'] },
  ];

  test('rules the user holds, or holds more broadly, are covered', () => {
    assert.deepEqual(uncoveredRules(own, [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }]), []);
    assert.deepEqual(
      uncoveredRules(own, [{ verbs: ['create', 'delete'], apiGroups: ['apps'], resources: ['deployments'] }]),
      [],
    );
    assert.deepEqual(
      uncoveredRules(own, [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['cfg'] }]),
      [],
    );
    assert.deepEqual(uncoveredRules(own, [{ verbs: ['get'], nonResourceURLs: ['/apis/apps'] }]), []);
  });

  test('more verbs, another resource, all names or a wildcard are escalations', () => {
    const missing = uncoveredRules(own, [
      { verbs: ['get', 'delete'], apiGroups: [''], resources: ['pods', 'secrets'] },
    ]);
    assert.deepEqual(missing.map(describeRule), [
      '{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}',
      '{APIGroups:[""], Resources:["pods"], Verbs:["delete"]}',
      '{APIGroups:[""], Resources:["secrets"], Verbs:["delete"]}',
    ]);
    assert.equal(uncoveredRules(own, [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'] }]).length, 1);
    assert.equal(uncoveredRules(own, [{ verbs: ['*'], apiGroups: [''], resources: ['pods'] }]).length, 1);
    assert.equal(uncoveredRules(own, [{ verbs: ['get'], apiGroups: ['*'], resources: ['pods'] }]).length, 1);
    assert.equal(uncoveredRules(own, [{ verbs: ['get'], nonResourceURLs: ['/api'] }]).length, 1);
  });
});

describe('aggregation', () => {
  test('an aggregated role holds the union of the matching roles, without duplicates, stably ordered', () => {
    const agg: AggregationView = {
      metadata: { name: 'monitoring' },
      aggregationRule: { clusterRoleSelectors: [{ matchLabels: { 'example.com/aggregate-to-monitoring': 'true' } }] },
    };
    const labels = { 'example.com/aggregate-to-monitoring': 'true' };
    const a: AggregationView = {
      metadata: { name: 'b-pods', labels },
      rules: [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }],
    };
    const b: AggregationView = {
      metadata: { name: 'a-nodes', labels },
      rules: [
        { verbs: ['get'], apiGroups: [''], resources: ['nodes'] },
        { verbs: ['get'], apiGroups: [''], resources: ['pods'] },
      ],
    };
    const unrelated: AggregationView = {
      metadata: { name: 'c' },
      rules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
    };
    assert.deepEqual(aggregatedRules(agg, [agg, a, b, unrelated]), [
      { verbs: ['get'], apiGroups: [''], resources: ['nodes'] },
      { verbs: ['get'], apiGroups: [''], resources: ['pods'] },
    ]);
    assert.equal(aggregatedRules(a, [agg, a, b]), undefined);
  });
});

describe('the default policy', () => {
  /** The defaults with admin/edit/view aggregated the way the controller fills them (to a fixed point). */
  function defaults(): PolicySource {
    const roles = defaultClusterRoles();
    return source({ clusterRoles: roles, clusterRoleBindings: defaultClusterRoleBindings() });
  }
  const src = defaults();
  const bindTo = (role: string, who: string): PolicySource => {
    const base = defaults();
    const rb: BindingRef = {
      metadata: { name: `${role}-${who}`, namespace: 'team' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
      subjects: [{ kind: 'User', name: who }],
    };
    return { ...base, roleBindings: (ns) => (ns === 'team' ? [rb] : []) };
  };

  test('system:masters may do anything; an authenticated user with no bindings only discovery and self-review', () => {
    assert.equal(authorizeRbac(src, admin, res('delete', 'nodes', { name: 'n1' })).allowed, true);
    assert.equal(authorizeRbac(src, admin, url('get', '/metrics')).allowed, true);
    assert.equal(authorizeRbac(src, nobody, res('list', 'secrets', { namespace: 'default' })).allowed, false);
    assert.equal(authorizeRbac(src, nobody, res('create', 'secrets', { namespace: 'kube-system' })).allowed, false);
    assert.equal(
      authorizeRbac(src, nobody, res('create', 'pods', { namespace: 'default', subresource: 'exec', name: 'p' }))
        .allowed,
      false,
    );
    assert.equal(authorizeRbac(src, nobody, url('get', '/apis/apps/v1')).allowed, true);
    assert.equal(
      authorizeRbac(src, nobody, res('create', 'selfsubjectaccessreviews', { apiGroup: 'authorization.k8s.io' }))
        .allowed,
      true,
    );
  });

  test('anonymous users see the public health and version endpoints only', () => {
    assert.equal(authorizeRbac(src, anonymous, url('get', '/version')).allowed, true);
    assert.equal(authorizeRbac(src, anonymous, url('get', '/apis')).allowed, false);
    assert.equal(authorizeRbac(src, anonymous, res('get', 'pods', { namespace: 'default', name: 'p' })).allowed, false);
  });

  test('view reads workloads but not Secrets; edit writes them but not roles; admin manages roles in the namespace', () => {
    const view = bindTo('view', 'alice');
    const inTeam = { namespace: 'team' };
    assert.equal(authorizeRbac(view, alice, res('list', 'pods', inTeam)).allowed, true);
    assert.equal(
      authorizeRbac(view, alice, res('get', 'deployments', { ...inTeam, apiGroup: 'apps', name: 'web' })).allowed,
      true,
    );
    assert.equal(authorizeRbac(view, alice, res('list', 'secrets', inTeam)).allowed, false);
    assert.equal(authorizeRbac(view, alice, res('create', 'pods', inTeam)).allowed, false);
    assert.equal(authorizeRbac(view, alice, res('list', 'pods', { namespace: 'default' })).allowed, false);

    const edit = bindTo('edit', 'alice');
    assert.equal(authorizeRbac(edit, alice, res('create', 'pods', inTeam)).allowed, true);
    assert.equal(authorizeRbac(edit, alice, res('get', 'secrets', { ...inTeam, name: 's' })).allowed, true);
    assert.equal(
      authorizeRbac(edit, alice, res('create', 'pods', { ...inTeam, subresource: 'exec', name: 'p' })).allowed,
      true,
    );
    assert.equal(authorizeRbac(edit, alice, res('list', 'pods', inTeam)).allowed, true, 'edit includes view');
    assert.equal(
      authorizeRbac(edit, alice, res('create', 'rolebindings', { ...inTeam, apiGroup: 'rbac.authorization.k8s.io' }))
        .allowed,
      false,
    );

    const adm = bindTo('admin', 'alice');
    assert.equal(
      authorizeRbac(adm, alice, res('create', 'rolebindings', { ...inTeam, apiGroup: 'rbac.authorization.k8s.io' }))
        .allowed,
      true,
    );
    assert.equal(authorizeRbac(adm, alice, res('delete', 'namespaces', { name: 'team' })).allowed, false);
  });

  test('bootstrap tokens create CSRs; the scheduler binds pods but cannot read Secrets', () => {
    const bootstrapper: UserInfo = {
      name: 'system:bootstrap:abcdef',
      groups: ['system:bootstrappers', 'system:authenticated'],
    };
    const csrs = { apiGroup: 'certificates.k8s.io' };
    assert.equal(authorizeRbac(src, bootstrapper, res('create', 'certificatesigningrequests', csrs)).allowed, true);
    assert.equal(authorizeRbac(src, bootstrapper, res('list', 'nodes')).allowed, false);
    const scheduler: UserInfo = { name: 'system:kube-scheduler', groups: ['system:authenticated'] };
    assert.equal(
      authorizeRbac(src, scheduler, res('create', 'pods', { namespace: 'a', name: 'p', subresource: 'binding' }))
        .allowed,
      true,
    );
    assert.equal(authorizeRbac(src, scheduler, res('get', 'secrets', { namespace: 'a', name: 's' })).allowed, false);
    assert.equal(authorizeRbac(src, scheduler, res('delete', 'nodes', { name: 'n' })).allowed, false);
  });

  test('each controller ServiceAccount holds its own writes only; the controller-manager its informers and their tokens', () => {
    const namespaced = defaultNamespacedPolicy();
    const full = (serviceAccountTokens: boolean): PolicySource =>
      source({
        clusterRoles: defaultClusterRoles(),
        clusterRoleBindings: defaultClusterRoleBindings({ serviceAccountTokens }),
        roles: namespaced.roles,
        roleBindings: namespaced.roleBindings,
      });
    const withTokens = full(true);
    const sa = (name: string): UserInfo => ({
      name: `system:serviceaccount:kube-system:${name}`,
      groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'],
    });
    const can = (p: PolicySource, who: UserInfo, a: Attributes): boolean => authorizeRbac(p, who, a).allowed;
    assert.equal(CONTROLLER_SERVICE_ACCOUNTS.length, 24);
    const disruption = sa('disruption-controller');
    const budget = { namespace: 'a', apiGroup: 'policy', name: 'web', subresource: 'status' };
    assert.equal(can(withTokens, disruption, res('update', 'poddisruptionbudgets', budget)), true);
    assert.equal(can(withTokens, disruption, res('delete', 'pods', { namespace: 'a' })), false);
    const hpa = sa('horizontal-pod-autoscaler');
    const scale = { namespace: 'a', name: 'web', apiGroup: 'apps', subresource: 'scale' };
    assert.equal(can(withTokens, hpa, res('update', 'deployments', scale)), true);
    assert.equal(can(withTokens, hpa, res('list', 'pods', { namespace: 'a', apiGroup: 'metrics.k8s.io' })), true);
    assert.equal(can(withTokens, hpa, res('delete', 'deployments', { namespace: 'a', apiGroup: 'apps' })), false);
    const slices = sa('endpointslice-controller');
    const slice = { namespace: 'a', apiGroup: 'discovery.k8s.io' };
    assert.equal(can(withTokens, slices, res('create', 'endpointslices', slice)), true);
    assert.equal(can(withTokens, slices, res('create', 'endpoints', { namespace: 'a' })), false);
    const rs = sa('replicaset-controller');
    assert.equal(can(withTokens, rs, res('create', 'pods', { namespace: 'a' })), true);
    assert.equal(can(withTokens, rs, res('create', 'events', { namespace: 'a' })), true);
    assert.equal(can(withTokens, rs, res('get', 'secrets', { namespace: 'a', name: 's' })), false);
    assert.equal(can(withTokens, rs, res('delete', 'deployments', { namespace: 'a', apiGroup: 'apps' })), false);
    const cleaner = sa('token-cleaner');
    assert.equal(can(withTokens, cleaner, res('delete', 'secrets', { namespace: 'kube-system', name: 't' })), true);
    assert.equal(can(withTokens, cleaner, res('delete', 'secrets', { namespace: 'a', name: 't' })), false);
    const aggregation = sa('clusterrole-aggregation-controller');
    const cr = { apiGroup: 'rbac.authorization.k8s.io', name: 'admin' };
    assert.equal(can(withTokens, aggregation, res('escalate', 'clusterroles', cr)), true);
    assert.equal(can(withTokens, aggregation, res('delete', 'clusterroles', cr)), false);

    const cm: UserInfo = { name: 'system:kube-controller-manager', groups: ['system:authenticated'] };
    const deployment = res('delete', 'deployments', { namespace: 'a', name: 'web', apiGroup: 'apps' });
    assert.equal(can(withTokens, cm, deployment), false);
    assert.equal(can(withTokens, cm, res('watch', 'pods')), true);
    assert.equal(can(withTokens, cm, res('get', 'secrets', { namespace: 'a', name: 's' })), false);
    const token = { namespace: 'kube-system', name: 'job-controller', subresource: 'token' };
    assert.equal(can(withTokens, cm, res('create', 'serviceaccounts', token)), true);
    assert.equal(can(withTokens, cm, res('create', 'serviceaccounts', { ...token, namespace: 'a' })), false);
    // Without tokens the controllers fall back to the process's identity: it keeps their rules.
    const withoutTokens = full(false);
    assert.equal(can(withoutTokens, cm, deployment), true);
    assert.ok(
      defaultClusterRoleBindings({ serviceAccountTokens: true }).every(
        (b) => b.roleRef.name !== SHARED_CONTROLLERS_ROLE,
      ),
    );
  });
});
