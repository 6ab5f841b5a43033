import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger, type LoggerOptions } from './log.js';

function capture(opts: LoggerOptions = {}): { lines: string[]; opts: LoggerOptions } {
  const lines: string[] = [];
  return {
    lines,
    opts: { now: () => new Date('2026-01-02T03:04:05.678Z'), write: (l) => void lines.push(l), ...opts },
  };
}

test('one line per entry: time, level, message, then key=value fields', () => {
  const { lines, opts } = capture();
  createLogger(opts).info('namespace finalized', { controller: 'namespace', key: 'demo', left: 0 });
  assert.deepEqual(lines, [
    '2026-01-02T03:04:05.678Z info  namespace finalized controller=namespace key=demo left=0\n',
  ]);
});

test('with() adds context to every entry; later fields win; undefined fields are left out', () => {
  const { lines, opts } = capture();
  const log = createLogger(opts).with({ controller: 'deployment' }).with({ key: 'default/web' });
  log.warn('sync failed', { key: 'default/api', reason: undefined });
  assert.equal(lines[0], '2026-01-02T03:04:05.678Z warn  sync failed controller=deployment key=default/api\n');
});

test('values with spaces, quotes, "=" or nothing are quoted; a newline in the message cannot forge a second entry', () => {
  const { lines, opts } = capture();
  createLogger(opts).error('bad\nINFO forged', { err: 'no route to host', eq: 'a=b', empty: '', q: 'say "hi"' });
  assert.equal(lines.length, 1);
  assert.equal(
    lines[0],
    '2026-01-02T03:04:05.678Z error bad\\nINFO forged err="no route to host" eq="a=b" empty="" q="say \\"hi\\""\n',
  );
});

test('entries below the level are dropped', () => {
  const { lines, opts } = capture({ level: 'warn' });
  const log = createLogger(opts);
  log.debug('d');
  log.info('i');
  log.warn('w');
  log.error('e');
  assert.deepEqual(
    lines.map((l) => l.split(' ')[1]),
    ['warn', 'error'],
  );
});
