// Pod sync on the in-memory runtime: no Docker, no root. Each test drives syncs with an
// injected clock and checks the resulting pod status and the runtime's containers.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { isObject, type KubeObject, type ObjectMeta } from '../api/meta.js';
import type {
  Container,
  ContainerState,
  ContainerStateTerminated,
  ContainerStatus,
  Pod,
  PodSpec,
  PodStatus,
  RestartPolicy,
} from '../api/types/index.js';
import { notFound } from '../errors/index.js';
import type { PodApi } from './pod-api.js';
import { PodSyncer, type ProbeResults } from './pod-sync.js';
import type { ProbeKind, ProbeTarget } from './probes.js';
import { FakeRuntime, type FakeContainer } from './runtime/index.js';

const UID = 'uid-1';
const START = Date.parse('2026-01-01T00:00:00Z');
const root = mkdtempSync(join(tmpdir(), 'coxswain-pod-sync-'));
after(() => rmSync(root, { recursive: true, force: true }));

class FakeProbes implements ProbeResults {
  readonly results = new Map<string, boolean>();
  readonly targets = new Map<string, ProbeTarget>();
  ensure(t: ProbeTarget): void {
    this.targets.set(`${t.podUid}/${t.containerName}/${t.kind}`, t);
  }
  result(podUid: string, container: string, kind: ProbeKind): boolean | undefined {
    return this.results.get(`${podUid}/${container}/${kind}`);
  }
  set(container: string, kind: ProbeKind, ok: boolean): void {
    this.results.set(`${UID}/${container}/${kind}`, ok);
  }
  stop(podUid: string, container?: string): void {
    const prefix = container === undefined ? `${podUid}/` : `${podUid}/${container}/`;
    for (const m of [this.results, this.targets]) for (const k of [...m.keys()]) if (k.startsWith(prefix)) m.delete(k);
  }
  stopAll(): void {
    this.results.clear();
    this.targets.clear();
  }
}

class Harness {
  now = START;
  readonly clock = { now: (): number => this.now };
  readonly runtime = new FakeRuntime(this.clock, ['busybox', 'pause']);
  readonly probes = new FakeProbes();
  readonly events: { reason: string; message: string }[] = [];
  deleted = false;
  pod: Pod;
  readonly syncer: PodSyncer;

  constructor(spec: PodSpec, metadata: Partial<ObjectMeta> = {}) {
    this.pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web', namespace: 'default', uid: UID, ...metadata },
      spec,
    };
    const api: PodApi = {
      get: async (r, name) => {
        throw notFound(r.plural, r.group, name);
      },
      patch: async (_r, _name, { body }) => {
        if (isStatusPatch(body)) this.pod = { ...this.pod, status: body.status };
        return this.pod;
      },
      delete: async () => {
        this.deleted = true;
        return this.pod;
      },
      createSubresource: async (_r, name) => ({ status: { token: `token-of-${name}` } }),
    };
    const events = {
      normal: (_o: KubeObject, reason: string, message: string): void => void this.events.push({ reason, message }),
      warning: (_o: KubeObject, reason: string, message: string): void => void this.events.push({ reason, message }),
    };
    this.syncer = new PodSyncer(
      { nodeName: 'n1', nodeIP: '192.0.2.1', rootDir: root, sandboxImage: 'pause', podNetwork: 'podnet' },
      { client: api, runtime: this.runtime, probes: this.probes, events, clock: this.clock },
    );
  }

  async sync(): Promise<number | undefined> {
    return (await this.syncer.sync(this.pod)).requeueAfterMs;
  }

  advance(seconds: number): void {
    this.now += seconds * 1000;
  }

  latest(name: string): FakeContainer {
    const c = this.runtime.latest(UID, name);
    assert.ok(c, `no container ${name}`);
    return c;
  }

  /** The newest attempt of a container ends now. */
  exit(name: string, code: number, oomKilled = false): void {
    this.runtime.exit(this.latest(name).state.id, code, { oomKilled });
  }

  get status(): PodStatus {
    return this.pod.status ?? {};
  }

  containerStatus(name: string, init = false): ContainerStatus {
    const s = this.status[init ? 'initContainerStatuses' : 'containerStatuses']?.find((c) => c.name === name);
    assert.ok(s, `no status of ${name}`);
    return s;
  }

  state(name: string, init = false): ContainerState {
    return this.containerStatus(name, init).state ?? {};
  }

  waitingReason(name: string, init = false): string | undefined {
    return this.state(name, init).waiting?.reason;
  }

  condition(type: string): string | undefined {
    return this.status.conditions?.find((c) => c.type === type)?.status;
  }
}

