// Pods through admission on create: the ServiceAccount plugin (account, projected API access
// volume), then Pod Security Admission at the namespace's level (refusal with Kubernetes'
// message, or warnings).

import { RESOURCES, type Namespace, type Pod } from '../../api/index.js';
import type { Store } from '../../storage/index.js';
import { admitPod, admitServiceAccount, type PodSecurityConfig } from '../admission/index.js';
import { storedAs } from '../write-meta.js';
import { typedFind } from '../typed-read.js';
import { podStrategy } from './pod.js';
import { ephemeralContainersSubresource } from './pod-ephemeral-containers.js';
import type { Strategy } from './types.js';

export interface PodAdmissionDeps {
  store: Store;
  podSecurity: PodSecurityConfig;
  /** Whether ServiceAccount tokens are issued (and so mounted into pods). */
  tokens: boolean;
}

export function admittingPodStrategy(deps: PodAdmissionDeps): Strategy {
  const { podSecurity } = deps;
  const find = typedFind(deps.store);
  return {
    ...podStrategy,
    async admitCreate(obj) {
      const namespace = obj.metadata.namespace ?? 'default';
      const lookup = (ns: string, name: string) => find(RESOURCES.serviceaccounts, ns, name);
      const pod: Pod = await admitServiceAccount(storedAs(RESOURCES.pods, obj), lookup, { mountToken: deps.tokens });
      if (pod.spec !== undefined) obj['spec'] = pod.spec;
      const ns: Namespace | undefined = await find(RESOURCES.namespaces, undefined, namespace);
      const decision = admitPod({
        config: podSecurity,
        request: { operation: 'CREATE', namespace, name: obj.metadata.name ?? '' },
        namespace: ns,
        pod,
      });
      if (!decision.allowed && decision.error !== undefined) throw decision.error;
      return decision.warnings;
    },
    subresources: {
      ...podStrategy.subresources,
      // Pod Security looks at ephemeral containers too (a privileged debug container).
      ephemeralcontainers: ephemeralContainersSubresource(async (next, prev) => {
        const namespace = next.metadata.namespace ?? 'default';
        const decision = admitPod({
          config: podSecurity,
          request: {
            operation: 'UPDATE',
            namespace,
            name: next.metadata.name ?? '',
            subresource: 'ephemeralcontainers',
          },
          namespace: await find(RESOURCES.namespaces, undefined, namespace),
          pod: storedAs(RESOURCES.pods, next),
          oldPod: storedAs(RESOURCES.pods, prev),
        });
        if (!decision.allowed && decision.error !== undefined) throw decision.error;
      }),
    },
  };
}
