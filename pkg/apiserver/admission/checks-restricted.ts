// The restricted Pod Security Standard at policy version "latest": current hardening best
// practice on top of baseline. Some of these replace a weaker baseline check (`overrides`).
// Reasons and details follow k8s.io/pod-security-admission/policy word for word.

import { type Check, containerNames, joinQuote, pluralize, setters, sortedSet } from './check-types.js';
import { explicitSeccompSetters, inUserNamespace, procMountViolation } from './checks-baseline.js';
import type { PodView } from './pod-view.js';

/** Volume sources restricted pods may use. */
const ALLOWED_VOLUME_SOURCES = new Set([
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'image',
  'persistentVolumeClaim',
  'projected',
  'secret',
]);

/** Volume sources Kubernetes names in its message; anything else is reported as "unknown". */
const NAMED_VOLUME_SOURCES = [
  'hostPath',
  'gcePersistentDisk',
  'awsElasticBlockStore',
  'gitRepo',
  'nfs',
  'iscsi',
  'glusterfs',
  'rbd',
  'flexVolume',
  'cinder',
  'cephfs',
  'flocker',
  'fc',
  'azureFile',
  'vsphereVolume',
  'quobyte',
  'azureDisk',
  'photonPersistentDisk',
  'portworxVolume',
  'scaleIO',
  'storageos',
];

/** Windows pods cannot set these Linux fields, so Kubernetes lets them pass. */
function windowsPod(pod: PodView): boolean {
  return pod.osName === 'windows';
}

const allowPrivilegeEscalation: Check = {
  id: 'allowPrivilegeEscalation',
  level: 'restricted',
  evaluate(pod) {
    if (windowsPod(pod)) return undefined;
    const bad = pod.containers.filter((c) => c.securityContext?.allowPrivilegeEscalation !== false);
    if (bad.length === 0) return undefined;
    return {
      reason: 'allowPrivilegeEscalation != false',
      detail: `${containerNames(bad)} must set securityContext.allowPrivilegeEscalation=false`,
      fields: bad.map((c) => `${c.path}.securityContext.allowPrivilegeEscalation`),
    };
  },
};

const capabilitiesRestricted: Check = {
  id: 'capabilities_restricted',
  level: 'restricted',
  overrides: ['capabilities_baseline'],
  evaluate(pod) {
    if (windowsPod(pod)) return undefined;
    const forbidden: string[] = [];
    const missingDropAll = pod.containers.filter((c) => !(c.securityContext?.capabilities?.drop ?? []).includes('ALL'));
    const addingForbidden = pod.containers.filter((c) => {
      const extra = (c.securityContext?.capabilities?.add ?? []).filter((cap) => cap !== 'NET_BIND_SERVICE');
      forbidden.push(...extra);
      return extra.length > 0;
    });
    const details: string[] = [];
    if (missingDropAll.length > 0) {
      details.push(`${containerNames(missingDropAll)} must set securityContext.capabilities.drop=["ALL"]`);
    }
    if (addingForbidden.length > 0) {
      details.push(
        `${containerNames(addingForbidden)} must not include ${joinQuote(sortedSet(forbidden))} in securityContext.capabilities.add`,
      );
    }
    if (details.length === 0) return undefined;
    return {
      reason: 'unrestricted capabilities',
      detail: details.join('; '),
      fields: [
        ...missingDropAll.map((c) => `${c.path}.securityContext.capabilities.drop`),
        ...addingForbidden.map((c) => `${c.path}.securityContext.capabilities.add`),
      ],
    };
  },
};

const procMountRestricted: Check = {
  id: 'procMount_restricted',
  level: 'restricted',
  // Baseline lets user-namespaced pods unmask /proc; restricted never does.
  overrides: ['procMount'],
  evaluate: procMountViolation,
};

