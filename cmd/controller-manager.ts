#!/usr/bin/env node
// coxswain controller-manager: flags → client → controllers. First SIGTERM/SIGINT drains, a second exits.

import os from 'node:os';
import { Command } from 'commander';
import { LeaderElector, loadKubeconfig, RestClient } from '../pkg/client/index.js';
import { CONTROLLER_NAMES, runControllers, type ControllerName } from '../pkg/controllers/index.js';

const program = new Command('controller-manager')
  .description('Coxswain controller-manager: turns desired state into actual state')
  .requiredOption('--kubeconfig <file>', 'kubeconfig with the controller-manager identity')
  .option('--controllers <names>', `comma-separated controllers to run (${CONTROLLER_NAMES.join(',')})`, CONTROLLER_NAMES.join(','))
  .option('--node-monitor-grace-period <seconds>', 'how long a node may go without renewing its lease', '50')
  .option('--leader-elect <bool>', 'elect a leader among controller-managers', 'true')
  .option('--leader-elect-lease-duration <seconds>', 'lease duration', '15')
  .option('--leader-elect-renew-deadline <seconds>', 'renew deadline', '10')
  .option('--leader-elect-retry-period <seconds>', 'retry period', '2');
program.parse();
const o = program.opts<{ kubeconfig: string; controllers: string; nodeMonitorGracePeriod: string; leaderElect: string; leaderElectLeaseDuration: string; leaderElectRenewDeadline: string; leaderElectRetryPeriod: string }>();

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
const options = { client, controllers: wanted as ControllerName[], log, nodeMonitorGracePeriodMs: Number(o.nodeMonitorGracePeriod) * 1000 };
if (o.leaderElect === 'false') {
  await runControllers(options, abort.signal);
} else {
  const identity = `${os.hostname()}_${process.pid}`;
  log(`controller-manager ${identity} waiting to lead`);
  await new LeaderElector(client, {
    namespace: 'kube-system',
    name: 'kube-controller-manager',
    identity,
    leaseDurationSeconds: Number(o.leaderElectLeaseDuration),
    renewDeadlineMs: Number(o.leaderElectRenewDeadline) * 1000,
    retryPeriodMs: Number(o.leaderElectRetryPeriod) * 1000,
  }).run(abort.signal, {
    onStartedLeading: (signal) => {
      log(`${identity} is the leader`);
      void runControllers(options, signal);
    },
    onStoppedLeading: () => {
      log('lost leadership; exiting');
      process.exit(abort.signal.aborted ? 0 : 1);
    },
  });
}
client.close();
