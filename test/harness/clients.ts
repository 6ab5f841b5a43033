// API clients for tests, built from the control plane's kubeconfigs.

import { mustFind, RESOURCES, type ResourceInfo } from '../../pkg/api/registry.js';
import { loadKubeconfig, RestClient } from '../../pkg/client/index.js';
import type { ControlPlane } from './control-plane.js';

export function adminClient(plane: ControlPlane): RestClient {
  return new RestClient(loadKubeconfig({ path: plane.pki.adminKubeconfig }));
}

export function resource(group: string, version: string, plural: string): ResourceInfo {
  return mustFind(group, version, plural);
}

/** The resources tests use most, typed: `client.get(R.pods, …)` returns a Pod. */
export const R = {
  namespaces: RESOURCES.namespaces,
  pods: RESOURCES.pods,
  configmaps: RESOURCES.configmaps,
  secrets: RESOURCES.secrets,
  services: RESOURCES.services,
  endpoints: RESOURCES.endpoints,
  nodes: RESOURCES.nodes,
  deployments: RESOURCES.deployments,
  replicasets: RESOURCES.replicasets,
};

/** Polls `check` until it returns true (bounded in count and time). */
export async function eventually(
  check: () => Promise<boolean> | boolean,
  opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<void> {
  const timeout = opts.timeoutMs ?? 30_000;
  const interval = opts.intervalMs ?? 100;
  const attempts = Math.ceil(timeout / interval);
  for (let i = 0; i < attempts; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, interval));
  }
  throw new Error(`condition not met within ${timeout} ms${opts.what ? `: ${opts.what}` : ''}`);
}
