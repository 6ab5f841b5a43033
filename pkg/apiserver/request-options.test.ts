import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from '../errors/index.js';
import {
  deleteOptions,
  dryRunFromQuery,
  isDryRun,
  parseResourceVersion,
  timeoutSecondsParam,
} from './request-options.js';

function reason(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return `${err.code} ${err.reason}`;
    throw err;
  }
  return 'accepted';
}

test('dryRun: All (also repeated) is a dry run, absent is not, anything else is 422', () => {
  assert.equal(dryRunFromQuery({ dryRun: 'All' }, 'CreateOptions'), true);
  assert.equal(dryRunFromQuery({ dryRun: ['All', 'All'] }, 'CreateOptions'), true);
  assert.equal(dryRunFromQuery({}, 'CreateOptions'), false);
  assert.equal(
    reason(() => dryRunFromQuery({ dryRun: 'all' }, 'PatchOptions')),
    '422 Invalid',
  );
  assert.equal(
    reason(() => dryRunFromQuery({ dryRun: ['All', ''] }, 'PatchOptions')),
    '422 Invalid',
  );
});

test('DeleteOptions: the body wins over the query; wrong types 400, unsupported values 422', () => {
  assert.deepEqual(deleteOptions({ gracePeriodSeconds: '5' }, { gracePeriodSeconds: 0, dryRun: ['All'] }), {
    gracePeriodSeconds: 0,
    dryRun: ['All'],
  });
  assert.deepEqual(deleteOptions({ gracePeriodSeconds: '5', propagationPolicy: 'Orphan' }, undefined), {
    gracePeriodSeconds: 5,
    propagationPolicy: 'Orphan',
  });
  assert.deepEqual(deleteOptions({}, { orphanDependents: true }), { propagationPolicy: 'Orphan' });
  assert.equal(isDryRun(deleteOptions({ dryRun: 'All' }, undefined)), true);
  assert.equal(isDryRun(deleteOptions({}, {})), false);
  for (const body of [
    { gracePeriodSeconds: '1' },
    { gracePeriodSeconds: 2 ** 64 },
    { propagationPolicy: 1 },
    { dryRun: 'All' },
    { preconditions: [] },
    { preconditions: { uid: 1 } },
    { kind: 'Pod' },
    'x',
    [1],
  ]) {
    assert.equal(
      reason(() => deleteOptions({}, body)),
      '400 BadRequest',
      JSON.stringify(body),
    );
  }
  assert.equal(
    reason(() => deleteOptions({ gracePeriodSeconds: '1.5' }, undefined)),
    '400 BadRequest',
  );
  assert.equal(
    reason(() => deleteOptions({}, { propagationPolicy: 'Sideways' })),
    '422 Invalid',
  );
  assert.equal(
    reason(() => deleteOptions({}, { orphanDependents: true, propagationPolicy: 'Orphan' })),
    '422 Invalid',
  );
  assert.equal(
    reason(() => deleteOptions({ dryRun: 'x' }, undefined)),
    '422 Invalid',
  );
});

test('resourceVersion is a non-negative integer; timeoutSeconds an integer, 0 or less meaning the default', () => {
  assert.equal(parseResourceVersion('42'), 42);
  for (const rv of ['abc', '-1', '1.5', '1e3', ' 1', '99999999999999999999'])
    assert.equal(
      reason(() => parseResourceVersion(rv)),
      '400 BadRequest',
      rv,
    );
  assert.equal(timeoutSecondsParam({ timeoutSeconds: '1e12' }), 1e12);
  assert.equal(timeoutSecondsParam({ timeoutSeconds: '0' }), undefined);
  assert.equal(timeoutSecondsParam({}), undefined);
  assert.equal(
    reason(() => timeoutSecondsParam({ timeoutSeconds: 'abc' })),
    '400 BadRequest',
  );
  assert.equal(
    reason(() => timeoutSecondsParam({ timeoutSeconds: 'Infinity' })),
    '400 BadRequest',
  );
});
