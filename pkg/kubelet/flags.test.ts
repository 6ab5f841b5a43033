import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../component/index.js';
import { kubeletSettings, type KubeletFlags } from './flags.js';

const FLAGS: KubeletFlags = {
  nodeName: 'n1',
  nodeIp: '10.0.0.2',
  dockerSocket: '/var/run/docker.sock',
  rootDir: '/var/lib/coxswain/kubelet',
  network: 'none',
  podNetwork: 'bridge',
  clusterCidr: '10.244.0.0/16',
  clusterDomain: 'cluster.local',
  clusterDns: ' 10.96.0.10, ,10.96.0.11',
  sandboxImage: 'coxswain/pause:latest',
  port: '10250',
  maxPods: '110',
  nodeLabels: 'zone=a,gpu=,=x',
  leaseDuration: '40',
  leaseRenewInterval: '10',
  nodeStatusUpdateFrequency: '60',
};

test('flags become the settings: labels and nameservers split, intervals in ms', () => {
  const s = kubeletSettings(FLAGS);
  assert.deepEqual(s.labels, { zone: 'a', gpu: '' });
  assert.deepEqual(s.clusterDNS, ['10.96.0.10', '10.96.0.11']);
  assert.equal(s.network, 'none');
  assert.equal(s.leaseRenewIntervalMs, 10_000);
  assert.equal(s.statusUpdateIntervalMs, 60_000);
});

test('a flag it cannot accept is a ConfigError naming the flag', () => {
  assert.throws(
    () => kubeletSettings({ ...FLAGS, network: 'flannel' }),
    (e: unknown) => e instanceof ConfigError && /--network must be host-gw or none/.test(e.message),
  );
  assert.throws(
    () => kubeletSettings({ ...FLAGS, maxPods: '-3' }),
    (e: unknown) => e instanceof ConfigError && /--maxPods/.test(e.message),
  );
});

test('--ingress turns the ingress proxy on with ports 80/443 unless told; a bad port is refused', () => {
  assert.equal(kubeletSettings(FLAGS).ingress, undefined);
  assert.deepEqual(kubeletSettings({ ...FLAGS, ingress: true }).ingress, { httpPort: 80, httpsPort: 443 });
  assert.deepEqual(
    kubeletSettings({ ...FLAGS, ingress: true, ingressHttpPort: '0', ingressHttpsPort: '8443' }).ingress,
    {
      httpPort: 0,
      httpsPort: 8443,
    },
  );
  assert.throws(
    () => kubeletSettings({ ...FLAGS, ingress: true, ingressHttpsPort: '70000' }),
    (e: unknown) => e instanceof ConfigError && /--ingress-https-port must be a port/.test(e.message),
  );
});