/** The pod sync writes the status as a merge patch `{ status }`; the fake keeps it. */
function isStatusPatch(body: unknown): body is { status: PodStatus } {
  return isObject(body) && isObject(body['status']);
}

function app(name: string, extra: Partial<Container> = {}): Container {
  return { name, image: 'busybox', ...extra };
}

function pod(containers: Container[], extra: Partial<PodSpec> = {}): PodSpec {
  return { containers, ...extra };
}

function lastTerminated(h: Harness, name: string): ContainerStateTerminated {
  const t = h.containerStatus(name).lastState?.terminated;
  assert.ok(t, `${name} has no terminated lastState`);
  return t;
}

describe('pod start', () => {
  test('the first sync starts the sandbox and the containers, and reports the pod Running with its IP', async () => {
    const h = new Harness(pod([app('a'), app('b')]));
    await h.sync();
    assert.equal(h.latest('POD').state.running, true);
    assert.equal(h.latest('a').state.running, true);
    assert.equal(h.latest('b').state.running, true);
    assert.equal(h.status.phase, 'Running');
    assert.equal(h.status.podIP, h.latest('POD').state.ip);
    assert.equal(h.condition('PodReadyToStartContainers'), 'True');
    assert.equal(h.condition('Ready'), 'True');
    assert.equal(h.condition('ContainersReady'), 'True');
  });

  test('a hostNetwork pod reports the node IP', async () => {
    const h = new Harness(pod([app('a')], { hostNetwork: true }));
    await h.sync();
    assert.equal(h.status.podIP, '192.0.2.1');
  });

  test('the container config carries command, args, env and limits', async () => {
    const h = new Harness(
      pod([
        app('a', {
          command: ['sh'],
          args: ['-c', 'true'],
          env: [{ name: 'X', value: '1' }],
          resources: { limits: { memory: '64Mi', cpu: '500m' } },
        }),
      ]),
    );
    await h.sync();
    const spec = h.latest('a').spec;
    assert.ok('env' in spec);
    assert.deepEqual(spec.command, ['sh']);
    assert.deepEqual(spec.args, ['-c', 'true']);
    assert.ok(spec.env.includes('X=1'));
    assert.equal(spec.memoryLimitBytes, 64 * 1024 * 1024);
    assert.equal(spec.nanoCpus, 5e8);
  });

  test('a sandbox that cannot start leaves no containers and retries later', async () => {
    const h = new Harness(pod([app('a')]));
    h.runtime.images.delete('pause');
    h.runtime.pullFailures.set('pause', 'registry unreachable');
    const again = await h.sync();
    assert.equal(h.runtime.containers.size, 0);
    assert.ok(again !== undefined && again > 0);
    h.runtime.pullFailures.delete('pause');
    await h.sync();
    assert.equal(h.latest('a').state.running, true);
  });

  test('a container that cannot be created waits with CreateContainerError', async () => {
    const h = new Harness(pod([app('a')]));
    h.runtime.createFailures.set('busybox', 'invalid mount');
    await h.sync();
    assert.equal(h.waitingReason('a'), 'CreateContainerError');
    assert.equal(h.runtime.latest(UID, 'a'), undefined);
  });
});

