// The default roles and bindings the apiserver reconciles at start, after Kubernetes' bootstrap
// policy (the names, labels and bindings users and tools look for): the superuser group,
// the user-facing `admin`/`edit`/`view` (aggregated, so users can extend them), discovery and
// self-review for every authenticated user, public info for everyone, CSRs for bootstrap
// tokens, and least-privilege roles for the scheduler and controller-manager.

import type { ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, Subject } from '../../api/index.js';
import { aggregateAll } from '../../api/rbac-aggregation.js';

const RBAC_GROUP = 'rbac.authorization.k8s.io';
const AGGREGATE = `${RBAC_GROUP}/aggregate-to-`;
/** Marks a default object the apiserver keeps up to date; set it to "false" to own it yourself. */
export const AUTOUPDATE_ANNOTATION = `${RBAC_GROUP}/autoupdate`;

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'delete', 'deletecollection', 'patch', 'update'];
const ALL_VERBS = [...READ, ...WRITE];

function rule(verbs: string[], apiGroups: string[], resources: string[]): PolicyRule {
  return { verbs, apiGroups, resources };
}

/** The same rule narrowed to named objects. */
function named(r: PolicyRule, resourceNames: string[]): PolicyRule {
  return { ...r, resourceNames };
}

function urls(verbs: string[], nonResourceURLs: string[]): PolicyRule {
  return { verbs, nonResourceURLs };
}

function clusterRole(name: string, rules: PolicyRule[], labels: Record<string, string> = {}): ClusterRole {
  return {
    apiVersion: `${RBAC_GROUP}/v1`,
    kind: 'ClusterRole',
    metadata: {
      name,
      labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults', ...labels },
      annotations: { [AUTOUPDATE_ANNOTATION]: 'true' },
    },
    rules,
  };
}

function aggregated(name: string, labels: Record<string, string> = {}): ClusterRole {
  const role = clusterRole(name, [], labels);
  role.aggregationRule = { clusterRoleSelectors: [{ matchLabels: { [`${AGGREGATE}${name}`]: 'true' } }] };
  return role;
}

function binding(role: string, subjects: Subject[], name = role): ClusterRoleBinding {
  return {
    apiVersion: `${RBAC_GROUP}/v1`,
    kind: 'ClusterRoleBinding',
    metadata: {
      name,
      labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' },
      annotations: { [AUTOUPDATE_ANNOTATION]: 'true' },
    },
    roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: role },
    subjects,
  };
}

const group = (name: string): Subject => ({ kind: 'Group', apiGroup: RBAC_GROUP, name });
const user = (name: string): Subject => ({ kind: 'User', apiGroup: RBAC_GROUP, name });

/** What `view` may read: everything users deploy, but not Secrets. */
const VIEW_RULES: PolicyRule[] = [
  rule(
    READ,
    [''],
    [
      'configmaps',
      'endpoints',
      'persistentvolumeclaims',
      'persistentvolumeclaims/status',
      'pods',
      'replicationcontrollers',
      'replicationcontrollers/scale',
      'serviceaccounts',
      'services',
      'services/status',
      'bindings',
      'events',
      'limitranges',
      'namespaces/status',
      'pods/log',
      'pods/status',
      'replicationcontrollers/status',
      'resourcequotas',
      'resourcequotas/status',
      'namespaces',
    ],
  ),
  rule(READ, ['discovery.k8s.io'], ['endpointslices']),
  rule(
    READ,
    ['apps'],
    [
      'controllerrevisions',
      'daemonsets',
      'daemonsets/status',
      'deployments',
      'deployments/scale',
      'deployments/status',
      'replicasets',
      'replicasets/scale',
      'replicasets/status',
      'statefulsets',
      'statefulsets/scale',
      'statefulsets/status',
    ],
  ),
  rule(READ, ['autoscaling'], ['horizontalpodautoscalers', 'horizontalpodautoscalers/status']),
  rule(READ, ['batch'], ['cronjobs', 'cronjobs/status', 'jobs', 'jobs/status']),
  rule(READ, ['policy'], ['poddisruptionbudgets', 'poddisruptionbudgets/status']),
  rule(READ, ['networking.k8s.io'], ['ingresses', 'ingresses/status', 'networkpolicies']),
];

