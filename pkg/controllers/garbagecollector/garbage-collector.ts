// Garbage collector: follows ownerReferences. A dependent whose owners are all gone is
// deleted (background propagation). An owner being deleted with the `foregroundDeletion`
// finalizer first has its dependents deleted; one with `orphan` has its dependents'
// references to it removed; then the finalizer is removed and the owner goes.

import type { KubeObject } from '../../api/meta.js';
import { findByKind, type ResourceInfo } from '../../api/registry.js';
import type { Informer, RestClient } from '../../client/index.js';
import { isConflict, isNotFound } from '../../errors/index.js';

const ORPHAN = 'orphan';
const FOREGROUND = 'foregroundDeletion';

export class GarbageCollector {
  constructor(
    private readonly client: RestClient,
    private readonly informers: Informer[],
    private readonly log: (m: string) => void,
  ) {}

  private all(): { obj: KubeObject; r: ResourceInfo }[] {
    return this.informers.flatMap((inf) => inf.list().map((obj) => ({ obj, r: inf.resource })));
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
        if (!(await this.ownerGone(o.kind, o.apiVersion, o.name, obj.metadata.namespace, o.uid))) {
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

  /** Whether an owner no informer holds is really gone (asks the API). */
  private async ownerGone(
    kind: string,
    apiVersion: string,
    name: string,
    namespace: string | undefined,
    uid: string,
  ): Promise<boolean> {
    const inf = this.informers.find((i) => i.resource.kind === kind);
    if (inf !== undefined) return true; // covered by an informer and not in it
    const r = findByKind(apiVersion, kind);
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

  async run(signal: AbortSignal, everyMs = 1000): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.sweep();
      } catch (err) {
        this.log(`garbage collector: ${err instanceof Error ? err.message : String(err)}`);
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  }
}
