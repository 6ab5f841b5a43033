// ServiceAccount controller: every active namespace has a `default` ServiceAccount.

import { RESOURCES } from '../../api/registry.js';
import type { Namespace, ServiceAccount } from '../../api/types/index.js';
import type { Informer, RestClient } from '../../client/index.js';
import { isAlreadyExists, isForbidden, isNotFound } from '../../errors/index.js';
import { ReconcileLoop, type ControllerContext } from '../reconciler.js';

const SERVICEACCOUNTS = RESOURCES.serviceaccounts;

export class ServiceAccountController {
  readonly loop: ReconcileLoop;
  private readonly client: RestClient;
  private readonly namespaces: Informer<Namespace>;
  private readonly accounts: Informer<ServiceAccount>;

  constructor(deps: ControllerContext & { namespaces: Informer<Namespace>; accounts: Informer<ServiceAccount> }) {
    const { client, namespaces, accounts, log } = deps;
    this.client = client;
    this.namespaces = namespaces;
    this.accounts = accounts;
    this.loop = new ReconcileLoop('serviceaccount', (key) => this.reconcile(key), { log });
    namespaces.addHandler({
      onAdd: (ns) => this.loop.enqueue(ns.metadata.name ?? ''),
      onUpdate: (_o, ns) => this.loop.enqueue(ns.metadata.name ?? ''),
    });
    accounts.addHandler({ onDelete: (sa) => this.loop.enqueue(sa.metadata.namespace ?? '') });
  }

  async reconcile(namespace: string): Promise<void> {
    const ns = this.namespaces.get(namespace);
    if (ns === undefined || ns.metadata.deletionTimestamp !== undefined) return;
    if (this.accounts.get(`${namespace}/default`) !== undefined) return;
    try {
      await this.client.create(
        SERVICEACCOUNTS,
        { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace } },
        { namespace },
      );
    } catch (err) {
      if (!isAlreadyExists(err) && !isForbidden(err) && !isNotFound(err)) throw err;
    }
  }
}
