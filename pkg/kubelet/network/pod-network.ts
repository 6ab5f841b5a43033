// The node's pod network (DESIGN.md §7): a Docker bridge network `cox-pods` whose subnet is
// the node's podCIDR (gateway .1 on bridge `coxpods0`), with Docker's own masquerading off:
// pod-to-pod traffic between hosts keeps its addresses (host-gw routing), and host-gw.ts
// masquerades only what leaves the cluster CIDR. A network left by an earlier cluster with
// another subnet is replaced (its containers belong to pods this node no longer has).

import { intToIp, parseCidr } from '../../api/cidr.js';
import type { DockerRuntime } from '../runtime/index.js';

export const POD_NETWORK = 'cox-pods';
export const POD_BRIDGE = 'coxpods0';

export interface PodNetwork {
  name: string;
  bridge: string;
  subnet: string;
  gateway: string;
}

export async function ensurePodNetwork(runtime: DockerRuntime, podCIDR: string): Promise<PodNetwork> {
  const cidr = parseCidr(podCIDR);
  if (cidr === undefined) throw new Error(`pod CIDR ${podCIDR} is not an IPv4 CIDR`);
  const gateway = intToIp(cidr.base + 1);
  await runtime.ensureNetwork(POD_NETWORK, podCIDR, gateway, { bridgeName: POD_BRIDGE, masquerade: false, replace: true });
  return { name: POD_NETWORK, bridge: POD_BRIDGE, subnet: podCIDR, gateway };
}
