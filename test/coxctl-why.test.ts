// `coxctl why` against failures built for real: one cluster (control plane, scheduler,
// controllers, a node agent on the local dockerd, and a Node whose agent never runs), every
// broken workload created at once, each waited for (bounded) until it shows its failure, then
// `coxctl why` (a separate process, as a user runs it) must name the right first cause.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { after, before, describe, test } from 'node:test';
import { RESOURCES, type Container, type Deployment, type Node, type Pod, type PodSpec } from '../pkg/api/index.js';
import type { RestClient } from '../pkg/client/index.js';
import { startAgentCluster, type AgentCluster } from './harness/agent-cluster.js';
import { eventually, R } from './harness/clients.js';
import { coxctl, kubectl } from './harness/control-plane.js';
import { createReadyNode } from './harness/fake-nodes.js';

const NS = 'why';
const QUOTA_NS = 'why-quota';
const GHOST = 'why-ghost';
const BAD_IMAGE = 'registry.invalid/why/nothing:1';

let cluster: AgentCluster | undefined;
let client: RestClient;
let kubeconfig: string;
let work: string | undefined;

function container(extra: Partial<Container> = {}): Container {
  return {
    name: 'app',
    image: 'busybox:latest',
    imagePullPolicy: 'IfNotPresent',
    command: ['sleep', '3600'],
    ...extra,
  };
}

function podOf(name: string, spec: Partial<PodSpec>): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS },
    spec: { terminationGracePeriodSeconds: 1, containers: [container()], ...spec },
  };
}

function deploymentOf(name: string, namespace: string, replicas: number): Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 1 } },
      template: {
        metadata: { labels: { app: name } },
        spec: { terminationGracePeriodSeconds: 1, containers: [container()] },
      },
    },
  };
}

function waiting(p: Pod): string {
  return p.status?.containerStatuses?.[0]?.state?.waiting?.reason ?? '';
}

function restarts(p: Pod): number {
  return p.status?.containerStatuses?.[0]?.restartCount ?? 0;
}

function ready(p: Pod): boolean {
  return p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
}

interface Case {
  /** `coxctl why` target (a pod name, or deployment/NAME). */
  target: string;
  namespace?: string;
  /** The pod, made at once with the others. */
  pod?: Pod;
  /** When the failure shows (polled, bounded). */
  shows?: (p: Pod) => boolean;
  /** The expected first line of the answer. */
  first: RegExp;
  /** Expected anywhere in the answer. */
  also?: RegExp[];
}

