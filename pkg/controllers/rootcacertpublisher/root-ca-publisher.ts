// Root CA publisher (Kubernetes' root-ca-cert-publisher): every active namespace has a
// `kube-root-ca.crt` ConfigMap whose `ca.crt` is the cluster CA, so pods can verify the
// apiserver (the ServiceAccount volume projects it). A deleted or edited copy is put back.

import { RESOURCES } from '../../api/registry.js';
import type { ConfigMap, Namespace } from '../../api/types/index.js';
import type { Informer, RestClient } from '../../client/index.js';
import { isAlreadyExists, isConflict, isForbidden, isNotFound } from '../../errors/index.js';
import { ReconcileLoop } from '../reconciler.js';

export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
const DESCRIPTION =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.';

export interface RootCaPublisherOptions {
  client: RestClient;
  namespaces: Informer<Namespace>;
  configMaps: Informer<ConfigMap>;
  /** The cluster CA certificate, PEM. */
  caPem: string;
  log: (m: string) => void;
}

export class RootCaPublisher {
  readonly loop: ReconcileLoop;

  constructor(private readonly opts: RootCaPublisherOptions) {
    this.loop = new ReconcileLoop('root-ca-cert-publisher', (ns) => this.reconcile(ns), { log: opts.log });
    const byNamespace = (o: { metadata: { namespace?: string; name?: string } }): void => {
      if (o.metadata.name === ROOT_CA_CONFIGMAP) this.loop.enqueue(o.metadata.namespace ?? '');
    };
    opts.namespaces.addHandler({
      onAdd: (ns) => this.loop.enqueue(ns.metadata.name ?? ''),
      onUpdate: (_o, ns) => this.loop.enqueue(ns.metadata.name ?? ''),
    });
    opts.configMaps.addHandler({ onUpdate: (_o, cm) => byNamespace(cm), onDelete: byNamespace });
  }

  async reconcile(namespace: string): Promise<void> {
    const { client, caPem } = this.opts;
    const ns = this.opts.namespaces.get(namespace);
    if (ns === undefined || ns.metadata.deletionTimestamp !== undefined) return;
    const current = this.opts.configMaps.get(`${namespace}/${ROOT_CA_CONFIGMAP}`);
    const annotations = { 'kubernetes.io/description': DESCRIPTION };
    try {
      if (current === undefined) {
        await client.create(
          RESOURCES.configmaps,
          {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: { name: ROOT_CA_CONFIGMAP, namespace, annotations },
            data: { 'ca.crt': caPem },
          },
          { namespace },
        );
        return;
      }
      const data = current.data ?? {};
      if (data['ca.crt'] === caPem && Object.keys(data).length === 1) return;
      await client.patch(RESOURCES.configmaps, ROOT_CA_CONFIGMAP, {
        type: 'merge',
        namespace,
        body: {
          metadata: { resourceVersion: current.metadata.resourceVersion, annotations },
          data: { ...nulls(data), 'ca.crt': caPem },
        },
      });
    } catch (err) {
      // Terminating namespaces refuse creates (Forbidden); races resolve through the informer.
      if (!isAlreadyExists(err) && !isConflict(err) && !isForbidden(err) && !isNotFound(err)) throw err;
    }
  }
}

/** A merge patch that removes every key it names with null. */
function nulls(data: Readonly<Record<string, string>>): Record<string, null> {
  return Object.fromEntries(Object.keys(data).map((k) => [k, null]));
}
