// The scheduler process: one client, then term after term (while leading) a fresh scheduler.

import { collectDefaultMetrics } from 'prom-client';
import { componentClient, componentClientConfig, runElected, serveComponentMetrics } from '../client/index.js';
import { createLogger, leaderElectionStatus, lineLogger } from '../component/index.js';
import { SchedulerMetrics } from './metrics.js';
import type { SchedulerConfig } from './config.js';
import { Scheduler } from './scheduler.js';

/** Schedules until `signal` aborts; resolves once stopped. */
export async function run(config: SchedulerConfig, signal: AbortSignal): Promise<void> {
  const log = createLogger();
  const clientConfig = componentClientConfig(config.kubeconfig, config.apiservers);
  const client = componentClient(clientConfig, signal, (m) => log.info(m));
  const metrics = new SchedulerMetrics();
  collectDefaultMetrics({ register: metrics.registry });
  const name = 'kube-scheduler';
  await serveComponentMetrics(
    { name, serving: config.serving, client, clientConfig, registry: metrics.registry, log },
    signal,
  );
  // One term: a fresh scheduler (informers, cache, queue) that runs until the term aborts.
  const schedule = async (term: AbortSignal): Promise<void> => {
    const scheduler = new Scheduler(client, lineLogger(log), metrics);
    await scheduler.startInformers(term);
    log.info('scheduler started');
    await scheduler.run(term);
  };
  try {
    await runElected(signal, {
      client,
      election: config.election,
      log,
      lead: leaderElectionStatus(metrics.registry, name, schedule),
    });
  } finally {
    client.close();
  }
}
