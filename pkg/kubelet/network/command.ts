// Running the host's network tools (ip, iptables, iptables-restore) without a shell:
// bounded in time, output captured, a non-zero exit is an error that quotes stderr.

import { spawn } from 'node:child_process';

export class CommandError extends Error {
  constructor(readonly command: string, readonly code: number | null, readonly stderr: string) {
    super(`${command} failed (${code ?? 'killed'}): ${stderr.trim().split('\n').slice(-3).join(' / ')}`);
  }
}

export function runCommand(cmd: string, args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] }) as import('node:child_process').ChildProcessByStdio<import('node:stream').Writable | null, import('node:stream').Readable, import('node:stream').Readable>;
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout);
      else reject(new CommandError(`${cmd} ${args.join(' ')}`, code, stderr));
    });
    if (child.stdin !== null) {
      // A tool that exits before reading its input fails through its exit code, not EPIPE.
      child.stdin.on('error', () => undefined);
      child.stdin.end(opts.input);
    }
  });
}

/** Whether an iptables rule exists (`-C`), then appends or inserts it if not. */
export async function ensureRule(table: string, chain: string, rule: string[], position: 'append' | 'insert' = 'append'): Promise<void> {
  try {
    await runCommand('iptables', ['-w', '5', '-t', table, '-C', chain, ...rule]);
  } catch (err) {
    if (!(err instanceof CommandError)) throw err;
    await runCommand('iptables', ['-w', '5', '-t', table, position === 'append' ? '-A' : '-I', chain, ...(position === 'insert' ? ['1'] : []), ...rule]);
  }
}

/** Creates a chain if missing (an existing one is kept). */
export async function ensureChain(table: string, chain: string): Promise<void> {
  try {
    await runCommand('iptables', ['-w', '5', '-t', table, '-N', chain]);
  } catch (err) {
    if (!(err instanceof CommandError) || !/exists/i.test(err.stderr)) throw err;
  }
}
