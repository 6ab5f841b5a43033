// API clients for tests, built from the control plane's kubeconfigs.

import { mustFind, type ResourceInfo } from '../../pkg/api/registry.js';
import { loadKubeconfig, RestClient } from '../../pkg/client/index.js';
import type { ControlPlane } from './control-plane.js';

export function adminClient(plane: ControlPlane): RestClient {
  return new RestClient(loadKubeconfig({ path: plane.pki.adminKubeconfig }));
}

export function resource(group: string, version: string, plural: string): ResourceInfo {
  return mustFind(group, version, plural);
}

export const R = {
  namespaces: resource('', 'v1', 'namespaces'),
  pods: resource('', 'v1', 'pods'),
  configmaps: resource('', 'v1', 'configmaps'),
  secrets: resource('', 'v1', 'secrets'),
  services: resource('', 'v1', 'services'),
  endpoints: resource('', 'v1', 'endpoints'),
  nodes: resource('', 'v1', 'nodes'),
  deployments: resource('apps', 'v1', 'deployments'),
  replicasets: resource('apps', 'v1', 'replicasets'),
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
