// The diagnosis of `coxctl why`, table-driven over API objects shaped as Coxswain's scheduler,
// node agent and controllers write them, with hostile and odd input beside the happy cases.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ContainerStatus, Deployment, Event, Node, Pod, ReplicaSet } from '../../api/index.js';
import { diagnoseDeployment, diagnosePod, podReferences, renderDiagnosis, summariseScheduling } from './index.js';
import type { PodEvidence } from './types.js';

const NOW = new Date('2026-11-30T12:00:00Z');
const ago = (s: number): string => new Date(NOW.getTime() - s * 1000).toISOString();

function pod(extra: { spec?: Partial<NonNullable<Pod['spec']>>; status?: Pod['status']; name?: string } = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: extra.name ?? 'web-1', namespace: 'default', uid: 'u1' },
    spec: {
      nodeName: 'n1',
      containers: [{ name: 'app', image: 'busybox:latest' }],
      ...extra.spec,
    },
    ...(extra.status !== undefined ? { status: extra.status } : {}),
  };
}

function container(s: Partial<ContainerStatus>): ContainerStatus {
  return { name: 'app', ready: false, restartCount: 0, image: 'busybox:latest', imageID: '', ...s };
}

function event(reason: string, message: string, extra: Partial<Event> = {}): Event {
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `e-${reason}`, namespace: 'default' },
    involvedObject: { kind: 'Pod', name: 'web-1', namespace: 'default' },
    reason,
    message,
    type: 'Warning',
    lastTimestamp: ago(5),
    ...extra,
  };
}

function readyNode(ready = true): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'n1' },
    status: {
      conditions: [
        ready
          ? { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }
          : {
              type: 'Ready',
              status: 'Unknown',
              reason: 'NodeStatusUnknown',
              message: 'Kubelet stopped posting node status.',
              lastHeartbeatTime: ago(90),
            },
      ],
    },
  };
}

const running = (ready: boolean): Pod['status'] => ({
  phase: 'Running',
  conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
  containerStatuses: [container({ ready, state: { running: { startedAt: ago(60) } } })],
});

interface Case {
  name: string;
  evidence: PodEvidence;
  reason: string;
  /** Matched against the first line of the rendered answer. */
  headline: RegExp;
  next?: RegExp;
  details?: RegExp;
}

