// Escalation prevention: a user may create or change a role, or bind one, only if they already
// hold every permission it grants (unless they have the `escalate` or `bind` verb on it, which
// the caller checks). Kubernetes compares by splitting the requested rules into single
// verb/group/resource/name (or verb/URL) rules and finding each inside one of the user's rules;
// a wildcard in a requested rule is covered only by the same wildcard.

import type { PolicyRule } from '../../api/index.js';

const ALL = '*';

function covers(owned: readonly string[] | undefined, wanted: string): boolean {
  return (owned ?? []).some((o) => o === ALL || o === wanted);
}

function resourceCovers(owned: readonly string[] | undefined, wanted: string): boolean {
  if (covers(owned, wanted)) return true;
  const slash = wanted.indexOf('/');
  return slash > 0 && (owned ?? []).includes(`*${wanted.slice(slash)}`);
}

function urlCovers(owned: readonly string[] | undefined, wanted: string): boolean {
  return (owned ?? []).some((o) => o === ALL || o === wanted || (o.endsWith(ALL) && wanted.startsWith(o.slice(0, -1))));
}

/** One requested permission at its finest: one verb on one resource (and name), or on one URL. */
function* atoms(rule: PolicyRule): Generator<PolicyRule> {
  for (const verb of rule.verbs) {
    for (const url of rule.nonResourceURLs ?? []) yield { verbs: [verb], nonResourceURLs: [url] };
    for (const group of rule.apiGroups ?? []) {
      for (const resource of rule.resources ?? []) {
        const names = rule.resourceNames ?? [];
        if (names.length === 0) yield { verbs: [verb], apiGroups: [group], resources: [resource] };
        for (const name of names)
          yield { verbs: [verb], apiGroups: [group], resources: [resource], resourceNames: [name] };
      }
    }
  }
}

function ownedCovers(owner: PolicyRule, atom: PolicyRule): boolean {
  const verb = atom.verbs[0] ?? '';
  if (!covers(owner.verbs, verb)) return false;
  const url = atom.nonResourceURLs?.[0];
  if (url !== undefined) return urlCovers(owner.nonResourceURLs, url);
  if (!covers(owner.apiGroups, atom.apiGroups?.[0] ?? '')) return false;
  if (!resourceCovers(owner.resources, atom.resources?.[0] ?? '')) return false;
  const ownedNames = owner.resourceNames ?? [];
  if (ownedNames.length === 0) return true;
  const name = atom.resourceNames?.[0];
  return name !== undefined && ownedNames.includes(name);
}

/** The requested permissions that the owner's rules do not cover (empty: no escalation). */
export function uncoveredRules(owner: readonly PolicyRule[], requested: readonly PolicyRule[]): PolicyRule[] {
  const missing: PolicyRule[] = [];
  for (const rule of requested) {
    for (const atom of atoms(rule)) if (!owner.some((o) => ownedCovers(o, atom))) missing.push(atom);
  }
  return missing;
}

/** `{APIGroups:["apps"], Resources:["deployments"], Verbs:["create"]}`: how Kubernetes prints a rule in a refusal. */
export function describeRule(rule: PolicyRule): string {
  const parts: string[] = [];
  const list = (xs: readonly string[]): string => `[${xs.map((x) => JSON.stringify(x)).join(' ')}]`;
  if (rule.apiGroups !== undefined) parts.push(`APIGroups:${list(rule.apiGroups)}`);
  if (rule.resources !== undefined) parts.push(`Resources:${list(rule.resources)}`);
  if (rule.resourceNames !== undefined) parts.push(`ResourceNames:${list(rule.resourceNames)}`);
  if (rule.nonResourceURLs !== undefined) parts.push(`NonResourceURLs:${list(rule.nonResourceURLs)}`);
  parts.push(`Verbs:${list(rule.verbs)}`);
  return `{${parts.join(', ')}}`;
}
