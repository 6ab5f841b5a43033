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
    if (processesUnder(made).length === 0 && !existsSync(join(made, 'sim')))
      rmSync(made, { recursive: true, force: true });
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
    if (existsSync(join(dir, 'sim'))) {
      // Agents, containers, dockerds, mounts and namespaces, through their PID files.
      const res = spawnSync('bash', [SIM_SCRIPT, 'teardown'], {
        env: { ...process.env, COXSWAIN_SIM_ROOT: join(dir, 'sim') },
        encoding: 'utf8',
        timeout: 180_000,
      });
      if (res.status !== 0) log(`sim-hosts teardown of ${dir} failed: ${res.stderr}`);
    }
    await stopAll(processesUnder(dir));
    rmSync(dir, { recursive: true, force: true });
    log(`removed ${dir}, left by a run that ended without cleaning up`);
    removed.push(dir);
  }
  return removed;
}
