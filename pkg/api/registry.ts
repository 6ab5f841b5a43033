// The resource registry: one table that knows every served resource's group, version, kind,
// plural, short names, scope and subresources. Routing, discovery (legacy and aggregated),
// the OpenAPI stub, the Table printers, the store's key layout and the CLI all read it.

import { joinApiVersion, type KubeObject } from './meta.js';
import type {
  CertificateSigningRequest,
  ClusterRole,
  ClusterRoleBinding,
  ConfigMap,
  ControllerRevision,
  CronJob,
  CustomResourceColumnDefinition,
  CustomResourceDefinition,
  CustomResourceSubresourceScale,
  DaemonSet,
  JSONSchemaProps,
  Deployment,
  Endpoints,
  HorizontalPodAutoscaler,
  NodeMetrics,
  PodMetrics,
  EndpointSlice,
  Event,
  Ingress,
  IngressClass,
  Job,
  Lease,
  LimitRange,
  Namespace,
  NetworkPolicy,
  Node,
  PersistentVolume,
  PersistentVolumeClaim,
  Pod,
  PodDisruptionBudget,
  PriorityClass,
  ReplicaSet,
  ReplicationController,
  ResourceQuota,
  Role,
  RoleBinding,
  Secret,
  Service,
  ServiceAccount,
  StatefulSet,
  StorageClass,
} from './types/index.js';

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

/**
 * One served resource. `T` is the object type its endpoints carry; it exists only for the
 * compiler, so `client.get(RESOURCES.pods, …)` returns a `Pod`.
 */
export interface Resource<T extends KubeObject = KubeObject> {
  /** Phantom: never set at run time; it carries `T`. */
  readonly objectType?: T;
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
  /** Set on a resource a CustomResourceDefinition serves: what its version declares. */
  custom?: CustomVersion;
}

/** What one served version of a CustomResourceDefinition declares for its objects. */
export interface CustomVersion {
  /** The CRD's name (`<plural>.<group>`). */
  crd: string;
  /** The version's structural schema (openAPIV3Schema). */
  schema: JSONSchemaProps;
  printerColumns: CustomResourceColumnDefinition[];
  scale?: CustomResourceSubresourceScale | undefined;
  /** The CRD is being deleted: its objects are read and deleted, no new ones are created. */
  terminating: boolean;
}

/** A resource whose objects are handled generically (the apiserver, the store, the CLI's printers). */
export type ResourceInfo = Resource<KubeObject>;

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

