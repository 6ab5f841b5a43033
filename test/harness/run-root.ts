// Everything one test or benchmark process leaves on the machine (control-plane folders,
// certificates, agent roots, simulated hosts' docker data) lives under its own run root,
// <tmp>/coxswain-runs/<pid>-XXXXXX, whose `owner` file names the process (PID and start
// time). A run that ends without cleaning up (SIGKILL, a crash) is swept by the next one:
// its simulated hosts are torn down, every process whose command line names its root is
// stopped, and the folder is removed. A live run's root is never touched.

import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export const RUNS_DIR = join(tmpdir(), 'coxswain-runs');
const SIM_SCRIPT = join(resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..'), 'scripts', 'sim-hosts.sh');
/** A root with no owner file yet may be one being made right now. */
const UNOWNED_GRACE_MS = 60_000;

let root: string | undefined;

/** When the process started (clock ticks since boot): tells a PID's reuse from the original. */
export function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** This process's run root (made on first use; removed at exit when nothing runs from it). */
export function runRoot(): string {
  if (root !== undefined) return root;
  mkdirSync(RUNS_DIR, { recursive: true });
  const made = mkdtempSync(join(RUNS_DIR, `${process.pid}-`));
  writeFileSync(join(made, 'owner'), `${process.pid} ${startTime(process.pid) ?? ''}\n`);
  process.once('exit', () => {
    // Hosts, processes or mounts still there are the sweep's to take down (an exit handler
    // cannot wait for them).
    if (processesUnder(made).length > 0 || existsSync(join(made, 'sim')) || mountsUnder(made).length > 0) return;
    try {
      rmSync(made, { recursive: true, force: true });
    } catch {
      // left for the next run's sweep
    }
  });
  root = made;
  return made;
}

/** The simulated hosts' root of this run (COXSWAIN_SIM_ROOT for scripts/sim-hosts.sh). */
export function simRoot(): string {
  return join(runRoot(), 'sim');
}

function ownerAlive(dir: string): boolean {
  let text: string;
  try {
    text = readFileSync(join(dir, 'owner'), 'utf8');
  } catch {
    try {
      return Date.now() - statSync(dir).mtimeMs < UNOWNED_GRACE_MS;
    } catch {
      return true; // removed meanwhile: nothing to sweep
    }
  }
  const [pid, started] = text.trim().split(' ');
  return pid !== undefined && started !== undefined && startTime(Number(pid)) === started;
}

/** PIDs of the processes whose command line names a path under `dir`. */
export function processesUnder(dir: string): number[] {
  const prefix = `${dir}/`;
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      if (
        readFileSync(`/proc/${pid}/cmdline`, 'utf8')
          .split('\0')
          .some((arg) => arg.includes(prefix))
      )
        pids.push(pid);
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** Mount points under `dir` in this mount namespace, deepest first. */
export function mountsUnder(dir: string): string[] {
  const prefix = `${dir}/`;
  const points = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p): p is string => p !== undefined)
    // mountinfo writes space, tab, newline and backslash as octal escapes.
    .map((p) => p.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))))
    .filter((p) => p.startsWith(prefix));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

/** Roots of simulated hosts (sim-hosts.sh's COXSWAIN_SIM_ROOT) under `dir`, wherever they sit in it. */
function simRootsUnder(dir: string): string[] {
  const roots = new Set<string>();
  if (existsSync(join(dir, 'sim'))) roots.add(join(dir, 'sim'));
  const listed = spawnSync('bash', [SIM_SCRIPT, 'list'], { encoding: 'utf8', timeout: 30_000 });
  for (const line of (listed.stdout ?? '').split('\n')) {
    const owner = line.split(' ')[1];
    if (owner !== undefined && owner.startsWith(`${dir}/`)) roots.add(owner);
  }
  return [...roots];
}

async function stopAll(pids: number[]): Promise<void> {
  const signal = (pid: number, sig: NodeJS.Signals): void => {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  };
  const alive = (pid: number): boolean => startTime(pid) !== undefined;
  for (const pid of pids) signal(pid, 'SIGTERM');
  for (let i = 0; i < 100 && pids.some(alive); i++) await sleep(100);
  for (const pid of pids.filter(alive)) signal(pid, 'SIGKILL');
  for (let i = 0; i < 50 && pids.some(alive); i++) await sleep(100);
}

/** Removes what runs that ended without cleaning up left; returns the roots removed. */
export async function sweepStaleRuns(log: (msg: string) => void = () => undefined): Promise<string[]> {
  if (!existsSync(RUNS_DIR)) return [];
  const removed: string[] = [];
  for (const entry of readdirSync(RUNS_DIR)) {
    const dir = join(RUNS_DIR, entry);
    if (dir === root || ownerAlive(dir)) continue;
    // Agents, containers, dockerds, mounts and namespaces, through their PID files; a run may
    // have made hosts under a root of its own (an `npm run up --hosts` inside a test).
    for (const simRoot of simRootsUnder(dir)) {
      const res = spawnSync('bash', [SIM_SCRIPT, 'teardown'], {
        env: { ...process.env, COXSWAIN_SIM_ROOT: simRoot },
        encoding: 'utf8',
        timeout: 180_000,
      });
      if (res.status !== 0) log(`sim-hosts teardown of ${simRoot} failed: ${res.stderr}`);
    }
    await stopAll(processesUnder(dir));
    // A dockerd killed hard leaves its data root bind-mounted on itself (and its containers'
    // mounts): without this the folder cannot be removed.
    for (const point of mountsUnder(dir)) spawnSync('umount', ['-l', point], { timeout: 30_000 });
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch (e) {
      // One root that cannot go must not stop the sweep of the others, nor the run.
      log(`could not remove ${dir}: ${e instanceof Error ? e.message : String(e)}`);
      continue;
    }
    log(`removed ${dir}, left by a run that ended without cleaning up`);
    removed.push(dir);
  }
  return removed;
}