const CASES: Case[] = [
  {
    name: 'not scheduled: the scheduler message, without the preemption tail',
    evidence: {
      pod: pod({
        spec: { nodeName: undefined },
        status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' }] },
      }),
      events: [
        event(
          'FailedScheduling',
          '0/3 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }, 2 Insufficient memory. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.',
          { count: 4 },
        ),
      ],
    },
    reason: 'Unschedulable',
    headline:
      /^pod default\/web-1 is not scheduled: Unschedulable — 0\/3 nodes are available: 1 node\(s\) had untolerated taint \{node.kubernetes.io\/unreachable: \}, 2 Insufficient memory$/,
    next: /kubectl describe nodes/,
  },
  {
    name: 'not scheduled, no attempt yet',
    evidence: { pod: pod({ spec: { nodeName: undefined }, status: { phase: 'Pending' } }), events: [] },
    reason: 'Pending',
    headline: /is not scheduled: Pending — no scheduling attempt/,
  },
  {
    name: 'image pull failure: the runtime message',
    evidence: {
      pod: pod({
        status: {
          phase: 'Pending',
          containerStatuses: [
            container({
              image: 'registry.invalid/app:1',
              state: {
                waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "registry.invalid/app:1"' },
              },
            }),
          ],
        },
        spec: { containers: [{ name: 'app', image: 'registry.invalid/app:1' }] },
      }),
      events: [
        event('Failed', 'Error: ErrImagePull', { lastTimestamp: ago(3) }),
        event(
          'Failed',
          'failed to pull image "registry.invalid/app:1": dial tcp: lookup registry.invalid: no such host',
          {
            lastTimestamp: ago(4),
          },
        ),
      ],
    },
    reason: 'ImagePullBackOff',
    headline:
      /ImagePullBackOff — container app cannot pull image "registry.invalid\/app:1": failed to pull image .*no such host/,
  },
  {
    name: 'crash loop: exit code, restarts and the previous log tail',
    evidence: {
      pod: pod({
        status: {
          phase: 'Running',
          containerStatuses: [
            container({
              restartCount: 3,
              state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container' } },
              lastState: { terminated: { exitCode: 2, reason: 'Error', finishedAt: ago(10) } },
            }),
          ],
        },
      }),
      events: [event('BackOff', 'Back-off restarting failed container app in pod web-1')],
      previousLogs: { app: 'starting\nloading config\nfatal: no config\n' },
    },
    reason: 'CrashLoopBackOff',
    headline: /is not running: CrashLoopBackOff — container app exited with code 2 \(Error\) \(3 restarts\)$/,
    next: /kubectl logs web-1 -c app --previous/,
    details: /\| fatal: no config/,
  },
  {
    name: 'OOMKilled: the memory limit',
    evidence: {
      pod: pod({
        spec: { containers: [{ name: 'app', image: 'busybox', resources: { limits: { memory: '16Mi' } } }] },
        status: {
          phase: 'Running',
          containerStatuses: [
            container({
              restartCount: 1,
              state: { waiting: { reason: 'CrashLoopBackOff' } },
              lastState: { terminated: { exitCode: 137, reason: 'OOMKilled', finishedAt: ago(3) } },
            }),
          ],
        },
      }),
      events: [],
    },
    reason: 'OOMKilled',
    headline: /OOMKilled — container app was killed for running out of memory \(limit 16Mi, 1 restart\)/,
  },
  {
    name: 'readiness probe failing: the probe output',
    evidence: {
      pod: pod({
        spec: { containers: [{ name: 'app', image: 'busybox', readinessProbe: { exec: { command: ['false'] } } }] },
        status: running(false),
      }),
      events: [
        event('Unhealthy', "Readiness probe failed: cat: can't open '/tmp/ready': No such file or directory", {
          count: 12,
        }),
      ],
    },
    reason: 'ReadinessProbeFailed',
    headline:
      /is not ready: ReadinessProbeFailed — container app is running but not ready: Readiness probe failed: cat: can't open/,
    details: /failed 12 times/,
  },
  {
    name: 'liveness probe failing: restarted, even while running again',
    evidence: {
      pod: pod({
        spec: { containers: [{ name: 'app', image: 'busybox', livenessProbe: { exec: { command: ['false'] } } }] },
        status: {
          phase: 'Running',
          conditions: [{ type: 'Ready', status: 'True' }],
          containerStatuses: [
            container({
              ready: true,
              restartCount: 2,
              state: { running: { startedAt: ago(2) } },
              lastState: { terminated: { exitCode: 137, reason: 'Error', finishedAt: ago(3) } },
            }),
          ],
        },
      }),
      events: [
        event('Unhealthy', 'Liveness probe failed: exit code 1'),
        event('Killing', 'Container app failed liveness probe, will be restarted', { type: 'Normal' }),
      ],
    },
    reason: 'LivenessProbeFailed',
    headline:
      /is restarting: LivenessProbeFailed — container app failed its liveness probe and was restarted \(2 restarts\): Liveness probe failed: exit code 1/,
  },
  {
    name: 'a ConfigMap that does not exist',
    evidence: {
      pod: pod({
        spec: {
          containers: [{ name: 'app', image: 'busybox', envFrom: [{ configMapRef: { name: 'settings' } }] }],
        },
        status: {
          phase: 'Pending',
          containerStatuses: [
            container({
              state: { waiting: { reason: 'CreateContainerConfigError', message: 'configmap "settings" not found' } },
            }),
          ],
        },
      }),
      events: [],
      configMaps: { settings: 'missing' },
    },
    reason: 'ConfigMapNotFound',
    headline: /ConfigMapNotFound — configmap "settings" not found: .*\(CreateContainerConfigError\)/,
    next: /kubectl get configmap settings/,
  },
  {
    name: 'a Secret that does not exist, known only from the status (lookup refused)',
    evidence: {
      pod: pod({
        status: {
          phase: 'Pending',
          containerStatuses: [
            container({
              state: { waiting: { reason: 'CreateContainerConfigError', message: 'secret "db-pass" not found' } },
            }),
          ],
        },
      }),
      events: [],
      secrets: { 'db-pass': 'unknown' },
      unreadable: ['secrets: Forbidden'],
    },
    reason: 'SecretNotFound',
    headline: /SecretNotFound — secret "db-pass" not found/,
  },
  {
    name: 'a claim that does not exist (the scheduler refuses the pod)',
    evidence: {
      pod: pod({
        spec: { nodeName: undefined, volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'data' } }] },
      }),
      events: [event('FailedScheduling', '0/1 nodes are available: 1 persistentvolumeclaim "data" not found.')],
      claims: { data: 'missing' },
    },
    reason: 'PersistentVolumeClaimNotFound',
    headline: /is not scheduled: PersistentVolumeClaimNotFound — persistentvolumeclaim "data" not found/,
    details: /scheduler: 0\/1 nodes are available/,
  },
  {
    name: 'a Pending claim',
    evidence: {
      pod: pod({ spec: { nodeName: undefined } }),
      events: [],
      claims: {
        data: {
          apiVersion: 'v1',
          kind: 'PersistentVolumeClaim',
          metadata: { name: 'data' },
          spec: { storageClassName: 'manual' },
          status: { phase: 'Pending' },
        },
      },
    },
    reason: 'PersistentVolumeClaimPending',
    headline: /PersistentVolumeClaimPending — persistentvolumeclaim "data" is Pending \(storageClass manual\)/,
  },
  {
    name: 'node NotReady',
    evidence: { pod: pod({ status: { phase: 'Pending' } }), events: [], node: readyNode(false) },
    reason: 'NodeNotReady',
    headline:
      /is not running: NodeNotReady — node n1 is NotReady \(unreachable\): NodeStatusUnknown — Kubelet stopped posting node status\./,
    next: /kubectl describe node n1/,
    details: /last heartbeat 90s ago/,
  },
  {
    name: 'node gone',
    evidence: { pod: pod({ status: { phase: 'Pending' } }), events: [], node: 'missing' },
    reason: 'NodeNotFound',
    headline: /NodeNotFound — the pod is bound to node n1, which does not exist/,
  },
  {
    name: 'healthy: no false alarm (an old restart is only a fact)',
    evidence: {
      pod: pod({
        status: {
          phase: 'Running',
          conditions: [{ type: 'Ready', status: 'True' }],
          containerStatuses: [
            container({
              ready: true,
              restartCount: 1,
              state: { running: {} },
              lastState: { terminated: { exitCode: 1, finishedAt: ago(3600) } },
            }),
          ],
        },
      }),
      events: [event('Unhealthy', 'Readiness probe failed: old', { lastTimestamp: ago(4000) })],
      node: readyNode(),
    },
    reason: 'Healthy',
    headline: /^pod default\/web-1 is Running and Ready: 1 container running and ready on node n1$/,
    details: /restarted 1 time \(last exit code 1\)/,
  },
  {
    name: 'completed',
    evidence: { pod: pod({ status: { phase: 'Succeeded' } }), events: [] },
    reason: 'Completed',
    headline: /has completed/,
  },
  {
    name: 'failed phase (evicted)',
    evidence: {
      pod: pod({ status: { phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory.' } }),
      events: [],
    },
    reason: 'Evicted',
    headline: /has failed: Evicted — The node was low on resource: memory\./,
  },
  {
    name: 'bound, nothing reported yet',
    evidence: { pod: pod({ status: { phase: 'Pending' } }), events: [], node: readyNode() },
    reason: 'ContainerCreating',
    headline: /waiting for the node agent on n1/,
  },
  {
    name: 'hostile: no status, no spec fields, junk events',
    evidence: {
      pod: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x\u001b[31mred' } },
      // Junk a broken or hostile server might send: must not throw.
      events: [null, 42, { metadata: {} }] as unknown as Event[],
    },
    reason: 'Pending',
    headline: /^pod default\/x \[31mred is not scheduled/,
  },
];

describe('diagnosePod', () => {
  for (const c of CASES) {
    test(c.name, () => {
      const d = diagnosePod(c.evidence, NOW);
      assert.equal(d.findings[0].reason, c.reason, renderDiagnosis(d));
      const text = renderDiagnosis(d);
      const [headline = ''] = text.split('\n');
      assert.match(headline, c.headline, text);
      if (c.next) assert.match(text, c.next);
      if (c.details) assert.match(text, c.details);
      assert.equal(d.healthy, c.reason === 'Healthy' || c.reason === 'Completed');
    });
  }

  test('a huge log tail and a huge message are cut, and control characters never reach the terminal', () => {
    const line = 'x'.repeat(10_000);
    const d = diagnosePod(
      {
        pod: pod({
          status: {
            phase: 'Running',
            containerStatuses: [
              container({
                restartCount: 9,
                state: { waiting: { reason: 'CrashLoopBackOff' } },
                lastState: { terminated: { exitCode: 1, message: 'm'.repeat(1_000_000) } },
              }),
            ],
          },
        }),
        events: [],
        previousLogs: { app: `${'noise\n'.repeat(200_000)}\u001b]0;pwned\u0007last line\n` },
      },
      NOW,
    );
    const text = renderDiagnosis(d);
    assert.ok(text.length < 3000, `answer is bounded (${text.length} chars)`);
    assert.doesNotMatch(text, /[\u0000-\u0008\u000b-\u001f\u007f]/);
    assert.match(text, /\| {1}\]0;pwned last line$/m);
    assert.ok(!text.includes(line));
  });

  test('supporting facts: warnings, owners, unreadable reads, a NotReady node behind a container problem', () => {
    const d = diagnosePod(
      {
        pod: pod({
          status: {
            phase: 'Pending',
            containerStatuses: [
              container({ state: { waiting: { reason: 'RunContainerError', message: 'exec: "nope"' } } }),
            ],
          },
        }),
        events: [event('Failed', 'Error: RunContainerError')],
        owners: [
          { kind: 'ReplicaSet', name: 'web-abc' },
          { kind: 'Deployment', name: 'web' },
        ],
        unreadable: ['nodes: Forbidden'],
      },
      NOW,
    );
    assert.equal(d.findings[0].reason, 'RunContainerError');
    const text = renderDiagnosis(d);
    assert.match(text, /controlled by ReplicaSet\/web-abc ← Deployment\/web/);
    assert.match(text, /next: coxctl why deployment\/web/);
    assert.match(text, /not allowed or failed to read: nodes: Forbidden/);
    assert.match(text, /warning events: Failed/);
  });
});

describe('podReferences', () => {
  test('every non-optional ConfigMap, Secret and claim, once, bounded', () => {
    const refs = podReferences(
      pod({
        spec: {
          volumes: [
            { name: 'a', configMap: { name: 'cm1' } },
            { name: 'b', configMap: { name: 'cm-opt', optional: true } },
            { name: 'c', secret: { secretName: 's1' } },
            { name: 'd', persistentVolumeClaim: { claimName: 'data' } },
            { name: 'e', projected: { sources: [{ configMap: { name: 'cm2' } }, { secret: { name: 's1' } }] } },
          ],
          containers: [
            {
              name: 'app',
              envFrom: [{ configMapRef: { name: 'cm1' } }, { secretRef: { name: 's2' } }],
              env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 's3', key: 'k' } } }],
            },
          ],
        },
      }),
    );
    assert.deepEqual(refs, { configMaps: ['cm1', 'cm2'], secrets: ['s1', 's2', 's3'], claims: ['data'] });
    const many = podReferences(
      pod({
        spec: { volumes: Array.from({ length: 500 }, (_, i) => ({ name: `v${i}`, configMap: { name: `c${i}` } })) },
      }),
    );
    assert.equal(many.configMaps.length, 32);
  });
});