describe('restart policies', () => {
  test('Always restarts a container that exited 0, and counts the restart', async () => {
    const h = new Harness(pod([app('a')]));
    await h.sync();
    h.exit('a', 0);
    await h.sync();
    assert.equal(h.latest('a').state.running, true);
    assert.equal(h.latest('a').state.identity.attempt, 1);
    assert.equal(h.containerStatus('a').restartCount, 1);
    assert.equal(lastTerminated(h, 'a').reason, 'Completed');
  });

  test('OnFailure leaves a container that exited 0: the pod Succeeded', async () => {
    const h = new Harness(pod([app('a')], { restartPolicy: 'OnFailure' }));
    await h.sync();
    h.exit('a', 0);
    await h.sync();
    assert.equal(h.latest('a').state.running, false);
    assert.equal(h.latest('a').state.identity.attempt, 0);
    assert.equal(h.status.phase, 'Succeeded');
  });

  test('OnFailure restarts a container that failed', async () => {
    const h = new Harness(pod([app('a')], { restartPolicy: 'OnFailure' }));
    await h.sync();
    h.exit('a', 3);
    await h.sync();
    assert.equal(h.latest('a').state.running, true);
    assert.equal(h.containerStatus('a').restartCount, 1);
    assert.equal(lastTerminated(h, 'a').exitCode, 3);
  });

  test('Never keeps a failed container down: the pod Failed with its exit code', async () => {
    const h = new Harness(pod([app('a')], { restartPolicy: 'Never' }));
    await h.sync();
    h.exit('a', 2);
    await h.sync();
    assert.equal(h.runtime.attempts(UID, 'a').length, 1);
    assert.equal(h.status.phase, 'Failed');
    const t = h.state('a').terminated;
    assert.ok(t);
    assert.equal(t.exitCode, 2);
    assert.equal(t.reason, 'Error');
  });

  test('a finished pod has its sandbox stopped on the next sync', async () => {
    const h = new Harness(pod([app('a')], { restartPolicy: 'Never' }));
    await h.sync();
    h.exit('a', 0);
    await h.sync();
    assert.equal(h.status.phase, 'Succeeded');
    await h.sync();
    assert.equal(h.latest('POD').state.running, false);
    assert.equal(h.runtime.attempts(UID, 'a').length, 1);
  });

  test('an OOM-killed container is reported OOMKilled', async () => {
    const h = new Harness(pod([app('a')], { restartPolicy: 'Never' }));
    await h.sync();
    h.exit('a', 137, true);
    await h.sync();
    const t = h.state('a').terminated;
    assert.ok(t);
    assert.equal(t.reason, 'OOMKilled');
    assert.equal(t.exitCode, 137);
  });
});

describe('create and start failures back off as crashes do', () => {
  const tries = (h: Harness): number => h.events.filter((e) => e.reason === 'Failed').length;

  test('a container that cannot be created is tried again after 10 s, then 20 s, keeping its reason', async () => {
    const h = new Harness(pod([app('a')]));
    h.runtime.createFailures.set('busybox', 'invalid mount');
    assert.equal(await h.sync(), 10_000);
    assert.equal(tries(h), 1);
    // Syncs inside the window (watch events, status writes) do not try again.
    for (let i = 0; i < 5; i++) {
      h.advance(1);
      await h.sync();
    }
    assert.equal(tries(h), 1);
    assert.equal(h.waitingReason('a'), 'CreateContainerError');
    assert.equal(h.state('a').waiting?.message, 'invalid mount');
    assert.ok(
      h.events.some((e) => e.reason === 'BackOff' && e.message === 'Back-off restarting failed container a in pod web'),
    );
    h.advance(5);
    assert.equal(await h.sync(), 20_000, 'the second failure doubles the wait');
    assert.equal(tries(h), 2);
    h.advance(19);
    await h.sync();
    assert.equal(tries(h), 2);
    h.runtime.createFailures.delete('busybox');
    h.advance(1);
    await h.sync();
    assert.equal(h.latest('a').state.running, true, 'runs once the cause is gone');
    assert.equal(h.waitingReason('a'), undefined);
  });

  test('a missing env source (CreateContainerConfigError) backs off too', async () => {
    const h = new Harness(
      pod([app('a', { env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'nope', key: 'k' } } }] })]),
    );
    assert.equal(await h.sync(), 10_000);
    h.advance(3);
    await h.sync();
    assert.equal(tries(h), 1);
    assert.equal(h.waitingReason('a'), 'CreateContainerConfigError');
  });
});

