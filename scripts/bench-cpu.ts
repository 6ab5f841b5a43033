// CPU accounting for the API benchmark: the apiserver's (through bench-cpu-preload) and the
// benchmark process's own, so figures say what a create costs the server and how much of the
// shared cores the load generator took.

import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CPU_LINE_PREFIX } from './bench-cpu-preload.js';

/** node options that load the probe into the apiserver. */
export const SERVER_CPU_NODE_ARGS = ['--import', fileURLToPath(new URL('./bench-cpu-preload.js', import.meta.url))];

const SAMPLE_TIMEOUT_MS = 5_000;

/** Asks a server started with SERVER_CPU_NODE_ARGS for its CPU time, user + system, in µs. */
export class ServerCpuProbe {
  private readonly waiting: ((micros: number) => void)[] = [];
  private buffered = '';

  constructor(private readonly child: ChildProcess) {
    child.stderr?.on('data', (chunk: Buffer) => this.onData(chunk));
  }

  sample(): Promise<number> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the apiserver did not report its CPU time')), SAMPLE_TIMEOUT_MS);
      this.waiting.push((micros) => {
        clearTimeout(timer);
        resolve(micros);
      });
      this.child.kill('SIGUSR2');
    });
  }

  private onData(chunk: Buffer): void {
    // Bounded: only the tail after the last newline is kept.
    const lines = (this.buffered + chunk.toString('utf8')).split('\n');
    this.buffered = (lines.pop() ?? '').slice(-4096);
    for (const line of lines) {
      const match = new RegExp(`^${CPU_LINE_PREFIX} (\\d+) (\\d+)$`).exec(line);
      if (match === null) continue;
      this.waiting.shift()?.(Number(match[1]) + Number(match[2]));
    }
  }
}

/** CPU time of this process, user + system, in µs. */
export function ownCpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}
