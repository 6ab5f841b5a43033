// The service proxy's iptables: its chains and the jumps to them from the built-in chains,
// then the payload from rules.ts in one iptables-restore.

import { Iptables } from '../host/index.js';
import { buildNatRules, type NatRulesInput, type ProxyChains } from './rules.js';

/** The jump rules from built-in chains to the proxy's: [table, chain, rule spec]. */
export function jumpRules(chains: ProxyChains): ReadonlyArray<readonly [string, string, readonly string[]]> {
  const jump = (comment: string, target: string): string[] => ['-m', 'comment', '--comment', comment, '-j', target];
  // New connections to a Service without endpoints are rejected from the filter table.
  const rejects = ['-m', 'conntrack', '--ctstate', 'NEW', ...jump('coxswain service rejects', chains.services)];
  return [
    ['nat', 'PREROUTING', jump('coxswain service portals', chains.services)],
    ['nat', 'OUTPUT', jump('coxswain service portals', chains.services)],
    ['nat', 'POSTROUTING', jump('coxswain postrouting rules', chains.postrouting)],
    ['filter', 'INPUT', rejects],
    ['filter', 'FORWARD', rejects],
    ['filter', 'OUTPUT', rejects],
  ];
}

export class ProxyIptables extends Iptables {
  /** Ensures the top chains exist and that each built-in chain jumps to ours exactly once. */
  async ensureJumps(chains: ProxyChains): Promise<void> {
    for (const [table, chain] of [
      ['nat', chains.services],
      ['nat', chains.nodePorts],
      ['nat', chains.postrouting],
      ['filter', chains.services],
    ] as const) {
      await this.ensureChain(table, chain);
    }
    for (const [table, chain, spec] of jumpRules(chains)) await this.ensureRule(table, chain, spec);
  }

  /** One full sync: learn existing chains, ensure jumps, restore the payload. */
  async sync(input: Omit<NatRulesInput, 'existingChains' | 'existingFilterChains'>): Promise<void> {
    const prefix = input.chains.prefix;
    const [nat, filter] = [await this.existingChains('nat', prefix), await this.existingChains('filter', prefix)];
    await this.ensureJumps(input.chains);
    await this.restore(buildNatRules({ ...input, existingChains: nat, existingFilterChains: filter }));
  }
}
