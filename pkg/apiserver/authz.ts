// Authorization, until RBAC lands: certificate users may do everything; the two kinds of
// caller without a certificate get exactly what Kubernetes' default bindings give them:
// - anonymous: read the public `kube-public/cluster-info` ConfigMap (system:public-info-viewer
//   covers /healthz, /version, which server.ts serves before authentication);
// - bootstrap tokens (group system:bootstrappers): create and read their
//   CertificateSigningRequests (system:node-bootstrapper).
// A refusal is a 403 Status worded as kube-apiserver words it.

import { ApiError } from '../errors/index.js';
import { CLUSTER_INFO } from '../api/bootstrap-token.js';
import type { ResourceRequest as RequestInfo } from './request-info.js';
import { isAnonymous, type UserInfo } from './authn.js';

function allowed(user: UserInfo, info: RequestInfo): boolean {
  if (isAnonymous(user)) {
    return info.verb === 'get' && info.resource.group === '' && info.resource.plural === 'configmaps' &&
      info.subresource === undefined && info.namespace === CLUSTER_INFO.namespace && info.name === CLUSTER_INFO.name;
  }
  if (user.groups.includes('system:bootstrappers')) {
    return info.resource.group === 'certificates.k8s.io' && info.resource.plural === 'certificatesigningrequests' &&
      info.subresource === undefined && ['create', 'get', 'list', 'watch'].includes(info.verb);
  }
  return true;
}

export function authorize(user: UserInfo, info: RequestInfo): void {
  if (allowed(user, info)) return;
  const r = info.resource;
  const what = info.subresource ? `${r.plural}/${info.subresource}` : r.plural;
  const named = info.name !== undefined ? `${what} "${info.name}"` : what;
  const scope = info.namespace !== undefined ? `in the namespace "${info.namespace}"` : 'at the cluster scope';
  throw new ApiError(
    'Forbidden',
    `${named} is forbidden: User "${user.name}" cannot ${info.verb} resource "${what}" in API group "${r.group}" ${scope}`,
    { group: r.group, kind: r.plural, ...(info.name !== undefined ? { name: info.name } : {}) },
  );
}

/** Non-resource paths (discovery, OpenAPI, metrics) are for authenticated users. */
export function authorizeNonResource(user: UserInfo, verb: string, path: string): void {
  if (!isAnonymous(user) && !user.groups.includes('system:bootstrappers')) return;
  if (user.groups.includes('system:bootstrappers') && (path === '/api' || path.startsWith('/api/') || path === '/apis' || path.startsWith('/apis/'))) return;
  throw new ApiError('Forbidden', `forbidden: User "${user.name}" cannot ${verb.toLowerCase()} path "${path}"`);
}
