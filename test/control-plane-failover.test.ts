// Leader election and crash recovery of the control-plane components: a standby scheduler
// takes over within the lease duration when the leader dies, and a controller-manager killed
// in the middle of a rollout finishes it after a restart with no excess pods.

import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, test } from 'node:test';
import { RESOURCES, type Pod } from '../pkg/api/index.js';
import type { RestClient } from '../pkg/client/index.js';
import { startAgentCluster, type AgentCluster } from './harness/agent-cluster.js';
import { eventually, R } from './harness/clients.js';
import { hasReadyCondition, isLive } from './harness/pods.js';
import { killHard, startComponent, type ControlPlane } from './harness/control-plane.js';

const FAST = [
  '--leader-elect-lease-duration',
  '4',
  '--leader-elect-renew-deadline',
  '3',
  '--leader-elect-retry-period',
  '1',
];
let plane: ControlPlane;
let client: RestClient;
const extra: ChildProcess[] = [];
const leases = RESOURCES.leases;

let cluster: AgentCluster | undefined;

before(async () => {
  cluster = await startAgentCluster();
  ({ plane, client } = cluster);
});
after(async () => {
  for (const c of extra) await killHard(c);
  await cluster?.stop();
});

async function holder(name: string): Promise<string> {
  const lease = await client.get(leases, name, { namespace: 'kube-system' });
  return lease.spec?.holderIdentity ?? '';
}

test('two schedulers: only the leader binds; the standby takes over when it dies', async () => {
  const first = await startComponent(plane, 'scheduler', { args: FAST, ready: /scheduler started/ });
  extra.push(first);
  const second = await startComponent(plane, 'scheduler', { args: FAST, ready: /waiting to lead/ });
  extra.push(second);
  const leader = await holder('kube-scheduler');
  assert.match(leader, new RegExp(`_${first.pid ?? 0}$`));
  await killHard(first);
  await eventually(async () => (await holder('kube-scheduler')).endsWith(`_${second.pid ?? 0}`), {
    timeoutMs: 20_000,
    what: 'standby took the lease',
  });
  await client.create(
    R.pods,
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'after-failover' },
      spec: {
        terminationGracePeriodSeconds: 0,
        containers: [{ name: 'c', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sleep', '60'] }],
      },
    },
    { namespace: 'default' },
  );
  await eventually(
    async () => Boolean((await client.get(R.pods, 'after-failover', { namespace: 'default' })).spec?.nodeName),
    { timeoutMs: 20_000, what: 'pod bound by the new leader' },
  );
});

test('kill -9 of the controller-manager mid-rollout: after a restart the rollout finishes with no excess pods', async () => {
  let cm = await startComponent(plane, 'controller-manager', { args: FAST, ready: /controllers started/ });
  extra.push(cm);
  await client.create(
    R.deployments,
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'roll' },
      spec: {
        replicas: 4,
        selector: { matchLabels: { app: 'roll' } },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
        template: {
          metadata: { labels: { app: 'roll' } },
          spec: {
            terminationGracePeriodSeconds: 0,
            containers: [
              {
                name: 'c',
                image: 'busybox:latest',
                imagePullPolicy: 'IfNotPresent',
                command: ['sleep', '3600'],
                readinessProbe: { exec: { command: ['true'] }, periodSeconds: 1 },
              },
            ],
          },
        },
      },
    },
    { namespace: 'default' },
  );
  const live = async (): Promise<Pod[]> =>
    (await client.list(R.pods, { namespace: 'default', labelSelector: 'app=roll' })).items.filter(isLive);
  await eventually(async () => (await live()).filter(hasReadyCondition).length === 4, {
    timeoutMs: 90_000,
    what: '4 ready',
  });
  await client.patch(R.deployments, 'roll', {
    type: 'strategic',
    body: { spec: { template: { metadata: { annotations: { rev: '2' } } } } },
    namespace: 'default',
  });
  // Let the rollout start, then kill the controller-manager in the middle of it.
  await eventually(
    async () =>
      (await client.list(R.replicasets, { namespace: 'default', labelSelector: 'app=roll' })).items.length >= 2,
    { timeoutMs: 30_000, what: 'new replicaset' },
  );
  await killHard(cm);
  cm = await startComponent(plane, 'controller-manager', { args: FAST, ready: /controllers started/ });
  extra.push(cm);
  await eventually(
    async () => {
      const d = await client.get(R.deployments, 'roll', { namespace: 'default' });
      const st = d.status;
      const pods = await live();
      return (
        st?.updatedReplicas === 4 &&
        st.replicas === 4 &&
        st.availableReplicas === 4 &&
        pods.length === 4 &&
        pods.every((p) => (p.metadata.annotations ?? {})['rev'] === '2')
      );
    },
    { timeoutMs: 120_000, what: 'rollout finished' },
  );
  assert.equal((await live()).length, 4, 'no excess pods');
});
