// ResourceQuota admission (Kubernetes' ResourceQuota plugin), pure: what charging a new object
// to one quota gives — nothing when the quota does not concern it, the quota's next
// status.used when it fits, or a 403 with Kubernetes' message when it does not
// (`exceeded quota: …`, `must specify …`, `status unknown for quota: …`). The apiserver
// writes the next status.used with a compare-and-swap before it stores the object.

import type { KubeObject, ResourceQuota } from '../../api/index.js';
import {
  addUsage,
  formatUsage,
  missingDeclarations,
  quotaSelects,
  tracksResource,
  usageOf,
  usageOfList,
  usageToList,
  type Usage,
} from '../../api/quota-usage.js';
import { admissionForbidden } from './limit-ranger.js';

export interface QuotaRequest {
  resource: { group: string; plural: string };
  obj: KubeObject;
}

/** `pods=1,requests.cpu=500m`: Kubernetes' prettyPrint of a usage, names sorted. */
function prettyPrint(usage: Usage, names: readonly string[]): string {
  return [...names]
    .sort()
    .map((k) => `${k}=${formatUsage(k, usage.get(k) ?? 0n)}`)
    .join(',');
}

/**
 * The quota's next status.used with the object charged; undefined when the quota does not
 * concern the object (other scope, nothing it tracks, or nothing to add). Throws 403 Forbidden.
 */
export function chargeQuota(req: QuotaRequest, quota: ResourceQuota): Record<string, string> | undefined {
  const { resource, obj } = req;
  if (!quotaSelects(quota, resource, obj)) return undefined;
  const name = quota.metadata.name ?? '';
  const hard = usageOfList(quota.status?.hard);
  const restricted = [...hard.keys()].filter((k) => tracksResource(resource, k));
  if (restricted.length === 0) return undefined;
  const forbidden = (why: string): Error => admissionForbidden(resource, obj.metadata.name ?? '', why);
  if (resource.group === '' && resource.plural === 'pods') {
    const missing = missingDeclarations(obj, restricted);
    if (missing !== undefined) throw forbidden(`failed quota: ${name}: must specify ${missing}`);
  }
  const used = usageOfList(quota.status?.used);
  const unknown = restricted.filter((k) => !used.has(k));
  if (unknown.length > 0)
    throw forbidden(`status unknown for quota: ${name}, resources: ${[...unknown].sort().join(',')}`);
  const requested: Usage = new Map([...usageOf(resource, obj)].filter(([k]) => hard.has(k)));
  if ([...requested.values()].every((v) => v === 0n)) return undefined;
  const next = addUsage(used, requested);
  const exceeded = [...requested.keys()].filter((k) => (next.get(k) ?? 0n) > (hard.get(k) ?? 0n));
  if (exceeded.length > 0)
    throw forbidden(
      `exceeded quota: ${name}, requested: ${prettyPrint(requested, exceeded)}, used: ${prettyPrint(used, exceeded)}, limited: ${prettyPrint(hard, exceeded)}`,
    );
  return usageToList(next);
}
