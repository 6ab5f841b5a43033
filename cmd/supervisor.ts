#!/usr/bin/env node
// coxswain supervisor: runs a cluster's processes and restarts them when they exit.
//   run   --state DIR                     the supervisor itself (foreground)
//   start --state DIR                     the same, detached; returns once it runs
//   add   --state DIR --name N -- CMD...  one more child for the running supervisor
//   systemd --state DIR [--out DIR]       the same supervision as systemd units (real machines)

import { Command, InvalidArgumentError } from 'commander';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, processSignal } from '../pkg/component/index.js';
import {
  addChild,
  DEFAULT_GRACE_PERIOD_MS,
  layoutOf,
  run,
  startDetached,
  validName,
  writeSystemdUnits,
} from '../pkg/supervisor/index.js';

const log = createLogger();
const fail = (err: unknown): never => {
  process.stderr.write(`supervisor: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
};
const seconds = (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number of seconds');
  return n * 1000;
};
const name = (value: string): string => {
  if (!validName(value)) throw new InvalidArgumentError('lowercase letters, digits, "." and "-"');
  return value;
};

const program = new Command('supervisor')
  .description("Coxswain supervisor: runs a cluster's processes, restarting them with back-off")
  .enablePositionalOptions();

program
  .command('run')
  .description('supervise the children under --state until SIGTERM, then stop them')
  .requiredOption('--state <dir>', "the cluster's state folder")
  .option(
    '--grace-period <seconds>',
    'time a child gets after SIGTERM before SIGKILL',
    seconds,
    DEFAULT_GRACE_PERIOD_MS,
  )
  .action(async (o: { state: string; gracePeriod: number }) => {
    const stateDir = resolve(o.state);
    if (!(await run({ stateDir, gracePeriodMs: o.gracePeriod, log }, processSignal())))
      fail(`another supervisor runs for ${stateDir}`);
  });

program
  .command('start')
  .description('start the supervisor of --state in the background (a running one is left alone)')
  .requiredOption('--state <dir>', "the cluster's state folder")
  .action(async (o: { state: string }) => {
    const res = await startDetached(layoutOf(resolve(o.state)), fileURLToPath(import.meta.url), []).catch(fail);
    log.info(
      res.started ? `started the supervisor (pid ${res.pid})` : `the supervisor is already running (pid ${res.pid})`,
    );
  });

program
  .command('add')
  .description('run one more process under the running supervisor of --state')
  .requiredOption('--state <dir>', "the cluster's state folder")
  .requiredOption('--name <name>', 'names its pid and log files', name)
  .option('--pid-file <file>', 'one more file to record its PID in')
  .argument('<command...>', 'the command and its arguments, after --')
  .passThroughOptions()
  .action(async (command: string[], o: { state: string; name: string; pidFile?: string }) => {
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
  });

program
  .command('systemd')
  .description(
    'write systemd units running what the supervisor of --state runs (for real machines, instead of the supervisor)',
  )
  .requiredOption('--state <dir>', "the cluster's state folder (after `npm run up`)")
  .option('--out <dir>', 'where to write the units', '/etc/systemd/system')
  .option('--prefix <name>', 'unit names: <prefix>-<child>.service, <prefix>.target', name, 'coxswain')
  .option(
    '--grace-period <seconds>',
    'time a child gets after SIGTERM before SIGKILL',
    seconds,
    DEFAULT_GRACE_PERIOD_MS,
  )
  .action((o: { state: string; out: string; prefix: string; gracePeriod: number }) => {
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
  });

await program.parseAsync();
