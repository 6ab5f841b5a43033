#!/usr/bin/env node
// coxswain supervisor: runs a cluster's processes and restarts them when they exit.
//   run   --state DIR                     the supervisor itself (foreground)
//   start --state DIR                     the same, detached; returns once it runs
//   add   --state DIR --name N -- CMD...  one more child for the running supervisor
//   systemd --state DIR [--out DIR]       the same supervision as systemd units (real machines)

import { Command, InvalidArgumentError } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  addChild, claimPidFile, DEFAULT_BACKOFF, DEFAULT_GRACE_PERIOD_MS, layoutOf, readSpecs, releasePidFile, startDetached, Supervisor, systemdUnits, validName,
} from '../pkg/supervisor/index.js';

const log = (msg: string): void => {
  process.stdout.write(`${new Date().toISOString()} ${msg}\n`);
};
const fail = (msg: string): never => {
  process.stderr.write(`supervisor: ${msg}\n`);
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

const program = new Command('supervisor').description('Coxswain supervisor: runs a cluster\'s processes, restarting them with back-off').enablePositionalOptions();

program.command('run')
  .description('supervise the children under --state until SIGTERM, then stop them')
  .requiredOption('--state <dir>', 'the cluster\'s state folder')
  .option('--grace-period <seconds>', 'time a child gets after SIGTERM before SIGKILL', seconds, DEFAULT_GRACE_PERIOD_MS)
  .action(async (o: { state: string; gracePeriod: number }) => {
    const stateDir = resolve(o.state);
    const layout = layoutOf(stateDir);
    const supervisor = new Supervisor({ stateDir, gracePeriodMs: o.gracePeriod, backoff: DEFAULT_BACKOFF, log });
    const abort = new AbortController();
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.on(signal, () => {
        if (abort.signal.aborted) process.exit(1);
        abort.abort();
      });
    }
    process.on('SIGHUP', () => supervisor.reload());
    // The PID file is written only once SIGHUP is handled: `add` signals whoever it names.
    if (!claimPidFile(layout)) fail(`another supervisor runs for ${stateDir}`);
    log(`supervisor of ${stateDir} running (pid ${process.pid})`);
    try {
      await supervisor.run(abort.signal);
    } finally {
      releasePidFile(layout);
    }
    log('supervisor stopped');
  });

program.command('start')
  .description('start the supervisor of --state in the background (a running one is left alone)')
  .requiredOption('--state <dir>', 'the cluster\'s state folder')
  .action(async (o: { state: string }) => {
    const layout = layoutOf(resolve(o.state));
    const res = await startDetached(layout, fileURLToPath(import.meta.url), []).catch((err: unknown) => fail(err instanceof Error ? err.message : String(err)));
    log(res.started ? `started the supervisor (pid ${res.pid})` : `the supervisor is already running (pid ${res.pid})`);
  });

program.command('add')
  .description('run one more process under the running supervisor of --state')
  .requiredOption('--state <dir>', 'the cluster\'s state folder')
  .requiredOption('--name <name>', 'names its pid and log files', name)
  .option('--pid-file <file>', 'one more file to record its PID in')
  .argument('<command...>', 'the command and its arguments, after --')
  .passThroughOptions()
  .action(async (command: string[], o: { state: string; name: string; pidFile?: string }) => {
    const [file, ...args] = command;
    if (file === undefined) return fail('add needs a command');
    const layout = layoutOf(resolve(o.state));
    const extra = o.pidFile !== undefined ? { extraPidFile: resolve(o.pidFile) } : {};
    const res = await addChild(layout, { name: o.name, command: file, args, cwd: process.cwd(), ...extra }).catch((err: unknown) => fail(err instanceof Error ? err.message : String(err)));
    process.stdout.write(res.started ? `started ${o.name} (pid ${res.pid})\n` : `${o.name} already running (pid ${res.pid})\n`);
  });

program.command('systemd')
  .description('write systemd units running what the supervisor of --state runs (for real machines, instead of the supervisor)')
  .requiredOption('--state <dir>', 'the cluster\'s state folder (after `npm run up`)')
  .option('--out <dir>', 'where to write the units', '/etc/systemd/system')
  .option('--prefix <name>', 'unit names: <prefix>-<child>.service, <prefix>.target', name, 'coxswain')
  .option('--grace-period <seconds>', 'time a child gets after SIGTERM before SIGKILL', seconds, DEFAULT_GRACE_PERIOD_MS)
  .action((o: { state: string; out: string; prefix: string; gracePeriod: number }) => {
    const stateDir = resolve(o.state);
    const specs = readSpecs(layoutOf(stateDir), (msg) => fail(msg)) ?? [];
    if (specs.length === 0) fail(`nothing is supervised under ${stateDir} (run npm run up first)`);
    mkdirSync(o.out, { recursive: true });
    for (const [file, text] of systemdUnits(specs, { stateDir, prefix: o.prefix, gracePeriodMs: o.gracePeriod, backoff: DEFAULT_BACKOFF })) {
      writeFileSync(join(o.out, file), text);
      process.stdout.write(`wrote ${join(o.out, file)}\n`);
    }
    process.stdout.write(`next: npm run down; systemctl daemon-reload; systemctl enable --now ${o.prefix}.target\n`);
  });

await program.parseAsync();