describe('restart back-off', () => {
  test('the second restart waits 10 s in CrashLoopBackOff, then the container runs again', async () => {
    const h = new Harness(pod([app('a')]));
    await h.sync();
    h.exit('a', 1);
    await h.sync(); // first restart: immediate
    h.exit('a', 1);
    const wait = await h.sync();
    assert.equal(wait, 10_000);
    assert.equal(h.latest('a').state.running, false);
    assert.equal(h.waitingReason('a'), 'CrashLoopBackOff');
    const w = h.state('a').waiting;
    assert.ok(w?.message?.startsWith('back-off 10s restarting failed container=a'));
    assert.equal(lastTerminated(h, 'a').exitCode, 1);
    h.advance(10);
    await h.sync();
    assert.equal(h.latest('a').state.running, true);
    assert.equal(h.containerStatus('a').restartCount, 2);
  });

  test('the wait doubles up to the 5 min cap', async () => {
    const h = new Harness(pod([app('a')]));
    await h.sync();
    h.exit('a', 1);
    await h.sync();
    const waits: number[] = [];
    for (let i = 0; i < 7; i++) {
      h.exit('a', 1);
      const wait = await h.sync();
      assert.ok(wait !== undefined);
      waits.push(wait / 1000);
      h.advance(wait / 1000 - 1);
      await h.sync();
      assert.equal(h.latest('a').state.running, false, `held until the back-off ends (${i})`);
      h.advance(1);
      await h.sync();
      assert.equal(h.latest('a').state.running, true, `restarted when it ends (${i})`);
    }
    assert.deepEqual(waits, [10, 20, 40, 80, 160, 300, 300]);
  });

  test('a container that ran 10 min starts its back-off over', async () => {
    const h = new Harness(pod([app('a')]));
    await h.sync();
    for (let i = 0; i < 3; i++) {
      h.exit('a', 1);
      const wait = await h.sync();
      if (wait !== undefined && wait > 1000) h.advance(wait / 1000);
      await h.sync();
    }
    h.advance(600);
    h.exit('a', 1);
    const held = await h.sync();
    assert.equal(held, 40_000, 'the exit of the long run still waits out the current delay');
    h.advance(40);
    await h.sync();
    assert.equal(h.latest('a').state.running, true);
    h.exit('a', 1);
    assert.equal(await h.sync(), 10_000, 'the next crash starts over at 10 s');
  });

  test('only the previous attempt is kept besides the running one', async () => {
    const h = new Harness(pod([app('a')]));
    await h.sync();
    for (let i = 0; i < 4; i++) {
      h.exit('a', 0);
      h.advance(700);
      await h.sync();
    }
    assert.deepEqual(
      h.runtime.attempts(UID, 'a').map((c) => c.state.identity.attempt),
      [4, 3],
    );
    assert.equal(h.containerStatus('a').restartCount, 4);
  });
});

describe('init containers', () => {
  const spec = (policy: RestartPolicy): PodSpec =>
    pod([app('main')], { restartPolicy: policy, initContainers: [app('first'), app('second')] });

  test('run one at a time, in order, before the app containers', async () => {
    const h = new Harness(spec('Always'));
    await h.sync();
    assert.equal(h.latest('first').state.running, true);
    assert.equal(h.runtime.latest(UID, 'second'), undefined);
    assert.equal(h.runtime.latest(UID, 'main'), undefined);
    assert.equal(h.status.phase, 'Pending');
    assert.equal(h.condition('Initialized'), 'False');
    assert.equal(h.waitingReason('main'), 'PodInitializing');
    h.exit('first', 0);
    await h.sync();
    assert.equal(h.latest('second').state.running, true);
    assert.equal(h.runtime.latest(UID, 'main'), undefined);
    h.exit('second', 0);
    await h.sync();
    assert.equal(h.latest('main').state.running, true);
    assert.equal(h.condition('Initialized'), 'True');
    assert.equal(h.status.phase, 'Running');
    assert.equal(h.containerStatus('first', true).ready, true);
  });

  test('a failed init container under Never fails the pod; the app containers never start', async () => {
    const h = new Harness(spec('Never'));
    await h.sync();
    h.exit('first', 1);
    await h.sync();
    await h.sync();
    assert.equal(h.status.phase, 'Failed');
    assert.equal(h.runtime.attempts(UID, 'first').length, 1);
    assert.equal(h.runtime.latest(UID, 'second'), undefined);
    assert.equal(h.runtime.latest(UID, 'main'), undefined);
  });

  test('a failed init container under OnFailure is restarted with back-off and blocks the rest', async () => {
    const h = new Harness(spec('OnFailure'));
    await h.sync();
    h.exit('first', 1);
    await h.sync();
    assert.equal(h.latest('first').state.identity.attempt, 1);
    assert.equal(h.containerStatus('first', true).restartCount, 1);
    h.exit('first', 1);
    assert.equal(await h.sync(), 10_000);
    assert.equal(h.waitingReason('first', true), 'CrashLoopBackOff');
    assert.equal(h.runtime.latest(UID, 'second'), undefined);
    assert.equal(h.runtime.latest(UID, 'main'), undefined);
    assert.equal(h.status.phase, 'Pending');
  });
});

