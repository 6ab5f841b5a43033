// Resource quota controller (Kubernetes' resourcequota controller): each ResourceQuota's
// status.hard mirrors its spec.hard and its status.used is recounted from the namespace's
// objects. As in Kubernetes, a recount follows what can only lower usage — a new quota or a
// changed spec.hard, a deleted object, a pod that finished or is being deleted — and a
// periodic full resync, never a create: admission has already charged a new object, and a
// recount from informers that have not seen it yet would hand its slot out again.
// Usage is what pkg/api/quota-usage.ts says one object counts for; the status write carries
// the quota's resourceVersion, so a charge made meanwhile makes it retry, not vanish.

import { isDeepStrictEqual } from 'node:util';
import { isObject, type KubeObject } from '../../api/meta.js';
import { addUsage, podHoldsQuota, quotaSelects, usageOf, usageToList, type Usage } from '../../api/quota-usage.js';
import { RESOURCE_LIST, RESOURCES, type ResourceInfo } from '../../api/registry.js';
import type { ResourceQuota } from '../../api/types/index.js';
import type { Informer, RestClient } from '../../client/index.js';
import { isConflict, isNotFound } from '../../errors/index.js';
import { ReconcileLoop, type ControllerContext, type ReconcileResult } from '../reconciler.js';

/** When a terminating pod still holds quota, look again after this long. */
const TERMINATING_RECHECK_MS = 5_000;
/** The full recount of every quota (Kubernetes' --resource-quota-sync-period, 5 min). */
const RESYNC_MS = 5 * 60_000;

export interface ResourceQuotaControllerDeps extends ControllerContext {
  quotas: Informer<ResourceQuota>;
  /** Informers of the kinds counted from memory (pods, services, claims …); others are listed on demand. */
  counted: readonly Informer[];
}

/** A pod that just finished or started terminating may free quota. */
function releasesQuota(old: Readonly<KubeObject>, pod: Readonly<KubeObject>): boolean {
  const phase = (o: Readonly<KubeObject>): unknown => {
    const status = o['status'];
    return isObject(status) ? status['phase'] : undefined;
  };
  const terminal = (o: Readonly<KubeObject>): boolean => phase(o) === 'Succeeded' || phase(o) === 'Failed';
  return (
    (terminal(pod) && !terminal(old)) ||
    (pod.metadata.deletionTimestamp !== undefined && old.metadata.deletionTimestamp === undefined)
  );
}

function keyOf(obj: { metadata: { namespace?: string; name?: string } }): string {
  return `${obj.metadata.namespace ?? ''}/${obj.metadata.name ?? ''}`;
}

/** The resource a quota name counts (`count/deployments.apps` → deployments in apps), if any is served. */
function countedResource(name: string): ResourceInfo | undefined {
  if (!name.startsWith('count/')) return undefined;
  const rest = name.slice('count/'.length);
  const dot = rest.indexOf('.');
  const plural = dot < 0 ? rest : rest.slice(0, dot);
  const group = dot < 0 ? '' : rest.slice(dot + 1);
  return RESOURCE_LIST.find((r) => r.group === group && r.plural === plural && r.namespaced);
}

export class ResourceQuotaController {
  readonly loop: ReconcileLoop;
  private readonly client: RestClient;
  private readonly quotas: Informer<ResourceQuota>;
  private readonly counted: readonly Informer[];

  constructor(deps: ResourceQuotaControllerDeps) {
    this.client = deps.client;
    this.quotas = deps.quotas;
    this.counted = deps.counted;
    this.loop = new ReconcileLoop('resourcequota', (key) => this.reconcile(key), { log: deps.log });
    const enqueueQuota = (q: Readonly<ResourceQuota>): void => this.loop.enqueue(keyOf(q));
    this.quotas.addHandler({
      onAdd: enqueueQuota,
      // Status writes (admission's charges, this controller's) are not a reason to recount.
      onUpdate: (old, q) => {
        if (!isDeepStrictEqual(old.spec?.hard ?? {}, q.spec?.hard ?? {})) enqueueQuota(q);
      },
    });
    const freed = (obj: Readonly<KubeObject>): void => this.enqueueNamespace(obj.metadata.namespace ?? '');
    for (const informer of this.counted) {
      const pods = informer.resource.group === '' && informer.resource.plural === 'pods';
      informer.addHandler({
        onDelete: freed,
        onUpdate: (old, obj) => {
          if (pods && releasesQuota(old, obj)) freed(obj);
        },
      });
    }
  }

  private enqueueNamespace(namespace: string): void {
    for (const q of this.quotas.list()) if (q.metadata.namespace === namespace) this.loop.enqueue(keyOf(q));
  }

  async reconcile(key: string): Promise<ReconcileResult | undefined> {
    const quota = this.quotas.get(key);
    if (quota === undefined) return undefined;
    const namespace = quota.metadata.namespace ?? '';
    const hard = quota.spec?.hard ?? {};
    const names = Object.keys(hard);
    const { usage, terminating } = await this.usageIn(namespace, quota);
    // Every tracked resource has a figure (0 when nothing counts), or admission cannot charge it.
    const used: Usage = new Map(names.map((n) => [n, usage.get(n) ?? 0n]));
    const status = { hard: { ...hard }, used: usageToList(used) };
    const recheck = { requeueAfterMs: terminating ? TERMINATING_RECHECK_MS : RESYNC_MS };
    if (
      isDeepStrictEqual(quota.status?.hard ?? {}, status.hard) &&
      isDeepStrictEqual(quota.status?.used ?? {}, status.used)
    )
      return recheck;
    try {
      await this.client.updateStatus(RESOURCES.resourcequotas, { ...quota, status }, { namespace });
    } catch (err) {
      // Gone: nothing to keep; conflict: a charge or an edit came first, and its event requeues.
      if (isNotFound(err)) return undefined;
      if (isConflict(err)) return { requeueAfterMs: 0 };
      throw err;
    }
    return recheck;
  }

  /** What the namespace's objects count for under this quota's scopes and resources. */
  private async usageIn(namespace: string, quota: ResourceQuota): Promise<{ usage: Usage; terminating: boolean }> {
    const now = new Date();
    const names = Object.keys(quota.spec?.hard ?? {});
    let usage: Usage = new Map();
    let terminating = false;
    const fromMemory = new Set<string>();
    for (const informer of this.counted) {
      const r = informer.resource;
      fromMemory.add(`${r.group}/${r.plural}`);
      for (const obj of informer.list()) {
        if (obj.metadata.namespace !== namespace || !quotaSelects(quota, r, obj)) continue;
        if (r.group === '' && r.plural === 'pods') {
          if (!podHoldsQuota(obj, now)) continue;
          if (obj.metadata.deletionTimestamp !== undefined) terminating = true;
        }
        usage = addUsage(usage, usageOf(r, obj));
      }
    }
    // `count/<resource>.<group>` of kinds no informer follows: listed (the quota names them, so few).
    for (const name of names) {
      const r = countedResource(name);
      if (r === undefined || fromMemory.has(`${r.group}/${r.plural}`) || (quota.spec?.scopes ?? []).length > 0)
        continue;
      const list = await this.client.list(r, { namespace });
      usage.set(name, BigInt(list.items.length) * 1000n);
    }
    return { usage, terminating };
  }
}
