// Service load balancers without a cloud (k3s' ServiceLB, smaller): a `type: LoadBalancer`
// Service gets `status.loadBalancer.ingress` with the InternalIP of every Ready node, and the
// node agents' service proxy answers on those addresses at the Service's ports. A Service
// that stops being a LoadBalancer has its load balancer status cleared, as the cloud
// service controller does. Node changes re-check every LoadBalancer Service.

import { loadBalancerIngress, readyNodeAddresses, sameIngress } from '../../api/load-balancer.js';
import { RESOURCES } from '../../api/registry.js';
import type { Node, Service } from '../../api/types/index.js';
import type { Informer, RestClient } from '../../client/index.js';
import { isConflict, isNotFound } from '../../errors/index.js';
import { ReconcileLoop } from '../reconciler.js';

export interface ServiceLbOptions {
  client: RestClient;
  services: Informer<Service>;
  nodes: Informer<Node>;
  log: (m: string) => void;
}

const keyOf = (s: Readonly<Service>): string => `${s.metadata.namespace ?? ''}/${s.metadata.name ?? ''}`;

/** The addresses a Service should show: the Ready nodes' for a LoadBalancer, none otherwise. */
export function wantedAddresses(service: Readonly<Service>, nodes: readonly Readonly<Node>[]): string[] {
  return service.spec?.type === 'LoadBalancer' ? readyNodeAddresses(nodes) : [];
}

export class ServiceLbController {
  readonly loop: ReconcileLoop;

  constructor(private readonly opts: ServiceLbOptions) {
    this.loop = new ReconcileLoop('servicelb', (key) => this.reconcile(key), { log: opts.log });
    const enqueue = (s: Readonly<Service>): void => this.loop.enqueue(keyOf(s));
    opts.services.addHandler({ onAdd: enqueue, onUpdate: (_o, s) => enqueue(s) });
    const everyLoadBalancer = (): void => {
      for (const s of opts.services.list()) if (s.spec?.type === 'LoadBalancer') enqueue(s);
    };
    opts.nodes.addHandler({ onAdd: everyLoadBalancer, onUpdate: everyLoadBalancer, onDelete: everyLoadBalancer });
  }

  async reconcile(key: string): Promise<void> {
    const service = this.opts.services.get(key);
    if (service === undefined) return;
    const ips = wantedAddresses(service, this.opts.nodes.list());
    const recorded = service.status?.loadBalancer?.ingress;
    if (sameIngress(recorded, ips) || (ips.length === 0 && recorded === undefined)) return;
    const next: Service = {
      ...service,
      status: { ...service.status, loadBalancer: ips.length === 0 ? {} : { ingress: loadBalancerIngress(ips) } },
    };
    try {
      await this.opts.client.updateStatus(RESOURCES.services, next);
    } catch (err) {
      // A newer version or a deletion comes back through the informer.
      if (!isConflict(err) && !isNotFound(err)) throw err;
    }
  }
}
