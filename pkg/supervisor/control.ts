// Talking to a cluster's supervisor from outside (up.sh through cmd/supervisor.ts): start it
// detached, add a child, claim and release its PID file. Every wait is bounded.

import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { childPidFile, ensureLayout, livePid, type Layout } from './layout.js';
import { readSpecs, writeSpec, type ChildSpec } from './spec.js';

const POLL_MS = 50;

/**
 * Records this process as the supervisor of `layout`; false when another live one holds it.
 * A PID file left by a dead supervisor is taken over.
 */
export function claimPidFile(layout: Layout): boolean {
  if (livePid(layout.pidFile) !== undefined) return false;
  rmSync(layout.pidFile, { force: true });
  try {
    writeFileSync(layout.pidFile, `${process.pid}\n`, { flag: 'wx' });
    return true;
  } catch {
    return false; // another supervisor won the race
  }
}

export function releasePidFile(layout: Layout): void {
  if (livePid(layout.pidFile) === process.pid) rmSync(layout.pidFile, { force: true });
}

/**
 * Starts `node entry run ...` as a detached supervisor of `layout` (its output appended to
 * logs/supervisor.log) and resolves once it holds the PID file. A live one is left alone.
 */
export async function startDetached(
  layout: Layout,
  command: { entry: string; runArgs: string[]; timeoutMs?: number },
): Promise<{ pid: number; started: boolean }> {
  const { entry, runArgs, timeoutMs = 15_000 } = command;
  const running = livePid(layout.pidFile);
  if (running !== undefined) return { pid: running, started: false };
  ensureLayout(layout);
  const logFile = join(layout.logsDir, 'supervisor.log');
  const out = openSync(logFile, 'a');
  const child = spawn(process.execPath, [entry, 'run', '--state', layout.stateDir, ...runArgs], {
    detached: true,
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  child.unref();
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const pid = livePid(layout.pidFile);
    if (pid !== undefined && pid === child.pid) return { pid, started: true };
    if (child.exitCode !== null || child.signalCode !== null) break;
    await sleep(POLL_MS);
  }
  throw new Error(`the supervisor did not start; see ${logFile}:\n${tail(logFile)}`);
}

/**
 * Adds a child to the running supervisor and resolves with its PID once it runs. A child of
 * that name already running is left alone.
 */
export async function addChild(
  layout: Layout,
  child: Omit<ChildSpec, 'order'>,
  timeoutMs = 15_000,
): Promise<{ pid: number; started: boolean }> {
  const supervisor = livePid(layout.pidFile);
  if (supervisor === undefined) throw new Error(`no supervisor runs for ${layout.stateDir} (start it first)`);
  const pidFile = childPidFile(layout, child.name);
  const specFile = join(layout.specDir, `${child.name}.json`);
  const running = livePid(pidFile);
  if (running !== undefined && existsSync(specFile)) return { pid: running, started: false };
  // Started after every child already there, stopped before them.
  const order = Math.max(0, ...(readSpecs(layout, () => undefined) ?? []).map((s) => s.order)) + 1;
  writeSpec(layout, { ...child, order });
  process.kill(supervisor, 'SIGHUP');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const pid = livePid(pidFile);
    if (pid !== undefined) return { pid, started: true };
    await sleep(POLL_MS);
  }
  throw new Error(
    `${child.name} did not start within ${timeoutMs / 1000} s; see ${join(layout.logsDir, 'supervisor.log')}`,
  );
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '';
  }
}
