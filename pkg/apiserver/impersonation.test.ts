// Impersonation: allowed parts pass, any refused part is a 403 naming it, and the impersonated
// identity carries the groups Kubernetes gives it.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from '../errors/index.js';
import { actingUser, type Check } from './impersonation.js';
import type { ResourceAttributes } from './rbac/rules.js';

const alice = { name: 'alice', groups: ['system:authenticated'] };

/** An authorizer that allows impersonating exactly the listed `resource/name` pairs. */
function allowing(...pairs: string[]): { may: Check; asked: string[] } {
  const asked: string[] = [];
  const may: Check = async (_user, a: ResourceAttributes) => {
    const key = `${a.resource}${a.subresource ? '/' + a.subresource : ''}/${a.name ?? ''}`;
    asked.push(`${a.verb} ${key}${a.namespace ? ' in ' + a.namespace : ''}`);
    return pairs.includes(key);
  };
  return { may, asked };
}

test('without headers the caller acts as itself', async () => {
  assert.deepEqual(await actingUser(alice, {}, allowing().may), alice);
});

test('an allowed user and groups become the identity, with system:authenticated', async () => {
  const { may, asked } = allowing('users/bob', 'groups/devs');
  const u = await actingUser(alice, { 'impersonate-user': 'bob', 'impersonate-group': ['devs'] }, may);
  assert.deepEqual(u, { name: 'bob', groups: ['devs', 'system:authenticated'] });
  assert.deepEqual(asked, ['impersonate users/bob', 'impersonate groups/devs']);
});

test('a ServiceAccount is checked as the serviceaccounts resource in its namespace and gets its groups', async () => {
  const { may, asked } = allowing('serviceaccounts/builder');
  const u = await actingUser(alice, { 'impersonate-user': 'system:serviceaccount:ci:builder' }, may);
  assert.deepEqual(asked, ['impersonate serviceaccounts/builder in ci']);
  assert.deepEqual(u.groups, ['system:serviceaccounts', 'system:serviceaccounts:ci', 'system:authenticated']);
});

test('one refused part refuses the whole request with a 403 naming it', async () => {
  const { may } = allowing('users/bob');
  await assert.rejects(
    actingUser(alice, { 'impersonate-user': 'bob', 'impersonate-group': 'system:masters' }, may),
    (err: unknown) =>
      err instanceof ApiError &&
      err.code === 403 &&
      err.message ===
        'groups "system:masters" is forbidden: User "alice" cannot impersonate resource "groups" in API group "" at the cluster scope',
  );
});

test('uid and extras are checked too, and need a user', async () => {
  const { may, asked } = allowing('users/bob', 'uids/42', 'userextras/scopes/view');
  const u = await actingUser(
    alice,
    { 'impersonate-user': 'bob', 'impersonate-uid': '42', 'impersonate-extra-scopes': 'view' },
    may,
  );
  assert.deepEqual(u, { name: 'bob', groups: ['system:authenticated'], uid: '42', extra: { scopes: ['view'] } });
  assert.ok(asked.includes('impersonate userextras/scopes/view'));
  await assert.rejects(
    actingUser(alice, { 'impersonate-group': 'devs' }, may),
    (err: unknown) => err instanceof ApiError && err.code === 400,
  );
  await assert.rejects(
    actingUser(alice, { 'impersonate-user': 'bob', 'impersonate-extra-%zz': 'x' }, may),
    (err: unknown) => err instanceof ApiError && err.code === 400,
  );
});
