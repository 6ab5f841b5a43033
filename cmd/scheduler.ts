#!/usr/bin/env node
// coxswain scheduler: flags → client → leader election → Scheduler. First SIGTERM/SIGINT drains, a second exits.

import os from 'node:os';
import { Command } from 'commander';
import { LeaderElector, loadKubeconfig, RestClient, runLeaderElected } from '../pkg/client/index.js';
import { Scheduler } from '../pkg/scheduler/index.js';

const program = new Command('scheduler')
  .description('Coxswain scheduler: binds pending pods to nodes')
  .requiredOption('--kubeconfig <file>', 'kubeconfig with the scheduler identity')
  .option('--leader-elect <bool>', 'elect a leader among schedulers', 'true')
  .option('--leader-elect-lease-duration <seconds>', 'lease duration', '15')
  .option('--leader-elect-renew-deadline <seconds>', 'renew deadline', '10')
  .option('--leader-elect-retry-period <seconds>', 'retry period', '2');
program.parse();
const o = program.opts<Record<string, string>>();

const client = new RestClient(loadKubeconfig({ path: o['kubeconfig'] ?? '' }));
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
/** One term: a fresh scheduler (informers, cache, queue) that runs until `signal` aborts. */
const schedule = async (signal: AbortSignal): Promise<void> => {
  const scheduler = new Scheduler(client, log);
  await scheduler.startInformers(signal);
  log('scheduler started');
  await scheduler.run(signal);
};
if (o['leaderElect'] === 'false') {
  await schedule(abort.signal);
} else {
  const elector = new LeaderElector(client, {
    namespace: 'kube-system',
    name: 'kube-scheduler',
    identity: `${os.hostname()}_${process.pid}`,
    leaseDurationSeconds: Number(o['leaderElectLeaseDuration']),
    renewDeadlineMs: Number(o['leaderElectRenewDeadline']) * 1000,
    retryPeriodMs: Number(o['leaderElectRetryPeriod']) * 1000,
  });
  // Losing the lease stops this term's scheduler and campaigns again; the process stays.
  await runLeaderElected(elector, abort.signal, { log, lead: schedule });
}
client.close();