const restrictedVolumes: Check = {
  id: 'restrictedVolumes',
  level: 'restricted',
  overrides: ['hostPathVolumes'],
  evaluate(pod) {
    const bad = pod.volumes
      .map((volume, index) => ({ volume, index }))
      .filter(({ volume }) => !volume.sources.some((source) => ALLOWED_VOLUME_SOURCES.has(source)));
    if (bad.length === 0) return undefined;
    const types = sortedSet(
      bad.map(({ volume }) => NAMED_VOLUME_SOURCES.find((source) => volume.sources.includes(source)) ?? 'unknown'),
    );
    const names = bad.map(({ volume }) => volume.name);
    return {
      reason: 'restricted volume types',
      detail: `${pluralize('volume', 'volumes', names.length)} ${joinQuote(names)} ${pluralize('uses', 'use', names.length)} ${pluralize('restricted volume type', 'restricted volume types', types.length)} ${joinQuote(types)}`,
      fields: bad.map(({ index }) => `spec.volumes[${index}]`),
    };
  },
};

const runAsNonRoot: Check = {
  id: 'runAsNonRoot',
  level: 'restricted',
  evaluate(pod) {
    if (inUserNamespace(pod)) return undefined;
    const podValue = pod.securityContext?.runAsNonRoot;
    const podSetsFalse = podValue === false;
    const explicit = pod.containers.filter((c) => c.securityContext?.runAsNonRoot === false);
    if (podSetsFalse || explicit.length > 0) {
      const fields = explicit.map((c) => `${c.path}.securityContext.runAsNonRoot`);
      if (podSetsFalse) fields.unshift('spec.securityContext.runAsNonRoot');
      return {
        reason: 'runAsNonRoot != true',
        detail: `${setters(podSetsFalse, explicit)} must not set securityContext.runAsNonRoot=false`,
        fields,
      };
    }
    // A container that says nothing inherits the pod's value, which must then be true.
    const implicit = pod.containers.filter((c) => c.securityContext?.runAsNonRoot === undefined && podValue !== true);
    if (implicit.length === 0) return undefined;
    return {
      reason: 'runAsNonRoot != true',
      detail: `pod or ${containerNames(implicit)} must set securityContext.runAsNonRoot=true`,
      fields: ['spec.securityContext.runAsNonRoot', ...implicit.map((c) => `${c.path}.securityContext.runAsNonRoot`)],
    };
  },
};

const runAsUser: Check = {
  id: 'runAsUser',
  level: 'restricted',
  evaluate(pod) {
    if (inUserNamespace(pod)) return undefined;
    const podSetsRoot = pod.securityContext?.runAsUser === 0;
    const bad = pod.containers.filter((c) => c.securityContext?.runAsUser === 0);
    if (!podSetsRoot && bad.length === 0) return undefined;
    const fields = bad.map((c) => `${c.path}.securityContext.runAsUser`);
    if (podSetsRoot) fields.unshift('spec.securityContext.runAsUser');
    return { reason: 'runAsUser=0', detail: `${setters(podSetsRoot, bad)} must not set runAsUser=0`, fields };
  },
};

const seccompProfileRestricted: Check = {
  id: 'seccompProfile_restricted',
  level: 'restricted',
  overrides: ['seccompProfile_baseline'],
  evaluate(pod) {
    if (windowsPod(pod)) return undefined;
    const bad = explicitSeccompSetters(pod);
    if (bad.podSetsIt || bad.containers.length > 0) {
      return {
        reason: 'seccompProfile',
        detail: `${setters(bad.podSetsIt, bad.containers)} must not set securityContext.seccompProfile.type to ${joinQuote(bad.values)}`,
        fields: bad.fields,
      };
    }
    // Without a pod-level profile every container must name its own.
    const podSetsOne = pod.securityContext?.seccompProfile !== undefined;
    const implicit = pod.containers.filter((c) => c.securityContext?.seccompProfile === undefined && !podSetsOne);
    if (implicit.length === 0) return undefined;
    return {
      reason: 'seccompProfile',
      detail: `pod or ${containerNames(implicit)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"`,
      fields: [
        'spec.securityContext.seccompProfile.type',
        ...implicit.map((c) => `${c.path}.securityContext.seccompProfile.type`),
      ],
    };
  },
};

export const RESTRICTED_CHECKS: readonly Check[] = [
  allowPrivilegeEscalation,
  capabilitiesRestricted,
  procMountRestricted,
  restrictedVolumes,
  runAsNonRoot,
  runAsUser,
  seccompProfileRestricted,
];