/** What `edit` adds: writing those objects, Secrets, exec and attach; not roles or bindings. */
const EDIT_RULES: PolicyRule[] = [
  rule(['impersonate'], [''], ['serviceaccounts']),
  rule(WRITE, [''], ['pods', 'pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy']),
  rule(['create'], [''], ['pods/eviction']),
  rule(
    WRITE,
    [''],
    [
      'configmaps',
      'events',
      'persistentvolumeclaims',
      'replicationcontrollers',
      'replicationcontrollers/scale',
      'secrets',
      'serviceaccounts',
      'services',
      'services/proxy',
    ],
  ),
  rule(['create'], [''], ['serviceaccounts/token']),
  rule(READ, [''], ['pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy', 'secrets', 'services/proxy']),
  rule(
    WRITE,
    ['apps'],
    [
      'daemonsets',
      'deployments',
      'deployments/rollback',
      'deployments/scale',
      'replicasets',
      'replicasets/scale',
      'statefulsets',
      'statefulsets/scale',
    ],
  ),
  rule(WRITE, ['autoscaling'], ['horizontalpodautoscalers']),
  rule(WRITE, ['batch'], ['cronjobs', 'jobs']),
  rule(WRITE, ['networking.k8s.io'], ['ingresses', 'networkpolicies']),
  rule(WRITE, ['policy'], ['poddisruptionbudgets']),
];

/** What `admin` adds: roles and bindings inside the namespace, and access reviews there. */
const ADMIN_RULES: PolicyRule[] = [
  rule(ALL_VERBS, [RBAC_GROUP], ['rolebindings', 'roles']),
  rule(['create'], ['authorization.k8s.io'], ['localsubjectaccessreviews']),
];

const DISCOVERY_URLS = [
  '/api',
  '/api/*',
  '/apis',
  '/apis/*',
  '/healthz',
  '/livez',
  '/openapi',
  '/openapi/*',
  '/readyz',
  '/version',
  '/version/',
];
const PUBLIC_URLS = ['/healthz', '/livez', '/readyz', '/version', '/version/'];

/** The core resources the controller-manager's shared informers watch. */
const INFORMED_CORE = [
  'pods',
  'nodes',
  'namespaces',
  'replicationcontrollers',
  'services',
  'endpoints',
  'serviceaccounts',
  'configmaps',
  'secrets',
  'persistentvolumes',
  'persistentvolumeclaims',
];

