// Where a supervisor keeps its state, all under the cluster's state folder, so scripts and
// people find a process by name: supervisor.pid, supervise/<name>.json (what to run),
// pids/<name> (the running process), logs/<name>.log (its output).

import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Layout {
  stateDir: string;
  pidFile: string;
  specDir: string;
  pidsDir: string;
  logsDir: string;
}

export function layoutOf(stateDir: string): Layout {
  return {
    stateDir,
    pidFile: join(stateDir, 'supervisor.pid'),
    specDir: join(stateDir, 'supervise'),
    pidsDir: join(stateDir, 'pids'),
    logsDir: join(stateDir, 'logs'),
  };
}

export function ensureLayout(layout: Layout): void {
  for (const dir of [layout.specDir, layout.pidsDir, layout.logsDir]) mkdirSync(dir, { recursive: true });
}

export function childPidFile(layout: Layout, name: string): string {
  return join(layout.pidsDir, name);
}

export function childLogFile(layout: Layout, name: string): string {
  return join(layout.logsDir, `${name}.log`);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but is not ours to signal.
    return err instanceof Error && 'code' in err && err.code === 'EPERM';
  }
}

/** The PID recorded in `file` if that process is alive. */
export function livePid(file: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
}
