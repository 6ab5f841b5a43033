import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../api/meta.js';
import { computePodStatus, nextAttempt } from './pod-status.js';
import type { ContainerState } from './runtime/index.js';

function pod(statuses: Record<string, unknown>[]): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'default', uid: 'u' },
    spec: { containers: [{ name: 'app', image: 'busybox' }] },
    status: { containerStatuses: statuses },
  };
}

function attempt(n: number, running: boolean): ContainerState {
  return {
    id: `c${n}`,
    identity: {
      uid: 'u',
      namespace: 'default',
      name: 'p',
      containerName: 'app',
      attempt: n,
      type: 'app',
      specHash: 'h',
    },
    running,
    exitCode: 0,
    oomKilled: false,
    createdAt: '2026-01-01T00:00:00Z',
    startedAt: '2026-01-01T00:00:01Z',
    finishedAt: undefined,
    imageId: 'sha256:x',
    image: 'busybox',
    ip: undefined,
    pid: undefined,
    status: running ? 'running' : 'exited',
    error: undefined,
  };
}

test('the next attempt follows the newest one in Docker', () => {
  assert.equal(nextAttempt(pod([]), 'app', false, undefined), 0);
  assert.equal(nextAttempt(pod([]), 'app', false, attempt(2, false)), 3);
});

test("a container removed behind the agent's back counts on from the reported status", () => {
  // Attempt 3 ran (it has a containerID) and is gone from Docker: the next is 4.
  assert.equal(
    nextAttempt(pod([{ name: 'app', restartCount: 3, containerID: 'docker://c3' }]), 'app', false, undefined),
    4,
  );
  // Never created (waiting, no containerID): attempt 0 is still to come.
  assert.equal(
    nextAttempt(
      pod([{ name: 'app', restartCount: 0, state: { waiting: { reason: 'ErrImagePull' } } }]),
      'app',
      false,
      undefined,
    ),
    0,
  );
  // A stale status never pulls the count back.
  assert.equal(
    nextAttempt(pod([{ name: 'app', restartCount: 1, containerID: 'docker://c1' }]), 'app', false, attempt(5, false)),
    6,
  );
  // An init container's status is not the app container's.
  assert.equal(
    nextAttempt(pod([{ name: 'app', restartCount: 3, containerID: 'docker://c3' }]), 'app', true, undefined),
    0,
  );
});

test('restartCount never goes backwards while a removed container is not back yet', () => {
  const status = computePodStatus({
    pod: pod([{ name: 'app', restartCount: 2, containerID: 'docker://c2' }]),
    podIP: '10.0.0.2',
    hostIP: '127.0.0.1',
    containers: new Map(),
    waiting: new Map(),
    ready: () => true,
    started: () => true,
    now: new Date('2026-01-01T00:00:05Z'),
  });
  const [app] = (status['containerStatuses'] ?? []) as { restartCount: number }[];
  assert.equal(app?.restartCount, 2);
});
