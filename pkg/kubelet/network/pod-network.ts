// The node's pod network (DESIGN.md §7): a Docker bridge network whose subnet is the node's
// podCIDR (gateway .1), with Docker's own masquerading off: pod-to-pod traffic between hosts
// keeps its addresses (host-gw routing), and host-gw.ts masquerades only what leaves the
// cluster CIDR. Network and bridge are named after the cluster (cluster-identity.ts), so two
// clusters on one machine each have their own; this cluster's network left with another
// subnet is replaced (its containers belong to pods this node no longer has).

import { intToIp, parseCidr } from '../../api/cidr.js';
import type { ClusterIdentity } from '../cluster-identity.js';
import type { ContainerRuntime } from '../runtime/index.js';

export interface PodNetwork {
  name: string;
  bridge: string;
  subnet: string;
  gateway: string;
}

export async function ensurePodNetwork(
  runtime: ContainerRuntime,
  cluster: ClusterIdentity,
  podCIDR: string,
): Promise<PodNetwork> {
  const cidr = parseCidr(podCIDR);
  if (cidr === undefined) throw new Error(`pod CIDR ${podCIDR} is not an IPv4 CIDR`);
  const gateway = intToIp(cidr.base + 1);
  await runtime.ensureNetwork(cluster.podNetwork, {
    subnet: podCIDR,
    gateway,
    bridgeName: cluster.podBridge,
    masquerade: false,
    replace: true,
  });
  return { name: cluster.podNetwork, bridge: cluster.podBridge, subnet: podCIDR, gateway };
}
