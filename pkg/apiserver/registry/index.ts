// The strategy of every kind: one table entry per kind with special behaviour; every other
// kind gets the default strategy. A new kind is one file here plus one entry.

import type { ResourceInfo } from '../../api/registry.js';
import type { ServiceAllocator } from '../service-allocator.js';
import { csrStrategy } from './certificate-signing-request.js';
import { crdStrategy } from './custom-resource-definition.js';
import { customResourceStrategy } from './custom-resource.js';
import { defaultStrategy, withSubresources } from './default.js';
import { namespaceStrategy } from './namespace.js';
import { nodeStrategy } from './node.js';
import { podStrategy } from './pod.js';
import { jobStrategy } from './job.js';
import { SCALE_SUBRESOURCE } from './scale.js';
import { secretStrategy } from './secret.js';
import { serviceStrategy } from './service.js';
import type { Strategies, Strategy } from './types.js';
import { reviewStrategies } from './review.js';
import { rbacStrategies } from './rbac.js';
import { serviceAccountStrategy, type TokenIssuing } from './service-account.js';
import { daemonSetStrategy } from './daemonset.js';
import {
  admittingNamespaceStrategy,
  admittingPodStrategy,
  admittingWorkloadStrategy,
  isWorkload,
  type PodAdmissionDeps,
} from './pod-admission.js';
import type { AuthorizerSources } from '../authorizer.js';
import type { Store } from '../../storage/index.js';
import { storageStrategies } from './storage.js';
import { priorityClassStrategy } from './priority-class.js';
import { ingressStrategies } from './ingress.js';

export { ensureNamespace, NAMESPACE_FINALIZER } from './namespace.js';
export { defaultStrategy, FOREGROUND_FINALIZER, ORPHAN_FINALIZER } from './default.js';
export { podGracePeriod } from './pod.js';
export { ensureSystemPriorityClasses } from './priority-class.js';
export { CRD_CLEANUP_FINALIZER, isCustomResourceDefinition } from './custom-resource-definition.js';
export type { Strategies, Strategy, Subresource, SubresourceCall, SubresourceReply, SubresourceVerb } from './types.js';

/** What strategies need of the server (Services allocate from its ranges). */
export interface StrategyDeps {
  services: ServiceAllocator;
  /** Answers the review kinds (SelfSubjectAccessReview …). */
  authz: AuthorizerSources;
  /** Issues ServiceAccount tokens (TokenRequest); without it `serviceaccounts/token` is 405. */
  tokens?: TokenIssuing;
  /** Admission of new pods (ServiceAccount, Pod Security); without it pods are stored as sent. */
  podAdmission?: PodAdmissionDeps;
  /** The store admission reads (the default StorageClass); without it claims are stored as sent. */
  store?: Store;
}

/** The strategies, keyed by `<group>/<plural>`. */
export function createStrategies(deps: StrategyDeps): Strategies {
  const scaled = withSubresources({ scale: SCALE_SUBRESOURCE });
  const table = new Map<string, Strategy>([
    ['/pods', deps.podAdmission === undefined ? podStrategy : admittingPodStrategy(deps.podAdmission)],
    ['/namespaces', namespaceStrategy],
    ['/nodes', nodeStrategy],
    ['/secrets', secretStrategy],
    ['/services', serviceStrategy(deps.services)],
    ['apps/deployments', scaled],
    ['apps/replicasets', scaled],
    ['apps/statefulsets', scaled],
    ['apps/daemonsets', daemonSetStrategy],
    ['/replicationcontrollers', scaled],
    ['batch/jobs', jobStrategy],
    ['certificates.k8s.io/certificatesigningrequests', csrStrategy],
    ['apiextensions.k8s.io/customresourcedefinitions', crdStrategy],
    ...reviewStrategies(deps.authz),
    ...rbacStrategies(deps.authz),
    ...storageStrategies(deps.store),
    ['scheduling.k8s.io/priorityclasses', priorityClassStrategy(deps.store)],
    ...ingressStrategies(deps.store),
  ]);
  if (deps.tokens !== undefined) table.set('/serviceaccounts', serviceAccountStrategy(deps.tokens));
  const admission = deps.podAdmission;
  if (admission === undefined)
    return (r: ResourceInfo) =>
      r.custom !== undefined
        ? customResourceStrategy(r, r.custom)
        : (table.get(`${r.group}/${r.plural}`) ?? defaultStrategy);
  table.set('/namespaces', admittingNamespaceStrategy(namespaceStrategy, admission));
  // Workloads are admitted for their pod template; one wrapped strategy per resource, made once.
  const admitted = new Map<string, Strategy>();
  return (r: ResourceInfo) => {
    if (r.custom !== undefined) return customResourceStrategy(r, r.custom);
    const key = `${r.group}/${r.plural}`;
    const base = table.get(key) ?? defaultStrategy;
    if (!isWorkload(r)) return base;
    let strategy = admitted.get(key);
    if (strategy === undefined) admitted.set(key, (strategy = admittingWorkloadStrategy(r, base, admission)));
    return strategy;
  };
}
