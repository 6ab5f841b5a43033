// The supervisor of a cluster's processes (what `npm run up` starts): it runs every child in
// supervise/, restarts one that exits with back-off (0.5 s doubling to 30 s; 60 s of good
// running resets it), records PIDs in pids/<name> and appends output to logs/<name>.log.
// SIGHUP re-reads supervise/ (new children start, removed ones stop); when the signal
// aborts, children stop in reverse order of adding: SIGTERM, then SIGKILL after the grace
// period.

import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { RestartBackoff, type BackoffPolicy } from './backoff.js';
import { childLogFile, childPidFile, ensureLayout, layoutOf, type Layout } from './layout.js';
import { readSpecs, type ChildSpec } from './spec.js';
import { errorMessage } from '../errors/index.js';

export interface SupervisorConfig {
  stateDir: string;
  /** How long a child may take to exit after SIGTERM before it gets SIGKILL. */
  gracePeriodMs: number;
  backoff: BackoffPolicy;
  log: (msg: string) => void;
}

export const DEFAULT_GRACE_PERIOD_MS = 10_000;

/** After SIGKILL a process is gone at once unless stuck in the kernel; never wait forever. */
const KILL_WAIT_MS = 5_000;

class Child {
  process: ChildProcess | undefined;
  startedAt = 0;
  restarts = 0;
  timer: NodeJS.Timeout | undefined;
  removed = false;
  readonly backoff: RestartBackoff;

  constructor(
    readonly spec: ChildSpec,
    policy: BackoffPolicy,
  ) {
    this.backoff = new RestartBackoff(policy);
  }
}

function exitOf(proc: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve();
    else proc.once('exit', () => resolve());
  });
}

/** Resolves true when `done` settles within `ms`, false otherwise. */
function within(done: Promise<void>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    void done.then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

export class Supervisor {
  private readonly layout: Layout;
  private readonly children = new Map<string, Child>();
  private stopping = false;

  constructor(private readonly config: SupervisorConfig) {
    this.layout = layoutOf(config.stateDir);
  }

  /** Runs the children until `signal` aborts, then stops them all; resolves when they are gone. */
  async run(signal: AbortSignal): Promise<void> {
    ensureLayout(this.layout);
    this.reload();
    // With no child yet (up.sh adds them one by one) nothing else keeps the process alive.
    const keepAlive = setInterval(() => undefined, 3_600_000);
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    });
    clearInterval(keepAlive);
    this.stopping = true;
    const order = [...this.children.values()].sort((a, b) => b.spec.order - a.spec.order);
    for (const child of order) await this.stop(child);
  }

  /** Starts children added to supervise/ and stops those removed from it. */
  reload(): void {
    if (this.stopping) return;
    const specs = readSpecs(this.layout, this.config.log);
    if (specs === undefined) return;
    const names = new Set(specs.map((s) => s.name));
    for (const spec of specs) {
      if (this.children.has(spec.name)) continue;
      const child = new Child(spec, this.config.backoff);
      this.children.set(spec.name, child);
      this.start(child);
    }
    for (const child of this.children.values()) {
      if (names.has(child.spec.name)) continue;
      child.removed = true;
      this.children.delete(child.spec.name);
      void this.stop(child);
    }
  }

  /** PIDs of the running children by name (for status output and tests). */
  pids(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [name, child] of this.children) if (child.process?.pid !== undefined) out.set(name, child.process.pid);
    return out;
  }

  private start(child: Child): void {
    const { name, command, args, cwd } = child.spec;
    child.startedAt = Date.now();
    let proc: ChildProcess;
    try {
      const logFile = childLogFile(this.layout, name);
      if (child.restarts > 0)
        appendFileSync(logFile, `${new Date().toISOString()} supervisor: restart ${child.restarts} of ${name}\n`);
      const out = openSync(logFile, 'a');
      try {
        proc = spawn(command, args, { cwd, stdio: ['ignore', out, out] });
      } finally {
        closeSync(out);
      }
    } catch (err) {
      // The state folder unwritable, a bad cwd: keep trying with back-off rather than crash.
      this.restartLater(child, undefined, `could not start: ${errorMessage(err)}`);
      return;
    }
    child.process = proc;
    const pid = proc.pid;
    if (pid !== undefined) {
      try {
        for (const file of this.pidFiles(child)) writeFileSync(file, `${pid}\n`);
      } catch (err) {
        this.config.log(`cannot record the pid of ${name}: ${errorMessage(err)}`);
      }
      this.config.log(`started ${name} (pid ${pid})`);
    }
    let gone = false;
    const onGone = (why: string): void => {
      if (gone) return;
      gone = true;
      this.exited(child, proc, why);
    };
    proc.once('exit', (code, sig) => onGone(code !== null ? `exit code ${code}` : `signal ${sig ?? 'unknown'}`));
    // A command that cannot be started at all (ENOENT, EACCES) gives 'error' and no 'exit'.
    proc.once('error', (err) => {
      if (proc.pid === undefined) onGone(`could not start: ${err.message}`);
    });
  }

  private exited(child: Child, proc: ChildProcess, why: string): void {
    if (child.process !== proc) return;
    child.process = undefined;
    for (const file of this.pidFiles(child))
      if (proc.pid !== undefined && readPid(file) === proc.pid) rmSync(file, { force: true });
    this.restartLater(child, proc.pid, why);
  }

  private pidFiles(child: Child): string[] {
    const own = childPidFile(this.layout, child.spec.name);
    return child.spec.extraPidFile !== undefined ? [own, child.spec.extraPidFile] : [own];
  }

  private restartLater(child: Child, pid: number | undefined, why: string): void {
    if (this.stopping || child.removed) return;
    const ranMs = Date.now() - child.startedAt;
    const waitMs = child.backoff.next(ranMs);
    child.restarts += 1;
    this.config.log(
      `${child.spec.name} (pid ${pid ?? '-'}) ended (${why}) after ${(ranMs / 1000).toFixed(1)} s; restart ${child.restarts} in ${(waitMs / 1000).toFixed(1)} s`,
    );
    child.timer = setTimeout(() => {
      child.timer = undefined;
      if (!this.stopping && !child.removed) this.start(child);
    }, waitMs);
  }

  private async stop(child: Child): Promise<void> {
    clearTimeout(child.timer);
    child.timer = undefined;
    const proc = child.process;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    const done = exitOf(proc);
    proc.kill('SIGTERM');
    if (!(await within(done, this.config.gracePeriodMs))) {
      this.config.log(
        `${child.spec.name} (pid ${proc.pid ?? '-'}) still running ${this.config.gracePeriodMs / 1000} s after SIGTERM; SIGKILL`,
      );
      proc.kill('SIGKILL');
      await within(done, KILL_WAIT_MS);
    }
    this.config.log(`stopped ${child.spec.name} (pid ${proc.pid ?? '-'})`);
  }
}

function readPid(file: string): number | undefined {
  try {
    return Number(readFileSync(file, 'utf8').trim());
  } catch {
    return undefined;
  }
}
