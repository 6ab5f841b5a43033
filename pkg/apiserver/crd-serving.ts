// Serves what CustomResourceDefinitions declare. Every apiserver follows the CRDs through a
// watch of the store (not only its own writes, so each apiserver of a highly available control
// plane serves a CRD another one created) and adds each CRD's versions to the registry, or
// takes them away when the CRD goes. A CRD being deleted first has its objects deleted, then
// its `customresourcecleanup.apiextensions.k8s.io` finalizer removed, as Kubernetes' CRD
// finalizer does; every apiserver may do this work, which is idempotent.

import { storageKey, serveCustomResources, RESOURCES, type ResourceInfo } from '../api/registry.js';
import type { KubeObject } from '../api/meta.js';
import type { CustomResourceDefinition } from '../api/types/apiextensions.js';
import { errorMessage, isConflict, isNotFound } from '../errors/index.js';
import type { Store } from '../storage/index.js';
import { customResourcesOf } from '../api/custom-resources.js';
import { CRD_CLEANUP_FINALIZER, isCustomResourceDefinition } from './registry/index.js';
import type { RestStore } from './rest-store.js';
import { StoreMirror } from './store-mirror.js';

/** Time between passes over a CRD whose objects are not all gone yet (some wait for finalizers). */
const CLEANUP_RETRY_MS = 1000;

export class CustomResourceServing {
  private readonly mirror: StoreMirror<CustomResourceDefinition>;
  private readonly cleaning = new Set<string>();
  private stopped = false;

  constructor(private readonly deps: { store: Store; rest: RestStore; log: (m: string) => void }) {
    this.mirror = new StoreMirror<CustomResourceDefinition>({
      store: deps.store,
      prefix: storageKey(RESOURCES.customresourcedefinitions),
      accept: (o: KubeObject): o is CustomResourceDefinition => isCustomResourceDefinition(o),
      log: deps.log,
      onChange: ({ type, object }) => this.changed(type, object),
    });
  }

  /** Resolves once every stored CRD is served. */
  async start(): Promise<void> {
    await this.mirror.start();
  }

  stop(): void {
    this.stopped = true;
    this.mirror.stop();
  }

  private changed(type: string, crd: Readonly<CustomResourceDefinition>): void {
    const name = crd.metadata.name ?? '';
    if (type === 'DELETED') {
      serveCustomResources(name, []);
      return;
    }
    serveCustomResources(name, customResourcesOf(crd));
    if (crd.metadata.deletionTimestamp !== undefined && (crd.metadata.finalizers ?? []).includes(CRD_CLEANUP_FINALIZER))
      this.cleanUp(crd);
  }

  /** Deletes the CRD's objects, then lifts its finalizer; runs once at a time per CRD. */
  private cleanUp(crd: Readonly<CustomResourceDefinition>): void {
    const name = crd.metadata.name ?? '';
    if (this.cleaning.has(name)) return;
    this.cleaning.add(name);
    const pass = async (): Promise<void> => {
      if (this.stopped) return;
      const current = this.mirror.get(storageKey(RESOURCES.customresourcedefinitions, undefined, name));
      if (current === undefined || !(current.metadata.finalizers ?? []).includes(CRD_CLEANUP_FINALIZER)) return;
      const r = storageResource(current);
      const left = r === undefined ? 0 : await this.deleteObjects(r);
      if (left > 0) {
        await new Promise((res) => setTimeout(res, CLEANUP_RETRY_MS).unref());
        return pass();
      }
      await this.deps.rest.guaranteedUpdate(
        RESOURCES.customresourcedefinitions,
        { namespace: undefined, name },
        {
          mutate: (obj) => {
            const rest = (obj.metadata.finalizers ?? []).filter((f) => f !== CRD_CLEANUP_FINALIZER);
            if (rest.length > 0) obj.metadata.finalizers = rest;
            else delete obj.metadata.finalizers;
            return obj;
          },
        },
      );
    };
    pass()
      .catch((err: unknown) => {
        if (!isNotFound(err))
          this.deps.log(`removing the objects of CustomResourceDefinition ${name}: ${errorMessage(err)}`);
      })
      .finally(() => {
        this.cleaning.delete(name);
        // A failed pass (e.g. a conflict) is tried again while the CRD still waits.
        const again = this.mirror.get(storageKey(RESOURCES.customresourcedefinitions, undefined, name));
        if (!this.stopped && again !== undefined && again.metadata.deletionTimestamp !== undefined) {
          setTimeout(() => {
            const still = this.mirror.get(storageKey(RESOURCES.customresourcedefinitions, undefined, name));
            if (still !== undefined && (still.metadata.finalizers ?? []).includes(CRD_CLEANUP_FINALIZER))
              this.cleanUp(still);
          }, CLEANUP_RETRY_MS).unref();
        }
      });
  }

  /** Deletes every object of the resource; returns how many were still there. */
  private async deleteObjects(r: ResourceInfo): Promise<number> {
    const list = await this.deps.rest.list(r, undefined, {});
    for (const obj of list.items) {
      if (obj.metadata.deletionTimestamp !== undefined) continue;
      await this.deps.rest
        .delete(r, { namespace: obj.metadata.namespace, name: obj.metadata.name ?? '' })
        .catch((err: unknown) => {
          if (!isNotFound(err) && !isConflict(err)) throw err;
        });
    }
    return list.items.length;
  }
}

/** The registry entry of the CRD's storage version (its objects' keys do not depend on the version). */
function storageResource(crd: Readonly<CustomResourceDefinition>): ResourceInfo | undefined {
  const all = customResourcesOf({
    ...crd,
    spec: { ...crd.spec, versions: crd.spec.versions.map((v) => ({ ...v, served: true })) },
  });
  return all.find((r) => crd.spec.versions.some((v) => v.storage && v.name === r.version)) ?? all[0];
}
