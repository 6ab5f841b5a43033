import { test } from 'node:test';
import assert from 'node:assert/strict';
import { policyEvaluator, type AuditAttributes } from './checker.js';
import { validatePolicy } from './policy.js';
import type { Policy } from './types.js';

function policyOf(rules: unknown[], extra: Record<string, unknown> = {}): Policy {
  return validatePolicy({ apiVersion: 'audit.k8s.io/v1', kind: 'Policy', rules, ...extra }).policy;
}

const alice = { username: 'alice', groups: ['dev', 'system:authenticated'] };

function resourceRequest(resource: Partial<NonNullable<AuditAttributes['resource']>>, verb = 'get'): AuditAttributes {
  return {
    user: alice,
    verb,
    path: '/api/v1/whatever',
    resource: { apiGroup: '', resource: 'pods', ...resource },
  };
}

function levelOf(rules: unknown[], attrs: AuditAttributes): string {
  return policyEvaluator(policyOf(rules))(attrs).level;
}

test('the first matching rule wins, and no match means None', () => {
  const rules = [
    { level: 'None', users: ['system:kube-proxy'], verbs: ['watch'] },
    { level: 'RequestResponse', resources: [{ group: '', resources: ['pods'] }] },
    { level: 'Metadata', resources: [{ group: '' }] },
  ];
  const evaluate = policyEvaluator(policyOf(rules));
  assert.equal(evaluate(resourceRequest({})).level, 'RequestResponse');
  assert.equal(evaluate(resourceRequest({ resource: 'secrets' })).level, 'Metadata');
  assert.equal(evaluate({ ...resourceRequest({}, 'watch'), user: { username: 'system:kube-proxy' } }).level, 'None');
  assert.equal(evaluate(resourceRequest({ apiGroup: 'apps', resource: 'deployments' })).level, 'None');
  // Reordered, the broad rule shadows the specific one.
  assert.equal(levelOf([rules[2], rules[1]], resourceRequest({})), 'Metadata');
});

test('users and userGroups', () => {
  assert.equal(levelOf([{ level: 'Metadata', users: ['alice'] }], resourceRequest({})), 'Metadata');
  assert.equal(levelOf([{ level: 'Metadata', users: ['bob'] }], resourceRequest({})), 'None');
  assert.equal(levelOf([{ level: 'Metadata', userGroups: ['ops', 'dev'] }], resourceRequest({})), 'Metadata');
  assert.equal(levelOf([{ level: 'Metadata', userGroups: ['ops'] }], resourceRequest({})), 'None');
  // No user at all matches no user selector.
  const anonymous = { ...resourceRequest({}), user: undefined };
  assert.equal(levelOf([{ level: 'Metadata', users: ['alice'] }], anonymous), 'None');
  assert.equal(levelOf([{ level: 'Metadata', userGroups: ['dev'] }], anonymous), 'None');
  assert.equal(levelOf([{ level: 'Metadata' }], anonymous), 'Metadata');
});

test('verbs', () => {
  const rules = [{ level: 'Request', verbs: ['create', 'update', 'patch', 'delete'] }];
  assert.equal(levelOf(rules, resourceRequest({}, 'create')), 'Request');
  assert.equal(levelOf(rules, resourceRequest({}, 'get')), 'None');
  assert.equal(levelOf(rules, { user: alice, verb: 'delete', path: '/logs' }), 'Request');
});

test('namespaces: listed ones only, "" for cluster-scoped, never non-resource URLs', () => {
  const rules = [{ level: 'Metadata', namespaces: ['kube-system', ''] }];
  assert.equal(levelOf(rules, resourceRequest({ namespace: 'kube-system' })), 'Metadata');
  assert.equal(levelOf(rules, resourceRequest({ namespace: 'default' })), 'None');
  assert.equal(levelOf(rules, resourceRequest({ resource: 'nodes' })), 'Metadata');
  assert.equal(levelOf(rules, { user: alice, verb: 'get', path: '/healthz' }), 'None');
});

