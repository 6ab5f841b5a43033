// Kubernetes' Node authorizer with NodeRestriction's name checks folded in: an identity counts
// as a node only with both `CN=system:node:<name>` and `O=system:nodes`. A node reads the
// cluster-wide objects every agent needs (nodes, pods, services, endpoints, namespaces and
// networkpolicies), but Secrets, ConfigMaps, PersistentVolumeClaims and ServiceAccounts only
// when a pod bound to it refers to them; it writes only its own Node and Lease, the status, eviction and deletion of its own
// pods, events and its certificate requests; it reads the logs of its own pods only.

import type { UserInfo } from '../authn.js';
import type { ResourceAttributes } from '../rbac/rules.js';
import type { NodeGraph, NodeScopedKind } from './graph.js';

export const NODES_GROUP = 'system:nodes';
const NODE_PREFIX = 'system:node:';
const READ = ['get', 'list', 'watch'];

/** The node name of a node identity; undefined unless both the name and the group say node. */
export function nodeName(user: UserInfo): string | undefined {
  if (!user.groups.includes(NODES_GROUP) || !user.name.startsWith(NODE_PREFIX)) return undefined;
  const name = user.name.slice(NODE_PREFIX.length);
  return name === '' ? undefined : name;
}

export interface NodeDecision {
  allowed: boolean;
  reason: string;
}

const allow = (reason: string): NodeDecision => ({ allowed: true, reason });
const deny = (reason: string): NodeDecision => ({ allowed: false, reason });

const SCOPED: ReadonlySet<string> = new Set<NodeScopedKind>([
  'secrets',
  'configmaps',
  'persistentvolumeclaims',
  'serviceaccounts',
]);
const isScoped = (resource: string): resource is NodeScopedKind => SCOPED.has(resource);

/** What the node may do with an object only its pods tie it to. */
function scopedObject(node: string, a: ResourceAttributes, graph: NodeGraph): NodeDecision {
  const tokenRequest = a.resource === 'serviceaccounts' && a.subresource === 'token' && a.verb === 'create';
  if (a.subresource !== undefined && !tokenRequest)
    return deny(`node '${node}' cannot ${a.verb} ${a.resource}/${a.subresource}`);
  if (a.verb !== 'get' && !tokenRequest) return deny(`can only get individual resources of this type`);
  if (a.name === undefined || a.name === '' || !isScoped(a.resource))
    return deny('can only get individual resources of this type');
  const ref = { kind: a.resource, namespace: a.namespace ?? '', name: a.name };
  if (a.resource === 'secrets' && a.verb === 'get' && graph.ingressSecrets.named(ref.namespace, ref.name))
    return allow(`an ingress names secret '${ref.namespace}/${ref.name}' for TLS`);
  return graph.related(node, ref)
    ? allow(`node '${node}' has a pod that refers to ${a.resource} '${ref.namespace}/${ref.name}'`)
    : deny(`no relationship found between node '${node}' and this object`);
}

function ownPod(node: string, a: ResourceAttributes, graph: NodeGraph): NodeDecision {
  const bound = a.name === undefined ? undefined : graph.nodeOfPod(a.namespace ?? '', a.name);
  return bound === node
    ? allow(`pod is bound to node '${node}'`)
    : deny(`no relationship found between node '${node}' and this object`);
}

function pods(node: string, a: ResourceAttributes, graph: NodeGraph): NodeDecision {
  const sub = a.subresource;
  if (sub === undefined) {
    if (READ.includes(a.verb)) return allow('nodes read pods');
    return a.verb === 'delete' ? ownPod(node, a, graph) : deny(`node '${node}' cannot ${a.verb} pods`);
  }
  if (sub === 'status' && (a.verb === 'update' || a.verb === 'patch' || a.verb === 'get'))
    return ownPod(node, a, graph);
  if (sub === 'eviction' && a.verb === 'create') return ownPod(node, a, graph);
  if (sub === 'log' && a.verb === 'get') return ownPod(node, a, graph);
  return deny(`node '${node}' cannot ${a.verb} pods/${sub}`);
}

