// The review kinds with hostile bodies: a question that is neither or both kinds of request, a
// SubjectAccessReview about nobody, a local review about another namespace, and fields of the
// wrong type, each refused or answered without granting anything.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../api/index.js';
import { ApiError } from '../errors/index.js';
import { NodeGraph } from './nodeauth/graph.js';
import { defaultClusterRoleBindings, defaultClusterRoles } from './rbac/bootstrap-policy.js';
import { selfSubjectAccessReview, selfSubjectRulesReview, subjectAccessReview } from './reviews.js';

const roles = defaultClusterRoles();
const authz = {
  rbac: {
    role: () => undefined,
    clusterRole: (name: string) => roles.find((r) => r.metadata.name === name),
    roleBindings: () => [],
    clusterRoleBindings: () => defaultClusterRoleBindings(),
  },
  nodes: new NodeGraph(),
};
const nobody = { name: 'nobody', groups: ['system:authenticated'] };
const review = (spec: unknown): KubeObject => ({
  apiVersion: 'authorization.k8s.io/v1',
  kind: 'X',
  metadata: {},
  spec,
});
const code = (n: number) => (err: unknown) => err instanceof ApiError && err.code === n;

test('a review must ask about exactly one kind of request', () => {
  assert.throws(() => selfSubjectAccessReview(authz, nobody, review({})), code(422));
  assert.throws(() => selfSubjectAccessReview(authz, nobody, review('not an object')), code(422));
  const both = { resourceAttributes: { verb: 'get' }, nonResourceAttributes: { path: '/api', verb: 'get' } };
  assert.throws(() => selfSubjectAccessReview(authz, nobody, review(both)), code(422));
});

test('fields of the wrong type read as empty and grant nothing', () => {
  const spec = { resourceAttributes: { verb: 7, resource: ['secrets'], namespace: { a: 1 }, group: null } };
  const out = selfSubjectAccessReview(authz, nobody, review(spec));
  assert.deepEqual(out['status'], { allowed: false });
  const rules = selfSubjectRulesReview(authz, nobody, review({ namespace: 42 }));
  assert.equal(JSON.stringify(rules['status']).includes('"secrets"'), false);
});

test('a SubjectAccessReview needs a user or group; a local one stays in its namespace', () => {
  const attrs = { resourceAttributes: { namespace: 'a', verb: 'list', resource: 'pods' } };
  assert.throws(() => subjectAccessReview(authz, review(attrs)), code(422));
  assert.throws(() => subjectAccessReview(authz, review({ ...attrs, groups: 'system:masters' })), code(422));
  assert.throws(() => subjectAccessReview(authz, review({ ...attrs, user: 'x' }), { namespace: 'b' }), code(400));
  const masters = subjectAccessReview(authz, review({ ...attrs, groups: ['system:masters'] }));
  assert.deepEqual(masters['status'], { allowed: true, reason: 'member of system:masters' });
});
