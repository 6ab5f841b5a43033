// Endpoints controller: for each Service with a selector, the IPs of the pods it selects,
// ready ones in `addresses` and the rest in `notReadyAddresses`, with the Service's ports
// resolved against the pods (named target ports included).

import { isDeepStrictEqual } from 'node:util';
import { isObject, objectKey, type KubeObject } from '../../api/meta.js';
import { mustFind } from '../../api/registry.js';
import { selectorMatches } from '../../api/selectors.js';
import type { Informer, RestClient } from '../../client/index.js';
import { isNotFound } from '../../errors/index.js';
import { isReady } from '../pods.js';
import { ReconcileLoop } from '../reconciler.js';

const ENDPOINTS = mustFind('', 'v1', 'endpoints');

type Obj = Record<string, unknown>;

function targetPort(pod: KubeObject, port: Obj): number | undefined {
  const target = port['targetPort'] ?? port['port'];
  if (typeof target === 'number') return target;
  const containers = (((pod['spec'] ?? {}) as Obj)['containers'] ?? []) as Obj[];
  for (const c of containers) {
    for (const p of ((c['ports'] ?? []) as Obj[]).filter(isObject)) if (p['name'] === target && typeof p['containerPort'] === 'number') return p['containerPort'];
  }
  return undefined;
}

export class EndpointsController {
  readonly loop: ReconcileLoop;

  constructor(private readonly client: RestClient, private readonly services: Informer, private readonly pods: Informer, private readonly endpoints: Informer, log: (m: string) => void) {
    this.loop = new ReconcileLoop('endpoints', (key) => this.reconcile(key), log);
    services.addHandler({ onAdd: (s) => this.loop.enqueue(objectKey(s)), onUpdate: (_o, s) => this.loop.enqueue(objectKey(s)), onDelete: (s) => this.loop.enqueue(objectKey(s)) });
    const onPod = (p: KubeObject): void => {
      for (const s of services.byIndex('namespace', p.metadata.namespace ?? '')) {
        const sel = ((s['spec'] ?? {}) as Obj)['selector'];
        if (isObject(sel) && selectorMatches({ matchLabels: sel as Record<string, string> }, p.metadata.labels)) this.loop.enqueue(objectKey(s));
      }
    };
    pods.addHandler({ onAdd: onPod, onUpdate: (o, p) => { onPod(o); onPod(p); }, onDelete: onPod });
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
    const spec = (svc['spec'] ?? {}) as Obj;
    const selector = spec['selector'];
    if (!isObject(selector) || Object.keys(selector).length === 0) return; // manually managed endpoints
    const ports = ((spec['ports'] ?? []) as Obj[]).filter(isObject);
    const pods = this.pods.byIndex('namespace', namespace).filter((p) => selectorMatches({ matchLabels: selector as Record<string, string> }, p.metadata.labels) && p.metadata.deletionTimestamp === undefined && typeof ((p['status'] ?? {}) as Obj)['podIP'] === 'string');
    const publishNotReady = spec['publishNotReadyAddresses'] === true;
    // One subset per distinct resolved port set (pods with different named ports differ).
    const subsets = new Map<string, { addresses: Obj[]; notReadyAddresses: Obj[]; ports: Obj[] }>();
    for (const p of pods) {
      const resolved = ports.map((sp) => ({ name: sp['name'], port: targetPort(p, sp), protocol: sp['protocol'] ?? 'TCP' })).filter((x) => x.port !== undefined).map((x) => (x.name === undefined ? { port: x.port, protocol: x.protocol } : x));
      const sig = JSON.stringify(resolved);
      let subset = subsets.get(sig);
      if (subset === undefined) {
        subset = { addresses: [], notReadyAddresses: [], ports: resolved };
        subsets.set(sig, subset);
      }
      const address = { ip: ((p['status'] ?? {}) as Obj)['podIP'], nodeName: ((p['spec'] ?? {}) as Obj)['nodeName'], targetRef: { kind: 'Pod', namespace, name: p.metadata.name, uid: p.metadata.uid } };
      if (isReady(p) || publishNotReady) subset.addresses.push(address);
      else subset.notReadyAddresses.push(address);
    }
    const list = [...subsets.values()].map((s) => {
      const sortByIp = (a: Obj, b: Obj): number => String(a['ip']).localeCompare(String(b['ip']));
      const out: Obj = { ports: s.ports };
      if (s.addresses.length > 0) out['addresses'] = s.addresses.sort(sortByIp);
      if (s.notReadyAddresses.length > 0) out['notReadyAddresses'] = s.notReadyAddresses.sort(sortByIp);
      return out;
    });
    const existing = this.endpoints.get(key);
    const desired = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace, labels: { ...(svc.metadata.labels ?? {}) } }, subsets: list };
    if (existing === undefined) {
      await this.client.create(ENDPOINTS, desired, { namespace });
      return;
    }
    if (isDeepStrictEqual(existing['subsets'] ?? [], list)) return;
    await this.client.update(ENDPOINTS, { ...existing, subsets: list }, { namespace });
  }
}