test('summariseScheduling keeps the per-node reasons and drops the preemption tail', () => {
  assert.equal(
    summariseScheduling(
      '0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.',
    ),
    '0/2 nodes are available: 2 Insufficient cpu',
  );
});

describe('diagnoseDeployment', () => {
  const deployment = (
    status: Deployment['status'],
    extra: Partial<NonNullable<Deployment['spec']>> = {},
  ): Deployment => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', uid: 'd1', generation: 2 },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 1 } },
      ...extra,
    },
    status,
  });
  const rs = (name: string, revision: string, replicas: number): ReplicaSet => ({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name, namespace: 'default', annotations: { 'deployment.kubernetes.io/revision': revision } },
    spec: { selector: { matchLabels: { app: 'web' } } },
    status: { replicas, readyReplicas: replicas },
  });

  test('complete: no false alarm', () => {
    const d = diagnoseDeployment(
      {
        deployment: deployment({
          observedGeneration: 2,
          replicas: 3,
          updatedReplicas: 3,
          readyReplicas: 3,
          availableReplicas: 3,
        }),
        replicaSets: [rs('web-1', '1', 3)],
        events: [],
        pods: [],
      },
      NOW,
    );
    assert.equal(d.healthy, true);
    assert.match(renderDiagnosis(d), /^deployment default\/web is available: 3\/3 ready/);
  });

  test('stuck on a failing new ReplicaSet: the first pod diagnosis, old ReplicaSet serving', () => {
    const failing: Pod = pod({
      name: 'web-2-x',
      status: {
        phase: 'Pending',
        containerStatuses: [
          container({ state: { waiting: { reason: 'ErrImagePull', message: 'pull access denied' } } }),
        ],
      },
    });
    const d = diagnoseDeployment(
      {
        deployment: deployment({
          observedGeneration: 2,
          replicas: 4,
          updatedReplicas: 2,
          readyReplicas: 2,
          availableReplicas: 2,
        }),
        replicaSets: [rs('web-1', '1', 2), { ...rs('web-2', '2', 2), status: { replicas: 2, readyReplicas: 0 } }],
        events: [],
        pods: [failing, failing],
        failingPod: { pod: failing, events: [] },
      },
      NOW,
    );
    const text = renderDiagnosis(d);
    assert.match(
      text,
      /^deployment default\/web rollout is stuck: ErrImagePull — pod web-2-x is not running: container app cannot pull image "busybox:latest": pull access denied$/m,
    );
    assert.match(text, /new ReplicaSet web-2: 2 of 2 pods not ready/);
    assert.match(text, /old ReplicaSet web-1 \(2 ready\) still serve \(maxUnavailable 1, maxSurge 1\)/);
  });

  test('FailedCreate from a quota', () => {
    const d = diagnoseDeployment(
      {
        deployment: deployment({
          observedGeneration: 2,
          replicas: 1,
          updatedReplicas: 1,
          readyReplicas: 1,
          availableReplicas: 1,
        }),
        replicaSets: [rs('web-1', '1', 1)],
        events: [
          event(
            'FailedCreate',
            'Error creating: pods "web-1-abc" is forbidden: exceeded quota: small, requested: pods=1, used: pods=1, limited: pods=1',
            { involvedObject: { kind: 'ReplicaSet', name: 'web-1' } },
          ),
        ],
        pods: [],
        quotas: [
          {
            apiVersion: 'v1',
            kind: 'ResourceQuota',
            metadata: { name: 'small' },
            status: { hard: { pods: '1' }, used: { pods: '1' } },
          },
        ],
      },
      NOW,
    );
    const text = renderDiagnosis(d);
    assert.equal(d.findings[0].reason, 'ExceededQuota');
    assert.match(text, /rollout is stuck: ExceededQuota — ReplicaSet web-1 cannot create pods .*exceeded quota: small/);
    assert.match(text, /quota small: pods 1\/1/);
    assert.match(text, /next: kubectl describe quota small/);
  });

  test('paused, and odd input (no status, no ReplicaSets)', () => {
    assert.match(
      renderDiagnosis(
        diagnoseDeployment(
          { deployment: deployment(undefined, { paused: true }), replicaSets: [], events: [], pods: [] },
          NOW,
        ),
      ),
      /rollout is paused: Paused/,
    );
    const d = diagnoseDeployment({ deployment: deployment(undefined), replicaSets: [], events: [], pods: [] }, NOW);
    assert.equal(d.healthy, false);
    assert.match(renderDiagnosis(d), /is not available: Progressing — 0\/3 ready.*no ReplicaSet yet/);
  });
});
