// Garbage collector: follows ownerReferences. A dependent whose owners are all gone is
// deleted (background propagation). An owner being deleted with the `foregroundDeletion`
// finalizer first has its dependents deleted; one with `orphan` has its dependents'
// references to it removed; then the finalizer is removed and the owner goes.

import type { KubeObject, OwnerReference } from '../../api/meta.js';
import { apiVersionOf, findByKind, type ResourceInfo } from '../../api/registry.js';
import type { RestClient } from '../../client/index.js';
import { isConflict, isNotFound } from '../../errors/index.js';
import { periodicLoop, type ControllerContext, type ReconcileLoop } from '../reconciler.js';

const ORPHAN = 'orphan';
const FOREGROUND = 'foregroundDeletion';
/** Time between sweeps. */
const PERIOD_MS = 1000;

/** What the collector reads of an informer (of any kind). */
interface OwnerCache {
  readonly resource: ResourceInfo;
  list(): readonly KubeObject[];
  hasSynced(): boolean;
}

/** The informers of custom resources, which come and go with their CustomResourceDefinitions. */
interface DynamicCaches {
  informers(): readonly OwnerCache[];
}

export class GarbageCollector {
  readonly loop: ReconcileLoop;
  private readonly client: RestClient;
  private readonly builtIn: readonly OwnerCache[];
  private readonly custom: DynamicCaches | undefined;
  private readonly log: (m: string) => void;

  constructor(deps: ControllerContext & { informers: readonly OwnerCache[]; custom?: DynamicCaches }) {
    const { client, informers, log } = deps;
    this.client = client;
    this.builtIn = informers;
    this.custom = deps.custom;
    this.log = log;
    this.loop = periodicLoop('garbagecollector', () => this.sweep(), { periodMs: PERIOD_MS, log });
  }

  /**
   * The caches that hold everything of their kind: a custom resource's informer counts once it
   * has listed (before that, its owners' absence from it proves nothing).
   */
  private informers(): readonly OwnerCache[] {
    const custom = this.custom?.informers().filter((i) => i.hasSynced()) ?? [];
    return [...this.builtIn, ...custom];
  }

  private all(): { obj: KubeObject; r: ResourceInfo }[] {
    return this.informers().flatMap((inf) => inf.list().map((obj) => ({ obj, r: inf.resource })));
  }

  async sweep(): Promise<void> {
    const items = this.all();
    const byUid = new Map(items.map((i) => [i.obj.metadata.uid ?? '', i]));
    const dependents = (uid: string): typeof items =>
      items.filter((i) => (i.obj.metadata.ownerReferences ?? []).some((o) => o.uid === uid));

    for (const { obj, r } of items) {
      const finalizers = obj.metadata.finalizers ?? [];
      if (obj.metadata.deletionTimestamp === undefined) continue;
      const uid = obj.metadata.uid ?? '';
      if (finalizers.includes(ORPHAN)) {
        for (const dep of dependents(uid)) {
          const refs = (dep.obj.metadata.ownerReferences ?? []).filter((o) => o.uid !== uid);
          await this.tolerate(
            this.client.patch(dep.r, dep.obj.metadata.name ?? '', {
              type: 'merge',
              body: { metadata: { ownerReferences: refs.length > 0 ? refs : null } },
              namespace: dep.obj.metadata.namespace,
            }),
          );
        }
        await this.removeFinalizer(r, obj, ORPHAN);
      } else if (finalizers.includes(FOREGROUND)) {
        const deps = dependents(uid);
        for (const dep of deps) {
          if (dep.obj.metadata.deletionTimestamp === undefined) {
            await this.tolerate(
              this.client.delete(dep.r, dep.obj.metadata.name ?? '', {
                namespace: dep.obj.metadata.namespace,
                propagationPolicy: 'Foreground',
              }),
            );
          }
        }
        if (deps.length === 0) await this.removeFinalizer(r, obj, FOREGROUND);
      }
    }

    for (const { obj, r } of items) {
      const owners = obj.metadata.ownerReferences ?? [];
      if (owners.length === 0 || obj.metadata.deletionTimestamp !== undefined) continue;
      // Owners of kinds no informer covers (e.g. Node for a Lease) are checked against the API.
      let alive = false;
      for (const o of owners) {
        if (byUid.has(o.uid)) {
          alive = true;
          break;
        }
        if (!(await this.ownerGone(o, obj.metadata.namespace))) {
          alive = true;
          break;
        }
      }
      if (!alive) {
        this.log(
          `garbage collector: deleting ${r.kind} ${obj.metadata.namespace ?? ''}/${obj.metadata.name ?? ''} (owner gone)`,
        );
        await this.tolerate(
          this.client.delete(r, obj.metadata.name ?? '', {
            namespace: obj.metadata.namespace,
            propagationPolicy: 'Background',
            preconditions: { uid: obj.metadata.uid ?? '' },
          }),
        );
      }
    }
  }

  /** Whether an owner no informer holds is really gone (asks the API); it lives in the dependent's namespace. */
  private async ownerGone(owner: OwnerReference, namespace: string | undefined): Promise<boolean> {
    const { kind, apiVersion, name, uid } = owner;
    const inf = this.informers().find((i) => i.resource.kind === kind && apiVersionOf(i.resource) === apiVersion);
    if (inf !== undefined) return true; // covered by an informer and not in it
    const r =
      findByKind(apiVersion, kind) ??
      this.custom?.informers().find((i) => i.resource.kind === kind && apiVersionOf(i.resource) === apiVersion)
        ?.resource;
    if (r === undefined) return false;
    try {
      const owner = await this.client.get(r, name, { namespace: r.namespaced ? namespace : undefined });
      return owner.metadata.uid !== uid;
    } catch (err) {
      if (isNotFound(err)) return true;
      throw err;
    }
  }

  private async removeFinalizer(r: ResourceInfo, obj: KubeObject, finalizer: string): Promise<void> {
    const rest = (obj.metadata.finalizers ?? []).filter((f) => f !== finalizer);
    await this.tolerate(
      this.client.patch(r, obj.metadata.name ?? '', {
        type: 'merge',
        body: { metadata: { finalizers: rest.length > 0 ? rest : null } },
        namespace: obj.metadata.namespace,
      }),
    );
  }

  private async tolerate(p: Promise<unknown>): Promise<void> {
    try {
      await p;
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
  }
}
