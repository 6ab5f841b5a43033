import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from '../errors/index.js';
import type { KubeObject } from './meta.js';
import {
  labelKeyProblem,
  labelSelectorToString,
  labelValueProblem,
  matchesFields,
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
  selectorMatches,
} from './selectors.js';

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
  assert.throws(
    () => parseLabelSelector('app=we b=x'),
    (e: unknown) => e instanceof ApiError && e.code === 400,
  );
  assert.throws(
    () => parseLabelSelector('in in ()'),
    (e: unknown) => e instanceof ApiError && e.code === 400,
  );
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
  const pod: KubeObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'ns' },
    spec: { nodeName: 'n1' },
    status: { phase: 'Running' },
  };
  assert.ok(matchesFields(parseFieldSelector('metadata.name=p,spec.nodeName=n1'), pod));
  assert.ok(matchesFields(parseFieldSelector('status.phase!=Succeeded,status.phase!=Failed'), pod));
  assert.ok(!matchesFields(parseFieldSelector('spec.nodeName=n2'), pod));
});

test('label keys: optional DNS subdomain prefix up to 253, name up to 63; values up to 63 or empty', () => {
  for (const ok of [
    'app',
    'a',
    'A_b.c-d',
    'x'.repeat(63),
    'example.com/app',
    `${'p'.repeat(253)}/n`,
    `a.b-c/${'n'.repeat(63)}`,
  ]) {
    assert.equal(labelKeyProblem(ok), undefined, ok);
  }
  assert.match(labelKeyProblem('x'.repeat(64)) ?? '', /no more than 63/);
  assert.match(labelKeyProblem(`${'p'.repeat(254)}/n`) ?? '', /no more than 253/);
  assert.match(labelKeyProblem('Example.com/app') ?? '', /prefix part/);
  assert.match(labelKeyProblem('/app') ?? '', /prefix part must be non-empty/);
  assert.match(labelKeyProblem('a.com/') ?? '', /name part must be non-empty/);
  for (const bad of ['-app', 'app-', 'a b', 'a/b/c', '', 'é']) assert.notEqual(labelKeyProblem(bad), undefined, bad);
  for (const ok of ['', 'v', 'V_1.2-3', 'v'.repeat(63)]) assert.equal(labelValueProblem(ok), undefined, ok);
  for (const bad of ['v'.repeat(64), '-v', 'v-', 'a b', 'a/b']) assert.notEqual(labelValueProblem(bad), undefined, bad);
  assert.throws(
    () => parseLabelSelector(`${'k'.repeat(64)}=v`),
    (e: unknown) => e instanceof ApiError && e.code === 400,
  );
  assert.throws(
    () => parseLabelSelector(`k in (a,${'v'.repeat(64)})`),
    (e: unknown) => e instanceof ApiError && e.code === 400,
  );
});
