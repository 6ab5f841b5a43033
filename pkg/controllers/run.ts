// The controller-manager process: one client, then term after term (while leading) the
// chosen controllers on fresh informers.

import { readFileSync } from 'node:fs';
import { collectDefaultMetrics, Registry } from 'prom-client';
import {
  componentClient,
  componentClientConfig,
  runElected,
  serveComponentMetrics,
  setWorkQueueMetricsProvider,
} from '../client/index.js';
import { createLogger, leaderElectionStatus, lineLogger } from '../component/index.js';
import { workQueueMetrics } from './metrics.js';
import type { ControllerManagerConfig } from './config.js';
import { runControllers } from './index.js';

/** Runs the controllers until `signal` aborts; resolves once they stopped. */
export async function run(config: ControllerManagerConfig, signal: AbortSignal): Promise<void> {
  const log = createLogger();
  const kubeconfig = componentClientConfig(config.kubeconfig, config.apiservers);
  const client = componentClient(kubeconfig, signal, (m) => log.info(m));
  const rootCaPem = config.rootCaFile === undefined ? kubeconfig.caPem : readFileSync(config.rootCaFile, 'utf8');
  // Every named work queue of this process reports to this registry (client-go's SetProvider).
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  setWorkQueueMetricsProvider(workQueueMetrics(registry));
  const name = 'kube-controller-manager';
  await serveComponentMetrics(
    { name, serving: config.serving, client, clientConfig: kubeconfig, registry, log },
    signal,
  );
  const options = { ...config, client, log: lineLogger(log), ...(rootCaPem === undefined ? {} : { rootCaPem }) };
  try {
    await runElected(signal, {
      client,
      election: config.election,
      log,
      lead: leaderElectionStatus(registry, name, (term) => runControllers(options, term)),
    });
  } finally {
    client.close();
  }
}
