// Removing what one cluster's agents made on this machine, for `npm run down` and tests:
// its containers and pod networks on the dockerd, its routes (proto 77 inside its cluster
// CIDR) and its iptables chains with the rules that jump to them. Another cluster's objects
// on the same machine are left as they are (cluster-identity.ts).

import type { ClusterIdentity } from './cluster-identity.js';
import { removeRoutes } from './network/host-gw.js';
import { Iptables } from './host/index.js';
import { DockerRuntime } from './runtime/index.js';
import { errorMessage } from '../errors/index.js';

export interface TeardownOptions {
  cluster: ClusterIdentity;
  clusterCIDR: string;
  dockerSocket: string;
  log: (m: string) => void;
}

/** Each step runs even when another failed (say dockerd is down); the failures are thrown together. */
export async function teardownCluster(opts: TeardownOptions): Promise<void> {
  const failures: string[] = [];
  const step = async (what: string, fn: () => Promise<string>): Promise<void> => {
    try {
      opts.log(`teardown: ${await fn()}`);
    } catch (err) {
      failures.push(`${what}: ${errorMessage(err)}`);
    }
  };
  await step('docker', async () => {
    const runtime = new DockerRuntime({ socketPath: opts.dockerSocket, nodeName: '', clusterId: opts.cluster.id });
    const removed = await runtime.removeCluster();
    return `removed ${removed.containers} containers and ${removed.networks} networks of cluster ${opts.cluster.id}`;
  });
  await step('routes', async () => `removed ${await removeRoutes(opts.clusterCIDR)} routes within ${opts.clusterCIDR}`);
  await step('iptables', async () => {
    await new Iptables().removeChains(opts.cluster.chainPrefix);
    return `removed the iptables chains ${opts.cluster.chainPrefix}* and the rules jumping to them`;
  });
  if (failures.length > 0) throw new Error(failures.join('; '));
}
