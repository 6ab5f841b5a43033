// Helpers controllers share about pods: readiness and availability, ownership, and
// creating pods from a template with a controller reference.

import { controllerOf, isObject, objectKey, type KubeObject, type OwnerReference } from '../api/meta.js';
import { mustFind } from '../api/registry.js';
import { selectorMatches, type LabelSelector } from '../api/selectors.js';
import type { Informer, RestClient } from '../client/index.js';

export const PODS = mustFind('', 'v1', 'pods');

type Obj = Record<string, unknown>;

export function isTerminal(pod: KubeObject): boolean {
  const phase = ((pod['status'] ?? {}) as Obj)['phase'];
  return phase === 'Succeeded' || phase === 'Failed';
}

/** Counted as a live replica: not finished, not being deleted. */
export function isActive(pod: KubeObject): boolean {
  return !isTerminal(pod) && pod.metadata.deletionTimestamp === undefined;
}

export function readySince(pod: KubeObject): number | undefined {
  const conds = (((pod['status'] ?? {}) as Obj)['conditions'] ?? []) as Obj[];
  const ready = conds.filter(isObject).find((c) => c['type'] === 'Ready');
  if (ready?.['status'] !== 'True') return undefined;
  return Date.parse(String(ready['lastTransitionTime'] ?? '')) || 0;
}

export function isReady(pod: KubeObject): boolean {
  return readySince(pod) !== undefined;
}

/** Ready for at least minReadySeconds. */
export function isAvailable(pod: KubeObject, minReadySeconds: number, now: number): boolean {
  const since = readySince(pod);
  return since !== undefined && (minReadySeconds === 0 || since + minReadySeconds * 1000 <= now);
}

export function ownerRef(owner: KubeObject): OwnerReference {
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name ?? '', uid: owner.metadata.uid ?? '', controller: true, blockOwnerDeletion: true };
}

/** The pods in owner's namespace that owner controls. */
export function ownedPods(pods: Informer, owner: KubeObject): KubeObject[] {
  return pods.byIndex('namespace', owner.metadata.namespace ?? '').filter((p) => controllerOf(p)?.uid === owner.metadata.uid);
}

export function selectorOf(obj: KubeObject): LabelSelector | undefined {
  const sel = ((obj['spec'] ?? {}) as Obj)['selector'];
  return isObject(sel) ? (sel as LabelSelector) : undefined;
}

export function matches(obj: KubeObject, pod: KubeObject): boolean {
  return selectorMatches(selectorOf(obj), pod.metadata.labels);
}

/** A pod from a template, owned by `owner`. */
export function podFromTemplate(template: Obj, owner: KubeObject, extra: { name?: string; labels?: Record<string, string>; spec?: Obj } = {}): KubeObject {
  const meta = (isObject(template['metadata']) ? template['metadata'] : {}) as { labels?: Record<string, string>; annotations?: Record<string, string> };
  const spec = structuredClone((isObject(template['spec']) ? template['spec'] : {}) as Obj);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...(extra.name !== undefined ? { name: extra.name } : { generateName: `${owner.metadata.name ?? 'pod'}-` }),
      namespace: owner.metadata.namespace,
      labels: { ...(meta.labels ?? {}), ...(extra.labels ?? {}) },
      ...(meta.annotations ? { annotations: { ...meta.annotations } } : {}),
      ownerReferences: [ownerRef(owner)],
    },
    spec: { ...spec, ...(extra.spec ?? {}) },
  };
}

export async function createPod(client: RestClient, pod: KubeObject): Promise<KubeObject> {
  return client.create(PODS, pod, { namespace: pod.metadata.namespace });
}

export async function deletePod(client: RestClient, pod: KubeObject): Promise<void> {
  try {
    await client.delete(PODS, pod.metadata.name ?? '', { namespace: pod.metadata.namespace, preconditions: { uid: pod.metadata.uid ?? '' } });
  } catch (err) {
    if (!(err instanceof Error && /not found|Precondition/i.test(err.message))) throw err;
  }
}

/** Enqueues the controller owning a pod (of the given kind). */
export function ownerKeyOf(pod: KubeObject, kind: string): string | undefined {
  const ref = controllerOf(pod);
  if (ref === undefined || ref.kind !== kind) return undefined;
  return `${pod.metadata.namespace ?? ''}/${ref.name}`;
}

export { objectKey };
