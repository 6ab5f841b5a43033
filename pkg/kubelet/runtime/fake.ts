// An in-memory container runtime for tests of the node agent: containers with states, exits,
// exit codes and OOM kills, image pull failures, logs and exec results, all injected on
// demand. Deterministic: ids count up and every time comes from the injected clock.

import { PassThrough, Readable } from 'node:stream';
import type { ContainerIdentity } from './labels.js';
import {
  ImagePullError,
  type ContainerRuntime,
  type ContainerSpec,
  type ContainerState,
  type AttachSession,
  type ContainerStats,
  type ExecSession,
  type LogOptions,
  type ManagedSummary,
  type NetworkSpec,
  type SandboxSpec,
} from './interface.js';

export interface FakeClock {
  now(): number;
}

export interface FakeExecResult {
  exitCode: number;
  stdout?: string;
  stderr?: string;
}

export interface FakeContainer {
  state: ContainerState;
  /** The sandbox's spec or the container's config, as the agent passed it. */
  spec: SandboxSpec | ContainerSpec;
  sandboxId: string | undefined;
  logs: string;
  /** The grace period of the stop that ended it, if it was stopped. */
  stoppedWithGrace: number | undefined;
  /** Order among all stops (1, 2, …), to check termination order. */
  stopSequence: number | undefined;
}

/** Removed containers remembered (oldest forgotten first). */
const MAX_REMEMBERED_REMOVALS = 1000;

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}

export class FakeRuntime implements ContainerRuntime {
  readonly containers = new Map<string, FakeContainer>();
  /** Containers removed, in order, as they were when removed. */
  readonly removed: FakeContainer[] = [];
  readonly images = new Set<string>();
  readonly networks = new Map<string, { subnet: string; gateway: string }>();
  /** Images whose pull fails, with why. */
  readonly pullFailures = new Map<string, string>();
  /** How many pulls each image saw. */
  readonly pulls = new Map<string, number>();
  private readonly execResults = new Map<string, FakeExecResult>();
  /** Create fails with this message for these images (a bad config, say). */
  readonly createFailures = new Map<string, string>();
  /** Resource use each running container reports (none set: zero CPU and memory). */
  readonly usage = new Map<string, ContainerStats>();
  private nextId = 1;
  private stops = 0;
  private nextIp = 2;

  constructor(
    private readonly clock: FakeClock,
    images: string[] = [],
  ) {
    for (const i of images) this.images.add(i);
  }

  // --- injection ---------------------------------------------------------------------------

  /** The container ends now with this exit code (and OOM kill). */
  exit(id: string, exitCode: number, opts: { oomKilled?: boolean } = {}): void {
    const c = this.must(id);
    if (!c.state.running) return;
    c.state = {
      ...c.state,
      running: false,
      exitCode,
      oomKilled: opts.oomKilled === true,
      finishedAt: iso(this.clock.now()),
      status: 'exited',
      pid: undefined,
    };
  }

  /** A container removed behind the agent's back (docker rm -f). */
  vanish(id: string): void {
    this.containers.delete(id);
  }

  appendLogs(id: string, text: string): void {
    this.must(id).logs += text;
  }

  /** What exec of cmd in any container returns (keyed by the joined command). */
  setExecResult(cmd: string[], result: FakeExecResult): void {
    this.execResults.set(cmd.join(' '), result);
  }

  /** Attempts of a pod's container (newest first); `POD` names the sandbox. */
  attempts(podUid: string, containerName: string): FakeContainer[] {
    return [...this.containers.values()]
      .filter((c) => c.state.identity.uid === podUid && c.state.identity.containerName === containerName)
      .sort((a, b) => b.state.identity.attempt - a.state.identity.attempt);
  }

  /** The newest attempt of a pod's container. */
  latest(podUid: string, containerName: string): FakeContainer | undefined {
    return this.attempts(podUid, containerName)[0];
  }

  private must(id: string): FakeContainer {
    const c = this.containers.get(id);
    if (c === undefined) throw Object.assign(new Error(`no such container: ${id}`), { statusCode: 404 });
    return c;
  }

  // --- ContainerRuntime --------------------------------------------------------------------

  async version(): Promise<string> {
    return 'fake-1.0';
  }

  async imagePresent(image: string): Promise<boolean> {
    return this.images.has(image);
  }

  async ensureImage(image: string, pullPolicy: string): Promise<void> {
    const present = this.images.has(image);
    if (pullPolicy === 'Never') {
      if (!present) throw new ImagePullError(image, 'the image is not present and the pull policy is Never');
      return;
    }
    if (present && pullPolicy !== 'Always') return;
    this.pulls.set(image, (this.pulls.get(image) ?? 0) + 1);
    const why = this.pullFailures.get(image);
    if (why !== undefined) throw new ImagePullError(image, why);
    this.images.add(image);
  }

  async ensureNetwork(name: string, spec: NetworkSpec): Promise<void> {
    const { subnet, gateway } = spec;
    const existing = this.networks.get(name);
    if (existing !== undefined && existing.subnet !== subnet && spec.replace !== true)
      throw new Error(`network ${name} exists with subnet ${existing.subnet}, not ${subnet}`);
    this.networks.set(name, { subnet, gateway });
  }

  async removeNetwork(name: string): Promise<void> {
    this.networks.delete(name);
  }

