// The scheduler process: one client, then term after term (while leading) a fresh scheduler.

import { componentClient, componentClientConfig, runElected } from '../client/index.js';
import { createLogger, lineLogger } from '../component/index.js';
import type { SchedulerConfig } from './config.js';
import { Scheduler } from './scheduler.js';

/** Schedules until `signal` aborts; resolves once stopped. */
export async function run(config: SchedulerConfig, signal: AbortSignal): Promise<void> {
  const log = createLogger();
  const client = componentClient(componentClientConfig(config.kubeconfig, config.apiservers), signal, (m) =>
    log.info(m),
  );
  // One term: a fresh scheduler (informers, cache, queue) that runs until the term aborts.
  const schedule = async (term: AbortSignal): Promise<void> => {
    const scheduler = new Scheduler(client, lineLogger(log));
    await scheduler.startInformers(term);
    log.info('scheduler started');
    await scheduler.run(term);
  };
  try {
    await runElected(signal, { client, election: config.election, log, lead: schedule });
  } finally {
    client.close();
  }
}
