// Aggregated ClusterRoles (`admin`, `edit`, `view` and users' own): a role with an
// aggregationRule holds the union of the rules of every ClusterRole whose labels match one of
// its selectors. Kubernetes' clusterrole-aggregation controller writes that union into the
// role's `rules`; this is the union it computes.

import { isDeepStrictEqual } from 'node:util';
import { selectorMatches } from './selectors.js';
import type { ClusterRole, PolicyRule } from './types/index.js';

/** The parts of a ClusterRole aggregation reads. */
export type AggregationView = Readonly<Pick<ClusterRole, 'metadata' | 'rules' | 'aggregationRule'>>;

/** The rules an aggregated role should hold, in a stable order; undefined when it aggregates nothing. */
export function aggregatedRules(role: AggregationView, all: readonly AggregationView[]): PolicyRule[] | undefined {
  const selectors = role.aggregationRule?.clusterRoleSelectors;
  if (selectors === undefined) return undefined;
  const sources = all
    .filter((c) => c.metadata.name !== role.metadata.name)
    .filter((c) => selectors.some((s) => selectorMatches(s, c.metadata.labels)))
    .sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
  const rules: PolicyRule[] = [];
  for (const c of sources) {
    for (const r of c.rules ?? []) if (!rules.some((have) => isDeepStrictEqual(have, r))) rules.push(r);
  }
  return rules;
}

/**
 * Fills every aggregated role of a set from the others, in place, until nothing changes (an
 * aggregated role may feed another: `view` feeds `edit`, which feeds `admin`). Bounded by the
 * number of roles, since each pass settles at least one more level of the chain.
 */
export function aggregateAll<T extends Pick<ClusterRole, 'metadata' | 'rules' | 'aggregationRule'>>(roles: T[]): T[] {
  for (let pass = 0; pass < roles.length; pass++) {
    let changed = false;
    for (const r of roles) {
      const rules = aggregatedRules(r, roles);
      if (rules === undefined || isDeepStrictEqual(rules, r.rules ?? [])) continue;
      r.rules = rules;
      changed = true;
    }
    if (!changed) break;
  }
  return roles;
}
