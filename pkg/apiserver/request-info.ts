// Parses an API path into what it names (Kubernetes' RequestInfo): the resource, namespace,
// name, subresource and the verb the HTTP method means for it.

import { findByPlural, type ResourceInfo } from '../api/registry.js';
import { ApiError } from '../errors/index.js';
import { boolParam } from '../api/query-params.js';

export type RequestVerb =
  'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection' | 'connect';

export interface ResourceRequest {
  resource: ResourceInfo;
  namespace: string | undefined;
  name: string | undefined;
  subresource: string | undefined;
  verb: RequestVerb;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ApiError('BadRequest', `invalid URL escape in path segment ${JSON.stringify(segment)}`);
  }
}

/** Path segments after the prefix `/api/v1` or `/apis/<group>/<version>`; undefined when not an API path. */
function splitPath(path: string): { group: string; version: string; rest: string[] } | undefined {
  const parts = path
    .split('/')
    .filter((p) => p !== '')
    .map(decodeSegment);
  if (parts[0] === 'api' && parts.length >= 2) return { group: '', version: parts[1] ?? '', rest: parts.slice(2) };
  if (parts[0] === 'apis' && parts.length >= 3)
    return { group: parts[1] ?? '', version: parts[2] ?? '', rest: parts.slice(3) };
  return undefined;
}

/**
 * Resolves a resource path. Returns undefined for paths that are not resource paths at all
 * (discovery documents); throws NotFound for paths naming an unknown resource.
 */
export function parseResourceRequest(
  method: string,
  path: string,
  query: Record<string, unknown>,
): ResourceRequest | undefined {
  const split = splitPath(path);
  if (split === undefined || split.rest.length === 0) return undefined;
  let rest = split.rest;
  let namespace: string | undefined;
  // `/namespaces/{name}/status|finalize` are subresources of the namespace itself.
  const namespaceSubresource =
    rest[0] === 'namespaces' && rest.length === 3 && (rest[2] === 'status' || rest[2] === 'finalize');
  if (rest[0] === 'namespaces' && rest.length >= 3 && !namespaceSubresource) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [plural, name, subresource, ...extra] = rest;
  if (plural === undefined) return undefined;
  const resource = findByPlural(split.group, split.version, plural);
  // Only a proxy subresource goes on: the rest of the path is the proxied one.
  if (resource === undefined || (extra.length > 0 && subresource !== 'proxy')) {
    throw new ApiError('NotFound', 'the server could not find the requested resource');
  }
  // `/api/v1/namespaces/foo` names the namespace object itself.
  if (!resource.namespaced && namespace !== undefined) {
    throw new ApiError('NotFound', 'the server could not find the requested resource');
  }
  if (subresource !== undefined && !resource.subresources.some((s) => s.name === subresource)) {
    throw new ApiError('NotFound', 'the server could not find the requested resource');
  }
  return {
    resource,
    namespace,
    name,
    subresource,
    verb: verbFor(method, query, { hasName: name !== undefined, subresource }),
  };
}

/** The verb of a request, from its method, its query (watch=true) and what its path names. */
function verbFor(
  method: string,
  query: Record<string, unknown>,
  path: { hasName: boolean; subresource: string | undefined },
): RequestVerb {
  const { hasName, subresource } = path;
  // A proxied request is authorized by its method alone (a `watch` query is the target's).
  if (subresource === 'proxy') return proxyVerb(method);
  if (subresource === 'exec' || subresource === 'attach' || subresource === 'portforward' || subresource === 'log') {
    return subresource === 'log' ? 'get' : 'connect';
  }
  switch (method) {
    case 'GET':
    case 'HEAD':
      if (boolParam(query, 'watch')) return 'watch';
      return hasName ? 'get' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return hasName ? 'delete' : 'deletecollection';
    default:
      throw new ApiError('MethodNotAllowed', `the server does not allow this method on the requested resource`);
  }
}

/** The verb of a proxied request, as Kubernetes derives it from the HTTP method. */
function proxyVerb(method: string): RequestVerb {
  switch (method) {
    case 'GET':
    case 'HEAD':
      return 'get';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return 'delete';
    default:
      throw new ApiError('MethodNotAllowed', `the server does not allow this method on the requested resource`);
  }
}
