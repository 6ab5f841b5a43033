// iptables on the host (or in a network namespace) for the service proxy and the pod
// network: chains and rules ensured once, payloads fed to iptables-restore, and everything
// of one chain prefix (one cluster) removed again.

import { runProcess, type RunResult } from './command.js';

export interface IptablesOptions {
  /** Name of a network namespace under /run/netns to run the commands in. */
  netns?: string;
  timeoutMs?: number;
}

export type { RunResult };

export class IptablesError extends Error {
  constructor(
    message: string,
    readonly result?: RunResult,
  ) {
    super(message);
    this.name = 'IptablesError';
  }
}

/** Names of the chains with this prefix declared in an iptables-save dump of one table. */
export function parseChains(save: string, prefix: string): string[] {
  const out: string[] = [];
  for (const line of save.split('\n')) {
    const name = /^:(\S+)\s/.exec(line)?.[1];
    if (name !== undefined && name.startsWith(prefix)) out.push(name);
  }
  return out;
}

/**
 * An iptables-restore payload for one table that removes every chain of the prefix and
 * every rule of another chain that jumps to one of them (from an iptables-save dump).
 */
export function removalPayload(table: string, save: string, prefix: string): string | undefined {
  const chains = parseChains(save, prefix);
  if (chains.length === 0) return undefined;
  const owned = new Set(chains);
  const jumps = save.split('\n').filter((line) => {
    const m = /^-A (\S+) .*-j (\S+)/.exec(line);
    return m !== null && !owned.has(m[1] ?? '') && owned.has(m[2] ?? '');
  });
  // Declaring a chain flushes it; then the jumps to it go, then the chain.
  return [
    `*${table}`,
    ...chains.map((c) => `:${c} - [0:0]`),
    ...jumps.map((j) => j.replace(/^-A /, '-D ')),
    ...chains.map((c) => `-X ${c}`),
    'COMMIT',
    '',
  ].join('\n');
}

export class Iptables {
  private readonly netns: string | undefined;
  private readonly timeoutMs: number;

  constructor(options: IptablesOptions = {}) {
    this.netns = options.netns;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** Runs a command (inside the netns if configured); never rejects on a non-zero exit. */
  run(cmd: string, args: readonly string[], stdin?: string): Promise<RunResult> {
    const [file, argv] = this.netns
      ? ['nsenter', [`--net=/run/netns/${this.netns}`, '--', cmd, ...args]]
      : [cmd, [...args]];
    return runProcess(file, argv, { timeoutMs: this.timeoutMs, ...(stdin !== undefined ? { input: stdin } : {}) });
  }

  private async must(cmd: string, args: readonly string[], stdin?: string): Promise<string> {
    const r = await this.run(cmd, args, stdin);
    if (r.code !== 0) {
      throw new IptablesError(`${cmd} ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`, r);
    }
    return r.stdout;
  }

  /** Chains of the prefix currently present in a table. */
  async existingChains(table: 'nat' | 'filter', prefix: string): Promise<string[]> {
    return parseChains(await this.must('iptables-save', ['-t', table]), prefix);
  }

  /** Creates a chain if missing (an existing one is kept). */
  async ensureChain(table: string, chain: string): Promise<void> {
    const r = await this.run('iptables', ['-w', '-t', table, '-N', chain]);
    if (r.code !== 0 && !/exists/i.test(r.stderr)) {
      throw new IptablesError(`iptables -t ${table} -N ${chain} failed: ${r.stderr.trim()}`, r);
    }
  }

  /** Inserts a rule at the top of a chain unless it is there already (`-C`). */
  async ensureRule(table: string, chain: string, spec: readonly string[]): Promise<void> {
    const check = await this.run('iptables', ['-w', '-t', table, '-C', chain, ...spec]);
    if (check.code === 0) return;
    await this.must('iptables', ['-w', '-t', table, '-I', chain, '1', ...spec]);
  }

  /** Whether a chain exists in a table. */
  async hasChain(table: string, chain: string): Promise<boolean> {
    return (await this.run('iptables', ['-w', '-t', table, '-S', chain])).code === 0;
  }

  /** Feeds a payload to `iptables-restore --noflush` (a declared chain is flushed first). */
  async restore(payload: string): Promise<void> {
    await this.must('iptables-restore', ['-w', '--noflush'], payload);
  }

  /**
   * Removes every chain whose name starts with the prefix (one cluster's, proxy and pod
   * network alike) and the rules that jump to them; other chains and rules stay.
   */
  async removeChains(prefix: string): Promise<void> {
    for (const table of ['nat', 'filter'] as const) {
      const payload = removalPayload(table, await this.must('iptables-save', ['-t', table]), prefix);
      if (payload !== undefined) await this.restore(payload);
    }
  }
}
