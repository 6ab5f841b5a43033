// The node's part of the cluster network, brought up once the Node is registered: wait for
// node IPAM to give the Node a podCIDR, make the Docker pod network with that subnet, then
// keep the host-gw routes and forwarding rules in line with the Node list.

import { nodePodCidr } from '../../api/cidr.js';
import type { Node } from '../../api/types/index.js';
import type { Informer } from '../../client/index.js';
import type { ClusterIdentity } from '../cluster-identity.js';
import type { ContainerRuntime } from '../runtime/index.js';
import { HostGwNetwork } from './host-gw.js';
import { ensurePodNetwork, type PodNetwork } from './pod-network.js';

export interface NodeNetworkOptions {
  cluster: ClusterIdentity;
  nodeName: string;
  clusterCIDR: string;
  /** How long to wait for a podCIDR before giving up (the controller-manager may be down). */
  podCidrTimeoutMs: number;
  log: (m: string) => void;
}

/** Resolves with the node's podCIDR once the Node cache shows one (bounded). */
export function waitForPodCidr(
  nodes: Pick<Informer<Node>, 'get' | 'addHandler'>,
  nodeName: string,
  bounds: { timeoutMs: number; signal: AbortSignal },
): Promise<string> {
  const { timeoutMs, signal } = bounds;
  const now = nodePodCidr(nodes.get(nodeName));
  if (now !== undefined) return Promise.resolve(now);
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (err: Error | undefined, cidr?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(cidr ?? '');
    };
    const timer = setTimeout(
      () =>
        finish(
          new Error(
            `node ${nodeName} got no podCIDR within ${timeoutMs / 1000} s: is the controller-manager running with node IPAM (--allocate-node-cidrs)?`,
          ),
        ),
      timeoutMs,
    );
    signal.addEventListener('abort', () => finish(new Error('stopped')), { once: true });
    const look = (n: Node): void => {
      if (n.metadata.name !== nodeName) return;
      const cidr = nodePodCidr(n);
      if (cidr !== undefined) finish(undefined, cidr);
    };
    nodes.addHandler({ onAdd: look, onUpdate: (_o, n) => look(n) });
  });
}

/** What the node network is made with: the container runtime and the Node cache. */
export interface NodeNetworkDeps {
  runtime: ContainerRuntime;
  nodes: Pick<Informer<Node>, 'get' | 'list' | 'addHandler'>;
}

export async function startNodeNetwork(
  deps: NodeNetworkDeps,
  opts: NodeNetworkOptions,
  signal: AbortSignal,
): Promise<PodNetwork> {
  const { runtime, nodes } = deps;
  opts.log(`network: waiting for node ${opts.nodeName}'s podCIDR`);
  const podCIDR = await waitForPodCidr(nodes, opts.nodeName, { timeoutMs: opts.podCidrTimeoutMs, signal });
  const net = await ensurePodNetwork(runtime, opts.cluster, podCIDR);
  await new HostGwNetwork(nodes, {
    self: opts.nodeName,
    net: { chainPrefix: opts.cluster.chainPrefix, clusterCIDR: opts.clusterCIDR, podCIDR, bridge: net.bridge },
    log: opts.log,
  }).start(signal);
  opts.log(`network: pods on ${net.name} (${podCIDR}, gateway ${net.gateway}), host-gw routes to the other nodes`);
  return net;
}