describe('sandbox and restart counts', () => {
  test('a dead sandbox recreates the pod: new sandbox, containers restarted in it', async () => {
    const h = new Harness(pod([app('a')]));
    await h.sync();
    const oldSandbox = h.latest('POD').state.id;
    h.runtime.exit(oldSandbox, 137);
    await h.sync();
    const sandbox = h.latest('POD');
    assert.notEqual(sandbox.state.id, oldSandbox);
    assert.equal(sandbox.state.identity.attempt, 1);
    assert.equal(sandbox.state.running, true);
    assert.equal(h.runtime.containers.has(oldSandbox), false);
    assert.equal(h.latest('a').state.running, true);
    assert.equal(h.latest('a').sandboxId, sandbox.state.id);
    assert.equal(h.containerStatus('a').restartCount, 1);
  });

  test('restartCount never goes backwards when attempts vanish behind the agent', async () => {
    const h = new Harness(pod([app('a')]));
    await h.sync();
    for (let i = 0; i < 2; i++) {
      h.exit('a', 0);
      h.advance(700);
      await h.sync();
    }
    assert.equal(h.containerStatus('a').restartCount, 2);
    for (const c of h.runtime.attempts(UID, 'a')) h.runtime.vanish(c.state.id);
    await h.sync();
    assert.equal(h.latest('a').state.running, true);
    assert.equal(h.containerStatus('a').restartCount, 3);
  });
});

describe('termination', () => {
  test('deletion stops the containers with the grace period before the sandbox, removes all and completes the delete', async () => {
    const h = new Harness(pod([app('a'), app('b')]));
    await h.sync();
    h.pod = {
      ...h.pod,
      metadata: { ...h.pod.metadata, deletionTimestamp: '2026-01-01T00:01:00Z', deletionGracePeriodSeconds: 20 },
    };
    await h.sync();
    assert.equal(h.runtime.containers.size, 0);
    assert.equal(h.deleted, true);
    const seq = (name: string): number =>
      h.runtime.removed.find((c) => c.state.identity.containerName === name)?.stopSequence ?? 0;
    for (const name of ['a', 'b']) {
      const c = h.runtime.removed.find((x) => x.state.identity.containerName === name);
      assert.equal(c?.stoppedWithGrace, 20);
      assert.equal(c?.state.exitCode, 143);
      assert.ok(seq(name) < seq('POD'), `${name} stops before the sandbox`);
    }
  });

  test('a pod gone from the API is killed at once', async () => {
    const h = new Harness(pod([app('a')]));
    await h.sync();
    await h.syncer.killPod(UID, 0);
    assert.equal(h.runtime.containers.size, 0);
    assert.equal(h.runtime.removed.find((c) => c.state.identity.containerName === 'a')?.stoppedWithGrace, 0);
  });

  test('a changed container definition replaces the container', async () => {
    const h = new Harness(pod([app('a')], { terminationGracePeriodSeconds: 5 }));
    await h.sync();
    const first = h.latest('a').state.id;
    h.pod = {
      ...h.pod,
      spec: pod([app('a', { env: [{ name: 'V', value: '2' }] })], { terminationGracePeriodSeconds: 5 }),
    };
    await h.sync();
    assert.equal(h.runtime.containers.get(first)?.stoppedWithGrace, 5);
    await h.sync();
    assert.equal(h.latest('a').state.running, true);
    assert.notEqual(h.latest('a').state.id, first);
  });
});

