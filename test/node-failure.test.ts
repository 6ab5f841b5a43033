// A node agent that stops: with short timings its Node becomes Ready=Unknown and tainted
// unreachable, its pods are evicted after their tolerationSeconds, and the Deployment's
// replacements run on the other node.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Pod } from '../pkg/api/index.js';
import type { RestClient } from '../pkg/client/index.js';
import { startAgentCluster, type AgentCluster } from './harness/agent-cluster.js';
import { eventually, R } from './harness/clients.js';
import { isLive, isRunning } from './harness/pods.js';
import type { NodeAgent } from './harness/control-plane.js';

let a: NodeAgent;
let b: NodeAgent;
let client: RestClient;

let cluster: AgentCluster | undefined;

before(async () => {
  const quickLease = { extraArgs: ['--lease-renew-interval', '1'] };
  cluster = await startAgentCluster({
    plane: { withControllers: true, withScheduler: true, controllerManagerArgs: ['--node-monitor-grace-period', '5'] },
    agents: [quickLease, quickLease],
  });
  ({ client } = cluster);
  [a, b] = cluster.agents;
});
after(async () => {
  await cluster?.stop();
});

function nodeOf(p: Pod): string {
  return p.spec?.nodeName ?? '';
}

function running(p: Pod): boolean {
  return isRunning(p) && isLive(p);
}

test('a stopped agent: node Unknown and tainted, pods evicted and replaced on the other node', async () => {
  await client.create(
    R.deployments,
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'spread' },
      spec: {
        replicas: 4,
        selector: { matchLabels: { app: 'spread' } },
        template: {
          metadata: { labels: { app: 'spread' } },
          spec: {
            terminationGracePeriodSeconds: 1,
            tolerations: [
              { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 2 },
              { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 2 },
            ],
            containers: [
              { name: 'c', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] },
            ],
          },
        },
      },
    },
    { namespace: 'default' },
  );
  await eventually(
    async () => {
      const pods = (await client.list(R.pods, { namespace: 'default', labelSelector: 'app=spread' })).items.filter(
        running,
      );
      return pods.length === 4 && pods.some((p) => nodeOf(p) === a.name) && pods.some((p) => nodeOf(p) === b.name);
    },
    { timeoutMs: 60_000, what: '4 pods running on both nodes' },
  );

  await a.stop();
  await eventually(
    async () => {
      const node = await client.get(R.nodes, a.name);
      const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
      const taints = node.spec?.taints ?? [];
      return (
        ready?.status === 'Unknown' &&
        taints.some((t) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoExecute')
      );
    },
    { timeoutMs: 30_000, what: 'node Unknown and tainted' },
  );

  await eventually(
    async () => {
      const pods = (await client.list(R.pods, { namespace: 'default', labelSelector: 'app=spread' })).items.filter(
        running,
      );
      return pods.length === 4 && pods.every((p) => nodeOf(p) === b.name);
    },
    { timeoutMs: 60_000, what: 'all 4 replicas running on the healthy node' },
  );
  const onA = (await client.list(R.pods, { namespace: 'default', labelSelector: 'app=spread' })).items.filter(
    (p) => nodeOf(p) === a.name,
  );
  assert.ok(
    onA.every((p) => p.metadata.deletionTimestamp !== undefined),
    'pods on the lost node are being deleted',
  );
});
