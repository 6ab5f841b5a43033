import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Container, Pod, PodSpec, PodStatus } from '../api/types/index.js';
import { computePodActions, containerHash, observationOf, type PlanInputs } from './pod-actions.js';
import type { ContainerState } from './runtime/index.js';

const NOW = Date.parse('2026-01-01T00:10:00Z');

function pod(spec: PodSpec, status: PodStatus = {}): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns', uid: 'u' }, spec, status };
}

function state(
  name: string,
  opts: {
    type?: 'sandbox' | 'init' | 'app';
    attempt?: number;
    running?: boolean;
    exitCode?: number;
    hash?: string;
    started?: boolean;
  } = {},
): ContainerState {
  const running = opts.running ?? true;
  const started = opts.started ?? true;
  return {
    id: `${name}-${opts.attempt ?? 0}`,
    identity: {
      uid: 'u',
      namespace: 'ns',
      name: 'p',
      containerName: name,
      attempt: opts.attempt ?? 0,
      type: opts.type ?? 'app',
      specHash: opts.hash ?? '',
    },
    running,
    exitCode: opts.exitCode ?? 0,
    oomKilled: false,
    createdAt: '2026-01-01T00:00:00Z',
    startedAt: started ? '2026-01-01T00:00:00Z' : undefined,
    finishedAt: running || !started ? undefined : '2026-01-01T00:09:55Z',
    imageId: '',
    image: 'busybox',
    ip: undefined,
    pid: undefined,
    status: running ? 'running' : 'exited',
    error: undefined,
  };
}

const none: PlanInputs = {
  now: NOW,
  probeResult: () => undefined,
  backoffRemaining: () => 0,
  backoffDelay: () => 0,
};
const sandbox = state('POD', { type: 'sandbox' });
const c = (name: string, extra: Partial<Container> = {}): Container => ({ name, image: 'busybox', ...extra });

test('no running sandbox: kill the pod and create the next sandbox attempt', () => {
  const actions = computePodActions(
    pod({ containers: [c('a')] }),
    observationOf([state('POD', { type: 'sandbox', attempt: 2, running: false }), state('a')]),
    none,
  );
  assert.equal(actions.killPod, true);
  assert.equal(actions.createSandbox, true);
  assert.equal(actions.sandboxAttempt, 3);
  assert.deepEqual(actions.containersToStart, []);
});

test('init containers: the first unfinished one starts, nothing after it', () => {
  const spec = { initContainers: [c('i1'), c('i2')], containers: [c('a')] };
  const actions = computePodActions(
    pod(spec),
    observationOf([sandbox, state('i1', { type: 'init', running: false, exitCode: 0 })]),
    none,
  );
  assert.deepEqual(
    actions.containersToStart.map((s) => [s.name, s.type]),
    [['i2', 'init']],
  );
});

test('a running container with a changed definition or failed liveness is killed with the reason', () => {
  const spec = { containers: [c('a'), c('b'), c('ok')] };
  const observed = observationOf([
    sandbox,
    state('a', { hash: 'stale' }),
    state('b', { hash: containerHash(c('b')) }),
    state('ok', { hash: containerHash(c('ok')) }),
  ]);
  const actions = computePodActions(pod(spec), observed, {
    ...none,
    probeResult: (name, kind) => (name === 'b' && kind === 'liveness' ? false : undefined),
  });
  assert.deepEqual(
    actions.containersToKill.map((k) => k.message),
    ['Container a definition changed, will be restarted', 'Container b failed liveness probe, will be restarted'],
  );
  assert.deepEqual(actions.settled, ['ok']);
  assert.deepEqual(
    actions.running.map((r) => r.name),
    ['ok'],
  );
});

test('the back-off holds a restart and says for how long', () => {
  const observed = observationOf([sandbox, state('a', { running: false, exitCode: 1 })]);
  const actions = computePodActions(pod({ containers: [c('a')] }), observed, {
    ...none,
    backoffRemaining: () => 15_000,
    backoffDelay: () => 20_000,
  });
  assert.deepEqual(actions.containersToStart, []);
  assert.equal(actions.backOff[0]?.remainingMs, 15_000);
  assert.match(actions.backOff[0]?.message ?? '', /^back-off 20s restarting failed container=a pod=p_ns\(u\)$/);
});

test('a restart records how long the previous attempt ran', () => {
  const observed = observationOf([sandbox, state('a', { running: false, exitCode: 1 })]);
  const actions = computePodActions(pod({ containers: [c('a')] }), observed, none);
  assert.equal(actions.containersToStart[0]?.ranForMs, 595_000);
});

test('a finished pod with nothing running only needs its sandbox stopped', () => {
  const actions = computePodActions(
    pod({ containers: [c('a')], restartPolicy: 'Never' }, { phase: 'Succeeded' }),
    observationOf([sandbox, state('a', { running: false })]),
    none,
  );
  assert.equal(actions.finished, true);
  assert.equal(actions.createSandbox, false);
});

test('observations group attempts by container, newest first', () => {
  const o = observationOf([
    state('a', { attempt: 0 }),
    sandbox,
    state('a', { attempt: 2 }),
    state('a', { attempt: 1 }),
  ]);
  assert.deepEqual(
    o.containers.get('a')?.map((s) => s.identity.attempt),
    [2, 1, 0],
  );
  assert.equal(o.sandboxes.length, 1);
});
