#!/usr/bin/env node
// coxswain controller-manager: flags → client → controllers. First SIGTERM/SIGINT drains, a second exits.

import { Command } from 'commander';
import { loadKubeconfig, RestClient } from '../pkg/client/index.js';
import { CONTROLLER_NAMES, runControllers, type ControllerName } from '../pkg/controllers/index.js';

const program = new Command('controller-manager')
  .description('Coxswain controller-manager: turns desired state into actual state')
  .requiredOption('--kubeconfig <file>', 'kubeconfig with the controller-manager identity')
  .option('--controllers <names>', `comma-separated controllers to run (${CONTROLLER_NAMES.join(',')})`, CONTROLLER_NAMES.join(','));
program.parse();
const o = program.opts<{ kubeconfig: string; controllers: string }>();

const wanted = o.controllers.split(',').map((s) => s.trim()).filter((s) => s !== '');
const unknown = wanted.filter((n) => !(CONTROLLER_NAMES as readonly string[]).includes(n));
if (unknown.length > 0) {
  process.stderr.write(`controller-manager: unknown controllers: ${unknown.join(', ')}\n`);
  process.exit(2);
}

const client = new RestClient(loadKubeconfig({ path: o.kubeconfig }));
const abort = new AbortController();
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (abort.signal.aborted) process.exit(1);
    abort.abort();
  });
}
const log = (msg: string): void => {
  process.stdout.write(`${new Date().toISOString()} ${msg}\n`);
};
await runControllers({ client, controllers: wanted as ControllerName[], log }, abort.signal);
client.close();
