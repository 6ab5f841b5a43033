// The apiserver process: serve until the signal aborts, then drain (close the listener and
// the watches, flush the store).

import { createLogger } from '../component/index.js';
import type { ApiServerConfig } from './config.js';
import { ApiServer } from './server.js';

/** Serves until `signal` aborts; resolves once closed. Rejects when the server cannot start. */
export async function run(config: ApiServerConfig, signal: AbortSignal): Promise<void> {
  const server = await ApiServer.start(config);
  // Readiness is signalled on stdout, never slept for.
  createLogger().info(`apiserver listening on https://${config.bindAddress}:${server.port}`);
  if (!signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
  await server.close();
}
