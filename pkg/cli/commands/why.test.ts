import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseWhyTarget } from './why.js';

test('why takes a pod or a deployment by every name kubectl takes for the type; anything else is refused', () => {
  for (const args of [['web-1'], ['po/web-1'], ['pods', 'web-1'], ['pod.core/web-1']])
    assert.deepEqual(parseWhyTarget(args), { kind: 'pod', name: 'web-1' }, args.join(' '));
  for (const args of [['deploy/web'], ['deployments.apps', 'web'], ['Deployment/web']])
    assert.deepEqual(parseWhyTarget(args), { kind: 'deployment', name: 'web' }, args.join(' '));
  assert.throws(() => parseWhyTarget(['svc/web']), /explains pods and deployments, not "svc"/);
  assert.throws(() => parseWhyTarget(['nosuchtype/web']), /not "nosuchtype"/);
  assert.throws(() => parseWhyTarget([]), /usage/);
  assert.throws(() => parseWhyTarget(['pod/']), /usage/);
  assert.throws(() => parseWhyTarget(['a', 'b', 'c']), /usage/);
});
