// The namespace-policy admission plugins on creates, against the store: LimitRanger (its
// defaults before validation, its bounds after) and ResourceQuota (last, right before the
// object is stored). The quota charge is a compare-and-swap on each ResourceQuota's
// status.used, as Kubernetes' quota admission does, so two concurrent creates cannot both
// take the last slot; the resource quota controller recounts usage (and frees what deletes
// and failed writes left charged).

import {
  deepCopy,
  RESOURCES,
  storageKey,
  type KubeObject,
  type LimitRange,
  type ResourceInfo,
  type ResourceQuota,
} from '../../api/index.js';
import { ApiError } from '../../errors/index.js';
import { isStorageError, type ListResult, type Store } from '../../storage/index.js';
import { storedAs } from '../write-meta.js';
import { defaultFromLimitRanges, enforceLimitRanges } from './limit-ranger.js';
import { chargeQuota } from './resource-quota.js';

/** Conflicting quota writes retried per quota before the create is refused (Kubernetes retries too). */
const CHARGE_ATTEMPTS = 20;

/** The hook the REST layer calls on every create (see rest-store.ts). */
export interface CreateAdmission {
  /** Mutating admission, before validation. */
  mutate(r: ResourceInfo, obj: KubeObject): Promise<void>;
  /** Validating admission, right before the object is stored; a dry run charges nothing. */
  validate(r: ResourceInfo, obj: KubeObject, how: { dryRun: boolean }): Promise<void>;
}

export class NamespacePolicyAdmission implements CreateAdmission {
  constructor(private readonly store: Store) {}

  /**
   * A namespace's objects as the watch cache holds them, without waiting for it to catch up
   * (Kubernetes' admission reads informers; the quota charge re-reads and swaps on the
   * store). None there is asked of the store itself, as Kubernetes' live lookup does, so an
   * object created a moment ago is not missed.
   */
  private async listed(prefix: string): Promise<ListResult> {
    const peeked = this.store.peekList === undefined ? undefined : await this.store.peekList(prefix);
    return peeked !== undefined && peeked.items.length > 0 ? peeked : this.store.list(prefix);
  }

  private async rangesOf(namespace: string): Promise<LimitRange[]> {
    const list = await this.listed(storageKey(RESOURCES.limitranges, namespace));
    return list.items.map((i) => storedAs(RESOURCES.limitranges, i.object));
  }

  async mutate(r: ResourceInfo, obj: KubeObject): Promise<void> {
    if (!r.namespaced || r.group !== '' || r.plural !== 'pods') return;
    defaultFromLimitRanges(r, obj, await this.rangesOf(obj.metadata.namespace ?? ''));
  }

  async validate(r: ResourceInfo, obj: KubeObject, how: { dryRun: boolean }): Promise<void> {
    if (!r.namespaced) return;
    const namespace = obj.metadata.namespace ?? '';
    if (r.group === '' && (r.plural === 'pods' || r.plural === 'persistentvolumeclaims'))
      enforceLimitRanges(r, obj, await this.rangesOf(namespace));
    await this.chargeQuotas(r, obj, { namespace, dryRun: how.dryRun });
  }

  /** Checks every quota first (a refusal charges nothing), then charges each with a compare-and-swap. */
  private async chargeQuotas(
    r: ResourceInfo,
    obj: KubeObject,
    opts: { namespace: string; dryRun: boolean },
  ): Promise<void> {
    const prefix = storageKey(RESOURCES.resourcequotas, opts.namespace);
    const quotas = (await this.listed(prefix)).items;
    if (quotas.length === 0) return;
    const req = { resource: { group: r.group, plural: r.plural }, obj };
    const sorted = [...quotas].sort((a, b) => a.key.localeCompare(b.key));
    const concerned = sorted.filter((item) => chargeQuota(req, storedAs(RESOURCES.resourcequotas, item.object)));
    if (opts.dryRun) return;
    for (const item of concerned) await this.charge(item.key, req);
  }

  private async charge(key: string, req: Parameters<typeof chargeQuota>[0]): Promise<void> {
    for (let attempt = 0; attempt < CHARGE_ATTEMPTS; attempt++) {
      const item = await this.store.get(key);
      if (item === undefined) return;
      const quota: ResourceQuota = storedAs(RESOURCES.resourcequotas, deepCopy(item.object));
      const used = chargeQuota(req, quota);
      if (used === undefined) return;
      quota.status = { ...quota.status, used };
      try {
        await this.store.update(key, quota, item.revision);
        return;
      } catch (err) {
        if (!isStorageError(err, 'Conflict')) throw err;
      }
    }
    throw new ApiError(
      'Conflict',
      `Operation cannot be fulfilled on resourcequotas: the quota is being changed too often`,
      {
        details: { kind: 'resourcequotas' },
      },
    );
  }
}
