import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from '../errors/index.js';
import { boolParam, checkBooleanParams, int64Param, parseGoBool } from './query-params.js';
import { podLogOptions, podLogQuery } from './pod-log-options.js';

function outcome(fn: () => unknown): string {
  try {
    return JSON.stringify(fn());
  } catch (err) {
    if (err instanceof ApiError) return `${err.code} ${err.reason}`;
    throw err;
  }
}

test('booleans parse as strconv.ParseBool: its twelve words, nothing else', () => {
  for (const t of ['1', 't', 'T', 'TRUE', 'true', 'True']) assert.equal(parseGoBool(t), true, t);
  for (const f of ['0', 'f', 'F', 'FALSE', 'false', 'False']) assert.equal(parseGoBool(f), false, f);
  for (const bad of ['yes', 'tRUE', ' true', 'true ', '2', 'on', 'nil']) assert.equal(parseGoBool(bad), undefined, bad);
});

test('a boolean parameter: absent or empty is false; the Python clients’ True is true; garbage is a 400 naming it', () => {
  assert.equal(boolParam({ watch: 'True' }, 'watch'), true);
  assert.equal(boolParam(new URLSearchParams('stdin=True'), 'stdin'), true);
  assert.equal(boolParam({ watch: ['1', 'x'] }, 'watch'), true);
  assert.equal(boolParam({}, 'watch'), false);
  assert.equal(boolParam({ watch: '' }, 'watch'), false);
  assert.equal(boolParam({ follow: 'F' }, 'follow', true), false);
  try {
    boolParam({ follow: 'maybe' }, 'follow');
    assert.fail('accepted');
  } catch (err) {
    assert.ok(err instanceof ApiError);
    assert.equal(err.code, 400);
    assert.match(err.message, /^follow: Invalid value: "maybe"/);
    assert.equal(err.toStatus().details?.causes?.[0]?.field, 'follow');
  }
  assert.equal(
    outcome(() => checkBooleanParams({ pretty: 'yes' })),
    '400 BadRequest',
  );
  assert.equal(
    outcome(() => checkBooleanParams({ pretty: 'true', tty: '0', other: 'x' })),
    undefined,
  );
});

test('integers parse as strconv.ParseInt; anything else is a 400', () => {
  assert.equal(int64Param({ limit: '500' }, 'limit'), 500);
  assert.equal(int64Param({ limit: '-3' }, 'limit'), -3);
  assert.equal(int64Param({}, 'limit'), undefined);
  for (const bad of ['1.5', '1e3', 'abc', '0x10', ' 1', '99999999999999999999'])
    assert.equal(
      outcome(() => int64Param({ limit: bad }, 'limit')),
      '400 BadRequest',
      bad,
    );
});

test('PodLogOptions: undecodable values are 400, out-of-range ones 422 as ValidatePodLogOptions says', () => {
  const opts = podLogOptions(
    { follow: 'True', timestamps: '1', tailLines: '5', limitBytes: '10', sinceTime: '2024-01-02T03:04:05Z' },
    'p',
  );
  assert.deepEqual(opts, {
    follow: true,
    previous: false,
    timestamps: true,
    insecureSkipTLSVerifyBackend: false,
    tailLines: 5,
    sinceTime: '2024-01-02T03:04:05Z',
    limitBytes: 10,
  });
  assert.equal(
    podLogQuery(opts).toString(),
    'follow=true&timestamps=true&tailLines=5&sinceTime=2024-01-02T03%3A04%3A05Z&limitBytes=10',
  );
  assert.equal(
    podLogOptions({ sinceTime: '2024-01-02T03:04:05.123+02:00' }, 'p').sinceTime,
    '2024-01-02T03:04:05.123+02:00',
  );
  for (const q of [
    { follow: 'maybe' },
    { sinceSeconds: 'ten' },
    { sinceTime: 'yesterday' },
    { sinceTime: '2024-13-45T99:99:99Z' },
    { limitBytes: '1k' },
    { tailLines: '1.5' },
  ])
    assert.equal(
      outcome(() => podLogOptions(q, 'p')),
      '400 BadRequest',
      JSON.stringify(q),
    );
  for (const q of [
    { tailLines: '-1' },
    { limitBytes: '0' },
    { sinceSeconds: '0' },
    { sinceSeconds: '5', sinceTime: '2024-01-02T03:04:05Z' },
  ])
    assert.equal(
      outcome(() => podLogOptions(q, 'p')),
      '422 Invalid',
      JSON.stringify(q),
    );
});
