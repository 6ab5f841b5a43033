// Helpers controllers share about pods: readiness and availability, ownership, and
// creating pods from a template with a controller reference.

import { controllerOf, objectKey, type KubeObject, type OwnerReference } from '../api/meta.js';
import { RESOURCES } from '../api/registry.js';
import { selectorMatches, type LabelSelector } from '../api/selectors.js';
import type { Pod, PodSpec, PodTemplateSpec, Service, ServicePort } from '../api/types/index.js';
import type { EventSink, Informer, RestClient } from '../client/index.js';
import { errorMessage } from '../errors/index.js';

export const PODS = RESOURCES.pods;

/** A pod as the informer cache hands it out: read-only. */
export type PodView = Readonly<Pod>;

export function isTerminal(pod: PodView): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

/** Counted as a live replica: not finished, not being deleted. */
export function isActive(pod: PodView): boolean {
  return !isTerminal(pod) && pod.metadata.deletionTimestamp === undefined;
}

export function readySince(pod: PodView): number | undefined {
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready?.status !== 'True') return undefined;
  return Date.parse(ready.lastTransitionTime ?? '') || 0;
}

export function isReady(pod: PodView): boolean {
  return readySince(pod) !== undefined;
}

/** Ready for at least minReadySeconds. */
export function isAvailable(pod: PodView, minReadySeconds: number, now: number): boolean {
  const since = readySince(pod);
  return since !== undefined && (minReadySeconds === 0 || since + minReadySeconds * 1000 <= now);
}

export function ownerRef(owner: Readonly<KubeObject>): OwnerReference {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name ?? '',
    uid: owner.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** The pods in owner's namespace that owner controls. */
export function ownedPods(pods: Informer<Pod>, owner: Readonly<KubeObject>): PodView[] {
  return pods
    .byIndex('namespace', owner.metadata.namespace ?? '')
    .filter((p) => controllerOf(p)?.uid === owner.metadata.uid);
}

/** A workload that selects its pods with a LabelSelector (ReplicaSet, Deployment, Job…; not Service, whose selector is a plain map). */
export interface Selecting {
  spec?: { selector?: LabelSelector };
}

export function selectorOf(obj: Readonly<Selecting>): LabelSelector | undefined {
  return obj.spec?.selector;
}

export function matches(obj: Readonly<Selecting>, pod: PodView): boolean {
  return selectorMatches(selectorOf(obj), pod.metadata.labels);
}

/** A pod from a template, owned by `owner`. */
export function podFromTemplate(
  template: Readonly<PodTemplateSpec>,
  owner: Readonly<KubeObject>,
  extra: { name?: string; labels?: Record<string, string>; spec?: Partial<PodSpec> } = {},
): Pod {
  const meta = template.metadata ?? {};
  const spec = structuredClone(template.spec ?? { containers: [] });
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

export async function createPod(client: RestClient, pod: Pod): Promise<Pod> {
  return client.create(PODS, pod, { namespace: pod.metadata.namespace });
}

/** Deletes the pod (that very one: by uid); false when it was gone already. */
export async function deletePod(client: RestClient, pod: PodView): Promise<boolean> {
  try {
    await client.delete(PODS, pod.metadata.name ?? '', {
      namespace: pod.metadata.namespace,
      preconditions: { uid: pod.metadata.uid ?? '' },
    });
    return true;
  } catch (err) {
    if (!(err instanceof Error && /not found|Precondition/i.test(err.message))) throw err;
    return false;
  }
}

/**
 * Creating and deleting a workload's pods with the Events Kubernetes' PodControl records on
 * the owner (`SuccessfulCreate` "Created pod: X", `FailedCreate` "Error creating: …",
 * `SuccessfulDelete` "Deleted pod: X", `FailedDelete` "Error deleting: …").
 */
export class PodControl {
  constructor(
    private readonly client: RestClient,
    private readonly events: EventSink,
  ) {}

  async create(owner: Readonly<KubeObject>, pod: Pod): Promise<Pod> {
    try {
      const created = await createPod(this.client, pod);
      this.events.normal(owner, 'SuccessfulCreate', `Created pod: ${created.metadata.name ?? ''}`);
      return created;
    } catch (err) {
      this.events.warning(owner, 'FailedCreate', `Error creating: ${errorMessage(err)}`);
      throw err;
    }
  }

  async delete(owner: Readonly<KubeObject>, pod: PodView): Promise<void> {
    try {
      if (await deletePod(this.client, pod))
        this.events.normal(owner, 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name ?? ''}`);
    } catch (err) {
      this.events.warning(owner, 'FailedDelete', `Error deleting: ${errorMessage(err)}`);
      throw err;
    }
  }
}

/** Enqueues the controller owning a pod (of the given kind). */
export function ownerKeyOf(pod: PodView, kind: string): string | undefined {
  const ref = controllerOf(pod);
  if (ref === undefined || ref.kind !== kind) return undefined;
  return `${pod.metadata.namespace ?? ''}/${ref.name}`;
}

export { objectKey };

/**
 * Calls `enqueue` with the key of every Service whose selector picks a pod that was added,
 * changed (old and new labels) or deleted: the endpoints and endpointslice controllers follow
 * pods this way. A Service with no selector, or an empty one, picks no pods.
 */
export function enqueueSelectingServices(
  pods: Informer<Pod>,
  services: Informer<Service>,
  enqueue: (key: string) => void,
): void {
  const onPod = (p: PodView): void => {
    for (const s of services.byIndex('namespace', p.metadata.namespace ?? '')) {
      const sel = s.spec?.selector;
      if (sel !== undefined && Object.keys(sel).length > 0 && selectorMatches({ matchLabels: sel }, p.metadata.labels))
        enqueue(objectKey(s));
    }
  };
  pods.addHandler({
    onAdd: onPod,
    onUpdate: (o, p) => {
      onPod(o);
      onPod(p);
    },
    onDelete: onPod,
  });
}

/** The pod's port a Service port sends to: its targetPort (or port) as a number, or the container port of that name. */
export function targetPort(pod: PodView, port: ServicePort): number | undefined {
  const target = port.targetPort ?? port.port;
  if (typeof target === 'number') return target;
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) if (p.name === target) return p.containerPort;
  }
  return undefined;
}
