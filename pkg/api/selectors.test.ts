import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from '../errors/index.js';
import type { KubeObject } from './meta.js';
import { labelSelectorToString, matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector, selectorMatches } from './selectors.js';

test('label selector strings: equality, sets and existence', () => {
  const reqs = parseLabelSelector('app=web, tier notin (db,cache),env in (prod), track!=canary, release, !legacy');
  assert.equal(reqs.length, 6);
  assert.ok(matchesLabels(reqs, { app: 'web', tier: 'front', env: 'prod', release: 'r1' }));
  assert.ok(!matchesLabels(reqs, { app: 'web', tier: 'db', env: 'prod', release: 'r1' }));
  assert.ok(!matchesLabels(reqs, { app: 'web', env: 'prod', release: 'r1', legacy: 'y' }));
  assert.ok(!matchesLabels(reqs, { app: 'web', env: 'prod' }));
  assert.ok(matchesLabels(parseLabelSelector('app==web'), { app: 'web' }));
  assert.ok(matchesLabels(parseLabelSelector(''), {}));
});

test('malformed selectors are a BadRequest', () => {
  assert.throws(() => parseLabelSelector('app=we b=x'), (e: unknown) => e instanceof ApiError && e.code === 400);
  assert.throws(() => parseLabelSelector('in in ()'), (e: unknown) => e instanceof ApiError && e.code === 400);
  assert.throws(() => parseFieldSelector('spec.foo=bar'), /field label not supported: spec.foo/);
});

test('object selectors: matchLabels and matchExpressions; undefined matches nothing, empty everything', () => {
  const sel = { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['a', 'b'] }] };
  assert.ok(selectorMatches(sel, { app: 'web', tier: 'a' }));
  assert.ok(!selectorMatches(sel, { app: 'web', tier: 'c' }));
  assert.ok(!selectorMatches(undefined, { app: 'web' }));
  assert.ok(selectorMatches({}, { app: 'web' }));
  assert.equal(labelSelectorToString(sel), 'app=web,tier in (a,b)');
});

test('field selectors on name, node and phase', () => {
  const pod: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns' }, spec: { nodeName: 'n1' }, status: { phase: 'Running' } };
  assert.ok(matchesFields(parseFieldSelector('metadata.name=p,spec.nodeName=n1'), pod));
  assert.ok(matchesFields(parseFieldSelector('status.phase!=Succeeded,status.phase!=Failed'), pod));
  assert.ok(!matchesFields(parseFieldSelector('spec.nodeName=n2'), pod));
});
