// Which objects each node may read: the ServiceAccounts, Secrets, ConfigMaps and
// PersistentVolumeClaims that the pods bound to it refer to (Kubernetes' node authorizer keeps
// the same graph, fed by informers). A reference counts once per pod, so an object stays
// readable while any pod on the node still needs it.

import type { Container, Pod } from '../../api/index.js';
import { IngressTlsSecrets } from './ingress-secrets.js';

/** The kinds a node reads only through its pods, by plural. */
export type NodeScopedKind = 'secrets' | 'configmaps' | 'persistentvolumeclaims' | 'serviceaccounts';

export interface ObjectRef {
  kind: NodeScopedKind;
  namespace: string;
  name: string;
}

function refKey(node: string, ref: ObjectRef): string {
  return `${node}\u0000${ref.kind}\u0000${ref.namespace}\u0000${ref.name}`;
}

function containerRefs(c: Container): { kind: 'secrets' | 'configmaps'; name: string }[] {
  const out: { kind: 'secrets' | 'configmaps'; name: string }[] = [];
  for (const e of c.env ?? []) {
    const s = e.valueFrom?.secretKeyRef?.name;
    if (s !== undefined) out.push({ kind: 'secrets', name: s });
    const m = e.valueFrom?.configMapKeyRef?.name;
    if (m !== undefined) out.push({ kind: 'configmaps', name: m });
  }
  for (const e of c.envFrom ?? []) {
    if (e.secretRef?.name !== undefined) out.push({ kind: 'secrets', name: e.secretRef.name });
    if (e.configMapRef?.name !== undefined) out.push({ kind: 'configmaps', name: e.configMapRef.name });
  }
  return out;
}

/** Every object a pod refers to, deduplicated. */
export function podReferences(pod: Readonly<Pod>): ObjectRef[] {
  const namespace = pod.metadata.namespace ?? 'default';
  const spec = pod.spec ?? { containers: [] };
  const found = new Map<string, ObjectRef>();
  const add = (kind: NodeScopedKind, name: string | undefined): void => {
    if (name === undefined || name === '') return;
    found.set(`${kind}/${name}`, { kind, namespace, name });
  };
  add('serviceaccounts', spec.serviceAccountName ?? spec.serviceAccount ?? 'default');
  for (const s of spec.imagePullSecrets ?? []) add('secrets', s.name);
  for (const v of spec.volumes ?? []) {
    add('secrets', v.secret?.secretName);
    add('configmaps', v.configMap?.name);
    add('persistentvolumeclaims', v.persistentVolumeClaim?.claimName);
    for (const p of v.projected?.sources ?? []) {
      add('secrets', p.secret?.name);
      add('configmaps', p.configMap?.name);
    }
  }
  for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
    for (const r of containerRefs(c)) add(r.kind, r.name);
  }
  return [...found.values()];
}

export class NodeGraph {
  /** The TLS Secrets of Ingresses: every node's ingress proxy reads them. */
  readonly ingressSecrets = new IngressTlsSecrets();
  /** Pod key → the node it is bound to and what it refers to. */
  private readonly pods = new Map<string, { node: string; refs: ObjectRef[] }>();
  /** (node, object) → how many of the node's pods refer to it. */
  private readonly counts = new Map<string, number>();

  /** Records a pod as it is now: bound pods add their references, unbound ones none. */
  setPod(pod: Readonly<Pod>): void {
    const key = `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`;
    this.forget(key);
    const node = pod.spec?.nodeName;
    if (node === undefined || node === '') return;
    const refs = podReferences(pod);
    this.pods.set(key, { node, refs });
    for (const r of refs) this.counts.set(refKey(node, r), (this.counts.get(refKey(node, r)) ?? 0) + 1);
  }

  deletePod(namespace: string, name: string): void {
    this.forget(`${namespace}/${name}`);
  }

  /** Whether some pod bound to the node refers to the object. */
  related(node: string, ref: ObjectRef): boolean {
    return (this.counts.get(refKey(node, ref)) ?? 0) > 0;
  }

  /** The node a pod is bound to, if the graph knows the pod. */
  nodeOfPod(namespace: string, name: string): string | undefined {
    return this.pods.get(`${namespace}/${name}`)?.node;
  }

  private forget(key: string): void {
    const prior = this.pods.get(key);
    if (prior === undefined) return;
    this.pods.delete(key);
    for (const r of prior.refs) {
      const k = refKey(prior.node, r);
      const n = (this.counts.get(k) ?? 0) - 1;
      if (n > 0) this.counts.set(k, n);
      else this.counts.delete(k);
    }
  }
}
