// One PolicyRule against one request, with Kubernetes' RBAC matching rules: `*` matches every
// verb, group, resource (subresources included) or URL; `pods/log` names a subresource and
// `*/scale` that subresource of any resource; resourceNames narrow a rule to named objects, so a
// request without a name (list, create, deletecollection) never matches such a rule; a
// nonResourceURL ending in `*` matches by prefix.

import type { PolicyRule } from '../../api/index.js';

/** A request as RBAC sees it: on an API resource, or on a path outside the API (`/healthz`). */
export type Attributes = ResourceAttributes | NonResourceAttributes;

export interface ResourceAttributes {
  kind: 'resource';
  /** get, list, watch, create, update, patch, delete, deletecollection, and the special verbs (bind, escalate, impersonate …). */
  verb: string;
  apiGroup: string;
  /** Plural, lower case: `pods`. */
  resource: string;
  subresource?: string | undefined;
  /** Absent for cluster-scoped resources and for requests across all namespaces. */
  namespace?: string | undefined;
  name?: string | undefined;
}

export interface NonResourceAttributes {
  kind: 'nonResource';
  /** The HTTP method in lower case: get, post, put … */
  verb: string;
  path: string;
}

const ALL = '*';

function verbMatches(rule: PolicyRule, verb: string): boolean {
  return rule.verbs.some((v) => v === ALL || v === verb);
}

function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  return (rule.apiGroups ?? []).some((g) => g === ALL || g === group);
}

function resourceMatches(rule: PolicyRule, a: ResourceAttributes): boolean {
  const sub = a.subresource ?? '';
  const combined = sub === '' ? a.resource : `${a.resource}/${sub}`;
  return (rule.resources ?? []).some((r) => r === ALL || r === combined || (sub !== '' && r === `*/${sub}`));
}

function resourceNameMatches(rule: PolicyRule, name: string | undefined): boolean {
  const names = rule.resourceNames ?? [];
  if (names.length === 0) return true;
  return name !== undefined && name !== '' && names.includes(name);
}

function urlMatches(rule: PolicyRule, path: string): boolean {
  return (rule.nonResourceURLs ?? []).some(
    (u) => u === ALL || u === path || (u.endsWith(ALL) && path.startsWith(u.slice(0, -1))),
  );
}

/** Whether one rule allows the request. */
export function ruleAllows(rule: PolicyRule, a: Attributes): boolean {
  if (!verbMatches(rule, a.verb)) return false;
  if (a.kind === 'nonResource') return urlMatches(rule, a.path);
  return apiGroupMatches(rule, a.apiGroup) && resourceMatches(rule, a) && resourceNameMatches(rule, a.name);
}
