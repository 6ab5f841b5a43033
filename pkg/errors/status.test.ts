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

test('a Status has Go field order and the details Kubernetes always sets', () => {
  const notFound = new ApiError('NotFound', 'the server could not find the requested resource').toStatus();
  assert.deepEqual(Object.keys(notFound), [
    'kind',
    'apiVersion',
    'metadata',
    'status',
    'message',
    'reason',
    'details',
    'code',
  ]);
  assert.deepEqual(notFound.details, {});
  const internal = new ApiError('InternalError', 'Internal error occurred: disk full').toStatus();
  assert.deepEqual(internal.details, { causes: [{ message: 'disk full' }] });
  const bad = new ApiError('BadRequest', 'no').toStatus();
  assert.deepEqual(Object.keys(bad), ['kind', 'apiVersion', 'metadata', 'status', 'message', 'reason', 'code']);
  const named = new ApiError('Conflict', 'x', { details: { name: 'a', kind: 'pods' } }).toStatus();
  assert.deepEqual(named.details, { name: 'a', kind: 'pods' });
});
