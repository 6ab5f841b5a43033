import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod } from '../api/types/index.js';
import { containerConfig } from './container-config.js';

const pod: Pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', namespace: 'ns', uid: 'u' },
  spec: {
    containers: [],
    volumes: [
      { name: 'cfg', configMap: { name: 'c' } },
      { name: 'data', emptyDir: {} },
    ],
  },
};

test('mounts: volumes by name, subPath, config volumes read-only, the pod resolv.conf last', () => {
  const config = containerConfig(
    pod,
    {
      name: 'a',
      image: 'busybox',
      volumeMounts: [
        { name: 'cfg', mountPath: '/etc/app' },
        { name: 'data', mountPath: '/data', subPath: 'x' },
        { name: 'unknown', mountPath: '/nope' },
      ],
    },
    {
      env: ['A=1'],
      volumes: new Map([
        ['cfg', '/v/cfg'],
        ['data', '/v/data'],
      ]),
      resolvConf: '/pods/u/resolv.conf',
    },
  );
  assert.deepEqual(config.mounts, [
    { hostPath: '/v/cfg', containerPath: '/etc/app', readOnly: true },
    { hostPath: '/v/data/x', containerPath: '/data', readOnly: false },
    { hostPath: '/pods/u/resolv.conf', containerPath: '/etc/resolv.conf', readOnly: true },
  ]);
  assert.deepEqual(config.env, ['A=1']);
});

test('resources: memory and cpu limits, cpu request as shares; no command means the image entrypoint', () => {
  const config = containerConfig(
    pod,
    { name: 'a', image: 'busybox', resources: { limits: { memory: '1Gi', cpu: '2' }, requests: { cpu: '250m' } } },
    { env: [], volumes: new Map(), resolvConf: undefined },
  );
  assert.equal(config.memoryLimitBytes, 1024 ** 3);
  assert.equal(config.nanoCpus, 2e9);
  assert.equal(config.cpuShares, 256);
  assert.equal(config.command, undefined);
  assert.deepEqual(config.mounts, []);
});

const noContext = { env: [], volumes: new Map<string, string>(), resolvConf: undefined };

test('security: nothing set means no security settings at all (the runtime defaults)', () => {
  assert.deepEqual(containerConfig(pod, { name: 'a', image: 'busybox' }, noContext).security, {});
});

test('security: the container securityContext, with the pod-level one as defaults, and the pod host namespaces', () => {
  const securePod: Pod = {
    ...pod,
    spec: {
      containers: [],
      hostPID: true,
      hostIPC: true,
      securityContext: {
        runAsUser: 1000,
        runAsGroup: 3000,
        runAsNonRoot: true,
        fsGroup: 2000,
        supplementalGroups: [4000, 2000],
        seccompProfile: { type: 'Unconfined' },
      },
    },
  };
  const config = containerConfig(
    securePod,
    {
      name: 'a',
      image: 'busybox',
      securityContext: {
        privileged: true,
        runAsUser: 1001,
        capabilities: { add: ['NET_ADMIN'], drop: ['ALL'] },
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        appArmorProfile: { type: 'Unconfined' },
      },
    },
    noContext,
  );
  assert.deepEqual(config.security, {
    privileged: true,
    hostPID: true,
    hostIPC: true,
    capAdd: ['NET_ADMIN'],
    capDrop: ['ALL'],
    runAsUser: 1001,
    runAsGroup: 3000,
    runAsNonRoot: true,
    supplementalGroups: [4000, 2000],
    readOnlyRootFilesystem: true,
    noNewPrivileges: true,
    seccompUnconfined: true,
    appArmorUnconfined: true,
  });
});

test('security: the container overrides the pod; RuntimeDefault profiles and escalation allowed change nothing', () => {
  const podWithDefaults: Pod = {
    ...pod,
    metadata: { ...pod.metadata, annotations: { 'container.apparmor.security.beta.kubernetes.io/b': 'unconfined' } },
    spec: {
      containers: [],
      shareProcessNamespace: true,
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'Unconfined' } },
    },
  };
  const a = containerConfig(
    podWithDefaults,
    {
      name: 'a',
      image: 'busybox',
      securityContext: {
        runAsNonRoot: false,
        allowPrivilegeEscalation: true,
        seccompProfile: { type: 'RuntimeDefault' },
        privileged: false,
      },
    },
    noContext,
  );
  assert.deepEqual(a.security, { sharePodPID: true });
  // The annotation is AppArmor's older form, per container name.
  const b = containerConfig(podWithDefaults, { name: 'b', image: 'busybox' }, noContext);
  assert.deepEqual(b.security, {
    sharePodPID: true,
    runAsNonRoot: true,
    seccompUnconfined: true,
    appArmorUnconfined: true,
  });
});