const CASES: Case[] = [
  {
    target: 'unschedulable',
    pod: podOf('unschedulable', {
      containers: [container({ resources: { requests: { memory: '900Gi' } } })],
    }),
    shows: (p) => p.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'False') === true,
    first:
      /^pod why\/unschedulable is not scheduled: Unschedulable — 0\/2 nodes are available: 1 Insufficient memory, 1 node\(s\) had untolerated taint \{node\.kubernetes\.io\/unreachable: \}$/,
    also: [/next: kubectl describe nodes/],
  },
  {
    target: 'bad-image',
    pod: podOf('bad-image', { containers: [container({ image: BAD_IMAGE })] }),
    shows: (p) => ['ErrImagePull', 'ImagePullBackOff'].includes(waiting(p)),
    first:
      /^pod why\/bad-image is not running: (ErrImagePull|ImagePullBackOff) — container app cannot pull image "registry\.invalid\/why\/nothing:1": \S/,
  },
  {
    target: 'crasher',
    pod: podOf('crasher', {
      containers: [container({ command: ['sh', '-c', 'echo starting; echo "fatal: no config at /etc/app"; exit 3'] })],
    }),
    shows: (p) => waiting(p) === 'CrashLoopBackOff',
    first:
      /^pod why\/crasher is not running: CrashLoopBackOff — container app exited with code 3 \(Error\) \(\d+ restarts?\)$/,
    also: [/\| fatal: no config at \/etc\/app/, /next: kubectl logs crasher -c app --previous -n why/],
  },
  {
    target: 'oom',
    pod: podOf('oom', {
      containers: [
        container({
          command: ['sh', '-c', 'echo filling; dd if=/dev/zero of=/dev/null bs=64M count=4'],
          resources: { limits: { memory: '16Mi' } },
        }),
      ],
    }),
    shows: (p) => p.status?.containerStatuses?.[0]?.lastState?.terminated?.reason === 'OOMKilled',
    first:
      /^pod why\/oom is (not running|restarting): OOMKilled — container app was killed for running out of memory \(limit 16Mi, \d+ restarts?\)$/,
  },
  {
    target: 'unready',
    pod: podOf('unready', {
      containers: [container({ readinessProbe: { exec: { command: ['cat', '/tmp/ready'] }, periodSeconds: 1 } })],
    }),
    shows: (p) => p.status?.phase === 'Running' && !ready(p),
    first:
      /^pod why\/unready is not ready: ReadinessProbeFailed — container app is running but not ready: Readiness probe failed: .*\/tmp\/ready/,
  },
  {
    target: 'unlive',
    pod: podOf('unlive', {
      containers: [
        container({
          livenessProbe: { exec: { command: ['cat', '/tmp/alive'] }, periodSeconds: 1, failureThreshold: 1 },
        }),
      ],
    }),
    shows: (p) => restarts(p) >= 1,
    first:
      /^pod why\/unlive is restarting: LivenessProbeFailed — container app failed its liveness probe and was restarted \(\d+ restarts?\): Liveness probe failed: .*\/tmp\/alive/,
  },
  {
    target: 'no-configmap',
    pod: podOf('no-configmap', {
      containers: [container({ envFrom: [{ configMapRef: { name: 'why-missing-cm' } }] })],
    }),
    shows: (p) => waiting(p) === 'CreateContainerConfigError',
    first: /^pod why\/no-configmap is not running: ConfigMapNotFound — configmap "why-missing-cm" not found/,
    also: [/next: kubectl get configmap why-missing-cm -n why/],
  },
  {
    target: 'no-secret',
    pod: podOf('no-secret', {
      volumes: [{ name: 'creds', secret: { secretName: 'why-missing-secret' } }],
      containers: [container({ volumeMounts: [{ name: 'creds', mountPath: '/creds' }] })],
    }),
    shows: (p) => waiting(p) !== '',
    first: /^pod why\/no-secret is not running: SecretNotFound — secret "why-missing-secret" not found/,
  },
  {
    target: 'no-claim',
    pod: podOf('no-claim', {
      volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'why-missing-claim' } }],
      containers: [container({ volumeMounts: [{ name: 'data', mountPath: '/data' }] })],
    }),
    shows: (p) => p.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'False') === true,
    first:
      /^pod why\/no-claim is not scheduled: PersistentVolumeClaimNotFound — persistentvolumeclaim "why-missing-claim" not found/,
  },
  {
    target: 'on-ghost',
    pod: podOf('on-ghost', {
      nodeName: GHOST,
      // Stays bound to the dead node (no eviction) so the answer is about the node.
      tolerations: [{ operator: 'Exists', effect: 'NoExecute' }],
    }),
    first:
      /^pod why\/on-ghost is not running: NodeNotReady — node why-ghost is NotReady \(unreachable\): NodeStatusUnknown/,
    also: [/next: kubectl describe node why-ghost/],
  },
  {
    target: 'healthy',
    pod: podOf('healthy', {}),
    shows: ready,
    first: /^pod why\/healthy is Running and Ready: 1 container running and ready on node /,
  },
  {
    target: 'deployment/why-roll',
    first:
      /^deployment why\/why-roll rollout is stuck: (ErrImagePull|ImagePullBackOff) — pod why-roll-\S+ is not running: container app cannot pull image "registry\.invalid\/why\/nothing:1"/,
    also: [
      /new ReplicaSet why-roll-\S+: \d+ of \d+ pods not ready/,
      /old ReplicaSet why-roll-\S+ \(\d ready\) still serves/,
    ],
  },
  {
    target: 'deployment/why-capped',
    namespace: QUOTA_NS,
    first:
      /^deployment why-quota\/why-capped rollout is stuck: ExceededQuota — ReplicaSet why-capped-\S+ cannot create pods .*exceeded quota: why-pods/,
    also: [/quota why-pods: pods 1\/1/, /next: kubectl describe quota why-pods -n why-quota/],
  },
];

async function ghostIsDown(): Promise<boolean> {
  const node: Node = await client.get(R.nodes, GHOST);
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  return ready?.status === 'Unknown' && (node.spec?.taints ?? []).some((t) => t.effect === 'NoSchedule');
}

