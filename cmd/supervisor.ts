#!/usr/bin/env node
// coxswain supervisor: runs a cluster's processes and restarts them when they exit.
//   run   --state DIR                     the supervisor itself (foreground)
//   start --state DIR                     the same, detached; returns once it runs
//   add   --state DIR --name N -- CMD...  one more child for the running supervisor
//   systemd --state DIR [--out DIR]       the same supervision as systemd units (real machines)
// Flag definitions only: what each subcommand does is in pkg/supervisor/commands.ts.

import { Command } from 'commander';
import { fileURLToPath } from 'node:url';
import { createLogger, processSignal } from '../pkg/component/index.js';
import {
  addCommand,
  childName,
  DEFAULT_GRACE_PERIOD_MS,
  runCommand,
  seconds,
  startCommand,
  systemdCommand,
  type AddFlags,
  type RunFlags,
  type SystemdFlags,
} from '../pkg/supervisor/index.js';

const log = createLogger();
const STATE = "the cluster's state folder";
const GRACE = 'time a child gets after SIGTERM before SIGKILL';

const program = new Command('supervisor')
  .description("Coxswain supervisor: runs a cluster's processes, restarting them with back-off")
  .enablePositionalOptions();

program
  .command('run')
  .description('supervise the children under --state until SIGTERM, then stop them')
  .requiredOption('--state <dir>', STATE)
  .option('--grace-period <seconds>', GRACE, seconds, DEFAULT_GRACE_PERIOD_MS)
  .action((o: RunFlags) => runCommand(o, { log, signal: processSignal() }));

program
  .command('start')
  .description('start the supervisor of --state in the background (a running one is left alone)')
  .requiredOption('--state <dir>', STATE)
  .action((o: { state: string }) => startCommand(o, { log, entry: fileURLToPath(import.meta.url) }));

program
  .command('add')
  .description('run one more process under the running supervisor of --state')
  .requiredOption('--state <dir>', STATE)
  .requiredOption('--name <name>', 'names its pid and log files', childName)
  .option('--pid-file <file>', 'one more file to record its PID in')
  .argument('<command...>', 'the command and its arguments, after --')
  .passThroughOptions()
  .action((command: string[], o: AddFlags) => addCommand(command, o));

program
  .command('systemd')
  .description(
    'write systemd units running what the supervisor of --state runs (for real machines, instead of the supervisor)',
  )
  .requiredOption('--state <dir>', "the cluster's state folder (after `npm run up`)")
  .option('--out <dir>', 'where to write the units', '/etc/systemd/system')
  .option('--prefix <name>', 'unit names: <prefix>-<child>.service, <prefix>.target', childName, 'coxswain')
  .option('--grace-period <seconds>', GRACE, seconds, DEFAULT_GRACE_PERIOD_MS)
  .action((o: SystemdFlags) => systemdCommand(o));

await program.parseAsync();
