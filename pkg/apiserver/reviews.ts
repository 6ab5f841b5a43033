// The review APIs kubectl's `auth can-i` and `auth whoami` use: SelfSubjectAccessReview,
// SubjectAccessReview and LocalSubjectAccessReview (authorization.k8s.io/v1: may someone do
// this?), SelfSubjectRulesReview (what may I do in a namespace?) and SelfSubjectReview
// (authentication.k8s.io/v1: who am I?). Nothing is stored; the answer is the created object
// with its status filled in, decided by the same chain that authorizes requests.

import { isObject, type KubeObject, type PolicyRule } from '../api/index.js';
import { ApiError, invalid } from '../errors/index.js';
import type { UserInfo } from './authn.js';
import { decide, type AuthorizerSources } from './authorizer.js';
import type { ImpersonatedUser } from './impersonation.js';
import { nodeName } from './nodeauth/authorizer.js';
import { rulesFor } from './rbac/authorizer.js';
import type { Attributes } from './rbac/rules.js';

const AUTHZ_GROUP = 'authorization.k8s.io';

export interface AccessReviewStatus {
  allowed: boolean;
  denied?: boolean;
  reason?: string;
  evaluationError?: string;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** The request a review asks about, from its spec (exactly one of the two attribute kinds). */
function reviewedAttributes(kind: string, spec: Record<string, unknown>): Attributes {
  const res = spec['resourceAttributes'];
  const nonRes = spec['nonResourceAttributes'];
  const both = isObject(res) && isObject(nonRes);
  if (both || (!isObject(res) && !isObject(nonRes))) {
    throw invalid({ kind, group: AUTHZ_GROUP }, '', [
      {
        reason: 'FieldValueInvalid',
        field: both ? 'spec.resourceAttributes' : 'spec',
        message: both
          ? 'Invalid value: "": cannot be specified in combination with nonResourceAttributes'
          : 'Invalid value: "": exactly one of nonResourceAttributes or resourceAttributes must be specified',
      },
    ]);
  }
  if (isObject(res)) {
    const namespace = str(res['namespace']);
    const name = str(res['name']);
    const subresource = str(res['subresource']);
    return {
      kind: 'resource',
      verb: str(res['verb']),
      apiGroup: str(res['group']),
      resource: str(res['resource']),
      ...(namespace === '' ? {} : { namespace }),
      ...(name === '' ? {} : { name }),
      ...(subresource === '' ? {} : { subresource }),
    };
  }
  const n = isObject(nonRes) ? nonRes : {};
  return { kind: 'nonResource', verb: str(n['verb']), path: str(n['path']) };
}

function specOf(body: KubeObject): Record<string, unknown> {
  const spec = body['spec'];
  return isObject(spec) ? spec : {};
}

function answer(sources: AuthorizerSources, user: UserInfo, a: Attributes): AccessReviewStatus {
  const d = decide(sources, user, a);
  return d.reason === '' ? { allowed: d.allowed } : { allowed: d.allowed, reason: d.reason };
}

/** SelfSubjectAccessReview: the caller asks about itself. */
export function selfSubjectAccessReview(sources: AuthorizerSources, caller: UserInfo, body: KubeObject): KubeObject {
  const status = answer(sources, caller, reviewedAttributes('SelfSubjectAccessReview', specOf(body)));
  return { ...body, status };
}

/**
 * SubjectAccessReview (cluster-wide) and LocalSubjectAccessReview (in `namespace`): someone
 * allowed to create reviews asks about any user and groups.
 */
export function subjectAccessReview(
  sources: AuthorizerSources,
  body: KubeObject,
  local?: { namespace: string },
): KubeObject {
  const kind = local === undefined ? 'SubjectAccessReview' : 'LocalSubjectAccessReview';
  const spec = specOf(body);
  const user = str(spec['user']);
  const groups = strings(spec['groups']);
  if (user === '' && groups.length === 0) {
    throw invalid({ kind, group: AUTHZ_GROUP }, '', [
      {
        reason: 'FieldValueInvalid',
        field: 'spec.user',
        message: 'Invalid value: "": at least one of user or group must be specified',
      },
    ]);
  }
  const a = reviewedAttributes(kind, spec);
  if (local !== undefined && (a.kind !== 'resource' || (a.namespace ?? '') !== local.namespace)) {
    throw new ApiError('BadRequest', `spec.resourceAttributes.namespace must match namespace: ${local.namespace}`);
  }
  const status = answer(sources, { name: user, groups }, a);
  return { ...body, status };
}

function resourceRule(r: PolicyRule): Record<string, string[]> {
  const out: Record<string, string[]> = { verbs: r.verbs, apiGroups: r.apiGroups ?? [], resources: r.resources ?? [] };
  if (r.resourceNames !== undefined && r.resourceNames.length > 0) out['resourceNames'] = r.resourceNames;
  return out;
}

/** SelfSubjectRulesReview: the caller's rules in a namespace, as `kubectl auth can-i --list` prints them. */
export function selfSubjectRulesReview(sources: AuthorizerSources, caller: UserInfo, body: KubeObject): KubeObject {
  const namespace = str(specOf(body)['namespace']);
  const rules = rulesFor(sources.rbac, caller, namespace === '' ? undefined : namespace);
  const node = nodeName(caller) !== undefined;
  const status = {
    resourceRules: rules.filter((r) => (r.resources ?? []).length > 0).map(resourceRule),
    nonResourceRules: rules
      .filter((r) => (r.nonResourceURLs ?? []).length > 0)
      .map((r) => ({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs ?? [] })),
    // Kubernetes' node authorizer cannot list its rules either; the answer says so.
    incomplete: node,
    ...(node ? { evaluationError: 'node authorizer does not support user rule resolution' } : {}),
  };
  return { ...body, status };
}

/** SelfSubjectReview: who the caller is, after authentication and impersonation. */
export function selfSubjectReview(caller: ImpersonatedUser, body: KubeObject): KubeObject {
  const userInfo = {
    username: caller.name,
    groups: caller.groups,
    ...(caller.uid === undefined ? {} : { uid: caller.uid }),
    ...(caller.extra === undefined ? {} : { extra: caller.extra }),
  };
  return { ...body, status: { userInfo } };
}