async function why(args: string[], namespace = NS): Promise<{ code: number; stdout: string; stderr: string }> {
  return coxctl(kubeconfig, ['-n', namespace, 'why', ...args], { timeoutMs: 30_000 });
}

before(async () => {
  const quickLease = { extraArgs: ['--lease-renew-interval', '1'] };
  cluster = await startAgentCluster({
    plane: { withControllers: true, withScheduler: true, controllerManagerArgs: ['--node-monitor-grace-period', '5'] },
    agents: [quickLease],
  });
  client = cluster.client;
  kubeconfig = cluster.plane.pki.adminKubeconfig;
  for (const name of [NS, QUOTA_NS])
    await client.create(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  // A node whose agent never runs: NotReady (and tainted unreachable) within the grace period.
  await createReadyNode(client, GHOST);
  await eventually(ghostIsDown, { timeoutMs: 60_000, intervalMs: 500, what: 'the ghost node NotReady and tainted' });

  // Everything broken at once.
  for (const c of CASES) if (c.pod !== undefined) await client.create(R.pods, c.pod, { namespace: NS });
  const roll = deploymentOf('why-roll', NS, 2);
  await client.create(R.deployments, roll, { namespace: NS });
  await client.create(
    RESOURCES.resourcequotas,
    { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'why-pods' }, spec: { hard: { pods: '1' } } },
    { namespace: QUOTA_NS },
  );
  // Admission charges only a quota the controller has counted.
  await eventually(
    async () =>
      (await client.get(RESOURCES.resourcequotas, 'why-pods', { namespace: QUOTA_NS })).status?.hard?.['pods'] === '1',
    { timeoutMs: 30_000, what: 'quota counted' },
  );
  await client.create(R.deployments, deploymentOf('why-capped', QUOTA_NS, 2), { namespace: QUOTA_NS });

  // The rollout: available first, then moved to an image that cannot be pulled.
  await eventually(
    async () => ((await client.get(R.deployments, 'why-roll', { namespace: NS })).status?.availableReplicas ?? 0) === 2,
    { timeoutMs: 90_000, intervalMs: 500, what: 'why-roll available' },
  );
  await client.patch(R.deployments, 'why-roll', {
    namespace: NS,
    type: 'strategic',
    body: { spec: { template: { spec: { containers: [{ name: 'app', image: BAD_IMAGE }] } } } },
  });
});

after(async () => {
  await cluster?.stop();
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

/**
 * A kubeconfig for ServiceAccount why/viewer bound to the `view` ClusterRole in namespace why:
 * it reads pods, events and ConfigMaps there, but neither Nodes nor Secrets.
 */
async function viewerKubeconfig(): Promise<string> {
  await client.create(
    RESOURCES.serviceaccounts,
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'viewer' } },
    { namespace: NS },
  );
  await client.create(
    RESOURCES.rolebindings,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'viewer' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
      subjects: [{ kind: 'ServiceAccount', name: 'viewer', namespace: NS }],
    },
    { namespace: NS },
  );
  const reply = await client.createSubresource(RESOURCES.serviceaccounts, 'viewer', {
    subresource: 'token',
    namespace: NS,
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 600 } },
  });
  const status = reply['status'];
  const token = typeof status === 'object' && status !== null && 'token' in status ? String(status.token) : '';
  assert.notEqual(token, '');
  const config = yaml.load(readFileSync(kubeconfig, 'utf8'));
  assert.ok(typeof config === 'object' && config !== null && 'users' in config && Array.isArray(config.users));
  config.users = [{ name: 'viewer', user: { token } }];
  if ('contexts' in config && Array.isArray(config.contexts))
    for (const c of config.contexts)
      if (typeof c === 'object' && c !== null && 'context' in c) c.context.user = 'viewer';
  work = mkdtempSync(join(tmpdir(), 'why-'));
  const file = join(work, 'viewer.kubeconfig');
  writeFileSync(file, yaml.dump(config), { mode: 0o600 });
  return file;
}

