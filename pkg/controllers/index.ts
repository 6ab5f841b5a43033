// The controllers the controller-manager can run, by name, each started on shared informers.

import { mustFind } from '../api/registry.js';
import { Informer, type RestClient } from '../client/index.js';
import { NamespaceController } from './namespace/namespace-controller.js';

export const CONTROLLER_NAMES = ['namespace'] as const;
export type ControllerName = (typeof CONTROLLER_NAMES)[number];

export interface ControllerManagerOptions {
  client: RestClient;
  controllers: readonly ControllerName[];
  log: (msg: string) => void;
}

/** Starts the chosen controllers; resolves when they stop (after abort). */
export async function runControllers(opts: ControllerManagerOptions, signal: AbortSignal): Promise<void> {
  const namespaces = new Informer(opts.client, mustFind('', 'v1', 'namespaces'), { resyncMs: 30_000 });
  const running: Promise<void>[] = [];
  if (opts.controllers.includes('namespace')) running.push(new NamespaceController(opts.client, namespaces, opts.log).start(signal));
  namespaces.start(signal);
  await namespaces.waitForSync(signal);
  opts.log(`controllers started: ${opts.controllers.join(', ')}`);
  await Promise.all(running);
}