  async removeCluster(): Promise<{ containers: number; networks: number }> {
    const counts = { containers: this.containers.size, networks: this.networks.size };
    this.containers.clear();
    this.networks.clear();
    return counts;
  }

  private add(identity: ContainerIdentity, spec: SandboxSpec | ContainerSpec, sandboxId: string | undefined): string {
    if (!this.images.has(spec.image)) throw new Error(`No such image: ${spec.image}`);
    const id = `fake${String(this.nextId++).padStart(4, '0')}`;
    const state: ContainerState = {
      id,
      identity: { ...identity },
      running: false,
      exitCode: 0,
      oomKilled: false,
      createdAt: iso(this.clock.now()),
      startedAt: undefined,
      finishedAt: undefined,
      imageId: `sha256:${spec.image}`,
      image: spec.image,
      ip: undefined,
      pid: undefined,
      status: 'created',
      error: undefined,
    };
    this.containers.set(id, { state, spec, sandboxId, logs: '', stoppedWithGrace: undefined, stopSequence: undefined });
    return id;
  }

  async runSandbox(identity: ContainerIdentity, spec: SandboxSpec): Promise<string> {
    const id = this.add(identity, spec, undefined);
    await this.start(id);
    const c = this.must(id);
    c.state = { ...c.state, ip: spec.hostNetwork === true ? undefined : `10.244.0.${this.nextIp++}` };
    return id;
  }

  async createContainer(sandboxId: string, identity: ContainerIdentity, spec: ContainerSpec): Promise<string> {
    const why = this.createFailures.get(spec.image);
    if (why !== undefined) throw new Error(why);
    return this.add(identity, spec, sandboxId);
  }

  async start(id: string): Promise<void> {
    const c = this.must(id);
    if (c.sandboxId !== undefined) {
      const sandbox = this.containers.get(c.sandboxId);
      if (sandbox?.state.running !== true)
        throw new Error(`cannot join the namespaces of sandbox ${c.sandboxId}: it is not running`);
    }
    c.state = {
      ...c.state,
      running: true,
      status: 'running',
      startedAt: iso(this.clock.now()),
      finishedAt: undefined,
      pid: 1000 + this.nextId,
      ip: c.sandboxId === undefined ? c.state.ip : undefined,
    };
  }

  async stop(id: string, graceSeconds: number): Promise<void> {
    const c = this.containers.get(id);
    if (c === undefined || !c.state.running) return;
    // SIGTERM ends a well-behaved process (143); no grace at all is SIGKILL (137).
    this.exit(id, graceSeconds > 0 ? 143 : 137);
    c.stoppedWithGrace = graceSeconds;
    c.stopSequence = ++this.stops;
  }

  async remove(id: string): Promise<void> {
    const c = this.containers.get(id);
    if (c !== undefined) this.removed.push(c);
    // Bounded, for long runs (hollow nodes): tests look at the latest removals only.
    if (this.removed.length > MAX_REMEMBERED_REMOVALS) this.removed.shift();
    this.containers.delete(id);
  }

  async inspect(id: string): Promise<ContainerState | undefined> {
    const c = this.containers.get(id);
    return c === undefined ? undefined : { ...c.state, identity: { ...c.state.identity } };
  }

  async listManaged(podUid?: string): Promise<ContainerState[]> {
    return [...this.containers.values()]
      .filter((c) => podUid === undefined || c.state.identity.uid === podUid)
      .map((c) => ({ ...c.state, identity: { ...c.state.identity } }));
  }

  async listManagedSummary(): Promise<ManagedSummary[]> {
    return [...this.containers.values()].map((c) => ({
      id: c.state.id,
      identity: { ...c.state.identity },
      status: c.state.status,
    }));
  }

  async logs(id: string, opts: LogOptions): Promise<Readable> {
    const lines = this.must(id).logs.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    const chosen = opts.tailLines === undefined ? lines : lines.slice(Math.max(0, lines.length - opts.tailLines));
    return Readable.from(chosen.length === 0 ? [] : [Buffer.from(chosen.join('\n') + '\n')]);
  }

  async stats(id: string): Promise<ContainerStats | undefined> {
    const c = this.containers.get(id);
    if (c === undefined || !c.state.running) return undefined;
    return this.usage.get(id) ?? { cpuUsageNanoseconds: 0, memoryWorkingSetBytes: 0 };
  }

  /** Attaching replays the container's log and ends (the fake runs no process). */
  async attach(id: string): Promise<AttachSession> {
    const c = this.must(id);
    if (!c.state.running) throw new Error(`container ${id} is not running`);
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    stdout.end(c.logs);
    stderr.end();
    return {
      stdin: undefined,
      stdinOnce: false,
      stdout,
      stderr,
      resize: async () => undefined,
      ended: Promise.resolve(),
      close: () => undefined,
    };
  }

  async exec(id: string, opts: { cmd: string[]; tty: boolean; stdin: boolean }): Promise<ExecSession> {
    const c = this.must(id);
    if (!c.state.running) throw new Error(`container ${id} is not running`);
    const result = this.execResults.get(opts.cmd.join(' ')) ?? { exitCode: 0 };
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    stdout.end(result.stdout ?? '');
    stderr.end(result.stderr ?? '');
    return {
      stdin: undefined,
      stdout,
      stderr,
      resize: async () => undefined,
      exitCode: Promise.resolve(result.exitCode),
    };
  }
}