function ownName(node: string, a: ResourceAttributes, what: string): NodeDecision {
  if (a.verb === 'create' && (a.name === undefined || a.name === node))
    return allow(`a node may create its own ${what}`);
  if (READ.includes(a.verb) && a.name === undefined) return allow(`nodes read ${what}s`);
  return a.name === node
    ? allow(`${what} '${node}' is the node's own`)
    : deny(`node '${node}' cannot modify ${what} '${a.name ?? ''}'`);
}

/**
 * The ingress proxy in every agent reads Ingresses and IngressClasses; one agent at a time
 * writes Ingress status (the addresses of the nodes).
 */
function ingressAccess(node: string, a: ResourceAttributes): NodeDecision {
  if (a.resource === 'ingressclasses')
    return a.subresource === undefined && READ.includes(a.verb)
      ? allow('nodes read ingressclasses')
      : deny(`node '${node}' cannot ${a.verb} ingressclasses`);
  if (a.subresource === undefined && READ.includes(a.verb)) return allow('nodes read ingresses');
  if (a.subresource === 'status' && ['get', 'update', 'patch'].includes(a.verb))
    return allow('nodes write ingress status');
  return deny(`node '${node}' cannot ${a.verb} ingresses${a.subresource === undefined ? '' : `/${a.subresource}`}`);
}

/**
 * The node authorizer's answer for a node identity. Undefined means it has no opinion; as in
 * Kubernetes' `Node,RBAC` chain, a denial here is not final either: the caller asks RBAC next
 * (where nodes have no bindings by default) and keeps this reason for the 403.
 */
export function authorizeNode(node: string, a: ResourceAttributes, graph: NodeGraph): NodeDecision | undefined {
  const core = a.apiGroup === '';
  if (core && isScoped(a.resource)) return scopedObject(node, a, graph);
  if (core && a.resource === 'pods') return pods(node, a, graph);
  if (core && a.resource === 'nodes') {
    if (a.subresource !== undefined && a.subresource !== 'status')
      return deny(`node '${node}' cannot ${a.verb} nodes/${a.subresource}`);
    return ownName(node, a, 'node');
  }
  if (core && ['services', 'endpoints'].includes(a.resource) && READ.includes(a.verb))
    return allow('nodes read services');
  // The agent mounts the volume a pod's claim is bound to, and cleans up local-path volumes.
  if (core && a.resource === 'persistentvolumes' && a.subresource === undefined && READ.includes(a.verb))
    return allow('nodes read persistentvolumes');
  if (a.apiGroup === 'discovery.k8s.io' && a.resource === 'endpointslices' && READ.includes(a.verb))
    return allow('nodes read endpointslices');
  if (a.apiGroup === 'networking.k8s.io' && ['ingresses', 'ingressclasses'].includes(a.resource))
    return ingressAccess(node, a);
  // NetworkPolicy enforcement (pkg/kubelet/netpol) selects peers by pod and namespace labels.
  if (a.apiGroup === 'networking.k8s.io' && a.resource === 'networkpolicies' && READ.includes(a.verb))
    return allow('nodes read networkpolicies');
  if (core && a.resource === 'namespaces' && a.subresource === undefined && READ.includes(a.verb))
    return allow('nodes read namespaces');
  if ((core || a.apiGroup === 'events.k8s.io') && a.resource === 'events') {
    return ['create', 'update', 'patch'].includes(a.verb)
      ? allow('nodes write events')
      : deny(`node '${node}' cannot ${a.verb} events`);
  }
  if (a.apiGroup === 'coordination.k8s.io' && a.resource === 'leases') {
    if (a.namespace !== 'kube-node-lease') return deny(`node '${node}' may only use leases in kube-node-lease`);
    return ownName(node, a, 'lease');
  }
  if (
    a.apiGroup === 'certificates.k8s.io' &&
    a.resource === 'certificatesigningrequests' &&
    a.subresource === undefined
  ) {
    return ['create', ...READ].includes(a.verb)
      ? allow('nodes request certificates')
      : deny(`node '${node}' cannot ${a.verb} certificatesigningrequests`);
  }
  if (a.apiGroup === 'authentication.k8s.io' && a.resource === 'tokenreviews' && a.verb === 'create')
    return allow('nodes review tokens');
  if (a.apiGroup === 'authorization.k8s.io' && a.resource === 'subjectaccessreviews' && a.verb === 'create')
    return allow('nodes review access');
  return undefined;
}
