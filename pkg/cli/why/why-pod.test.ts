// `coxctl why` on a pod: one case per cause, table-driven (the first cause and its headline).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Event } from '../../api/index.js';
import { diagnosePod, renderDiagnosis } from './index.js';
import type { PodEvidence } from './types.js';
import { ago, container, event, NOW, pod, readyNode, running } from './why-fixtures.js';

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
    details: /it needs more than 16Mi: raise resources.limits.memory/,
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
    name: 'exited moments ago and running again: restarting, not healthy',
    evidence: {
      pod: pod({
        status: {
          phase: 'Running',
          conditions: [{ type: 'Ready', status: 'True' }],
          containerStatuses: [
            container({
              ready: true,
              restartCount: 4,
              state: { running: { startedAt: ago(5) } },
              lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: ago(6) } },
            }),
          ],
        },
      }),
      events: [],
      previousLogs: { app: 'panic: nil map\n' },
    },
    reason: 'Restarting',
    headline:
      /^pod default\/web-1 is restarting: Restarting — container app runs again after exiting with code 1 6s ago \(4 restarts\)$/,
    next: /kubectl logs web-1 -c app --previous/,
    details: /\| panic: nil map/,
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
});
