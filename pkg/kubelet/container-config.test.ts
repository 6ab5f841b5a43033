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
