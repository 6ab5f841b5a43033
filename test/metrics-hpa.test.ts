// Resource metrics and the HorizontalPodAutoscaler with the real kubectl 1.32 against a control
// plane and one node agent running busybox pods in Docker: `kubectl top node/pod` figures that
// rise when a pod starts a CPU loop; `kubectl autoscale` on a Deployment that scales up under a
// CPU loop and back down once the (shortened) stabilization window has passed, with the events
// explaining each step; an HPA on a missing target (condition and event), an invalid HPA (422)
// and writes to the read-only metrics API (405).

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { RESOURCES } from '../pkg/api/registry.js';
import type { Container, Event, HorizontalPodAutoscaler, Pod } from '../pkg/api/index.js';
import type { RestClient } from '../pkg/client/index.js';
import { startAgentCluster, type AgentCluster } from './harness/agent-cluster.js';
import { eventually, R } from './harness/clients.js';
import { kubectl, type ControlPlane } from './harness/control-plane.js';

let cluster: AgentCluster | undefined;
let plane: ControlPlane;
let client: RestClient;
let home: string;
const NS = 'default';

/** Burns one CPU while /tmp/go exists, sleeps otherwise: the test turns the load on and off by exec. */
const SWITCHABLE_LOAD = 'while true; do if [ -f /tmp/go ]; then :; else sleep 1; fi; done';

function loadContainer(): Container {
  return {
    name: 'load',
    image: 'busybox:latest',
    imagePullPolicy: 'IfNotPresent',
    command: ['sh', '-c', SWITCHABLE_LOAD],
    resources: { requests: { cpu: '100m', memory: '16Mi' } },
  };
}

async function k(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return kubectl(plane.pki.adminKubeconfig, args, { home, timeoutMs: 60_000, ...(input !== undefined && { input }) });
}

async function ok(args: string[], input?: string): Promise<string> {
  const res = await k(args, input);
  assert.equal(res.code, 0, `kubectl ${args.join(' ')}: ${res.stderr}`);
  return res.stdout;
}

/** The CPU column (millicores) of `kubectl top pod <name>`, or undefined while it has no figure. */
async function topPodMillicores(name: string): Promise<number | undefined> {
  const res = await k(['top', 'pod', name, '--no-headers']);
  if (res.code !== 0) return undefined;
  const cpu = res.stdout.trim().split(/\s+/)[1] ?? '';
  const m = /^(\d+)m$/.exec(cpu);
  return m === null ? undefined : Number(m[1]);
}

async function events(name: string): Promise<Event[]> {
  const list = await client.list(RESOURCES.events, { namespace: NS });
  return list.items.filter(
    (e) => e.involvedObject.name === name && e.involvedObject.kind === 'HorizontalPodAutoscaler',
  );
}

before(async () => {
  cluster = await startAgentCluster({
    plane: {
      withControllers: true,
      withScheduler: true,
      controllerManagerArgs: [
        '--horizontal-pod-autoscaler-sync-period=3s',
        '--horizontal-pod-autoscaler-downscale-stabilization=20s',
      ],
    },
  });
  ({ plane, client } = cluster);
  home = mkdtempSync(join(tmpdir(), 'kubectl-hpa-'));
});

after(async () => {
  await cluster?.stop();
  rmSync(home, { recursive: true, force: true });
});

