#!/usr/bin/env node
// coxswain scheduler: flags → SchedulerConfig → run. First SIGTERM/SIGINT drains, a second exits.

import { Command } from 'commander';
import { APISERVERS_FLAG_HELP } from '../pkg/client/index.js';
import { configOrExit, processSignal, SECURE_SERVING_OPTIONS } from '../pkg/component/index.js';
import { run, schedulerConfig, type SchedulerFlags } from '../pkg/scheduler/index.js';

const program = new Command('scheduler')
  .description('Coxswain scheduler: binds pending pods to nodes')
  .requiredOption('--kubeconfig <file>', 'kubeconfig with the scheduler identity')
  .option('--apiservers <urls>', APISERVERS_FLAG_HELP)
  .option('--leader-elect <bool>', 'elect a leader among schedulers', 'true')
  .option('--leader-elect-lease-duration <seconds>', 'lease duration', '15')
  .option('--leader-elect-renew-deadline <seconds>', 'renew deadline', '10')
  .option('--leader-elect-retry-period <seconds>', 'retry period', '2');
for (const [flag, help] of SECURE_SERVING_OPTIONS) program.option(flag, help);
program.parse();

const config = configOrExit('scheduler', () => schedulerConfig(program.opts<SchedulerFlags>()));
await run(config, processSignal());
