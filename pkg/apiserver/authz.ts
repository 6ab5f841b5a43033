// Authorization, until RBAC lands: certificate users may do everything, except node agents
// (group system:nodes), which are held to Kubernetes' Node authorizer and NodeRestriction:
// they read freely but write only their own Node and Lease, the pods bound to them, events
// and their own certificate requests. The two kinds of caller without a certificate get
// exactly what Kubernetes' default bindings give them:
// - anonymous: read the public `kube-public/cluster-info` ConfigMap (system:public-info-viewer
//   covers /healthz, /version, which server.ts serves before authentication);
// - bootstrap tokens (group system:bootstrappers): create and read their
//   CertificateSigningRequests (system:node-bootstrapper).
// A refusal is a 403 Status worded as kube-apiserver words it.

import { ApiError } from '../errors/index.js';
import { CLUSTER_INFO } from '../bootstrap/index.js';
import type { ResourceRequest as RequestInfo } from './request-info.js';
import { isAnonymous, type UserInfo } from './authn.js';

const READ_VERBS = ['get', 'list', 'watch'];

/** The node name of a node agent's identity (`system:node:<name>` in system:nodes). */
export function nodeOf(user: UserInfo): string | undefined {
  if (!user.groups.includes('system:nodes') || !user.name.startsWith('system:node:')) return undefined;
  return user.name.slice('system:node:'.length);
}

/** Looks up the node a pod is bound to (undefined: no such pod). */
export type PodNodeLookup = (namespace: string, name: string) => Promise<string | undefined>;

/** What a node agent may do; `pods` writes are checked against where the pod runs. */
async function nodeAllowed(node: string, info: RequestInfo, podNode: PodNodeLookup): Promise<boolean> {
  const r = info.resource;
  const sub = info.subresource;
  if (READ_VERBS.includes(info.verb) && sub !== 'exec' && sub !== 'attach') return true;
  if (r.group === '' && r.plural === 'nodes') return info.verb === 'create' || info.name === node;
  if (r.group === 'coordination.k8s.io' && r.plural === 'leases')
    return info.namespace === 'kube-node-lease' && (info.verb === 'create' || info.name === node);
  if (r.group === '' && r.plural === 'events') return ['create', 'update', 'patch'].includes(info.verb);
  if (r.group === 'certificates.k8s.io' && r.plural === 'certificatesigningrequests')
    return info.verb === 'create' && sub === undefined;
  if (
    r.group === '' &&
    r.plural === 'pods' &&
    info.name !== undefined &&
    (info.verb === 'delete' || sub === 'status')
  ) {
    return (await podNode(info.namespace ?? '', info.name)) === node;
  }
  return false;
}

function allowed(user: UserInfo, info: RequestInfo): boolean {
  if (isAnonymous(user)) {
    return (
      info.verb === 'get' &&
      info.resource.group === '' &&
      info.resource.plural === 'configmaps' &&
      info.subresource === undefined &&
      info.namespace === CLUSTER_INFO.namespace &&
      info.name === CLUSTER_INFO.name
    );
  }
  if (user.groups.includes('system:bootstrappers')) {
    return (
      info.resource.group === 'certificates.k8s.io' &&
      info.resource.plural === 'certificatesigningrequests' &&
      info.subresource === undefined &&
      ['create', 'get', 'list', 'watch'].includes(info.verb)
    );
  }
  return true;
}

export async function authorize(user: UserInfo, info: RequestInfo, podNode: PodNodeLookup): Promise<void> {
  const node = nodeOf(user);
  if (node !== undefined ? await nodeAllowed(node, info, podNode) : allowed(user, info)) return;
  const r = info.resource;
  const what = info.subresource ? `${r.plural}/${info.subresource}` : r.plural;
  const named = info.name !== undefined ? `${what} "${info.name}"` : what;
  const scope = info.namespace !== undefined ? `in the namespace "${info.namespace}"` : 'at the cluster scope';
  throw new ApiError(
    'Forbidden',
    `${named} is forbidden: User "${user.name}" cannot ${info.verb} resource "${what}" in API group "${r.group}" ${scope}`,
    { details: { group: r.group, kind: r.plural, ...(info.name !== undefined ? { name: info.name } : {}) } },
  );
}

/** Non-resource paths (discovery, OpenAPI, metrics) are for authenticated users. */
export function authorizeNonResource(user: UserInfo, verb: string, path: string): void {
  if (!isAnonymous(user) && !user.groups.includes('system:bootstrappers')) return;
  if (
    user.groups.includes('system:bootstrappers') &&
    (path === '/api' || path.startsWith('/api/') || path === '/apis' || path.startsWith('/apis/'))
  )
    return;
  throw new ApiError('Forbidden', `forbidden: User "${user.name}" cannot ${verb.toLowerCase()} path "${path}"`);
}
