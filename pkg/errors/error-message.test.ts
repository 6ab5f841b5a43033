import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError, errorMessage, toApiError } from './index.js';

test('errorMessage gives an Error its message and anything else its string', () => {
  assert.equal(errorMessage(new Error('disk full')), 'disk full');
  assert.equal(errorMessage(new ApiError('NotFound', 'pods "p" not found')), 'pods "p" not found');
  assert.equal(errorMessage('plain text'), 'plain text');
  assert.equal(errorMessage(42), '42');
  assert.equal(errorMessage(undefined), 'undefined');
});

test('toApiError keeps an ApiError and makes anything else an InternalError with its message', () => {
  const notFound = new ApiError('NotFound', 'gone');
  assert.equal(toApiError(notFound), notFound);
  const internal = toApiError(new Error('boom'));
  assert.equal(internal.reason, 'InternalError');
  assert.match(internal.message, /boom/);
});
