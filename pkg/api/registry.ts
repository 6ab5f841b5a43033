// The resource registry: one table that knows every served resource's group, version, kind,
// plural, short names, scope and subresources. Routing, discovery (legacy and aggregated),
// the OpenAPI stub, the Table printers, the store's key layout and the CLI all read it.

import { joinApiVersion } from './meta.js';

export type Verb = 'create' | 'delete' | 'deletecollection' | 'get' | 'list' | 'patch' | 'update' | 'watch';

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export interface SubresourceInfo {
  /** e.g. `status`, `scale`, `binding`, `eviction`, `log`, `exec`. */
  name: string;
  /** The kind a request to this subresource carries or returns. */
  responseKind: GroupVersionKind;
  verbs: string[];
}

export interface ResourceInfo {
  group: string;
  version: string;
  kind: string;
  listKind: string;
  /** Lower-case plural used in paths: `deployments`. */
  plural: string;
  singular: string;
  shortNames: string[];
  namespaced: boolean;
  categories: string[];
  verbs: Verb[];
  subresources: SubresourceInfo[];
}

const ALL_VERBS: Verb[] = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const STATUS_VERBS = ['get', 'patch', 'update'];

interface Spec {
  group: string;
  version: string;
  kind: string;
  plural: string;
  shortNames?: string[];
  namespaced: boolean;
  categories?: string[];
  verbs?: Verb[];
  /** Adds the `status` subresource. */
  status?: boolean;
  /** Adds the `scale` subresource (autoscaling/v1 Scale). */
  scale?: boolean;
  extra?: SubresourceInfo[];
}

function resource(spec: Spec): ResourceInfo {
  const subresources: SubresourceInfo[] = [];
  const self: GroupVersionKind = { group: spec.group, version: spec.version, kind: spec.kind };
  if (spec.status) subresources.push({ name: 'status', responseKind: self, verbs: STATUS_VERBS });
  if (spec.scale) {
    subresources.push({ name: 'scale', responseKind: { group: 'autoscaling', version: 'v1', kind: 'Scale' }, verbs: STATUS_VERBS });
  }
  subresources.push(...(spec.extra ?? []));
  return {
    group: spec.group,
    version: spec.version,
    kind: spec.kind,
    listKind: `${spec.kind}List`,
    plural: spec.plural,
    singular: spec.kind.toLowerCase(),
    shortNames: spec.shortNames ?? [],
    namespaced: spec.namespaced,
    categories: spec.categories ?? [],
    verbs: spec.verbs ?? ALL_VERBS,
    subresources,
  };
}

const core = (kind: string, version = 'v1'): GroupVersionKind => ({ group: '', version, kind });

