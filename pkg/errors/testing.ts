// Assertions the decoders' unit tests share: what a decoder may do with hostile input.

import assert from 'node:assert/strict';
import { ApiError } from './index.js';

/** f throws an ApiError with this HTTP code (and a message matching `message`). */
export function rejectsWith(f: () => unknown, code = 400, message?: RegExp): void {
  assert.throws(f, (err: unknown) => {
    assert.ok(err instanceof ApiError, `expected an ApiError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (message !== undefined) assert.match(err.message, message);
    return true;
  });
}

/** f returns, or throws a 4xx ApiError: nothing else is allowed for any input. */
export function onlyClientErrors(f: () => unknown): void {
  try {
    f();
  } catch (err) {
    assert.ok(err instanceof ApiError, `threw ${String(err)}`);
    assert.ok(err.code >= 400 && err.code < 500, `code ${err.code}: ${err.message}`);
  }
}
