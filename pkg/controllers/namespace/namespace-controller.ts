// Namespace controller: when a namespace is being deleted, delete everything inside it;
// once nothing is left, remove the namespace's `kubernetes` finalizer through the
// `finalize` subresource so the apiserver lets the namespace go.

import { RESOURCES, type ResourceInfo } from '../../api/registry.js';
import type { Namespace } from '../../api/types/index.js';
import type { Informer, RestClient } from '../../client/index.js';
import { isNotFound } from '../../errors/index.js';
import { ReconcileLoop, type ControllerContext, type ReconcileResult } from '../reconciler.js';

/** How soon a namespace still holding objects is looked at again. */
const RECHECK_MS = 1000;
/**
 * Like Kubernetes, wait a moment after a namespace starts terminating before emptying it,
 * so that clients deleting its content one by one (kubectl delete -f dir/) are not raced.
 */
const DELETION_GRACE_MS = 5000;

export class NamespaceController {
  private readonly client: RestClient;
  private readonly namespaces: Informer<Namespace>;
  readonly loop: ReconcileLoop;
  private readonly log: (msg: string) => void;
  /** The custom resources served now (their CRDs come and go). */
  private readonly customResources: () => readonly ResourceInfo[];

  constructor(
    deps: ControllerContext & { namespaces: Informer<Namespace>; customResources?: () => readonly ResourceInfo[] },
  ) {
    const { client, namespaces, log } = deps;
    this.client = client;
    this.customResources = deps.customResources ?? (() => []);
    this.namespaces = namespaces;
    this.log = log;
    this.loop = new ReconcileLoop('namespace', (key) => this.sync(key), { log });
    namespaces.addHandler({
      onAdd: (ns) => this.enqueue(ns),
      onUpdate: (_old, ns) => this.enqueue(ns),
    });
  }

  private enqueue(ns: Readonly<Namespace>): void {
    if (ns.metadata.deletionTimestamp !== undefined) this.loop.enqueueAfter(ns.metadata.name ?? '', DELETION_GRACE_MS);
  }

  /** A namespace still holding objects is looked at again soon. */
  private async sync(name: string): Promise<ReconcileResult> {
    return (await this.reconcile(name)) > 0 ? { requeueAfterMs: RECHECK_MS } : {};
  }

  /** Returns how many objects are still in the namespace (0 once it was finalized). */
  async reconcile(name: string): Promise<number> {
    const ns = this.namespaces.get(name);
    if (ns === undefined || ns.metadata.deletionTimestamp === undefined) return 0;
    let remaining = 0;
    const resources = [...RESOURCES, ...this.customResources()];
    for (const r of resources.filter((x) => x.namespaced && x.verbs.includes('list') && x.verbs.includes('delete')))
      remaining += await this.deleteAll(r, name);
    if (remaining > 0) return remaining;
    const spec = ns.spec ?? {};
    if ((spec.finalizers ?? []).includes('kubernetes')) {
      try {
        await this.client.update(
          this.namespaces.resource,
          { ...ns, spec: { ...spec, finalizers: (spec.finalizers ?? []).filter((f) => f !== 'kubernetes') } },
          { subresource: 'finalize' },
        );
        this.log(`namespace ${name} finalized`);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    return 0;
  }

  private async deleteAll(r: ResourceInfo, namespace: string): Promise<number> {
    const list = await this.client.list(r, { namespace });
    for (const obj of list.items) {
      if (obj.metadata.deletionTimestamp !== undefined) continue;
      try {
        await this.client.delete(r, obj.metadata.name ?? '', { namespace, propagationPolicy: 'Background' });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    return list.items.length;
  }
}
