import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError, readStatus } from './index.js';

test('readStatus keeps the fields of a Status that have their types and drops the rest', () => {
  const status = readStatus({
    kind: 'Status',
    status: 'Failure',
    message: 'pods "p" is invalid',
    reason: 'Invalid',
    code: 422,
    details: { name: 'p', kind: 'pods', causes: [{ field: 'spec', message: 'Required value' }, 'junk'], uid: 7 },
  });
  assert.deepEqual(status, {
    kind: 'Status',
    status: 'Failure',
    message: 'pods "p" is invalid',
    reason: 'Invalid',
    code: 422,
    details: { name: 'p', kind: 'pods', causes: [{ field: 'spec', message: 'Required value' }] },
  });
  assert.deepEqual(readStatus({ status: 'Maybe', code: '500', message: 3 }), {});
  assert.equal(readStatus(null), undefined);
  assert.equal(readStatus(['Status']), undefined);
});

test('fromStatus keeps a known reason and reads an unknown one as the HTTP code says', () => {
  const conflict = ApiError.fromStatus({ reason: 'Conflict', message: 'modified' }, 409);
  assert.equal(conflict.reason, 'Conflict');
  assert.equal(conflict.code, 409);
  assert.equal(ApiError.fromStatus({ reason: 'SomethingNew' }, 404).reason, 'NotFound');
  assert.equal(ApiError.fromStatus({}, 503).reason, 'ServiceUnavailable');
  assert.equal(ApiError.fromStatus({}, 599).reason, 'InternalError');
});
