// The authorization chain, in kube-apiserver's order: `system:masters` is the superuser group;
// node identities go to the node authorizer; everything else, and whatever the node
// authorizer does not allow, to RBAC. Deny unless something allows; a refusal is a 403 worded
// as kube-apiserver words it, with the last authorizer's reason after a colon.

import { ApiError } from '../errors/index.js';
import type { UserInfo } from './authn.js';
import { authorizeNode, nodeName } from './nodeauth/authorizer.js';
import type { NodeGraph } from './nodeauth/graph.js';
import { authorizeRbac, type Decision, type PolicySource } from './rbac/authorizer.js';
import type { Attributes, ResourceAttributes } from './rbac/rules.js';
import type { ResourceRequest } from './request-info.js';

export const SUPERUSER_GROUP = 'system:masters';

export interface AuthorizerSources {
  rbac: PolicySource;
  nodes: NodeGraph;
}

/**
 * A parsed API request as the authorizers see it. Streams into a pod (exec, attach,
 * port-forward) need `create`, as Kubernetes asks of websocket upgrades since 1.31.
 */
export function resourceAttributes(info: ResourceRequest): ResourceAttributes {
  return {
    kind: 'resource',
    verb: info.verb === 'connect' ? 'create' : info.verb,
    apiGroup: info.resource.group,
    resource: info.resource.plural,
    subresource: info.subresource,
    namespace: info.namespace,
    name: info.name,
  };
}

/** One decision, for requests and for access reviews alike. */
export function decide(sources: AuthorizerSources, user: UserInfo, a: Attributes): Decision {
  if (user.groups.includes(SUPERUSER_GROUP)) return { allowed: true, reason: `member of ${SUPERUSER_GROUP}` };
  let reason = '';
  const node = nodeName(user);
  if (node !== undefined && a.kind === 'resource') {
    const d = authorizeNode(node, a, sources.nodes);
    if (d?.allowed === true) return d;
    reason = d?.reason ?? '';
  }
  const rbac = authorizeRbac(sources.rbac, user, a);
  return rbac.allowed ? rbac : { allowed: false, reason };
}

/** kube-apiserver's 403 for a refused request. */
export function forbidden(user: UserInfo, a: Attributes, reason: string): ApiError {
  const why = reason === '' ? '' : `: ${reason}`;
  if (a.kind === 'nonResource') {
    return new ApiError('Forbidden', `forbidden: User "${user.name}" cannot ${a.verb} path "${a.path}"${why}`);
  }
  const what = a.subresource === undefined ? a.resource : `${a.resource}/${a.subresource}`;
  const named = a.name !== undefined && a.name !== '' ? `${what} "${a.name}"` : what;
  const scope =
    a.namespace !== undefined && a.namespace !== '' ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
  return new ApiError(
    'Forbidden',
    `${named} is forbidden: User "${user.name}" cannot ${a.verb} resource "${what}" in API group "${a.apiGroup}" ${scope}${why}`,
    { details: { group: a.apiGroup, kind: a.resource, ...(a.name !== undefined ? { name: a.name } : {}) } },
  );
}

/** Throws the 403 unless the chain allows the request. */
export function authorizeRequest(sources: AuthorizerSources, user: UserInfo, a: Attributes): void {
  const d = decide(sources, user, a);
  if (!d.allowed) throw forbidden(user, a, d.reason);
}
