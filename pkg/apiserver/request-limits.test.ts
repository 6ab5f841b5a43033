import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from '../errors/index.js';
import { isLongRunning, RequestLimits } from './request-limits.js';

function refused(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

const limits = (): RequestLimits =>
  new RequestLimits({ maxRequestsInflight: 2, maxMutatingRequestsInflight: 1, maxWatchesPerUser: 2, maxWatches: 3 });

test('reads and writes have separate in-flight pools; a release frees a slot once', () => {
  const l = limits();
  const w = l.admitRequest('POST', ['testers']);
  assert.equal(refused(() => l.admitRequest('DELETE', ['testers'])).code, 429);
  const r1 = l.admitRequest('GET', ['testers']);
  l.admitRequest('GET', ['testers']);
  const err = refused(() => l.admitRequest('GET', ['testers']));
  assert.equal(err.reason, 'TooManyRequests');
  assert.equal(err.details?.retryAfterSeconds, 1);
  w();
  w();
  l.admitRequest('PATCH', ['testers']);
  assert.equal(refused(() => l.admitRequest('PUT', [])).code, 429, 'a double release must not free two slots');
  r1();
  l.admitRequest('GET', []);
});

test('system:masters is never refused', () => {
  const l = limits();
  for (let i = 0; i < 10; i++) {
    l.admitRequest('POST', ['system:masters']);
    l.admitWatch('admin', ['system:masters']);
  }
  l.admitRequest('POST', []);
});

test('watches are capped per user and in total', () => {
  const l = limits();
  const a1 = l.admitWatch('alice', []);
  l.admitWatch('alice', []);
  assert.match(refused(() => l.admitWatch('alice', [])).message, /for user "alice"/);
  l.admitWatch('bob', []);
  assert.match(refused(() => l.admitWatch('carol', [])).message, /on this server/);
  a1();
  l.admitWatch('carol', []);
});

test('watches and streams are long-running; everything else is not', () => {
  assert.equal(isLongRunning({ verb: 'watch', subresource: undefined }), true);
  assert.equal(isLongRunning({ verb: 'get', subresource: 'log' }), true);
  assert.equal(isLongRunning({ verb: 'connect', subresource: 'exec' }), true);
  assert.equal(isLongRunning({ verb: 'connect', subresource: 'portforward' }), true);
  assert.equal(isLongRunning({ verb: 'list', subresource: undefined }), false);
  assert.equal(isLongRunning({ verb: 'update', subresource: 'status' }), false);
});