const SCHEDULER_RULES: PolicyRule[] = [
  rule(['create', 'patch', 'update'], ['', 'events.k8s.io'], ['events']),
  rule(['create'], ['coordination.k8s.io'], ['leases']),
  named(rule(['get', 'update'], ['coordination.k8s.io'], ['leases']), ['kube-scheduler']),
  rule(
    READ,
    [''],
    ['nodes', 'namespaces', 'services', 'replicationcontrollers', 'persistentvolumes', 'persistentvolumeclaims'],
  ),
  rule(['delete', ...READ], [''], ['pods']),
  rule(['create'], [''], ['bindings', 'pods/binding']),
  // Volume binding: the chosen node is recorded on a waiting claim (volume.kubernetes.io/selected-node).
  rule(['patch', 'update'], [''], ['persistentvolumeclaims']),
  rule(READ, ['storage.k8s.io'], ['storageclasses']),
  rule(['patch', 'update'], [''], ['pods/status']),
  rule(READ, ['apps'], ['replicasets', 'statefulsets']),
  rule(READ, ['policy'], ['poddisruptionbudgets']),
  rule(['create'], ['authentication.k8s.io'], ['tokenreviews']),
  rule(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
];

/**
 * What csrapproving and csrsigning write: approvals and certificates, for these signers only;
 * and the Node a request names, read fresh before judging it.
 */
const CSR_CONTROLLER_RULES: PolicyRule[] = [
  rule(['get'], [''], ['nodes']),
  rule(
    ['update'],
    ['certificates.k8s.io'],
    ['certificatesigningrequests/approval', 'certificatesigningrequests/status'],
  ),
  named(rule(['approve'], ['certificates.k8s.io'], ['signers']), [
    'kubernetes.io/kube-apiserver-client-kubelet',
    'kubernetes.io/kubelet-serving',
  ]),
  named(rule(['sign'], ['certificates.k8s.io'], ['signers']), [
    'kubernetes.io/kube-apiserver-client',
    'kubernetes.io/kube-apiserver-client-kubelet',
    'kubernetes.io/kubelet-serving',
  ]),
];

/**
 * What the controllers did as the controller-manager's own identity before each had its own
 * (and still do when the apiserver issues no ServiceAccount tokens: see
 * `defaultClusterRoleBindings`): reads everything and writes what its controllers own.
 */
const SHARED_CONTROLLERS_RULES: PolicyRule[] = [
  rule(READ, ['*'], ['*']),
  rule(['create', 'patch', 'update'], ['', 'events.k8s.io'], ['events']),
  rule(WRITE, [''], ['pods', 'endpoints', 'serviceaccounts', 'configmaps']),
  rule(
    ['update', 'patch'],
    [''],
    ['pods/status', 'nodes', 'nodes/status', 'namespaces', 'namespaces/status', 'namespaces/finalize'],
  ),
  rule(['delete'], [''], ['nodes', 'namespaces']),
  rule(['create'], [''], ['pods/eviction', 'serviceaccounts/token']),
  rule(WRITE, ['*'], ['*/status']),
  rule(WRITE, ['apps'], ['replicasets', 'deployments', 'daemonsets', 'statefulsets', 'controllerrevisions']),
  rule(WRITE, ['batch'], ['jobs', 'cronjobs']),
  rule(WRITE, ['discovery.k8s.io'], ['endpointslices']),
  rule(WRITE, [''], ['persistentvolumes', 'persistentvolumeclaims']),
  // The aggregation controller writes rules it does not hold itself: `escalate`, as in Kubernetes.
  rule([...WRITE, 'escalate'], [RBAC_GROUP], ['clusterroles']),
  rule(['delete', 'deletecollection'], ['*'], ['*']),
  rule(['patch', 'update'], ['*'], ['*']),
  ...CSR_CONTROLLER_RULES,
];

/**
 * The controller-manager process itself (each controller writes as its own ServiceAccount,
 * `--use-service-account-credentials`): list/watch for its shared informers, its leader
 * lease, Events, the controllers' ServiceAccounts and their tokens (in kube-system: the Role
 * below), and delegated authentication/authorization.
 */
const CONTROLLER_MANAGER_RULES: PolicyRule[] = [
  rule(['list', 'watch'], [''], INFORMED_CORE),
  rule(
    ['list', 'watch'],
    ['apps'],
    ['replicasets', 'deployments', 'daemonsets', 'statefulsets', 'controllerrevisions'],
  ),
  rule(['list', 'watch'], ['batch'], ['jobs', 'cronjobs']),
  rule(['list', 'watch'], ['discovery.k8s.io'], ['endpointslices']),
  rule(['list', 'watch'], ['storage.k8s.io'], ['storageclasses']),
  rule(['list', 'watch'], ['coordination.k8s.io'], ['leases']),
  rule(['list', 'watch'], ['certificates.k8s.io'], ['certificatesigningrequests']),
  rule(['list', 'watch'], [RBAC_GROUP], ['clusterroles']),
  // The dynamic informers of custom resources (garbage collector, namespace deletion), whose
  // groups nobody knows in advance: Kubernetes grants the same list/watch on everything.
  rule(['list', 'watch'], ['*'], ['*']),
  rule(['create'], ['coordination.k8s.io'], ['leases']),
  named(rule(['get', 'update'], ['coordination.k8s.io'], ['leases']), ['kube-controller-manager']),
  rule(['create', 'patch', 'update'], ['', 'events.k8s.io'], ['events']),
  rule(['create'], ['authentication.k8s.io'], ['tokenreviews']),
  rule(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
];

const CONTROLLER_ROLE_PREFIX = 'system:controller:';
const EVENTS_RULE = rule(['create', 'patch', 'update'], ['', 'events.k8s.io'], ['events']);

/**
 * One least-privilege role per controller ServiceAccount (kube-system/<name>), after
 * Kubernetes' controller roles, holding what our controller reads directly (not through the
 * shared informers) and writes.
 */
const CONTROLLER_RULES: Record<string, PolicyRule[]> = {
  'namespace-controller': [rule(['list', 'delete'], ['*'], ['*']), rule(['update'], [''], ['namespaces/finalize'])],
  'replicaset-controller': [
    rule(['update'], ['apps'], ['replicasets/status']),
    rule(['create', 'delete'], [''], ['pods']),
  ],
  'replication-controller': [
    rule(['update'], [''], ['replicationcontrollers/status']),
    rule(['create', 'delete'], [''], ['pods']),
  ],
  'deployment-controller': [
    rule(['patch'], ['apps'], ['deployments', 'deployments/status']),
    rule(['create', 'patch', 'delete'], ['apps'], ['replicasets']),
  ],
  'daemon-set-controller': [
    rule(['update'], ['apps'], ['daemonsets/status']),
    rule(['create', 'delete'], [''], ['pods']),
    rule(['get', 'create', 'update', 'delete'], ['apps'], ['controllerrevisions']),
  ],
  'statefulset-controller': [
    rule(['update'], ['apps'], ['statefulsets/status']),
    rule(['create', 'delete'], [''], ['pods']),
    rule(['get', 'create', 'delete', 'update', 'patch'], [''], ['persistentvolumeclaims']),
    rule(['get', 'create', 'update', 'delete'], ['apps'], ['controllerrevisions']),
  ],
  'job-controller': [
    rule(['delete'], ['batch'], ['jobs']),
    rule(['update'], ['batch'], ['jobs/status']),
    rule(['create', 'delete'], [''], ['pods']),
  ],
  'cronjob-controller': [
    rule(['update'], ['batch'], ['cronjobs/status']),
    rule(['create', 'delete'], ['batch'], ['jobs']),
  ],
  // Binding, provisioning (local-path) and reclaiming volumes; the protection finalizers.
  'persistent-volume-binder': [
    rule(['get', 'create', 'update', 'patch', 'delete'], [''], ['persistentvolumes', 'persistentvolumeclaims']),
    rule(['update', 'patch'], [''], ['persistentvolumes/status', 'persistentvolumeclaims/status']),
  ],
  'endpoint-controller': [rule(['create', 'update', 'delete'], [''], ['endpoints'])],
  'endpointslice-controller': [rule(['create', 'update', 'delete'], ['discovery.k8s.io'], ['endpointslices'])],
  'service-account-controller': [rule(['create'], [''], ['serviceaccounts'])],
  // nodelifecycle (conditions, taints, evicting pods) and nodeipam (pod CIDRs), as in Kubernetes.
  'node-controller': [
    rule(['patch'], [''], ['nodes', 'nodes/status']),
    rule(['patch'], [''], ['pods/status']),
    rule(['delete'], [''], ['pods']),
  ],
  'generic-garbage-collector': [rule(['get', 'patch', 'update', 'delete'], ['*'], ['*'])],
  'pod-garbage-collector': [
    rule(['get'], [''], ['nodes']),
    rule(['patch'], [''], ['pods/status']),
    rule(['delete'], [''], ['pods']),
  ],
  // Their writes are in one namespace each: the Roles of defaultNamespacedPolicy.
  'bootstrap-signer': [],
  'token-cleaner': [],
  // csrapproving and csrsigning.
  'certificate-controller': CSR_CONTROLLER_RULES,
  // It writes rules it does not hold itself: `escalate`, as in Kubernetes.
  'clusterrole-aggregation-controller': [rule(['patch', 'update', 'escalate'], [RBAC_GROUP], ['clusterroles'])],
  'root-ca-cert-publisher': [rule(['create', 'update', 'patch'], [''], ['configmaps'])],
  // PodDisruptionBudget status; the scales it reads come from the shared informers.
  'disruption-controller': [rule(['update'], ['policy'], ['poddisruptionbudgets/status'])],
  // servicelb: LoadBalancer Services get the Ready nodes' addresses (Kubernetes' service-controller role).
  'service-controller': [rule(['update', 'patch'], [''], ['services/status'])],
  // It counts any kind a quota names (`count/<resource>.<group>`), as Kubernetes' role allows.
  'resourcequota-controller': [
    rule(['list', 'watch'], ['*'], ['*']),
    rule(['update'], [''], ['resourcequotas/status']),
  ],
  // Reads targets' scale and the pods' metrics; writes the scale and its own status (Kubernetes' role).
  'horizontal-pod-autoscaler': [
    rule(['get', 'list', 'watch'], ['autoscaling'], ['horizontalpodautoscalers']),
    rule(['update'], ['autoscaling'], ['horizontalpodautoscalers/status']),
    rule(['get', 'update'], ['*'], ['*/scale']),
    rule(['list'], [''], ['pods']),
    rule(['list'], ['metrics.k8s.io'], ['pods']),
  ],
};

/** Every controller ServiceAccount that has a role. */
export const CONTROLLER_SERVICE_ACCOUNTS = Object.keys(CONTROLLER_RULES);

const serviceAccount = (namespace: string, name: string): Subject => ({ kind: 'ServiceAccount', namespace, name });

/**
 * The default ClusterRoles, in the order they are reconciled; `admin`, `edit` and `view` come
 * already holding their union, so a cluster answers right before the aggregation controller
 * first runs (it keeps them right after).
 */
export function defaultClusterRoles(): ClusterRole[] {
  return aggregateAll([
    clusterRole('cluster-admin', [rule(['*'], ['*'], ['*']), urls(['*'], ['*'])]),
    aggregated('admin'),
    aggregated('edit', { [`${AGGREGATE}admin`]: 'true' }),
    aggregated('view', { [`${AGGREGATE}edit`]: 'true' }),
    clusterRole('system:aggregate-to-admin', ADMIN_RULES, { [`${AGGREGATE}admin`]: 'true' }),
    clusterRole('system:aggregate-to-edit', EDIT_RULES, { [`${AGGREGATE}edit`]: 'true' }),
    clusterRole('system:aggregate-to-view', VIEW_RULES, { [`${AGGREGATE}view`]: 'true' }),
    // metrics-server's role: whoever may view a namespace may read its resource metrics.
    clusterRole('system:aggregated-metrics-reader', [rule(READ, ['metrics.k8s.io'], ['pods', 'nodes'])], {
      [`${AGGREGATE}view`]: 'true',
      [`${AGGREGATE}edit`]: 'true',
      [`${AGGREGATE}admin`]: 'true',
    }),
    clusterRole('system:basic-user', [
      rule(['create'], ['authentication.k8s.io'], ['selfsubjectreviews']),
      rule(['create'], ['authorization.k8s.io'], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews']),
    ]),
    clusterRole('system:discovery', [urls(['get'], DISCOVERY_URLS)]),
    clusterRole('system:public-info-viewer', [urls(['get'], PUBLIC_URLS)]),
    clusterRole('system:monitoring', [
      urls(['get'], ['/healthz', '/healthz/*', '/livez', '/livez/*', '/readyz', '/readyz/*', '/metrics']),
    ]),
    clusterRole('system:service-account-issuer-discovery', [
      urls(
        ['get'],
        [
          '/.well-known/openid-configuration',
          '/.well-known/openid-configuration/',
          '/openid/v1/jwks',
          '/openid/v1/jwks/',
        ],
      ),
    ]),
    clusterRole('system:node-bootstrapper', [
      rule(['create', ...READ], ['certificates.k8s.io'], ['certificatesigningrequests']),
    ]),
    clusterRole('system:kube-scheduler', SCHEDULER_RULES),
    clusterRole('system:kube-controller-manager', CONTROLLER_MANAGER_RULES),
    clusterRole(SHARED_CONTROLLERS_ROLE, SHARED_CONTROLLERS_RULES),
    ...Object.entries(CONTROLLER_RULES).map(([name, rules]) =>
      clusterRole(`${CONTROLLER_ROLE_PREFIX}${name}`, [...rules, EVENTS_RULE]),
    ),
  ]);
}

/**
 * The controllers' old shared rules, bound to the controller-manager only by an apiserver
 * that issues no ServiceAccount tokens: there the controllers fall back to its identity.
 */
export const SHARED_CONTROLLERS_ROLE = 'system:kube-controller-manager:without-service-account-tokens';

export interface DefaultPolicyOptions {
  /** This apiserver answers TokenRequest: the controllers have identities of their own. */
  serviceAccountTokens: boolean;
}

/** The default ClusterRoleBindings. */
export function defaultClusterRoleBindings(
  opts: DefaultPolicyOptions = { serviceAccountTokens: true },
): ClusterRoleBinding[] {
  return [
    ...(opts.serviceAccountTokens ? [] : [binding(SHARED_CONTROLLERS_ROLE, [user('system:kube-controller-manager')])]),
    ...Object.keys(CONTROLLER_RULES).map((name) =>
      binding(`${CONTROLLER_ROLE_PREFIX}${name}`, [serviceAccount('kube-system', name)]),
    ),
    binding('cluster-admin', [group('system:masters')]),
    binding('system:basic-user', [group('system:authenticated')]),
    binding('system:discovery', [group('system:authenticated')]),
    binding('system:public-info-viewer', [group('system:authenticated'), group('system:unauthenticated')]),
    binding('system:monitoring', [group('system:monitoring')]),
    binding('system:node-bootstrapper', [group('system:bootstrappers')]),
    binding('system:service-account-issuer-discovery', [group('system:serviceaccounts')]),
    binding('system:kube-scheduler', [user('system:kube-scheduler')]),
    binding('system:kube-controller-manager', [user('system:kube-controller-manager')]),
  ];
}

/**
 * Namespaced defaults: anonymous callers may read `kube-public/cluster-info` (what a joining
 * node verifies against its discovery hash), as kubeadm's bootstrap-signer-clusterinfo Role
 * allows.
 */
export function defaultNamespacedPolicy(): { roles: Role[]; roleBindings: RoleBinding[] } {
  const grants: { namespace: string; name: string; rules: PolicyRule[]; subject: Subject }[] = [
    {
      namespace: 'kube-public',
      name: 'kubeadm:bootstrap-signer-clusterinfo',
      rules: [named(rule(['get'], [''], ['configmaps']), ['cluster-info'])],
      subject: user('system:anonymous'),
    },
    // The controller-manager makes its controllers' ServiceAccounts and asks for their tokens.
    {
      namespace: 'kube-system',
      name: 'system:kube-controller-manager:controller-credentials',
      rules: [rule(['get', 'create'], [''], ['serviceaccounts']), rule(['create'], [''], ['serviceaccounts/token'])],
      subject: user('system:kube-controller-manager'),
    },
    {
      namespace: 'kube-public',
      name: `${CONTROLLER_ROLE_PREFIX}bootstrap-signer`,
      rules: [named(rule(['update'], [''], ['configmaps']), ['cluster-info'])],
      subject: serviceAccount('kube-system', 'bootstrap-signer'),
    },
    {
      namespace: 'kube-system',
      name: `${CONTROLLER_ROLE_PREFIX}token-cleaner`,
      rules: [rule(['delete'], [''], ['secrets'])],
      subject: serviceAccount('kube-system', 'token-cleaner'),
    },
  ];
  const metadataOf = (g: { namespace: string; name: string }): Role['metadata'] => ({
    name: g.name,
    namespace: g.namespace,
    labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' },
    annotations: { [AUTOUPDATE_ANNOTATION]: 'true' },
  });
  return {
    roles: grants.map((g) => ({
      apiVersion: `${RBAC_GROUP}/v1`,
      kind: 'Role',
      metadata: metadataOf(g),
      rules: g.rules,
    })),
    roleBindings: grants.map((g) => ({
      apiVersion: `${RBAC_GROUP}/v1`,
      kind: 'RoleBinding',
      metadata: metadataOf(g),
      roleRef: { apiGroup: RBAC_GROUP, kind: 'Role', name: g.name },
      subjects: [g.subject],
    })),
  };
}
