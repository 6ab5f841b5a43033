// The admission chain of the kinds it concerns, as Kubernetes runs it on writes:
// - pods: the ServiceAccount plugin on create (account, projected API access volume), then
//   Pod Security Admission on create and on updates that change what it checks (images,
//   ephemeral containers): refusal with Kubernetes' message, or warnings;
// - workloads with a pod template (Deployments, Jobs …): Pod Security warnings, never refusals;
// - namespaces: their pod-security labels checked, and a tightened enforce level warned
//   about for the pods already running there.

import {
  RESOURCES,
  storageKey,
  type KubeObject,
  type Namespace,
  type Pod,
  type ResourceInfo,
} from '../../api/index.js';
import type { Store } from '../../storage/index.js';
import {
  admitNamespace,
  admitPod,
  admitServiceAccount,
  admitWorkload,
  hasPodTemplate,
  type AdmissionDecision,
  type Operation,
  type PodSecurityConfig,
} from '../admission/index.js';
import { storedAs } from '../write-meta.js';
import { typedFind } from '../typed-read.js';
import { podStrategy } from './pod.js';
import { admitPodPriority } from './priority-class.js';
import { ephemeralContainersSubresource } from './pod-ephemeral-containers.js';
import type { AdmittedUpdate, Strategy } from './types.js';

export interface PodAdmissionDeps {
  store: Store;
  podSecurity: PodSecurityConfig;
  /** Whether ServiceAccount tokens are issued (and so mounted into pods). */
  tokens: boolean;
}

/** Warnings of an allowed decision; the decision's error when it refuses. */
function outcome(decision: AdmissionDecision): string[] {
  if (!decision.allowed && decision.error !== undefined) throw decision.error;
  return decision.warnings;
}

function requestOf(obj: KubeObject, operation: Operation, subresource?: string) {
  return { operation, namespace: obj.metadata.namespace ?? '', name: obj.metadata.name ?? '', subresource };
}

/** A namespace's own requests name it as their namespace, as Kubernetes' do. */
function namespaceRequest(obj: KubeObject, operation: Operation, subresource?: string) {
  return { ...requestOf(obj, operation, subresource), namespace: obj.metadata.name ?? '' };
}

export function admittingPodStrategy(deps: PodAdmissionDeps): Strategy {
  const { podSecurity: config } = deps;
  const find = typedFind(deps.store);
  const namespaceOf = (obj: KubeObject): Promise<Namespace | undefined> =>
    find(RESOURCES.namespaces, undefined, obj.metadata.namespace ?? 'default');
  const admitUpdate = async ({ next, current, subresource }: AdmittedUpdate): Promise<string[]> => {
    const pod = storedAs(RESOURCES.pods, next);
    const oldPod = storedAs(RESOURCES.pods, current);
    const request = requestOf(next, 'UPDATE', subresource);
    return outcome(admitPod({ config, request, namespace: await namespaceOf(next), pod, oldPod }));
  };
  return {
    ...podStrategy,
    async admitCreate(obj) {
      await admitPodPriority(deps.store, obj);
      const lookup = (ns: string, name: string) => find(RESOURCES.serviceaccounts, ns, name);
      const pod: Pod = await admitServiceAccount(storedAs(RESOURCES.pods, obj), lookup, { mountToken: deps.tokens });
      if (pod.spec !== undefined) obj['spec'] = pod.spec;
      const request = requestOf(obj, 'CREATE');
      return outcome(admitPod({ config, request, namespace: await namespaceOf(obj), pod }));
    },
    admitUpdate,
    subresources: {
      ...podStrategy.subresources,
      // Pod Security looks at ephemeral containers too (a privileged debug container).
      ephemeralcontainers: ephemeralContainersSubresource(async (next, current) => {
        await admitUpdate({ next, current, subresource: 'ephemeralcontainers' });
      }),
    },
  };
}

/** Pod Security warnings for a workload's pod template; its other behaviour is base's. */
export function admittingWorkloadStrategy(r: ResourceInfo, base: Strategy, deps: PodAdmissionDeps): Strategy {
  const { podSecurity: config } = deps;
  const find = typedFind(deps.store);
  const resource = { group: r.group, resource: r.plural };
  const admit = async (object: KubeObject, operation: Operation, subresource?: string): Promise<string[]> => {
    const namespace = await find(RESOURCES.namespaces, undefined, object.metadata.namespace ?? 'default');
    const request = requestOf(object, operation, subresource);
    return outcome(admitWorkload({ config, request, resource, namespace, object }));
  };
  return {
    ...base,
    admitCreate: (obj) => admit(obj, 'CREATE'),
    admitUpdate: ({ next, subresource }) => admit(next, 'UPDATE', subresource),
  };
}

export function admittingNamespaceStrategy(base: Strategy, deps: PodAdmissionDeps): Strategy {
  const { podSecurity: config } = deps;
  const podsOf = async (namespace: string): Promise<Pod[]> => {
    const list = await deps.store.list(storageKey(RESOURCES.pods, namespace));
    return list.items.map((item) => storedAs(RESOURCES.pods, item.object));
  };
  return {
    ...base,
    admitCreate: (obj) => {
      const namespace = storedAs(RESOURCES.namespaces, obj);
      const request = namespaceRequest(obj, 'CREATE');
      return Promise.resolve(outcome(admitNamespace({ config, request, namespace, listPods: () => [] })));
    },
    async admitUpdate({ next, current, subresource }) {
      const namespace = storedAs(RESOURCES.namespaces, next);
      const oldNamespace = storedAs(RESOURCES.namespaces, current);
      // Existing pods matter only when the labels change (a tightened enforce level).
      const relabelled = JSON.stringify(next.metadata.labels ?? {}) !== JSON.stringify(current.metadata.labels ?? {});
      const pods = relabelled ? await podsOf(next.metadata.name ?? '') : [];
      const request = namespaceRequest(next, 'UPDATE', subresource);
      return outcome(admitNamespace({ config, request, namespace, oldNamespace, listPods: () => pods }));
    },
  };
}

/** Whether writes of this resource go through Pod Security as workloads. */
export function isWorkload(r: ResourceInfo): boolean {
  return hasPodTemplate({ group: r.group, resource: r.plural });
}
