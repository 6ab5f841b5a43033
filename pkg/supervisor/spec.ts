// What a supervisor runs: one JSON file per child under supervise/, written by `add` and
// read by the supervisor at start and on SIGHUP. Files are data from disk: parsed and checked
// field by field.

import { readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Layout } from './layout.js';
import { errorMessage } from '../errors/index.js';

export interface ChildSpec {
  /** Names the pid file and the log file: lowercase letters, digits, '.', '-'. */
  name: string;
  command: string;
  args: string[];
  cwd: string;
  /** Order of adding: children start in it and stop in reverse. */
  order: number;
  /** One more file to record the PID in, for tools that know the process by another path. */
  extraPidFile?: string;
}

const NAME = /^[a-z0-9][a-z0-9.-]{0,62}$/;

export function validName(name: string): boolean {
  return NAME.test(name);
}

function parseSpec(text: string, file: string): ChildSpec {
  const data: unknown = JSON.parse(text);
  if (typeof data !== 'object' || data === null) throw new Error(`${file}: not an object`);
  const fields = new Map<string, unknown>(Object.entries(data));
  const get = (key: string): unknown => fields.get(key);
  const name = get('name');
  const command = get('command');
  const args = get('args');
  const cwd = get('cwd');
  const order = get('order');
  const extraPidFile = get('extraPidFile');
  if (typeof name !== 'string' || !validName(name)) throw new Error(`${file}: bad name`);
  if (typeof command !== 'string' || command === '') throw new Error(`${file}: bad command`);
  if (!Array.isArray(args) || !args.every((a): a is string => typeof a === 'string'))
    throw new Error(`${file}: bad args`);
  if (typeof cwd !== 'string') throw new Error(`${file}: bad cwd`);
  if (typeof order !== 'number' || !Number.isFinite(order)) throw new Error(`${file}: bad order`);
  if (extraPidFile !== undefined && typeof extraPidFile !== 'string') throw new Error(`${file}: bad extraPidFile`);
  return { name, command, args, cwd, order, ...(extraPidFile !== undefined ? { extraPidFile } : {}) };
}

/**
 * Every child spec in start order; a file that does not parse is reported, not fatal.
 * undefined when the folder cannot be read (then nothing should change).
 */
export function readSpecs(layout: Layout, onError: (msg: string) => void): ChildSpec[] | undefined {
  const specs: ChildSpec[] = [];
  let entries: string[];
  try {
    entries = readdirSync(layout.specDir);
  } catch (err) {
    onError(`cannot read ${layout.specDir}: ${errorMessage(err)}`);
    return undefined;
  }
  for (const entry of entries) {
    if (!entry.endsWith('.json')) continue;
    const file = join(layout.specDir, entry);
    try {
      specs.push(parseSpec(readFileSync(file, 'utf8'), file));
    } catch (err) {
      onError(`ignoring ${file}: ${errorMessage(err)}`);
    }
  }
  return specs.sort((a, b) => a.order - b.order || a.name.localeCompare(b.name));
}

/** Writes a spec atomically (a reload never sees half a file). */
export function writeSpec(layout: Layout, spec: ChildSpec): void {
  const file = join(layout.specDir, `${spec.name}.json`);
  writeFileSync(`${file}.tmp`, `${JSON.stringify(spec, undefined, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}
