import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerStatus, Pod } from '../api/types/index.js';
import type { ContainerStart } from './pod-actions.js';
import { computePodStatus, nextAttempt } from './pod-status.js';
import type { ContainerState } from './runtime/index.js';

/** A pod whose container `app` last reported these statuses (the fields not given: empty). */
function pod(statuses: (Partial<ContainerStatus> & { name: string })[]): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'default', uid: 'u' },
    spec: { containers: [{ name: 'app', image: 'busybox' }] },
    status: {
      containerStatuses: statuses.map((s) => ({ ready: false, restartCount: 0, image: '', imageID: '', ...s })),
    },
  };
}

/** The container `app`: an app container (or init) whose newest attempt is latest. */
function app(latest: ContainerState | undefined, init = false): Pick<ContainerStart, 'name' | 'type' | 'latest'> {
  return { name: 'app', type: init ? 'init' : 'app', latest };
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
  assert.equal(nextAttempt(pod([]), app(undefined)), 0);
  assert.equal(nextAttempt(pod([]), app(attempt(2, false))), 3);
});

test("a container removed behind the agent's back counts on from the reported status", () => {
  // Attempt 3 ran (it has a containerID) and is gone from Docker: the next is 4.
  assert.equal(nextAttempt(pod([{ name: 'app', restartCount: 3, containerID: 'docker://c3' }]), app(undefined)), 4);
  // Never created (waiting, no containerID): attempt 0 is still to come.
  assert.equal(
    nextAttempt(
      pod([{ name: 'app', restartCount: 0, state: { waiting: { reason: 'ErrImagePull' } } }]),
      app(undefined),
    ),
    0,
  );
  // A stale status never pulls the count back.
  assert.equal(
    nextAttempt(pod([{ name: 'app', restartCount: 1, containerID: 'docker://c1' }]), app(attempt(5, false))),
    6,
  );
  // An init container's status is not the app container's.
  assert.equal(
    nextAttempt(pod([{ name: 'app', restartCount: 3, containerID: 'docker://c3' }]), app(undefined, true)),
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
  assert.equal(status.containerStatuses?.[0]?.restartCount, 2);
});
