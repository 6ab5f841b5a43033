import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from '../errors/index.js';
import { LogResume, timestampNanos } from '../api/log-resume.js';
import { isRetryable, withReconnect, type SessionEnd } from './reconnect.js';

const policy = { attempts: 3, initialDelayMs: 500, maxDelayMs: 1000 };

test('withReconnect: retries a broken session with doubling, capped pauses and says so on stderr', async () => {
  const ends: SessionEnd[] = [
    { kind: 'broken', progressed: false, reason: 'connect ECONNREFUSED' },
    { kind: 'broken', progressed: false, reason: 'connect ECONNREFUSED' },
    { kind: 'done' },
  ];
  const notices: string[] = [];
  const slept: number[] = [];
  await withReconnect('watch of configmaps', async () => ends.shift() ?? { kind: 'done' }, {
    notice: (l) => notices.push(l),
    policy,
    sleep: async (ms) => void slept.push(ms),
  });
  assert.deepEqual(slept, [500, 1000]);
  assert.equal(
    notices[0],
    'watch of configmaps interrupted (connect ECONNREFUSED); reconnecting in 0.5s (attempt 1/3)',
  );
});

test('withReconnect: gives up after the bounded number of fruitless attempts; progress resets the count', async () => {
  let calls = 0;
  const session = async (): Promise<SessionEnd> => {
    calls++;
    // Every third session got somewhere before breaking.
    return { kind: 'broken', progressed: calls % 3 === 0 && calls < 9, reason: 'down' };
  };
  await assert.rejects(
    withReconnect('logs of pod/p', session, { notice: () => undefined, policy, sleep: async () => undefined }),
    /logs of pod\/p: giving up after 3 attempts to reconnect: down/,
  );
  assert.equal(calls, 9, 'sessions 3 and 6 progressed, so the count restarted twice');
});

test('isRetryable: the server gone or busy is retried; a refusal of the request is not', () => {
  assert.equal(isRetryable(new Error('socket hang up')), true);
  assert.equal(isRetryable(new ApiError('ServiceUnavailable', 'x')), true);
  assert.equal(isRetryable(new ApiError('TooManyRequests', 'x')), true);
  assert.equal(isRetryable(new ApiError('Forbidden', 'x')), false);
  assert.equal(isRetryable(new ApiError('NotFound', 'x')), false);
});

test('timestampNanos: fraction digits of every length, offsets', () => {
  const base = BigInt(Date.parse('2026-11-30T10:00:00Z')) * 1_000_000n;
  assert.equal(timestampNanos('2026-11-30T10:00:00Z'), base);
  assert.equal(timestampNanos('2026-11-30T10:00:00.5Z'), base + 500_000_000n);
  assert.equal(timestampNanos('2026-11-30T10:00:00.000000001Z'), base + 1n);
  assert.equal(timestampNanos('2026-11-30T11:00:00+01:00'), base);
  assert.equal(timestampNanos('yesterday'), undefined);
});

test('LogResume: a resumed stream skips what was printed, including lines sharing the last instant', () => {
  const r = new LogResume();
  const first = ['2026-11-30T10:00:01.1Z a', '2026-11-30T10:00:02.5Z b', '2026-11-30T10:00:02.5Z c'];
  assert.deepEqual(
    first.map((l) => r.accept(l)),
    [true, true, true],
  );
  assert.equal(r.sinceTime(), '2026-11-30T10:00:02.5Z');
  r.restart();
  // The runtime starts again at the millisecond of the last line (and before it).
  const again = [
    '2026-11-30T10:00:02.1Z old',
    '2026-11-30T10:00:02.500Z b',
    '2026-11-30T10:00:02.500000000Z c',
    '2026-11-30T10:00:02.500Z d',
    '2026-11-30T10:00:03Z e',
  ];
  assert.deepEqual(
    again.map((l) => r.accept(l)),
    [false, false, false, true, true],
  );
  assert.equal(r.accept('no timestamp here'), true, 'a line without a timestamp is passed on');
});