function resource<T extends KubeObject>(spec: Spec): Resource<T> {
  const subresources: SubresourceInfo[] = [];
  const self: GroupVersionKind = { group: spec.group, version: spec.version, kind: spec.kind };
  if (spec.status) subresources.push({ name: 'status', responseKind: self, verbs: STATUS_VERBS });
  if (spec.scale) {
    subresources.push({
      name: 'scale',
      responseKind: { group: 'autoscaling', version: 'v1', kind: 'Scale' },
      verbs: STATUS_VERBS,
    });
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

/** A create-only resource that stores nothing: the reply to a POST is the answer. */
function review(group: string, kind: string, namespaced: boolean): ResourceInfo {
  return resource<KubeObject>({
    group,
    version: 'v1',
    kind,
    plural: `${kind.toLowerCase()}s`,
    namespaced,
    verbs: ['create'],
  });
}

/** The proxy subresources take every method (Kubernetes lists these verbs for them). */
const PROXY_VERBS = ['create', 'delete', 'get', 'patch', 'update'];

/** Every served resource by plural, typed: `RESOURCES.pods` is a `Resource<Pod>`. */
const TABLE = {
  namespaces: resource<Namespace>({
    group: '',
    version: 'v1',
    kind: 'Namespace',
    plural: 'namespaces',
    shortNames: ['ns'],
    namespaced: false,
    status: true,
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    extra: [{ name: 'finalize', responseKind: core('Namespace'), verbs: ['update'] }],
  }),
  pods: resource<Pod>({
    group: '',
    version: 'v1',
    kind: 'Pod',
    plural: 'pods',
    shortNames: ['po'],
    namespaced: true,
    categories: ['all'],
    status: true,
    extra: [
      { name: 'binding', responseKind: core('Binding'), verbs: ['create'] },
      { name: 'eviction', responseKind: { group: 'policy', version: 'v1', kind: 'Eviction' }, verbs: ['create'] },
      { name: 'log', responseKind: core('Pod'), verbs: ['get'] },
      { name: 'exec', responseKind: core('PodExecOptions'), verbs: ['create', 'get'] },
      { name: 'attach', responseKind: core('PodAttachOptions'), verbs: ['create', 'get'] },
      { name: 'portforward', responseKind: core('PodPortForwardOptions'), verbs: ['create', 'get'] },
      { name: 'proxy', responseKind: core('PodProxyOptions'), verbs: PROXY_VERBS },
      { name: 'ephemeralcontainers', responseKind: core('Pod'), verbs: ['get', 'patch', 'update'] },
    ],
  }),
  nodes: resource<Node>({
    group: '',
    version: 'v1',
    kind: 'Node',
    plural: 'nodes',
    shortNames: ['no'],
    namespaced: false,
    status: true,
    extra: [{ name: 'proxy', responseKind: core('NodeProxyOptions'), verbs: PROXY_VERBS }],
  }),
  services: resource<Service>({
    group: '',
    version: 'v1',
    kind: 'Service',
    plural: 'services',
    shortNames: ['svc'],
    namespaced: true,
    categories: ['all'],
    status: true,
    verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
    extra: [{ name: 'proxy', responseKind: core('ServiceProxyOptions'), verbs: PROXY_VERBS }],
  }),
  endpoints: resource<Endpoints>({
    group: '',
    version: 'v1',
    kind: 'Endpoints',
    plural: 'endpoints',
    shortNames: ['ep'],
    namespaced: true,
  }),
  configmaps: resource<ConfigMap>({
    group: '',
    version: 'v1',
    kind: 'ConfigMap',
    plural: 'configmaps',
    shortNames: ['cm'],
    namespaced: true,
  }),
  secrets: resource<Secret>({ group: '', version: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true }),
  serviceaccounts: resource<ServiceAccount>({
    group: '',
    version: 'v1',
    kind: 'ServiceAccount',
    plural: 'serviceaccounts',
    shortNames: ['sa'],
    namespaced: true,
    extra: [
      {
        name: 'token',
        responseKind: { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' },
        verbs: ['create'],
      },
    ],
  }),
  events: resource<Event>({
    group: '',
    version: 'v1',
    kind: 'Event',
    plural: 'events',
    shortNames: ['ev'],
    namespaced: true,
  }),
  persistentvolumes: resource<PersistentVolume>({
    group: '',
    version: 'v1',
    kind: 'PersistentVolume',
    plural: 'persistentvolumes',
    shortNames: ['pv'],
    namespaced: false,
    status: true,
  }),
  persistentvolumeclaims: resource<PersistentVolumeClaim>({
    group: '',
    version: 'v1',
    kind: 'PersistentVolumeClaim',
    plural: 'persistentvolumeclaims',
    shortNames: ['pvc'],
    namespaced: true,
    status: true,
  }),
  replicationcontrollers: resource<ReplicationController>({
    group: '',
    version: 'v1',
    kind: 'ReplicationController',
    plural: 'replicationcontrollers',
    shortNames: ['rc'],
    namespaced: true,
    categories: ['all'],
    status: true,
    scale: true,
  }),
  deployments: resource<Deployment>({
    group: 'apps',
    version: 'v1',
    kind: 'Deployment',
    plural: 'deployments',
    shortNames: ['deploy'],
    namespaced: true,
    categories: ['all'],
    status: true,
    scale: true,
  }),
  replicasets: resource<ReplicaSet>({
    group: 'apps',
    version: 'v1',
    kind: 'ReplicaSet',
    plural: 'replicasets',
    shortNames: ['rs'],
    namespaced: true,
    categories: ['all'],
    status: true,
    scale: true,
  }),
  daemonsets: resource<DaemonSet>({
    group: 'apps',
    version: 'v1',
    kind: 'DaemonSet',
    plural: 'daemonsets',
    shortNames: ['ds'],
    namespaced: true,
    categories: ['all'],
    status: true,
  }),
  statefulsets: resource<StatefulSet>({
    group: 'apps',
    version: 'v1',
    kind: 'StatefulSet',
    plural: 'statefulsets',
    shortNames: ['sts'],
    namespaced: true,
    categories: ['all'],
    status: true,
    scale: true,
  }),
  controllerrevisions: resource<ControllerRevision>({
    group: 'apps',
    version: 'v1',
    kind: 'ControllerRevision',
    plural: 'controllerrevisions',
    namespaced: true,
  }),
  jobs: resource<Job>({
    group: 'batch',
    version: 'v1',
    kind: 'Job',
    plural: 'jobs',
    namespaced: true,
    categories: ['all'],
    status: true,
  }),
  cronjobs: resource<CronJob>({
    group: 'batch',
    version: 'v1',
    kind: 'CronJob',
    plural: 'cronjobs',
    shortNames: ['cj'],
    namespaced: true,
    categories: ['all'],
    status: true,
  }),
  leases: resource<Lease>({
    group: 'coordination.k8s.io',
    version: 'v1',
    kind: 'Lease',
    plural: 'leases',
    namespaced: true,
  }),
  endpointslices: resource<EndpointSlice>({
    group: 'discovery.k8s.io',
    version: 'v1',
    kind: 'EndpointSlice',
    plural: 'endpointslices',
    namespaced: true,
  }),
  ingresses: resource<Ingress>({
    group: 'networking.k8s.io',
    version: 'v1',
    kind: 'Ingress',
    plural: 'ingresses',
    shortNames: ['ing'],
    namespaced: true,
    status: true,
  }),
  ingressclasses: resource<IngressClass>({
    group: 'networking.k8s.io',
    version: 'v1',
    kind: 'IngressClass',
    plural: 'ingressclasses',
    namespaced: false,
  }),
  networkpolicies: resource<NetworkPolicy>({
    group: 'networking.k8s.io',
    version: 'v1',
    kind: 'NetworkPolicy',
    plural: 'networkpolicies',
    shortNames: ['netpol'],
    namespaced: true,
  }),
  storageclasses: resource<StorageClass>({
    group: 'storage.k8s.io',
    version: 'v1',
    kind: 'StorageClass',
    plural: 'storageclasses',
    shortNames: ['sc'],
    namespaced: false,
  }),
  roles: resource<Role>({
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    kind: 'Role',
    plural: 'roles',
    namespaced: true,
  }),
  clusterroles: resource<ClusterRole>({
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    kind: 'ClusterRole',
    plural: 'clusterroles',
    namespaced: false,
  }),
  rolebindings: resource<RoleBinding>({
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    kind: 'RoleBinding',
    plural: 'rolebindings',
    namespaced: true,
  }),
  customresourcedefinitions: resource<CustomResourceDefinition>({
    group: 'apiextensions.k8s.io',
    version: 'v1',
    kind: 'CustomResourceDefinition',
    plural: 'customresourcedefinitions',
    shortNames: ['crd', 'crds'],
    namespaced: false,
    categories: ['api-extensions'],
    status: true,
  }),
  clusterrolebindings: resource<ClusterRoleBinding>({
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    kind: 'ClusterRoleBinding',
    plural: 'clusterrolebindings',
    namespaced: false,
  }),
  certificatesigningrequests: resource<CertificateSigningRequest>({
    group: 'certificates.k8s.io',
    version: 'v1',
    kind: 'CertificateSigningRequest',
    plural: 'certificatesigningrequests',
    shortNames: ['csr'],
    namespaced: false,
    status: true,
    extra: [
      {
        name: 'approval',
        responseKind: { group: 'certificates.k8s.io', version: 'v1', kind: 'CertificateSigningRequest' },
        verbs: ['get', 'patch', 'update'],
      },
    ],
  }),
  poddisruptionbudgets: resource<PodDisruptionBudget>({
    group: 'policy',
    version: 'v1',
    kind: 'PodDisruptionBudget',
    plural: 'poddisruptionbudgets',
    shortNames: ['pdb'],
    namespaced: true,
    status: true,
  }),
  priorityclasses: resource<PriorityClass>({
    group: 'scheduling.k8s.io',
    version: 'v1',
    kind: 'PriorityClass',
    plural: 'priorityclasses',
    shortNames: ['pc'],
    namespaced: false,
  }),
  // Namespace policy: what a namespace may consume (quota) and its containers' defaults and bounds.
  resourcequotas: resource<ResourceQuota>({
    group: '',
    version: 'v1',
    kind: 'ResourceQuota',
    plural: 'resourcequotas',
    shortNames: ['quota'],
    namespaced: true,
    status: true,
  }),
  limitranges: resource<LimitRange>({
    group: '',
    version: 'v1',
    kind: 'LimitRange',
    plural: 'limitranges',
    shortNames: ['limits'],
    namespaced: true,
  }),
  // Reviews: questions asked by POST and answered in the reply; nothing is stored.
  selfsubjectaccessreviews: review('authorization.k8s.io', 'SelfSubjectAccessReview', false),
  subjectaccessreviews: review('authorization.k8s.io', 'SubjectAccessReview', false),
  localsubjectaccessreviews: review('authorization.k8s.io', 'LocalSubjectAccessReview', true),
  selfsubjectrulesreviews: review('authorization.k8s.io', 'SelfSubjectRulesReview', false),
  selfsubjectreviews: review('authentication.k8s.io', 'SelfSubjectReview', false),
  // Autoscaling and resource metrics (issue 15): metrics are read from the node agents, never stored.
  horizontalpodautoscalers: resource<HorizontalPodAutoscaler>({
    group: 'autoscaling',
    version: 'v2',
    kind: 'HorizontalPodAutoscaler',
    plural: 'horizontalpodautoscalers',
    shortNames: ['hpa'],
    namespaced: true,
    categories: ['all'],
    status: true,
  }),
  // autoscaling/v1: the same objects (stored as v2), converted (conversion-autoscaling.ts).
  horizontalpodautoscalersv1: resource<HorizontalPodAutoscaler>({
    group: 'autoscaling',
    version: 'v1',
    kind: 'HorizontalPodAutoscaler',
    plural: 'horizontalpodautoscalers',
    shortNames: ['hpa'],
    namespaced: true,
    categories: ['all'],
    status: true,
  }),
  nodemetrics: resource<NodeMetrics>({
    group: 'metrics.k8s.io',
    version: 'v1beta1',
    kind: 'NodeMetrics',
    plural: 'nodes',
    namespaced: false,
    verbs: ['get', 'list'],
  }),
  podmetrics: resource<PodMetrics>({
    group: 'metrics.k8s.io',
    version: 'v1beta1',
    kind: 'PodMetrics',
    plural: 'pods',
    namespaced: true,
    verbs: ['get', 'list'],
  }),
};

/** The built-in resources, then those CustomResourceDefinitions add at run time. */
const LIVE: ResourceInfo[] = Object.values(TABLE);
let generation = 0;

/** Every served resource, in registry order (discovery lists them in this order); live. */
export const RESOURCE_LIST: readonly ResourceInfo[] = LIVE;

/**
 * Replaces the resources a CustomResourceDefinition serves (none: it stops being served).
 * Only custom resources are ever removed; a built-in one is never shadowed.
 */
export function serveCustomResources(crd: string, resources: readonly ResourceInfo[]): void {
  for (let i = LIVE.length - 1; i >= 0; i--) if (LIVE[i]?.custom?.crd === crd) LIVE.splice(i, 1);
  for (const r of resources) {
    if (findByPlural(r.group, r.version, r.plural) === undefined) LIVE.push(r);
  }
  generation++;
}

/** Moves whenever the served resources change (documents built from the registry are rebuilt). */
export function registryGeneration(): number {
  return generation;
}

/**
 * The named table; it is also still the registry-ordered array for callers not yet converted
 * (`RESOURCES.filter(…)`), which iterate it as before.
 */
export const RESOURCES: typeof TABLE & readonly ResourceInfo[] = Object.assign([...RESOURCE_LIST], TABLE);

export interface GroupVersion {
  group: string;
  version: string;
}

/** Every served group-version, core first, in registry order. */
export function groupVersions(): GroupVersion[] {
  const seen = new Set<string>();
  const out: GroupVersion[] = [];
  for (const r of RESOURCE_LIST) {
    const gv = joinApiVersion(r.group, r.version);
    if (!seen.has(gv)) {
      seen.add(gv);
      out.push({ group: r.group, version: r.version });
    }
  }
  return out;
}

export function resourcesIn(group: string, version: string): ResourceInfo[] {
  return RESOURCE_LIST.filter((r) => r.group === group && r.version === version);
}

export function findByPlural(group: string, version: string, plural: string): ResourceInfo | undefined {
  return RESOURCE_LIST.find((r) => r.group === group && r.version === version && r.plural === plural);
}

/** A resource the code itself depends on; its absence is a programming error. */
export function mustFind(group: string, version: string, plural: string): ResourceInfo {
  const r = findByPlural(group, version, plural);
  if (r === undefined) throw new Error(`the registry lacks ${plural}.${group || 'core'}/${version}`);
  return r;
}

export function findByKind(apiVersion: string, kind: string): ResourceInfo | undefined {
  return RESOURCE_LIST.find((r) => joinApiVersion(r.group, r.version) === apiVersion && r.kind === kind);
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
  return RESOURCE_LIST.find(
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

/** Where in a resource's path space a request goes: a collection (no name), one object, or its subresource. */
export interface PathTarget {
  namespace?: string | undefined;
  name?: string | undefined;
  subresource?: string | undefined;
}

/** The path of a collection or of one object, as the apiserver serves it. */
export function resourcePath(r: ResourceInfo, { namespace, name, subresource }: PathTarget = {}): string {
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
