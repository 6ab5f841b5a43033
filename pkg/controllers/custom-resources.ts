// The controller-manager's view of custom resources (Kubernetes' dynamic informers): it follows
// the CustomResourceDefinitions and keeps one informer per CRD, on its preferred served
// version, so the garbage collector sees custom owners and dependents, and the namespace
// controller knows which custom resources to empty a terminating namespace of.

import { customResourcesOf } from '../api/custom-resources.js';
import type { KubeObject } from '../api/meta.js';
import { apiVersionOf, RESOURCES, type ResourceInfo } from '../api/registry.js';
import type { CustomResourceDefinition } from '../api/types/apiextensions.js';
import { Informer, type RestClient } from '../client/index.js';

interface Followed {
  resource: ResourceInfo;
  informer: Informer<KubeObject>;
  stop: AbortController;
}

export class CustomResourceInformers {
  private readonly crds: Informer<CustomResourceDefinition>;
  private readonly followed = new Map<string, Followed>();
  private signal: AbortSignal | undefined;

  constructor(private readonly client: RestClient) {
    this.crds = new Informer(client, RESOURCES.customresourcedefinitions, { resyncMs: 30_000 });
    this.crds.addHandler({
      onAdd: (crd) => this.follow(crd),
      onUpdate: (_old, crd) => this.follow(crd),
      onDelete: (crd) => this.unfollow(crd.metadata.name ?? ''),
    });
  }

  /** Starts following the CRDs; resolves once they are listed (their objects' informers sync on their own). */
  async start(signal: AbortSignal): Promise<void> {
    this.signal = signal;
    this.crds.start(signal);
    await this.crds.waitForSync(signal);
    for (const crd of this.crds.list()) this.follow(crd);
  }

  /** The served custom resources, one per CRD (its preferred version). */
  resources(): ResourceInfo[] {
    return [...this.followed.values()].map((f) => f.resource);
  }

  /** The informers of the custom resources (for the garbage collector). */
  informers(): Informer<KubeObject>[] {
    return [...this.followed.values()].map((f) => f.informer);
  }

  private follow(crd: Readonly<CustomResourceDefinition>): void {
    const signal = this.signal;
    if (signal === undefined) return;
    const name = crd.metadata.name ?? '';
    const preferred = customResourcesOf(crd)[0];
    const current = this.followed.get(name);
    if (preferred === undefined) return this.unfollow(name);
    if (current !== undefined && sameResource(current.resource, preferred)) return;
    this.unfollow(name);
    const stop = new AbortController();
    signal.addEventListener('abort', () => stop.abort(), { once: true });
    const informer = new Informer<KubeObject>(this.client, preferred, { resyncMs: 30_000 });
    informer.start(stop.signal);
    this.followed.set(name, { resource: preferred, informer, stop });
  }

  private unfollow(name: string): void {
    this.followed.get(name)?.stop.abort();
    this.followed.delete(name);
  }
}

function sameResource(a: ResourceInfo, b: ResourceInfo): boolean {
  return (
    apiVersionOf(a) === apiVersionOf(b) && a.plural === b.plural && a.kind === b.kind && a.namespaced === b.namespaced
  );
}
