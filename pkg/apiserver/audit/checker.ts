// Which level a request is audited at: the first rule whose every non-empty selector matches
// decides, and a request no rule matches is not audited (level None). Matching follows
// kube-apiserver's policy checker, including its resource forms: `pods`, `pods/log`,
// `pods/*` (pods and all their subresources), `*/status` (every status subresource) and `*`.

import type { Level, Policy, PolicyRule, Stage } from './types.js';

/** What the policy looks at; the apiserver fills it from the authenticated user and RequestInfo. */
export interface AuditAttributes {
  /** The authenticated user (not the impersonated one: audit runs before impersonation). */
  user: { username: string; groups?: readonly string[] } | undefined;
  /** Kubernetes verb (get, list, watch, create, …) or, for non-resource URLs, the lowercase HTTP method. */
  verb: string;
  /** Set for resource requests; absent for non-resource URLs such as /healthz or /version. */
  resource?: {
    apiGroup: string;
    resource: string;
    subresource?: string;
    /** '' or absent for cluster-scoped requests. */
    namespace?: string;
    name?: string;
  };
  /** The URL path, matched against nonResourceURLs. */
  path: string;
}

/** What a request is audited with. */
export interface RequestAuditConfig {
  level: Level;
  omitStages: readonly Stage[];
  omitManagedFields: boolean;
}

function unionStages(...lists: readonly (readonly Stage[])[]): Stage[] {
  return [...new Set(lists.flat())];
}

function pathMatches(path: string, spec: string): boolean {
  if (spec === '*' || spec === path) return true;
  // A trailing `*` is a prefix match: `/healthz*` covers `/healthz/etcd`.
  return spec.endsWith('*') && path.startsWith(spec.replace(/\*+$/, ''));
}

function resourceMatches(res: string, target: { resource: string; subresource: string }): boolean {
  const combined = target.subresource === '' ? target.resource : `${target.resource}/${target.subresource}`;
  if (res === '*' || res === combined) return true;
  if (target.subresource !== '' && res.startsWith('*/') && res.slice(2) === target.subresource) return true;
  return res.endsWith('/*') && res.slice(0, -2) === target.resource;
}

function ruleMatchesResource(rule: PolicyRule, resource: AuditAttributes['resource']): boolean {
  if (resource === undefined) return false;
  if (rule.namespaces.length > 0 && !rule.namespaces.includes(resource.namespace ?? '')) return false;
  if (rule.resources.length === 0) return true;
  const target = { resource: resource.resource, subresource: resource.subresource ?? '' };
  const name = resource.name ?? '';
  return rule.resources.some((gr) => {
    if (gr.group !== resource.apiGroup) return false;
    if (gr.resources.length === 0) return true;
    if (gr.resourceNames.length > 0 && !gr.resourceNames.includes(name)) return false;
    return gr.resources.some((res) => resourceMatches(res, target));
  });
}

/** Whether every non-empty selector of the rule matches the request. */
export function ruleMatches(rule: PolicyRule, attrs: AuditAttributes): boolean {
  const { user } = attrs;
  if (rule.users.length > 0 && (user === undefined || !rule.users.includes(user.username))) return false;
  if (rule.userGroups.length > 0 && !(user?.groups ?? []).some((g) => rule.userGroups.includes(g))) return false;
  if (rule.verbs.length > 0 && !rule.verbs.includes(attrs.verb)) return false;
  if (rule.namespaces.length > 0 || rule.resources.length > 0) return ruleMatchesResource(rule, attrs.resource);
  if (rule.nonResourceURLs.length > 0)
    return attrs.resource === undefined && rule.nonResourceURLs.some((spec) => pathMatches(attrs.path, spec));
  return true;
}

/** Evaluates a policy for one request; build once with policyEvaluator and call per request. */
export type PolicyEvaluator = (attrs: AuditAttributes) => RequestAuditConfig;

/** Precomputes each rule's stages (its own plus the policy's) and returns the evaluator. */
export function policyEvaluator(policy: Policy): PolicyEvaluator {
  const rules = policy.rules.map((rule) => ({
    rule,
    config: {
      level: rule.level,
      omitStages: unionStages(policy.omitStages, rule.omitStages),
      omitManagedFields: rule.omitManagedFields ?? policy.omitManagedFields,
    },
  }));
  const fallback: RequestAuditConfig = {
    level: 'None',
    omitStages: [...policy.omitStages],
    omitManagedFields: policy.omitManagedFields,
  };
  return (attrs) => rules.find(({ rule }) => ruleMatches(rule, attrs))?.config ?? fallback;
}
