import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { limitBytes, runtimeLogOptions } from './container-logs.js';

async function text(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString();
}

test('limitBytes cuts the stream after the limit, across chunks, and stops reading the source', async () => {
  const source = Readable.from([Buffer.from('abc\n'), Buffer.from('def\n'), Buffer.from('ghi\n')]);
  assert.equal(await text(limitBytes(source, 6)), 'abc\nde');
  assert.ok(source.destroyed);
  assert.equal(await text(limitBytes(Readable.from([Buffer.from('short')]), 100)), 'short');
  assert.equal(await text(limitBytes(Readable.from([Buffer.from('same')]), undefined)), 'same');
});

test('sinceTime and sinceSeconds become a start time; a previous container is never followed', () => {
  const now = new Date('2024-01-01T00:01:00Z');
  const base = { follow: true, previous: false, timestamps: false, insecureSkipTLSVerifyBackend: false };
  assert.deepEqual(runtimeLogOptions({ ...base, sinceSeconds: 60 }, now), {
    follow: true,
    timestamps: false,
    since: new Date('2024-01-01T00:00:00Z'),
  });
  assert.deepEqual(runtimeLogOptions({ ...base, sinceTime: '2023-12-31T23:00:00Z', tailLines: 3 }, now), {
    follow: true,
    timestamps: false,
    tailLines: 3,
    since: new Date('2023-12-31T23:00:00Z'),
  });
  assert.equal(runtimeLogOptions({ ...base, previous: true }, now).follow, false);
});