export const RESOURCES: readonly ResourceInfo[] = [
  resource({ group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', shortNames: ['ns'], namespaced: false, status: true,
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    extra: [{ name: 'finalize', responseKind: core('Namespace'), verbs: ['update'] }] }),
  resource({ group: '', version: 'v1', kind: 'Pod', plural: 'pods', shortNames: ['po'], namespaced: true, categories: ['all'], status: true,
    extra: [
      { name: 'binding', responseKind: core('Binding'), verbs: ['create'] },
      { name: 'eviction', responseKind: { group: 'policy', version: 'v1', kind: 'Eviction' }, verbs: ['create'] },
      { name: 'log', responseKind: core('Pod'), verbs: ['get'] },
      { name: 'exec', responseKind: core('PodExecOptions'), verbs: ['create', 'get'] },
      { name: 'attach', responseKind: core('PodAttachOptions'), verbs: ['create', 'get'] },
      { name: 'portforward', responseKind: core('PodPortForwardOptions'), verbs: ['create', 'get'] },
    ] }),
  resource({ group: '', version: 'v1', kind: 'Node', plural: 'nodes', shortNames: ['no'], namespaced: false, status: true }),
  resource({ group: '', version: 'v1', kind: 'Service', plural: 'services', shortNames: ['svc'], namespaced: true, categories: ['all'], status: true,
    verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'] }),
  resource({ group: '', version: 'v1', kind: 'Endpoints', plural: 'endpoints', shortNames: ['ep'], namespaced: true }),
  resource({ group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', shortNames: ['cm'], namespaced: true }),
  resource({ group: '', version: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true }),
  resource({ group: '', version: 'v1', kind: 'ServiceAccount', plural: 'serviceaccounts', shortNames: ['sa'], namespaced: true,
    extra: [{ name: 'token', responseKind: { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' }, verbs: ['create'] }] }),
  resource({ group: '', version: 'v1', kind: 'Event', plural: 'events', shortNames: ['ev'], namespaced: true }),
  resource({ group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments', shortNames: ['deploy'], namespaced: true, categories: ['all'], status: true, scale: true }),
  resource({ group: 'apps', version: 'v1', kind: 'ReplicaSet', plural: 'replicasets', shortNames: ['rs'], namespaced: true, categories: ['all'], status: true, scale: true }),
  resource({ group: 'apps', version: 'v1', kind: 'DaemonSet', plural: 'daemonsets', shortNames: ['ds'], namespaced: true, categories: ['all'], status: true }),
  resource({ group: 'apps', version: 'v1', kind: 'StatefulSet', plural: 'statefulsets', shortNames: ['sts'], namespaced: true, categories: ['all'], status: true, scale: true }),
  resource({ group: 'batch', version: 'v1', kind: 'Job', plural: 'jobs', namespaced: true, categories: ['all'], status: true }),
  resource({ group: 'batch', version: 'v1', kind: 'CronJob', plural: 'cronjobs', shortNames: ['cj'], namespaced: true, categories: ['all'], status: true }),
  resource({ group: 'coordination.k8s.io', version: 'v1', kind: 'Lease', plural: 'leases', namespaced: true }),
  resource({ group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'Role', plural: 'roles', namespaced: true }),
  resource({ group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRole', plural: 'clusterroles', namespaced: false }),
  resource({ group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'RoleBinding', plural: 'rolebindings', namespaced: true }),
  resource({ group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRoleBinding', plural: 'clusterrolebindings', namespaced: false }),
  resource({ group: 'certificates.k8s.io', version: 'v1', kind: 'CertificateSigningRequest', plural: 'certificatesigningrequests', shortNames: ['csr'],
    namespaced: false, status: true,
    extra: [{ name: 'approval', responseKind: { group: 'certificates.k8s.io', version: 'v1', kind: 'CertificateSigningRequest' }, verbs: ['get', 'patch', 'update'] }] }),
];

export interface GroupVersion {
  group: string;
  version: string;
}

/** Every served group-version, core first, in registry order. */
export function groupVersions(): GroupVersion[] {
  const seen = new Set<string>();
  const out: GroupVersion[] = [];
  for (const r of RESOURCES) {
    const gv = joinApiVersion(r.group, r.version);
    if (!seen.has(gv)) {
      seen.add(gv);
      out.push({ group: r.group, version: r.version });
    }
  }
  return out;
}

export function resourcesIn(group: string, version: string): ResourceInfo[] {
  return RESOURCES.filter((r) => r.group === group && r.version === version);
}

export function findByPlural(group: string, version: string, plural: string): ResourceInfo | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.plural === plural);
}

/** A resource the code itself depends on; its absence is a programming error. */
export function mustFind(group: string, version: string, plural: string): ResourceInfo {
  const r = findByPlural(group, version, plural);
  if (r === undefined) throw new Error(`the registry lacks ${plural}.${group || 'core'}/${version}`);
  return r;
}

export function findByKind(apiVersion: string, kind: string): ResourceInfo | undefined {
  return RESOURCES.find((r) => joinApiVersion(r.group, r.version) === apiVersion && r.kind === kind);
}

/**
 * Resolves what a user types (`deploy`, `deployments`, `deployment.apps`, `Pod`, `po`) to a
 * resource, as kubectl's REST mapper does.
 */
export function resolveResource(name: string): ResourceInfo | undefined {
  const lower = name.toLowerCase();
  const dot = lower.indexOf('.');
  const base = dot < 0 ? lower : lower.slice(0, dot);
  const group = dot < 0 ? undefined : lower.slice(dot + 1);
  return RESOURCES.find(
    (r) =>
      (group === undefined || r.group === group || (group === 'core' && r.group === '')) &&
      (r.plural === base || r.singular === base || r.kind.toLowerCase() === base || r.shortNames.includes(base)),
  );
}

export function apiVersionOf(r: ResourceInfo): string {
  return joinApiVersion(r.group, r.version);
}

export function hasSubresource(r: ResourceInfo, name: string): boolean {
  return r.subresources.some((s) => s.name === name);
}

/** `deployment.apps` / `pod`: how kubectl names a resource type in its output (`deployment.apps/web created`). */
export function qualifiedKindName(r: ResourceInfo): string {
  return r.group === '' ? r.singular : `${r.singular}.${r.group}`;
}

/** The path of a collection or of one object, as the apiserver serves it. */
export function resourcePath(r: ResourceInfo, namespace?: string, name?: string, subresource?: string): string {
  let p = r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
  if (r.namespaced && namespace !== undefined) p += `/namespaces/${encodeURIComponent(namespace)}`;
  p += `/${r.plural}`;
  if (name !== undefined) p += `/${encodeURIComponent(name)}`;
  if (subresource !== undefined) p += `/${subresource}`;
  return p;
}

/** The store key of one object (`/registry/apps/deployments/default/web`) or, without name, a prefix. */
export function storageKey(r: ResourceInfo, namespace?: string, name?: string): string {
  let k = `/registry/${r.group === '' ? 'core' : r.group}/${r.plural}/`;
  if (r.namespaced) {
    if (namespace === undefined) return k;
    k += `${namespace}/`;
  }
  return name === undefined ? k : k + name;
}