test('kubectl top node and top pod show figures that rise when a pod starts a CPU loop', async () => {
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'burner', labels: { app: 'burner' } },
    spec: { terminationGracePeriodSeconds: 1, containers: [loadContainer()] },
  };
  await client.create(R.pods, pod, { namespace: NS });
  // Discovery lists the group (kubectl top checks it first).
  assert.match(await ok(['api-versions']), /^metrics\.k8s\.io\/v1beta1$/m);
  let idle: number | undefined;
  await eventually(async () => (idle = await topPodMillicores('burner')) !== undefined, {
    timeoutMs: 90_000,
    intervalMs: 1000,
    what: 'kubectl top pod burner shows a figure',
  });
  assert.ok(idle !== undefined && idle < 50, `an idle pod uses little CPU (saw ${String(idle)}m)`);

  await ok(['exec', 'burner', '--', 'touch', '/tmp/go']);
  await eventually(async () => ((await topPodMillicores('burner')) ?? 0) > 300, {
    timeoutMs: 60_000,
    intervalMs: 1000,
    what: 'the CPU figure rises above 300m under the loop',
  });

  const nodes = await ok(['top', 'node', '--no-headers']);
  const row = nodes.trim().split(/\s+/);
  assert.equal(row[0], cluster?.agent.name);
  assert.match(row[1] ?? '', /^\d+m$/, nodes);
  assert.match(row[2] ?? '', /^\d+%$/, nodes);
  assert.match(row[3] ?? '', /^\d+Mi$/, nodes);

  const containers = await ok(['top', 'pod', '-A', '--containers']);
  assert.match(containers, /^default\s+burner\s+load\s+\d+m\s+\d+Mi\s*$/m);
  await ok(['exec', 'burner', '--', 'rm', '-f', '/tmp/go']);

  // Hostile and wrong reads: a missing pod is 404, a write is 405, nothing changes.
  const missing = await k(['get', '--raw', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/nope']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /NotFound|not found/);
  const write = await k(['create', '--raw', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods', '-f', '-'], '{}');
  assert.notEqual(write.code, 0);
  assert.match(write.stderr, /MethodNotAllowed|not supported|405/);
  await client.delete(R.pods, 'burner', { namespace: NS, gracePeriodSeconds: 0 });
});

test('an HPA scales a Deployment up under CPU load and back down after the stabilization window', async () => {
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { terminationGracePeriodSeconds: 1, containers: [loadContainer()] },
      },
    },
  };
  await ok(['apply', '-f', '-'], JSON.stringify(deployment));
  assert.match(
    await ok(['autoscale', 'deployment', 'web', '--cpu-percent=50', '--min=1', '--max=3']),
    /horizontalpodautoscaler.autoscaling\/web autoscaled/,
  );
  const hpa = await client.get(RESOURCES.horizontalpodautoscalers, 'web', { namespace: NS });
  assert.equal(hpa.apiVersion, 'autoscaling/v2');
  let first: Pod | undefined;
  await eventually(
    async () => {
      const pods = await client.list(R.pods, { namespace: NS, labelSelector: 'app=web' });
      first = pods.items.find((p) => p.status?.phase === 'Running');
      return first !== undefined;
    },
    { timeoutMs: 60_000, intervalMs: 500, what: 'the first web pod runs' },
  );
  await ok(['exec', first?.metadata.name ?? '', '--', 'touch', '/tmp/go']);

  const replicas = async (): Promise<number> =>
    (await client.get(R.deployments, 'web', { namespace: NS })).spec?.replicas ?? 0;
  await eventually(async () => (await replicas()) === 3, {
    timeoutMs: 120_000,
    intervalMs: 1000,
    what: 'the HPA scales web to its maximum of 3',
  });
  const up = (await events('web')).find((e) => e.reason === 'SuccessfulRescale');
  assert.match(
    up?.message ?? '',
    /^New size: [23]; reason: cpu resource utilization \(percentage of request\) above target$/,
  );
  const table = await ok(['get', 'hpa', 'web']);
  assert.match(table, /Deployment\/web\s+cpu: (\d+|<unknown>)%\/50%\s+1\s+3\s+\d/);

  await ok(['exec', first?.metadata.name ?? '', '--', 'rm', '-f', '/tmp/go']);
  await eventually(async () => (await replicas()) === 1, {
    timeoutMs: 150_000,
    intervalMs: 1000,
    what: 'the HPA scales web back to 1 after the stabilization window',
  });
  // The event is recorded after the scale is written (events go through a queue), so it may
  // come a moment after the replicas change.
  let messages: string[] = [];
  await eventually(
    async () => {
      messages = (await events('web')).filter((e) => e.reason === 'SuccessfulRescale').map((e) => e.message ?? '');
      return messages.some((m) => m === 'New size: 1; reason: All metrics below target');
    },
    {
      timeoutMs: 30_000,
      intervalMs: 500,
      what: 'the scale-down event "New size: 1; reason: All metrics below target"',
    },
  );
  const status = (await client.get(RESOURCES.horizontalpodautoscalers, 'web', { namespace: NS })).status;
  const conditions = new Map((status?.conditions ?? []).map((c) => [c.type, c]));
  assert.equal(conditions.get('AbleToScale')?.status, 'True');
  assert.equal(conditions.get('ScalingActive')?.reason, 'ValidMetricFound');
  assert.ok(conditions.has('ScalingLimited'));
  assert.equal(status?.currentMetrics?.[0]?.resource?.name, 'cpu');
  const described = await ok(['describe', 'hpa', 'web']);
  assert.match(described, /SuccessfulRescale/);
  await ok(['delete', 'hpa', 'web']);
  await ok(['delete', 'deployment', 'web']);
});

test('an HPA on a missing target reports FailedGetScale; an invalid HPA is refused with 422', async () => {
  const ghost: HorizontalPodAutoscaler = {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'ghost' },
    spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'ghost' }, maxReplicas: 2 },
  };
  await ok(['apply', '-f', '-'], JSON.stringify(ghost));
  await eventually(
    async () => {
      const h = await client.get(RESOURCES.horizontalpodautoscalers, 'ghost', { namespace: NS });
      const able = h.status?.conditions?.find((c) => c.type === 'AbleToScale');
      return able?.status === 'False' && able.reason === 'FailedGetScale';
    },
    { timeoutMs: 30_000, intervalMs: 500, what: 'AbleToScale False FailedGetScale' },
  );
  const failed = (await events('ghost')).find((e) => e.reason === 'FailedGetScale');
  assert.equal(failed?.type, 'Warning');
  assert.match(failed?.message ?? '', /deployments.apps "ghost" not found/);
  // Defaults: minReplicas 1 and a CPU target of 80 %.
  const stored = await client.get(RESOURCES.horizontalpodautoscalers, 'ghost', { namespace: NS });
  assert.equal(stored.spec?.minReplicas, 1);
  assert.equal(stored.spec?.metrics?.[0]?.resource?.target.averageUtilization, 80);
  await ok(['delete', 'hpa', 'ghost']);

  const invalid = {
    ...ghost,
    metadata: { name: 'bad' },
    spec: {
      ...ghost.spec,
      minReplicas: 3,
      maxReplicas: 2,
      behavior: { scaleDown: { policies: [{ type: 'Pods', value: 0, periodSeconds: 4000 }] } },
    },
  };
  const refused = await k(['create', '-f', '-'], JSON.stringify(invalid));
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /is invalid/);
  assert.match(refused.stderr, /spec\.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`/);
  assert.match(refused.stderr, /spec\.behavior\.scaleDown\.policies\[0\]\.periodSeconds/);
  assert.equal((await k(['get', 'hpa', 'bad'])).code, 1);
});
