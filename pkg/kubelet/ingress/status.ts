// Ingress status: one writer in the cluster, the agent whose node is first by name among the
// Ready nodes (every agent sees the same nodes, so they agree without a lease; during a change
// of Ready nodes two may write the same value for a moment, which is harmless). It sets
// `status.loadBalancer.ingress` of every Ingress of the class to the Ready nodes' addresses.

import { isNodeReady, loadBalancerIngress, readyNodeAddresses, RESOURCES, sameIngress } from '../../api/index.js';
import type { Ingress, Node } from '../../api/index.js';
import type { RestClient } from '../../client/index.js';
import { errorMessage, isConflict, isNotFound } from '../../errors/index.js';

/** Whether this node is the one that writes Ingress status. */
export function isStatusWriter(nodeName: string, nodes: readonly Readonly<Node>[]): boolean {
  const ready = nodes
    .filter(isNodeReady)
    .map((n) => n.metadata.name ?? '')
    .sort();
  return ready[0] === nodeName;
}

/** Writes the addresses to every Ingress that does not show them yet; returns how many failed. */
export async function writeIngressStatus(
  client: RestClient,
  state: { ingresses: readonly Readonly<Ingress>[]; nodes: readonly Readonly<Node>[] },
  log: (m: string) => void,
): Promise<number> {
  const { ingresses, nodes } = state;
  const ips = readyNodeAddresses(nodes);
  let failed = 0;
  for (const ing of ingresses) {
    if (sameIngress(ing.status?.loadBalancer?.ingress, ips)) continue;
    const next: Ingress = { ...ing, status: { ...ing.status, loadBalancer: { ingress: loadBalancerIngress(ips) } } };
    try {
      await client.updateStatus(RESOURCES.ingresses, next);
    } catch (err) {
      // A newer version or a deletion arrives through the informer and is looked at again.
      if (isConflict(err) || isNotFound(err)) continue;
      failed += 1;
      log(`ingress: status of ${ing.metadata.namespace ?? ''}/${ing.metadata.name ?? ''}: ${errorMessage(err)}`);
    }
  }
  return failed;
}
