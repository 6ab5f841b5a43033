import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { project } from './volumes.js';

test('projected files update in place: the mounted folder keeps its identity', () => {
  const base = mkdtempSync(join(tmpdir(), 'project-'));
  const dir = join(base, 'conf');
  try {
    project(dir, { 'a.conf': Buffer.from('one'), b: Buffer.from('bee') }, 0o644);
    const inode = statSync(dir).ino;
    assert.equal(readFileSync(join(dir, 'a.conf'), 'utf8'), 'one');
    project(dir, { 'a.conf': Buffer.from('two') }, 0o644);
    assert.equal(statSync(dir).ino, inode, 'same folder (a bind mount keeps seeing it)');
    assert.equal(readFileSync(join(dir, 'a.conf'), 'utf8'), 'two');
    assert.deepEqual(
      readdirSync(dir).filter((e) => !e.startsWith('..')),
      ['a.conf'],
      'the dropped key is gone',
    );
    assert.equal(
      readdirSync(dir).filter((e) => e.startsWith('..') && e !== '..data').length,
      1,
      'old versions removed',
    );
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
