import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../component/index.js';
import { controllerManagerConfig, type ControllerManagerFlags } from './config.js';

const FLAGS: ControllerManagerFlags = {
  kubeconfig: 'cm.kubeconfig',
  controllers: 'namespace, podgc',
  nodeMonitorGracePeriod: '50',
  clusterSigningDuration: '8760h',
  allocateNodeCidrs: 'true',
  clusterCidr: '10.244.0.0/16',
  nodeCidrMaskSize: '24',
  terminatedPodGcThreshold: '12500',
  podGcQuarantine: '40',
  podGcPeriod: '20',
  useServiceAccountCredentials: 'true',
  leaderElect: 'true',
  leaderElectLeaseDuration: '15',
  leaderElectRenewDeadline: '10',
  leaderElectRetryPeriod: '2',
};

test('flags become one typed config: controllers, pod GC in ms, node IPAM, the lease', () => {
  const c = controllerManagerConfig(FLAGS);
  assert.deepEqual(c.controllers, ['namespace', 'podgc']);
  assert.deepEqual(c.podGc, { terminatedPodThreshold: 12_500, quarantineMs: 40_000, periodMs: 20_000 });
  assert.deepEqual(c.nodeIpam, { clusterCIDR: '10.244.0.0/16', nodeMaskSize: 24 });
  assert.equal(c.signing, undefined);
  assert.equal(c.election?.name, 'kube-controller-manager');
  assert.equal(c.election?.renewDeadlineMs, 10_000);
  assert.equal(controllerManagerConfig({ ...FLAGS, leaderElect: 'false' }).election, undefined);
  assert.equal(c.useServiceAccountCredentials, true);
  assert.equal(
    controllerManagerConfig({ ...FLAGS, useServiceAccountCredentials: 'false' }).useServiceAccountCredentials,
    false,
  );
});

test('a flag it cannot accept is a ConfigError naming the flag', () => {
  const bad: [Partial<ControllerManagerFlags>, RegExp][] = [
    [{ controllers: 'namespace,nope' }, /unknown controllers: nope/],
    [{ clusterSigningDuration: 'soon' }, /--cluster-signing-duration/],
    [{ clusterSigningCertFile: 'ca.crt' }, /go together/],
    [{ podGcPeriod: '0' }, /--pod-gc-period: "0" is not a whole number >= 1/],
    [{ clusterCidr: '10.244.0.0' }, /--cluster-cidr/],
    [{ useServiceAccountCredentials: 'yes' }, /--use-service-account-credentials: "yes"/],
  ];
  for (const [flags, message] of bad) {
    assert.throws(
      () => controllerManagerConfig({ ...FLAGS, ...flags }),
      (err: unknown) => err instanceof ConfigError && message.test(err.message),
    );
  }
});