test('resources: group, exact, subresource forms, * and resourceNames', () => {
  const only = (resources: string[], resourceNames: string[] = []): unknown[] => [
    { level: 'Metadata', resources: [{ group: '', resources, resourceNames }] },
  ];
  const pods = resourceRequest({});
  const podLog = resourceRequest({ subresource: 'log', name: 'web' });
  const podStatus = resourceRequest({ subresource: 'status', name: 'web' });
  const deploymentStatus = resourceRequest({ apiGroup: 'apps', resource: 'deployments', subresource: 'status' });
  const nodeStatus = resourceRequest({ resource: 'nodes', subresource: 'status' });

  assert.equal(levelOf(only(['pods']), pods), 'Metadata');
  assert.equal(levelOf(only(['pods']), podLog), 'None', '`pods` does not cover its subresources');
  assert.equal(levelOf(only(['pods/log']), podLog), 'Metadata');
  assert.equal(levelOf(only(['pods/log']), pods), 'None');
  assert.equal(levelOf(only(['pods/*']), podLog), 'Metadata');
  assert.equal(levelOf(only(['pods/*']), pods), 'Metadata', '`pods/*` covers pods as well, as in Kubernetes');
  assert.equal(levelOf(only(['*/status']), podStatus), 'Metadata');
  assert.equal(levelOf(only(['*/status']), nodeStatus), 'Metadata');
  assert.equal(levelOf(only(['*/status']), pods), 'None');
  assert.equal(levelOf(only(['*/status']), podLog), 'None');
  assert.equal(levelOf(only(['*/status']), deploymentStatus), 'None', 'the group still has to match');
  assert.equal(levelOf(only(['*']), podLog), 'Metadata');
  assert.equal(levelOf(only(['pods'], ['web']), resourceRequest({ name: 'web' })), 'Metadata');
  assert.equal(levelOf(only(['pods'], ['web']), resourceRequest({ name: 'db' })), 'None');
  assert.equal(levelOf(only(['pods'], ['web']), pods), 'None', 'a list has no name');
  // A group with no resources selects the whole group.
  const apps = [{ level: 'Metadata', resources: [{ group: 'apps' }] }];
  assert.equal(levelOf(apps, deploymentStatus), 'Metadata');
  assert.equal(levelOf(apps, pods), 'None');
  // Resource rules never match non-resource URLs.
  assert.equal(levelOf(only(['*']), { user: alice, verb: 'get', path: '/api' }), 'None');
});

test('nonResourceURLs: exact, trailing * and *', () => {
  const urls = (nonResourceURLs: string[]): unknown[] => [{ level: 'Metadata', nonResourceURLs }];
  const at = (path: string): AuditAttributes => ({ user: alice, verb: 'get', path });
  assert.equal(levelOf(urls(['/version']), at('/version')), 'Metadata');
  assert.equal(levelOf(urls(['/version']), at('/version/x')), 'None');
  assert.equal(levelOf(urls(['/healthz*']), at('/healthz/etcd')), 'Metadata');
  assert.equal(levelOf(urls(['/healthz*']), at('/healthz')), 'Metadata');
  assert.equal(levelOf(urls(['/healthz*']), at('/livez')), 'None');
  assert.equal(levelOf(urls(['*']), at('/anything')), 'Metadata');
  assert.equal(levelOf(urls(['*']), resourceRequest({})), 'None', 'resource requests are not non-resource URLs');
});

test('omitStages are the rule’s plus the policy’s; unmatched requests get the policy’s', () => {
  const evaluate = policyEvaluator(
    policyOf([{ level: 'Metadata', verbs: ['get'], omitStages: ['ResponseStarted'] }], {
      omitStages: ['RequestReceived'],
    }),
  );
  assert.deepEqual([...evaluate(resourceRequest({})).omitStages].sort(), ['RequestReceived', 'ResponseStarted']);
  assert.deepEqual(evaluate(resourceRequest({}, 'list')), {
    level: 'None',
    omitStages: ['RequestReceived'],
    omitManagedFields: false,
  });
});

test('omitManagedFields: a rule’s own setting overrides the policy’s', () => {
  const evaluate = policyEvaluator(
    policyOf(
      [
        { level: 'Request', verbs: ['create'], omitManagedFields: false },
        { level: 'Request', verbs: ['update'] },
      ],
      { omitManagedFields: true },
    ),
  );
  assert.equal(evaluate(resourceRequest({}, 'create')).omitManagedFields, false);
  assert.equal(evaluate(resourceRequest({}, 'update')).omitManagedFields, true);
});
