// Endpoints controller: for each Service with a selector, the IPs of the pods it selects,
// ready ones in `addresses` and the rest in `notReadyAddresses`, with the Service's ports
// resolved against the pods (named target ports included), and the hostname of pods whose
// subdomain is the service.

import { isDeepStrictEqual } from 'node:util';
import { objectKey } from '../../api/meta.js';
import { RESOURCES } from '../../api/registry.js';
import { selectorMatches } from '../../api/selectors.js';
import type { EndpointAddress, EndpointPort, EndpointSubset, Endpoints, Pod, Service } from '../../api/types/index.js';
import type { Informer, RestClient } from '../../client/index.js';
import { isNotFound } from '../../errors/index.js';
import { enqueueSelectingServices, isReady, targetPort } from '../pods.js';
import { ReconcileLoop, type ControllerContext } from '../reconciler.js';

const ENDPOINTS = RESOURCES.endpoints;

export class EndpointsController {
  readonly loop: ReconcileLoop;
  private readonly client: RestClient;
  private readonly services: Informer<Service>;
  private readonly pods: Informer<Pod>;
  private readonly endpoints: Informer<Endpoints>;

  constructor(
    deps: ControllerContext & { services: Informer<Service>; pods: Informer<Pod>; endpoints: Informer<Endpoints> },
  ) {
    const { client, services, pods, endpoints, log } = deps;
    this.client = client;
    this.services = services;
    this.pods = pods;
    this.endpoints = endpoints;
    this.loop = new ReconcileLoop('endpoints', (key) => this.reconcile(key), { log });
    services.addHandler({
      onAdd: (s) => this.loop.enqueue(objectKey(s)),
      onUpdate: (_o, s) => this.loop.enqueue(objectKey(s)),
      onDelete: (s) => this.loop.enqueue(objectKey(s)),
    });
    enqueueSelectingServices(pods, services, (key) => this.loop.enqueue(key));
  }

  async reconcile(key: string): Promise<void> {
    const svc = this.services.get(key);
    const [namespace = '', name = ''] = key.split('/');
    if (svc === undefined) {
      if (this.endpoints.get(key) !== undefined) {
        try {
          await this.client.delete(ENDPOINTS, name, { namespace });
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      }
      return;
    }
    const spec = svc.spec ?? {};
    const selector = spec.selector;
    if (selector === undefined || Object.keys(selector).length === 0) return; // manually managed endpoints
    const ports = spec.ports ?? [];
    const pods = this.pods
      .byIndex('namespace', namespace)
      .filter(
        (p) =>
          selectorMatches({ matchLabels: selector }, p.metadata.labels) &&
          p.metadata.deletionTimestamp === undefined &&
          typeof p.status?.podIP === 'string',
      );
    const publishNotReady = spec.publishNotReadyAddresses === true;
    // One subset per distinct resolved port set (pods with different named ports differ).
    const subsets = new Map<
      string,
      { addresses: EndpointAddress[]; notReadyAddresses: EndpointAddress[]; ports: EndpointPort[] }
    >();
    for (const p of pods) {
      const resolved: EndpointPort[] = [];
      for (const sp of ports) {
        const port = targetPort(p, sp);
        if (port === undefined) continue;
        const protocol = sp.protocol ?? 'TCP';
        resolved.push(sp.name === undefined ? { port, protocol } : { name: sp.name, port, protocol });
      }
      const sig = JSON.stringify(resolved);
      let subset = subsets.get(sig);
      if (subset === undefined) {
        subset = { addresses: [], notReadyAddresses: [], ports: resolved };
        subsets.set(sig, subset);
      }
      const address: EndpointAddress = {
        ip: p.status?.podIP ?? '',
        // A pod whose subdomain is this service is named <hostname>.<service> in DNS (StatefulSet pods).
        ...(p.spec?.hostname && p.spec.subdomain === name ? { hostname: p.spec.hostname } : {}),
        nodeName: p.spec?.nodeName,
        targetRef: { kind: 'Pod', namespace, name: p.metadata.name, uid: p.metadata.uid },
      };
      if (isReady(p) || publishNotReady) subset.addresses.push(address);
      else subset.notReadyAddresses.push(address);
    }
    const list = [...subsets.values()].map((s) => {
      const sortByIp = (a: EndpointAddress, b: EndpointAddress): number => a.ip.localeCompare(b.ip);
      const out: EndpointSubset = { ports: s.ports };
      if (s.addresses.length > 0) out.addresses = s.addresses.sort(sortByIp);
      if (s.notReadyAddresses.length > 0) out.notReadyAddresses = s.notReadyAddresses.sort(sortByIp);
      return out;
    });
    const existing = this.endpoints.get(key);
    const desired: Endpoints = {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name, namespace, labels: { ...(svc.metadata.labels ?? {}) } },
      subsets: list,
    };
    if (existing === undefined) {
      await this.client.create(ENDPOINTS, desired, { namespace });
      return;
    }
    if (isDeepStrictEqual(existing.subsets ?? [], list)) return;
    await this.client.update(ENDPOINTS, { ...existing, subsets: list }, { namespace });
  }
}
