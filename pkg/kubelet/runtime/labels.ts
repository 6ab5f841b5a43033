// The labels every Docker object the node agent creates carries. They tie a container to
// its cluster, node and pod, so a restarted agent rebuilds its view from Docker alone and
// never mistakes another cluster's containers (same dockerd, same node name) for its own.

export const LABELS = {
  /** The cluster's identity (cluster-identity.ts). */
  cluster: 'io.coxswain.cluster',
  podUid: 'io.coxswain.pod.uid',
  podNamespace: 'io.coxswain.pod.namespace',
  podName: 'io.coxswain.pod.name',
  containerName: 'io.coxswain.container.name',
  attempt: 'io.coxswain.container.attempt',
  containerType: 'io.coxswain.container.type',
  node: 'io.coxswain.node',
  /** Hash of the container's spec, so a changed image or command is noticed. */
  specHash: 'io.coxswain.container.hash',
} as const;

export type ContainerType = 'sandbox' | 'init' | 'app' | 'ephemeral';

export interface PodIdentity {
  uid: string;
  namespace: string;
  name: string;
}

export interface ContainerIdentity extends PodIdentity {
  containerName: string;
  attempt: number;
  type: ContainerType;
  specHash: string;
}

/** Whose a Docker object is: a cluster and a node of it. */
export interface Owner {
  cluster: string;
  node: string;
}

/** Docker label filters that select exactly the objects of this owner. */
export function ownerFilter(owner: Owner): string[] {
  return [`${LABELS.cluster}=${owner.cluster}`, `${LABELS.node}=${owner.node}`];
}

export function labelsFor(owner: Owner, c: ContainerIdentity): Record<string, string> {
  return {
    [LABELS.cluster]: owner.cluster,
    [LABELS.node]: owner.node,
    [LABELS.podUid]: c.uid,
    [LABELS.podNamespace]: c.namespace,
    [LABELS.podName]: c.name,
    [LABELS.containerName]: c.containerName,
    [LABELS.attempt]: String(c.attempt),
    [LABELS.containerType]: c.type,
    [LABELS.specHash]: c.specHash,
  };
}

/** Reads the identity back from labels; undefined for containers that are not ours. */
export function identityOf(labels: Record<string, string> | undefined): ContainerIdentity | undefined {
  if (labels === undefined) return undefined;
  const uid = labels[LABELS.podUid];
  const type = labels[LABELS.containerType];
  if (uid === undefined || (type !== 'sandbox' && type !== 'init' && type !== 'app' && type !== 'ephemeral'))
    return undefined;
  return {
    uid,
    namespace: labels[LABELS.podNamespace] ?? '',
    name: labels[LABELS.podName] ?? '',
    containerName: labels[LABELS.containerName] ?? '',
    attempt: attemptOf(labels[LABELS.attempt]),
    type,
    specHash: labels[LABELS.specHash] ?? '',
  };
}

function attemptOf(value: string | undefined): number {
  const n = Number(value ?? '0');
  return Number.isInteger(n) && n >= 0 ? n : 0;
}

/** Docker name of a container (unique per pod uid, container and attempt). */
export function dockerName(c: ContainerIdentity): string {
  const container = c.type === 'sandbox' ? 'POD' : c.containerName;
  return `coxswain_${container}_${c.name}_${c.namespace}_${c.uid}_${c.attempt}`;
}
