// What each subcommand of cmd/supervisor.ts does, given its parsed flags: flag values → typed
// config → action. cmd/supervisor.ts holds only the flag definitions.

import { InvalidArgumentError } from 'commander';
import { resolve } from 'node:path';
import type { Logger } from '../component/index.js';
import { errorMessage } from '../errors/index.js';
import { addChild, startDetached } from './control.js';
import { layoutOf } from './layout.js';
import { run, writeSystemdUnits } from './run.js';
import { validName } from './spec.js';

/** Reports err on stderr and exits 1. */
export function fail(err: unknown): never {
  process.stderr.write(`supervisor: ${errorMessage(err)}\n`);
  process.exit(1);
}

/** Flag parser: a positive number of seconds, as milliseconds. */
export function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number of seconds');
  return n * 1000;
}

/** Flag parser: a child or unit name. */
export function childName(value: string): string {
  if (!validName(value)) throw new InvalidArgumentError('lowercase letters, digits, "." and "-"');
  return value;
}

export interface RunFlags {
  state: string;
  gracePeriod: number;
}

/** `run`: supervise until signal aborts; exits 1 when another supervisor runs for the state folder. */
export async function runCommand(o: RunFlags, ctx: { log: Logger; signal: AbortSignal }): Promise<void> {
  const stateDir = resolve(o.state);
  if (!(await run({ stateDir, gracePeriodMs: o.gracePeriod, log: ctx.log }, ctx.signal)))
    fail(`another supervisor runs for ${stateDir}`);
}

/** `start`: the supervisor of --state in the background; entry is the script that runs `run`. */
export async function startCommand(o: { state: string }, ctx: { log: Logger; entry: string }): Promise<void> {
  const res = await startDetached(layoutOf(resolve(o.state)), { entry: ctx.entry, runArgs: [] }).catch(fail);
  ctx.log.info(
    res.started ? `started the supervisor (pid ${res.pid})` : `the supervisor is already running (pid ${res.pid})`,
  );
}

export interface AddFlags {
  state: string;
  name: string;
  pidFile?: string;
}

/** `add`: one more child for the running supervisor of --state. */
export async function addCommand(command: string[], o: AddFlags): Promise<void> {
  const [file, ...args] = command;
  if (file === undefined) return fail('add needs a command');
  const extra = o.pidFile !== undefined ? { extraPidFile: resolve(o.pidFile) } : {};
  const res = await addChild(layoutOf(resolve(o.state)), {
    name: o.name,
    command: file,
    args,
    cwd: process.cwd(),
    ...extra,
  }).catch(fail);
  process.stdout.write(
    res.started ? `started ${o.name} (pid ${res.pid})\n` : `${o.name} already running (pid ${res.pid})\n`,
  );
}

export interface SystemdFlags {
  state: string;
  out: string;
  prefix: string;
  gracePeriod: number;
}

/** `systemd`: write the units and say what to run next. */
export function systemdCommand(o: SystemdFlags): void {
  try {
    writeSystemdUnits({
      stateDir: resolve(o.state),
      out: o.out,
      prefix: o.prefix,
      gracePeriodMs: o.gracePeriod,
      wrote: (f) => process.stdout.write(`wrote ${f}\n`),
    });
  } catch (err) {
    fail(err);
  }
  process.stdout.write(`next: npm run down; systemctl daemon-reload; systemctl enable --now ${o.prefix}.target\n`);
}
