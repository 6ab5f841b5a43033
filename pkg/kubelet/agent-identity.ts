// This agent's own identity: made once and kept under its root dir, so an agent restarted on
// the same state takes back its own node Lease, and a second agent given the same node name
// (another root dir, another machine) is told who holds it.

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { writeAtomic } from './files.js';

const FILE = 'agent-id';

export function agentIdentity(rootDir: string): string {
  const path = join(rootDir, FILE);
  if (existsSync(path)) {
    const id = readFileSync(path, 'utf8').trim();
    if (/^[\w.-]{1,120}$/.test(id)) return id;
  }
  const host =
    os
      .hostname()
      .replace(/[^\w.-]/g, '-')
      .slice(0, 60) || 'host';
  const id = `${host}-${randomBytes(4).toString('hex')}`;
  mkdirSync(rootDir, { recursive: true });
  writeAtomic(path, `${id}\n`, 0o644);
  return id;
}