describe('image pulls', () => {
  test('a failed pull is ErrImagePull, then ImagePullBackOff until the back-off ends', async () => {
    const h = new Harness(pod([app('a', { image: 'missing:1' })]));
    h.runtime.pullFailures.set('missing:1', 'manifest unknown');
    const wait = await h.sync();
    assert.equal(h.waitingReason('a'), 'ErrImagePull');
    assert.equal(wait, 10_000);
    h.advance(5);
    await h.sync();
    assert.equal(h.waitingReason('a'), 'ImagePullBackOff');
    assert.equal(h.runtime.pulls.get('missing:1'), 1);
    h.advance(5);
    await h.sync();
    assert.equal(h.waitingReason('a'), 'ErrImagePull');
    assert.equal(h.runtime.pulls.get('missing:1'), 2);
    h.runtime.pullFailures.delete('missing:1');
    h.advance(20);
    await h.sync();
    assert.equal(h.latest('a').state.running, true);
    assert.equal(h.status.phase, 'Running');
  });

  test('pull policy Never with the image absent is ErrImagePull without a pull', async () => {
    const h = new Harness(pod([app('a', { image: 'absent:1', imagePullPolicy: 'Never' })]));
    await h.sync();
    assert.equal(h.waitingReason('a'), 'ErrImagePull');
    assert.equal(h.runtime.pulls.get('absent:1'), undefined);
    assert.equal(h.runtime.latest(UID, 'a'), undefined);
  });

  test('pull policy Always pulls a present image again', async () => {
    const h = new Harness(pod([app('a', { imagePullPolicy: 'Always' })]));
    await h.sync();
    assert.equal(h.runtime.pulls.get('busybox'), 1);
    assert.equal(h.latest('a').state.running, true);
  });
});

describe('probes', () => {
  const probe = { exec: { command: ['true'] } };

  test('probes run for a running container', async () => {
    const h = new Harness(pod([app('a', { livenessProbe: probe, readinessProbe: probe })]));
    await h.sync();
    assert.equal(h.probes.targets.size, 0, 'not before the container runs');
    await h.sync();
    assert.equal(h.probes.targets.get(`${UID}/a/liveness`)?.containerId, h.latest('a').state.id);
    assert.equal(h.probes.targets.get(`${UID}/a/readiness`)?.podIP, h.status.podIP);
  });

  test('a failed liveness probe restarts the container', async () => {
    const h = new Harness(pod([app('a', { livenessProbe: probe })], { terminationGracePeriodSeconds: 7 }));
    await h.sync();
    const first = h.latest('a').state.id;
    h.probes.set('a', 'liveness', false);
    await h.sync();
    assert.equal(h.runtime.containers.get(first)?.stoppedWithGrace, 7);
    await h.sync();
    assert.equal(h.latest('a').state.running, true);
    assert.equal(h.containerStatus('a').restartCount, 1);
  });

  test('a failed startup probe restarts the container', async () => {
    const h = new Harness(pod([app('a', { startupProbe: probe })]));
    await h.sync();
    h.probes.set('a', 'startup', false);
    await h.sync();
    await h.sync();
    assert.equal(h.latest('a').state.identity.attempt, 1);
    assert.equal(h.latest('a').state.running, true);
  });

  test('readiness gates Ready: false until the probe passes, false again when it fails', async () => {
    const h = new Harness(pod([app('a', { readinessProbe: probe }), app('b')]));
    await h.sync();
    assert.equal(h.containerStatus('a').ready, false);
    assert.equal(h.containerStatus('b').ready, true);
    assert.equal(h.condition('Ready'), 'False');
    assert.equal(h.condition('ContainersReady'), 'False');
    h.probes.set('a', 'readiness', true);
    await h.sync();
    assert.equal(h.condition('Ready'), 'True');
    h.probes.set('a', 'readiness', false);
    await h.sync();
    assert.equal(h.condition('Ready'), 'False');
    assert.equal(h.latest('a').state.running, true, 'readiness never restarts');
  });
});
