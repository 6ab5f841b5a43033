import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serviceEnv } from './service-env.js';
import type { Service } from './proxy/types.js';

const kubernetes: Service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { namespace: 'default', name: 'kubernetes' },
  spec: { clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443, protocol: 'TCP' }] },
};

function toMap(vars: { name: string; value: string }[]): Record<string, string> {
  return Object.fromEntries(vars.map((v) => [v.name, v.value]));
}

test('kubernetes service visible in every namespace', () => {
  const env = toMap(serviceEnv([kubernetes], 'team-a'));
  assert.deepEqual(env, {
    KUBERNETES_SERVICE_HOST: '10.96.0.1',
    KUBERNETES_SERVICE_PORT: '443',
    KUBERNETES_SERVICE_PORT_HTTPS: '443',
    KUBERNETES_PORT: 'tcp://10.96.0.1:443',
    KUBERNETES_PORT_443_TCP: 'tcp://10.96.0.1:443',
    KUBERNETES_PORT_443_TCP_PROTO: 'tcp',
    KUBERNETES_PORT_443_TCP_PORT: '443',
    KUBERNETES_PORT_443_TCP_ADDR: '10.96.0.1',
  });
});

test('own namespace only, headless skipped, dashes to underscores, multi-port', () => {
  const services: Service[] = [
    kubernetes,
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { namespace: 'a', name: 'my-db' },
      spec: { clusterIP: '10.96.0.5', ports: [{ port: 5432 }, { name: 'metrics-port', port: 9187, protocol: 'UDP' }] },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { namespace: 'a', name: 'headless' },
      spec: { clusterIP: 'None', ports: [{ port: 80 }] },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { namespace: 'b', name: 'other' },
      spec: { clusterIP: '10.96.0.6', ports: [{ port: 80 }] },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { namespace: 'a', name: 'kubernetes' },
      spec: { clusterIP: '10.96.0.7', ports: [{ port: 80 }] },
    },
  ];
  const env = toMap(serviceEnv(services, 'a'));
  assert.equal(env.MY_DB_SERVICE_HOST, '10.96.0.5');
  assert.equal(env.MY_DB_SERVICE_PORT, '5432');
  assert.equal(env.MY_DB_SERVICE_PORT_METRICS_PORT, '9187');
  assert.equal(env.MY_DB_PORT, 'tcp://10.96.0.5:5432');
  assert.equal(env.MY_DB_PORT_9187_UDP, 'udp://10.96.0.5:9187');
  assert.equal(env.MY_DB_PORT_9187_UDP_PROTO, 'udp');
  assert.equal(env.MY_DB_PORT_5432_TCP_ADDR, '10.96.0.5');
  assert.ok(!('HEADLESS_SERVICE_HOST' in env));
  assert.ok(!('OTHER_SERVICE_HOST' in env));
  assert.equal(env.KUBERNETES_SERVICE_HOST, '10.96.0.1', 'default/kubernetes wins');
});