describe('coxctl why names the first cause of failures built for real', () => {
  for (const c of CASES) {
    test(c.target, async (t) => {
      const namespace = c.namespace ?? NS;
      if (c.pod !== undefined && c.shows !== undefined) {
        const name = c.pod.metadata.name ?? '';
        const shows = c.shows;
        await eventually(async () => shows(await client.get(R.pods, name, { namespace })), {
          timeoutMs: 90_000,
          intervalMs: 500,
          what: `${name} shows its failure`,
        });
      }
      // The answer may lag the state by an event or a status write: retry a few times (bounded).
      let last = { code: -1, stdout: '', stderr: '' };
      await eventually(
        async () => {
          last = await why([c.target], namespace);
          return last.code === 0 && c.first.test(last.stdout.split('\n')[0] ?? '');
        },
        { timeoutMs: 60_000, intervalMs: 1000, what: `coxctl why ${c.target}` },
      ).catch(() => undefined);
      t.diagnostic(last.stdout);
      assert.equal(last.code, 0, last.stderr);
      assert.match(last.stdout.split('\n')[0] ?? '', c.first, last.stdout);
      for (const more of c.also ?? []) assert.match(last.stdout, more, last.stdout);
    });
  }
});

test('-o json carries the same first cause', async () => {
  const res = await why(['pod/crasher', '-o', 'json']);
  assert.equal(res.code, 0, res.stderr);
  const parsed = JSON.parse(res.stdout) as { findings: { reason: string }[]; healthy: boolean };
  assert.equal(parsed.findings[0]?.reason, 'CrashLoopBackOff');
  assert.equal(parsed.healthy, false);
});

test('an identity that may not read Nodes or Secrets gets a degraded answer, not an error', async () => {
  const viewer = await viewerKubeconfig();
  const asViewer = (target: string): Promise<{ code: number; stdout: string; stderr: string }> =>
    coxctl(viewer, ['-n', NS, 'why', target], { timeoutMs: 30_000 });
  // The Secret is unreadable, but the pod's own status names it.
  const secret = await asViewer('no-secret');
  assert.equal(secret.code, 0, secret.stderr);
  assert.match(
    secret.stdout,
    /^pod why\/no-secret is not running: SecretNotFound — secret "why-missing-secret" not found/,
  );
  assert.match(secret.stdout, /not allowed or failed to read: .*secrets: Forbidden/);
  // The node is unreadable: no NodeNotReady, but the reads refused are said.
  const ghost = await asViewer('on-ghost');
  assert.equal(ghost.code, 0, ghost.stderr);
  assert.match(
    ghost.stdout,
    /^pod why\/on-ghost is not running: ContainerCreating — waiting for the node agent on why-ghost/,
  );
  assert.match(ghost.stdout, /not allowed or failed to read: .*nodes: Forbidden/);
  const crash = await asViewer('crasher');
  assert.match(crash.stdout, /^pod why\/crasher is not running: CrashLoopBackOff/);
});

test('the suggested next commands run as they are with the real kubectl', async () => {
  const home = mkdtempSync(join(tmpdir(), 'why-kubectl-'));
  try {
    const nextOf = async (target: string, namespace = NS): Promise<string[]> => {
      const res = await why([target], namespace);
      const line = res.stdout.split('\n').find((l) => l.startsWith('  next: kubectl '));
      assert.ok(line !== undefined, res.stdout);
      return line.replace('  next: kubectl ', '').split(' ');
    };
    const logs = await kubectl(kubeconfig, await nextOf('crasher'), { home });
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, /fatal: no config at \/etc\/app/);
    const quota = await kubectl(kubeconfig, await nextOf('deployment/why-capped', QUOTA_NS), { home });
    assert.equal(quota.code, 0, quota.stderr);
    assert.match(quota.stdout, /pods\s+1\s+1/);
    const events = await kubectl(
      kubeconfig,
      ['get', 'events', '-n', NS, '--field-selector', 'involvedObject.name=unschedulable'],
      {
        home,
      },
    );
    assert.equal(events.code, 0, events.stderr);
    assert.match(events.stdout, /FailedScheduling/);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test('an unknown pod or kind is one line on stderr and exit 1', async () => {
  const missing = await why(['nope']);
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr.trim(), 'Error from server (NotFound): pods "nope" not found');
  const kind = await why(['service/x']);
  assert.equal(kind.code, 1);
  assert.equal(kind.stderr.trim().split('\n').length, 1, kind.stderr);
});
