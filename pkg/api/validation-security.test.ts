import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from './meta.js';
import { findByPlural, type ResourceInfo } from './registry.js';
import { validateObject } from './validation.js';

function resource(group: string, plural: string): ResourceInfo {
  const info = findByPlural(group, 'v1', plural);
  if (info === undefined) throw new Error(plural);
  return info;
}

function pod(spec: Record<string, unknown>, annotations?: Record<string, string>): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'default', ...(annotations ? { annotations } : {}) },
    spec: { containers: [{ name: 'c', image: 'busybox' }], ...spec },
  };
}

function fieldsOf(obj: KubeObject, r = resource('', 'pods')): string[] {
  return validateObject(obj, r).map((cause) => cause.field ?? '');
}

test('what the Docker runtime applies is accepted', () => {
  const applied = pod({
    hostPID: true,
    hostIPC: true,
    shareProcessNamespace: false,
    securityContext: {
      runAsUser: 1000,
      runAsGroup: 1000,
      runAsNonRoot: true,
      fsGroup: 2000,
      supplementalGroups: [3000],
      seccompProfile: { type: 'RuntimeDefault' },
    },
    containers: [
      {
        name: 'c',
        image: 'busybox',
        securityContext: {
          privileged: true,
          capabilities: { add: ['NET_ADMIN'], drop: ['ALL'] },
          readOnlyRootFilesystem: true,
          procMount: 'Default',
          appArmorProfile: { type: 'Unconfined' },
          seccompProfile: { type: 'Unconfined' },
        },
      },
    ],
  });
  assert.deepEqual(validateObject(applied, resource('', 'pods')), []);
});

test('what it cannot apply is refused, each field named', () => {
  const refused = pod(
    {
      hostUsers: false,
      securityContext: {
        seLinuxOptions: { level: 's0:c1' },
        sysctls: [{ name: 'net.core.somaxconn', value: '1024' }],
        seccompProfile: { type: 'Localhost', localhostProfile: 'x.json' },
        supplementalGroupsPolicy: 'Strict',
      },
      initContainers: [{ name: 'i', image: 'busybox', securityContext: { windowsOptions: { hostProcess: false } } }],
      containers: [
        {
          name: 'c',
          image: 'busybox',
          securityContext: { procMount: 'Unmasked', appArmorProfile: { type: 'Localhost', localhostProfile: 'p' } },
        },
      ],
    },
    { 'container.apparmor.security.beta.kubernetes.io/c': 'localhost/p' },
  );
  const causes = validateObject(refused, resource('', 'pods'));
  assert.deepEqual(causes.map((cause) => cause.field).sort(), [
    'metadata.annotations[container.apparmor.security.beta.kubernetes.io/c]',
    'spec.containers[0].securityContext.appArmorProfile.type',
    'spec.containers[0].securityContext.procMount',
    'spec.hostUsers',
    'spec.initContainers[0].securityContext.windowsOptions',
    'spec.securityContext.seLinuxOptions',
    'spec.securityContext.seccompProfile.type',
    'spec.securityContext.supplementalGroupsPolicy',
    'spec.securityContext.sysctls',
  ]);
  assert.ok(causes.every((cause) => cause.reason === 'FieldValueForbidden'));
  assert.match(causes[0]?.message ?? '', /^Forbidden: .*Docker runtime/);
});

test('pod templates are refused as pods are, at the template path', () => {
  const deployment: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'c', image: 'busybox', securityContext: { seLinuxOptions: { type: 't' } } }] },
      },
    },
  };
  assert.deepEqual(fieldsOf(deployment, resource('apps', 'deployments')), [
    'spec.template.spec.containers[0].securityContext.seLinuxOptions',
  ]);
});

test("Kubernetes' rule: no allowPrivilegeEscalation false with privileged or CAP_SYS_ADMIN", () => {
  const contradicting = pod({
    containers: [
      { name: 'a', image: 'busybox', securityContext: { allowPrivilegeEscalation: false, privileged: true } },
      {
        name: 'b',
        image: 'busybox',
        securityContext: { allowPrivilegeEscalation: false, capabilities: { add: ['SYS_ADMIN'] } },
      },
      { name: 'c', image: 'busybox', securityContext: { allowPrivilegeEscalation: false } },
    ],
  });
  assert.deepEqual(fieldsOf(contradicting), [
    'spec.containers[0].securityContext',
    'spec.containers[1].securityContext',
  ]);
});
