/**
 * Applies the payload from rules.ts with iptables-restore, ensures the jump
 * rules from the built-in chains, and can remove everything again.
 */
import { runProcess, type RunResult } from '../network/command.js';
import { buildNatRules, CHAIN_PREFIX, NODEPORTS_CHAIN, POSTROUTING_CHAIN, SERVICES_CHAIN } from './rules.js';
import type { NatRulesInput } from './rules.js';

export interface IptablesOptions {
  /** Name of a network namespace under /run/netns to run the commands in. */
  netns?: string;
  timeoutMs?: number;
}

export type { RunResult };

/** The jump rules from built-in chains: [table, chain, rule spec]. */
export const JUMP_RULES: ReadonlyArray<readonly [string, string, readonly string[]]> = [
  ['nat', 'PREROUTING', ['-m', 'comment', '--comment', 'coxswain service portals', '-j', SERVICES_CHAIN]],
  ['nat', 'OUTPUT', ['-m', 'comment', '--comment', 'coxswain service portals', '-j', SERVICES_CHAIN]],
  ['nat', 'POSTROUTING', ['-m', 'comment', '--comment', 'coxswain postrouting rules', '-j', POSTROUTING_CHAIN]],
  ['filter', 'INPUT', ['-m', 'conntrack', '--ctstate', 'NEW', '-m', 'comment', '--comment', 'coxswain service rejects', '-j', SERVICES_CHAIN]],
  ['filter', 'FORWARD', ['-m', 'conntrack', '--ctstate', 'NEW', '-m', 'comment', '--comment', 'coxswain service rejects', '-j', SERVICES_CHAIN]],
  ['filter', 'OUTPUT', ['-m', 'conntrack', '--ctstate', 'NEW', '-m', 'comment', '--comment', 'coxswain service rejects', '-j', SERVICES_CHAIN]],
];

export class IptablesError extends Error {
  constructor(message: string, readonly result?: RunResult) {
    super(message);
    this.name = 'IptablesError';
  }
}

/** Names of the COX- chains declared in an iptables-save dump of one table. */
export function parseChains(save: string): string[] {
  const out: string[] = [];
  for (const line of save.split('\n')) {
    const m = /^:(\S+)\s/.exec(line);
    if (m && m[1]!.startsWith(CHAIN_PREFIX)) out.push(m[1]!);
  }
  return out;
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

  /** COX- chains currently present in a table. */
  async existingChains(table: 'nat' | 'filter'): Promise<string[]> {
    return parseChains(await this.must('iptables-save', ['-t', table]));
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

  /** Ensures the top chains exist and that each built-in chain jumps to ours exactly once. */
  async ensureJumps(): Promise<void> {
    for (const [table, chain] of [['nat', SERVICES_CHAIN], ['nat', NODEPORTS_CHAIN], ['nat', POSTROUTING_CHAIN], ['filter', SERVICES_CHAIN]] as const) {
      await this.ensureChain(table, chain);
    }
    for (const [table, chain, spec] of JUMP_RULES) await this.ensureRule(table, chain, spec);
  }

  /** One full sync: learn existing chains, ensure jumps, restore the payload. */
  async sync(input: Omit<NatRulesInput, 'existingChains' | 'existingFilterChains'>): Promise<void> {
    const [nat, filter] = [await this.existingChains('nat'), await this.existingChains('filter')];
    await this.ensureJumps();
    await this.restore(buildNatRules({ ...input, existingChains: nat, existingFilterChains: filter }));
  }

  /** Removes the jump rules and every COX- chain in nat and filter. */
  async cleanup(): Promise<void> {
    for (const [table, chain, spec] of JUMP_RULES) {
      // Delete every copy, in case an older agent duplicated them.
      for (let i = 0; i < 100; i++) {
        const r = await this.run('iptables', ['-w', '-t', table, '-D', chain, ...spec]);
        if (r.code !== 0) break;
      }
    }
    for (const table of ['nat', 'filter'] as const) {
      const chains = await this.existingChains(table);
      if (chains.length === 0) continue;
      const lines = [`*${table}`, ...chains.map((c) => `:${c} - [0:0]`), ...chains.map((c) => `-X ${c}`), 'COMMIT', ''];
      await this.restore(lines.join('\n'));
    }
  }
}
