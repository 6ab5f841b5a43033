// A compact schema of every served kind's known fields and their JSON types. It catches
// wrong types before anything is stored (400, as Kubernetes' decoder does) and finds
// unknown fields for `fieldValidation=Strict|Warn`. The structure is plain data, walkable
// to emit OpenAPI later.
//
// Generous by design: an unknown-field false positive would refuse a real manifest, so every
// upstream field of the modelled kinds is listed, and what Coxswain does not model in detail
// (status subtrees, cloud volume types, securityContext corners) is `open`: known fields are
// type-checked, other fields are accepted.

import type { StatusCause } from '../errors/index.js';
import { isObject, type KubeObject } from './meta.js';

export type Schema =
  | 'string'
  /** Go's int32 and int64: integers in range (a JSON number that does not fit is a 400). */
  | 'int32'
  | 'int64'
  | 'number'
  | 'boolean'
  | 'intOrString'
  | 'quantity'
  /** A free-form JSON value, accepted unchecked (OpenAPI's x-kubernetes-preserve-unknown-fields). */
  | 'freeform'
  | { object: Record<string, Schema>; open?: boolean }
  | { map: Schema }
  | { list: Schema };

const obj = (fields: Record<string, Schema>): Schema => ({ object: fields });
/** Known fields are type-checked; others are accepted. */
const open = (fields: Record<string, Schema> = {}): Schema => ({ object: fields, open: true });
const map = (of: Schema): Schema => ({ map: of });
const list = (of: Schema): Schema => ({ list: of });
const strings = list('string');

// ---- shared pieces ------------------------------------------------------------------------

const ownerReference = obj({
  apiVersion: 'string',
  kind: 'string',
  name: 'string',
  uid: 'string',
  controller: 'boolean',
  blockOwnerDeletion: 'boolean',
});

export const OBJECT_META: Schema = obj({
  name: 'string',
  generateName: 'string',
  namespace: 'string',
  selfLink: 'string',
  uid: 'string',
  resourceVersion: 'string',
  generation: 'int64',
  creationTimestamp: 'string',
  deletionTimestamp: 'string',
  deletionGracePeriodSeconds: 'int64',
  labels: map('string'),
  annotations: map('string'),
  ownerReferences: list(ownerReference),
  finalizers: strings,
  managedFields: list('freeform'),
});

const objectReference = obj({
  kind: 'string',
  namespace: 'string',
  name: 'string',
  uid: 'string',
  apiVersion: 'string',
  resourceVersion: 'string',
  fieldPath: 'string',
});
const localObjectReference = obj({ name: 'string' });

const labelSelector = obj({
  matchLabels: map('string'),
  matchExpressions: list(obj({ key: 'string', operator: 'string', values: strings })),
});

const networkPolicyPorts = list(obj({ protocol: 'string', port: 'intOrString', endPort: 'int32' }));
const networkPolicyPeers = list(
  obj({
    podSelector: labelSelector,
    namespaceSelector: labelSelector,
    ipBlock: obj({ cidr: 'string', except: strings }),
  }),
);

/** Conditions of every kind: the usual fields typed, any others accepted. */
const condition = open({
  type: 'string',
  status: 'string',
  reason: 'string',
  message: 'string',
  observedGeneration: 'int64',
  lastProbeTime: 'string',
  lastTransitionTime: 'string',
  lastUpdateTime: 'string',
  lastHeartbeatTime: 'string',
});
const conditions = list(condition);

// ---- containers ---------------------------------------------------------------------------

const httpGet = obj({
  path: 'string',
  port: 'intOrString',
  host: 'string',
  scheme: 'string',
  httpHeaders: list(obj({ name: 'string', value: 'string' })),
});
const handlerFields = {
  exec: obj({ command: strings }),
  httpGet,
  tcpSocket: obj({ port: 'intOrString', host: 'string' }),
};

const probe = obj({
  ...handlerFields,
  grpc: obj({ port: 'int32', service: 'string' }),
  initialDelaySeconds: 'int32',
  timeoutSeconds: 'int32',
  periodSeconds: 'int32',
  successThreshold: 'int32',
  failureThreshold: 'int32',
  terminationGracePeriodSeconds: 'int64',
});

const lifecycleHandler = obj({ ...handlerFields, sleep: obj({ seconds: 'int64' }) });

const keyRef = obj({ name: 'string', key: 'string', optional: 'boolean' });
const fieldRef = obj({ apiVersion: 'string', fieldPath: 'string' });
const resourceFieldRef = obj({ containerName: 'string', resource: 'string', divisor: 'quantity' });
const envVar = obj({
  name: 'string',
  value: 'string',
  valueFrom: obj({ configMapKeyRef: keyRef, secretKeyRef: keyRef, fieldRef, resourceFieldRef, fileKeyRef: open() }),
});
const envFrom = obj({
  prefix: 'string',
  configMapRef: obj({ name: 'string', optional: 'boolean' }),
  secretRef: obj({ name: 'string', optional: 'boolean' }),
});

const resources = obj({
  limits: map('quantity'),
  requests: map('quantity'),
  claims: list(obj({ name: 'string', request: 'string' })),
});

const seLinuxOptions = obj({ user: 'string', role: 'string', type: 'string', level: 'string' });
const windowsOptions = obj({
  gmsaCredentialSpecName: 'string',
  gmsaCredentialSpec: 'string',
  runAsUserName: 'string',
  hostProcess: 'boolean',
});
const profile = obj({ type: 'string', localhostProfile: 'string' });
const securityContext = open({
  capabilities: obj({ add: strings, drop: strings }),
  privileged: 'boolean',
  seLinuxOptions,
  windowsOptions,
  runAsUser: 'int64',
  runAsGroup: 'int64',
  runAsNonRoot: 'boolean',
  readOnlyRootFilesystem: 'boolean',
  allowPrivilegeEscalation: 'boolean',
  procMount: 'string',
  seccompProfile: profile,
  appArmorProfile: profile,
});
const podSecurityContext = open({
  seLinuxOptions,
  windowsOptions,
  runAsUser: 'int64',
  runAsGroup: 'int64',
  runAsNonRoot: 'boolean',
  supplementalGroups: list('int64'),
  supplementalGroupsPolicy: 'string',
  fsGroup: 'int64',
  fsGroupChangePolicy: 'string',
  sysctls: list(obj({ name: 'string', value: 'string' })),
  seccompProfile: profile,
  appArmorProfile: profile,
  seLinuxChangePolicy: 'string',
});

const containerFields: Record<string, Schema> = {
  name: 'string',
  image: 'string',
  command: strings,
  args: strings,
  workingDir: 'string',
  ports: list(obj({ name: 'string', containerPort: 'int32', hostPort: 'int32', protocol: 'string', hostIP: 'string' })),
  envFrom: list(envFrom),
  env: list(envVar),
  resources,
  resizePolicy: list(obj({ resourceName: 'string', restartPolicy: 'string' })),
  restartPolicy: 'string',
  restartPolicyRules: list(open()),
  volumeMounts: list(
    obj({
      name: 'string',
      readOnly: 'boolean',
      recursiveReadOnly: 'string',
      mountPath: 'string',
      subPath: 'string',
      mountPropagation: 'string',
      subPathExpr: 'string',
    }),
  ),
  volumeDevices: list(obj({ name: 'string', devicePath: 'string' })),
  livenessProbe: probe,
  readinessProbe: probe,
  startupProbe: probe,
  lifecycle: obj({ postStart: lifecycleHandler, preStop: lifecycleHandler, stopSignal: 'string' }),
  terminationMessagePath: 'string',
  terminationMessagePolicy: 'string',
  imagePullPolicy: 'string',
  securityContext,
  stdin: 'boolean',
  stdinOnce: 'boolean',
  tty: 'boolean',
};
const container = obj(containerFields);
const ephemeralContainer = obj({ ...containerFields, targetContainerName: 'string' });

// ---- volumes ------------------------------------------------------------------------------

const keyToPath = list(obj({ key: 'string', path: 'string', mode: 'int32' }));
const downwardAPIItems = list(obj({ path: 'string', fieldRef, resourceFieldRef, mode: 'int32' }));
const volume = open({
  // The many cloud, CSI and network volume types are accepted unchecked.
  name: 'string',
  emptyDir: obj({ medium: 'string', sizeLimit: 'quantity' }),
  hostPath: obj({ path: 'string', type: 'string' }),
  configMap: obj({ name: 'string', items: keyToPath, defaultMode: 'int32', optional: 'boolean' }),
  secret: obj({ secretName: 'string', items: keyToPath, defaultMode: 'int32', optional: 'boolean' }),
  persistentVolumeClaim: obj({ claimName: 'string', readOnly: 'boolean' }),
  projected: obj({
    defaultMode: 'int32',
    sources: list(
      obj({
        configMap: obj({ name: 'string', items: keyToPath, optional: 'boolean' }),
        secret: obj({ name: 'string', items: keyToPath, optional: 'boolean' }),
        downwardAPI: obj({ items: downwardAPIItems }),
        serviceAccountToken: obj({ audience: 'string', expirationSeconds: 'int64', path: 'string' }),
        clusterTrustBundle: open(),
        podCertificate: open(),
      }),
    ),
  }),
  downwardAPI: obj({ items: downwardAPIItems, defaultMode: 'int32' }),
});

// ---- scheduling ---------------------------------------------------------------------------

const nodeSelectorRequirements = list(obj({ key: 'string', operator: 'string', values: strings }));
const nodeSelectorTerm = obj({ matchExpressions: nodeSelectorRequirements, matchFields: nodeSelectorRequirements });
const podAffinityTerm = obj({
  labelSelector,
  namespaces: strings,
  topologyKey: 'string',
  namespaceSelector: labelSelector,
  matchLabelKeys: strings,
  mismatchLabelKeys: strings,
});
const podAffinity = obj({
  requiredDuringSchedulingIgnoredDuringExecution: list(podAffinityTerm),
  preferredDuringSchedulingIgnoredDuringExecution: list(obj({ weight: 'int32', podAffinityTerm })),
});
const affinity = obj({
  nodeAffinity: obj({
    requiredDuringSchedulingIgnoredDuringExecution: obj({ nodeSelectorTerms: list(nodeSelectorTerm) }),
    preferredDuringSchedulingIgnoredDuringExecution: list(obj({ weight: 'int32', preference: nodeSelectorTerm })),
  }),
  podAffinity,
  podAntiAffinity: podAffinity,
});
const toleration = obj({
  key: 'string',
  operator: 'string',
  value: 'string',
  effect: 'string',
  tolerationSeconds: 'int64',
});

// ---- pods ---------------------------------------------------------------------------------

const podSpec = obj({
  volumes: list(volume),
  initContainers: list(container),
  containers: list(container),
  ephemeralContainers: list(ephemeralContainer),
  restartPolicy: 'string',
  terminationGracePeriodSeconds: 'int64',
  activeDeadlineSeconds: 'int64',
  dnsPolicy: 'string',
  nodeSelector: map('string'),
  serviceAccountName: 'string',
  serviceAccount: 'string',
  automountServiceAccountToken: 'boolean',
  nodeName: 'string',
  hostNetwork: 'boolean',
  hostPID: 'boolean',
  hostIPC: 'boolean',
  shareProcessNamespace: 'boolean',
  securityContext: podSecurityContext,
  imagePullSecrets: list(localObjectReference),
  hostname: 'string',
  hostnameOverride: 'string',
  subdomain: 'string',
  affinity,
  schedulerName: 'string',
  tolerations: list(toleration),
  hostAliases: list(obj({ ip: 'string', hostnames: strings })),
  priorityClassName: 'string',
  priority: 'int32',
  dnsConfig: obj({ nameservers: strings, searches: strings, options: list(obj({ name: 'string', value: 'string' })) }),
  readinessGates: list(obj({ conditionType: 'string' })),
  runtimeClassName: 'string',
  enableServiceLinks: 'boolean',
  preemptionPolicy: 'string',
  overhead: map('quantity'),
  topologySpreadConstraints: list(
    obj({
      maxSkew: 'int32',
      topologyKey: 'string',
      whenUnsatisfiable: 'string',
      labelSelector,
      minDomains: 'int32',
      nodeAffinityPolicy: 'string',
      nodeTaintsPolicy: 'string',
      matchLabelKeys: strings,
    }),
  ),
  setHostnameAsFQDN: 'boolean',
  os: obj({ name: 'string' }),
  hostUsers: 'boolean',
  schedulingGates: list(obj({ name: 'string' })),
  resourceClaims: list(open({ name: 'string' })),
  resources,
});

const containerState = obj({
  waiting: open({ reason: 'string', message: 'string' }),
  running: open({ startedAt: 'string' }),
  terminated: open({
    exitCode: 'int32',
    signal: 'int32',
    reason: 'string',
    message: 'string',
    startedAt: 'string',
    finishedAt: 'string',
    containerID: 'string',
  }),
});
const containerStatus = open({
  name: 'string',
  state: containerState,
  lastState: containerState,
  ready: 'boolean',
  restartCount: 'int32',
  image: 'string',
  imageID: 'string',
  containerID: 'string',
  started: 'boolean',
  allocatedResources: map('quantity'),
  resources: open(),
});
const podIPs = list(open({ ip: 'string' }));
const podStatus = open({
  phase: 'string',
  conditions,
  message: 'string',
  reason: 'string',
  nominatedNodeName: 'string',
  hostIP: 'string',
  hostIPs: podIPs,
  podIP: 'string',
  podIPs,
  startTime: 'string',
  initContainerStatuses: list(containerStatus),
  containerStatuses: list(containerStatus),
  ephemeralContainerStatuses: list(containerStatus),
  qosClass: 'string',
  observedGeneration: 'int64',
});

const podTemplate = obj({ metadata: OBJECT_META, spec: podSpec });

// ---- workloads ----------------------------------------------------------------------------

const jobSpec = obj({
  parallelism: 'int32',
  completions: 'int32',
  activeDeadlineSeconds: 'int64',
  podFailurePolicy: open({ rules: list('freeform') }),
  successPolicy: open({ rules: list('freeform') }),
  backoffLimit: 'int32',
  backoffLimitPerIndex: 'int32',
  maxFailedIndexes: 'int32',
  selector: labelSelector,
  manualSelector: 'boolean',
  template: podTemplate,
  ttlSecondsAfterFinished: 'int32',
  completionMode: 'string',
  suspend: 'boolean',
  podReplacementPolicy: 'string',
  managedBy: 'string',
});

const replicaStatus = {
  observedGeneration: 'int64',
  replicas: 'int32',
  updatedReplicas: 'int32',
  readyReplicas: 'int32',
  availableReplicas: 'int32',
  unavailableReplicas: 'int32',
  terminatingReplicas: 'int32',
  currentReplicas: 'int32',
  fullyLabeledReplicas: 'int32',
  collisionCount: 'int32',
  conditions,
} satisfies Record<string, Schema>;

const policyRule = obj({
  verbs: strings,
  apiGroups: strings,
  resources: strings,
  resourceNames: strings,
  nonResourceURLs: strings,
});
const subjects = list(obj({ kind: 'string', apiGroup: 'string', name: 'string', namespace: 'string' }));
const roleRef = obj({ apiGroup: 'string', kind: 'string', name: 'string' });

/** Fields beyond apiVersion/kind/metadata, per kind. */
const typedReference = obj({ apiGroup: 'string', kind: 'string', name: 'string', namespace: 'string' });
const claimSpec = obj({
  accessModes: strings,
  selector: labelSelector,
  resources: obj({ limits: map('quantity'), requests: map('quantity') }),
  volumeName: 'string',
  storageClassName: 'string',
  volumeMode: 'string',
  dataSource: typedReference,
  dataSourceRef: typedReference,
  volumeAttributesClassName: 'string',
});

const KINDS: Record<string, Record<string, Schema>> = {
  Namespace: { spec: obj({ finalizers: strings }), status: open({ phase: 'string', conditions }) },
  Pod: { spec: podSpec, status: podStatus },
  Binding: { target: objectReference },
  Node: {
    spec: obj({
      podCIDR: 'string',
      podCIDRs: strings,
      providerID: 'string',
      unschedulable: 'boolean',
      taints: list(obj({ key: 'string', value: 'string', effect: 'string', timeAdded: 'string' })),
      configSource: open(),
      externalID: 'string',
    }),
    status: open({
      capacity: map('quantity'),
      allocatable: map('quantity'),
      phase: 'string',
      conditions,
      addresses: list(obj({ type: 'string', address: 'string' })),
      daemonEndpoints: open({ kubeletEndpoint: obj({ Port: 'int32' }) }),
      nodeInfo: open({
        machineID: 'string',
        systemUUID: 'string',
        bootID: 'string',
        kernelVersion: 'string',
        osImage: 'string',
        containerRuntimeVersion: 'string',
        kubeletVersion: 'string',
        kubeProxyVersion: 'string',
        operatingSystem: 'string',
        architecture: 'string',
      }),
      images: list(open({ names: strings, sizeBytes: 'int64' })),
      volumesInUse: strings,
      volumesAttached: list(open()),
    }),
  },
  Service: {
    spec: obj({
      ports: list(
        obj({
          name: 'string',
          protocol: 'string',
          appProtocol: 'string',
          port: 'int32',
          targetPort: 'intOrString',
          nodePort: 'int32',
        }),
      ),
      selector: map('string'),
      clusterIP: 'string',
      clusterIPs: strings,
      type: 'string',
      externalIPs: strings,
      sessionAffinity: 'string',
      loadBalancerIP: 'string',
      loadBalancerSourceRanges: strings,
      externalName: 'string',
      externalTrafficPolicy: 'string',
      healthCheckNodePort: 'int32',
      publishNotReadyAddresses: 'boolean',
      sessionAffinityConfig: obj({ clientIP: obj({ timeoutSeconds: 'int32' }) }),
      ipFamilies: strings,
      ipFamilyPolicy: 'string',
      allocateLoadBalancerNodePorts: 'boolean',
      loadBalancerClass: 'string',
      internalTrafficPolicy: 'string',
      trafficDistribution: 'string',
    }),
    status: open({
      loadBalancer: open({ ingress: list(open({ ip: 'string', hostname: 'string', ipMode: 'string' })) }),
      conditions,
    }),
  },
  Endpoints: {
    subsets: list(
      obj({
        addresses: list(obj({ ip: 'string', hostname: 'string', nodeName: 'string', targetRef: objectReference })),
        notReadyAddresses: list(
          obj({ ip: 'string', hostname: 'string', nodeName: 'string', targetRef: objectReference }),
        ),
        ports: list(obj({ name: 'string', port: 'int32', protocol: 'string', appProtocol: 'string' })),
      }),
    ),
  },
  ConfigMap: { data: map('string'), binaryData: map('string'), immutable: 'boolean' },
  Secret: { data: map('string'), stringData: map('string'), type: 'string', immutable: 'boolean' },
  ServiceAccount: {
    secrets: list(objectReference),
    imagePullSecrets: list(localObjectReference),
    automountServiceAccountToken: 'boolean',
  },
  Event: {
    involvedObject: objectReference,
    reason: 'string',
    message: 'string',
    source: obj({ component: 'string', host: 'string' }),
    firstTimestamp: 'string',
    lastTimestamp: 'string',
    count: 'int32',
    type: 'string',
    eventTime: 'string',
    series: obj({ count: 'int32', lastObservedTime: 'string' }),
    action: 'string',
    related: objectReference,
    reportingComponent: 'string',
    reportingInstance: 'string',
  },
  Deployment: {
    spec: obj({
      replicas: 'int32',
      selector: labelSelector,
      template: podTemplate,
      strategy: obj({ type: 'string', rollingUpdate: obj({ maxUnavailable: 'intOrString', maxSurge: 'intOrString' }) }),
      minReadySeconds: 'int32',
      revisionHistoryLimit: 'int32',
      paused: 'boolean',
      progressDeadlineSeconds: 'int32',
    }),
    status: open(replicaStatus),
  },
  ReplicaSet: {
    spec: obj({ replicas: 'int32', minReadySeconds: 'int32', selector: labelSelector, template: podTemplate }),
    status: open(replicaStatus),
  },
  ReplicationController: {
    spec: obj({ replicas: 'int32', minReadySeconds: 'int32', selector: map('string'), template: podTemplate }),
    status: open(replicaStatus),
  },
  DaemonSet: {
    spec: obj({
      selector: labelSelector,
      template: podTemplate,
      updateStrategy: obj({
        type: 'string',
        rollingUpdate: obj({ maxUnavailable: 'intOrString', maxSurge: 'intOrString' }),
      }),
      minReadySeconds: 'int32',
      revisionHistoryLimit: 'int32',
    }),
    status: open({
      currentNumberScheduled: 'int32',
      numberMisscheduled: 'int32',
      desiredNumberScheduled: 'int32',
      numberReady: 'int32',
      observedGeneration: 'int64',
      updatedNumberScheduled: 'int32',
      numberAvailable: 'int32',
      numberUnavailable: 'int32',
      collisionCount: 'int32',
      conditions,
    }),
  },
  StatefulSet: {
    spec: obj({
      replicas: 'int32',
      selector: labelSelector,
      template: podTemplate,
      volumeClaimTemplates: list(
        obj({ apiVersion: 'string', kind: 'string', metadata: OBJECT_META, spec: claimSpec, status: open() }),
      ),
      serviceName: 'string',
      podManagementPolicy: 'string',
      updateStrategy: obj({
        type: 'string',
        rollingUpdate: obj({ partition: 'int32', maxUnavailable: 'intOrString' }),
      }),
      revisionHistoryLimit: 'int32',
      minReadySeconds: 'int32',
      persistentVolumeClaimRetentionPolicy: obj({ whenDeleted: 'string', whenScaled: 'string' }),
      ordinals: obj({ start: 'int32' }),
    }),
    status: open({ ...replicaStatus, currentRevision: 'string', updateRevision: 'string' }),
  },
  Job: {
    spec: jobSpec,
    status: open({
      conditions,
      startTime: 'string',
      completionTime: 'string',
      active: 'int32',
      succeeded: 'int32',
      failed: 'int32',
      terminating: 'int32',
      ready: 'int32',
      completedIndexes: 'string',
      failedIndexes: 'string',
      uncountedTerminatedPods: open({ succeeded: strings, failed: strings }),
    }),
  },
  CronJob: {
    spec: obj({
      schedule: 'string',
      timeZone: 'string',
      startingDeadlineSeconds: 'int64',
      concurrencyPolicy: 'string',
      suspend: 'boolean',
      jobTemplate: obj({ metadata: OBJECT_META, spec: jobSpec }),
      successfulJobsHistoryLimit: 'int32',
      failedJobsHistoryLimit: 'int32',
    }),
    status: open({ active: list(objectReference), lastScheduleTime: 'string', lastSuccessfulTime: 'string' }),
  },
  Lease: {
    spec: obj({
      holderIdentity: 'string',
      leaseDurationSeconds: 'int32',
      acquireTime: 'string',
      renewTime: 'string',
      leaseTransitions: 'int32',
      strategy: 'string',
      preferredHolder: 'string',
    }),
  },
  Role: { rules: list(policyRule) },
  ClusterRole: { rules: list(policyRule), aggregationRule: obj({ clusterRoleSelectors: list(labelSelector) }) },
  RoleBinding: { subjects, roleRef },
  ClusterRoleBinding: { subjects, roleRef },
  CertificateSigningRequest: {
    spec: obj({
      request: 'string',
      signerName: 'string',
      expirationSeconds: 'int32',
      usages: strings,
      username: 'string',
      uid: 'string',
      groups: strings,
      extra: map(strings),
    }),
    status: open({ conditions, certificate: 'string' }),
  },
  Eviction: {
    deleteOptions: obj({
      kind: 'string',
      apiVersion: 'string',
      gracePeriodSeconds: 'int64',
      preconditions: obj({ uid: 'string', resourceVersion: 'string' }),
      orphanDependents: 'boolean',
      propagationPolicy: 'string',
      dryRun: strings,
      ignoreStoreReadErrorWithClusterBreakingPotential: 'boolean',
    }),
  },
  Scale: { spec: obj({ replicas: 'int32' }), status: open({ replicas: 'int32', selector: 'string' }) },
  ControllerRevision: { data: 'freeform', revision: 'int64' },
  EndpointSlice: {
    addressType: 'string',
    endpoints: list(
      obj({
        addresses: strings,
        conditions: obj({ ready: 'boolean', serving: 'boolean', terminating: 'boolean' }),
        hostname: 'string',
        targetRef: objectReference,
        nodeName: 'string',
        zone: 'string',
        deprecatedTopology: map('string'),
        hints: obj({ forZones: list(obj({ name: 'string' })), forNodes: list(obj({ name: 'string' })) }),
      }),
    ),
    ports: list(obj({ name: 'string', protocol: 'string', port: 'int32', appProtocol: 'string' })),
  },
  NetworkPolicy: {
    spec: obj({
      podSelector: labelSelector,
      ingress: list(obj({ ports: networkPolicyPorts, from: networkPolicyPeers })),
      egress: list(obj({ ports: networkPolicyPorts, to: networkPolicyPeers })),
      policyTypes: strings,
    }),
  },
};

// ---- storage --------------------------------------------------------------------------------

const ingressBackend = obj({
  service: obj({ name: 'string', port: obj({ name: 'string', number: 'int32' }) }),
  resource: obj({ apiGroup: 'string', kind: 'string', name: 'string' }),
});

const STORAGE_KINDS: Record<string, Record<string, Schema>> = {
  PersistentVolume: {
    // The cloud and CSI volume sources are accepted as given; Coxswain mounts hostPath and local.
    spec: open({
      capacity: map('quantity'),
      accessModes: strings,
      claimRef: objectReference,
      persistentVolumeReclaimPolicy: 'string',
      storageClassName: 'string',
      mountOptions: strings,
      volumeMode: 'string',
      volumeAttributesClassName: 'string',
      nodeAffinity: obj({ required: obj({ nodeSelectorTerms: list(nodeSelectorTerm) }) }),
      hostPath: obj({ path: 'string', type: 'string' }),
      local: obj({ path: 'string', fsType: 'string' }),
    }),
    status: open({ phase: 'string', message: 'string', reason: 'string', lastPhaseTransitionTime: 'string' }),
  },
  PersistentVolumeClaim: {
    spec: claimSpec,
    status: open({
      phase: 'string',
      accessModes: strings,
      capacity: map('quantity'),
      conditions,
      allocatedResources: map('quantity'),
    }),
  },
  Ingress: {
    spec: obj({
      ingressClassName: 'string',
      defaultBackend: ingressBackend,
      tls: list(obj({ hosts: strings, secretName: 'string' })),
      rules: list(
        obj({
          host: 'string',
          http: obj({ paths: list(obj({ path: 'string', pathType: 'string', backend: ingressBackend })) }),
        }),
      ),
    }),
    status: open({ loadBalancer: open({ ingress: list(open({ ip: 'string', hostname: 'string' })) }) }),
  },
  IngressClass: {
    spec: obj({
      controller: 'string',
      parameters: obj({ apiGroup: 'string', kind: 'string', name: 'string', namespace: 'string', scope: 'string' }),
    }),
  },
  // Namespace policy (core/v1).
  ResourceQuota: {
    spec: obj({
      hard: map('quantity'),
      scopes: strings,
      scopeSelector: obj({ matchExpressions: list(obj({ scopeName: 'string', operator: 'string', values: strings })) }),
    }),
    status: open({ hard: map('quantity'), used: map('quantity') }),
  },
  LimitRange: {
    spec: obj({
      limits: list(
        obj({
          type: 'string',
          max: map('quantity'),
          min: map('quantity'),
          default: map('quantity'),
          defaultRequest: map('quantity'),
          maxLimitRequestRatio: map('quantity'),
        }),
      ),
    }),
  },
  StorageClass: {
    provisioner: 'string',
    parameters: map('string'),
    reclaimPolicy: 'string',
    mountOptions: strings,
    allowVolumeExpansion: 'boolean',
    volumeBindingMode: 'string',
    allowedTopologies: list(obj({ matchLabelExpressions: list(obj({ key: 'string', values: strings })) })),
  },
};

// ---- policy and scheduling ------------------------------------------------------------------

const POLICY_KINDS: Record<string, Record<string, Schema>> = {
  PodDisruptionBudget: {
    spec: obj({
      minAvailable: 'intOrString',
      maxUnavailable: 'intOrString',
      selector: labelSelector,
      unhealthyPodEvictionPolicy: 'string',
    }),
    status: open({
      observedGeneration: 'int64',
      disruptedPods: map('string'),
      disruptionsAllowed: 'int32',
      currentHealthy: 'int32',
      desiredHealthy: 'int32',
      expectedPods: 'int32',
      conditions,
    }),
  },
  PriorityClass: { value: 'int32', globalDefault: 'boolean', description: 'string', preemptionPolicy: 'string' },
};

/** Kinds this schema describes. */
export function schemaKinds(): string[] {
  return [...Object.keys(KINDS), ...Object.keys(STORAGE_KINDS), ...Object.keys(POLICY_KINDS)];
}

/** The whole schema of a kind (undefined for kinds it does not describe). */
export function schemaFor(kind: string): Schema | undefined {
  const fields = KINDS[kind] ?? STORAGE_KINDS[kind] ?? POLICY_KINDS[kind];
  if (fields === undefined) return undefined;
  return obj({ apiVersion: 'string', kind: 'string', metadata: OBJECT_META, status: open(), ...fields });
}

const QUANTITY = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+|[KMGTPE]i|[mkMGTPE])?$/;

const INT32_MAX = 2 ** 31 - 1;
const INT32_MIN = -(2 ** 31);

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value === 'object' ? 'object' : typeof value;
}

interface Findings {
  causes: StatusCause[];
  unknown: string[];
  /** Remove unknown fields from the object while walking it. */
  prune: boolean;
}

function typeCause(path: string, value: unknown, expected: string): StatusCause {
  const got = JSON.stringify(typeName(value));
  return {
    reason: 'FieldValueTypeInvalid',
    field: path,
    message: `Invalid value: ${got}: ${path} in body must be of type ${expected}: ${got}`,
  };
}

/** A number that does not fit the Go integer type, worded as Kubernetes' JSON decoder does. */
function rangeCause(path: string, value: number, type: 'int32' | 'int64'): StatusCause {
  return {
    reason: 'FieldValueTypeInvalid',
    field: path,
    message: `cannot unmarshal number ${String(value)} into Go struct field ${path} of type ${type}`,
  };
}

function fitsInteger(value: number, type: 'int32' | 'int64'): boolean {
  // int64 beyond 2^53 cannot be held exactly by a JSON number here; refuse rather than round.
  return type === 'int32'
    ? Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX
    : Number.isSafeInteger(value);
}

/** Where a walk is (a field path) and what it has found so far. */
interface Site {
  path: string;
  out: Findings;
}

function walkScalar(value: unknown, schema: Exclude<Schema, object>, site: Site): void {
  const { path, out } = site;
  switch (schema) {
    case 'freeform':
      return;
    case 'string':
      if (typeof value !== 'string') out.causes.push(typeCause(path, value, 'string'));
      return;
    case 'int32':
    case 'int64':
      if (typeof value !== 'number') out.causes.push(typeCause(path, value, 'integer'));
      else if (!fitsInteger(value, schema)) out.causes.push(rangeCause(path, value, schema));
      return;
    case 'number':
      if (typeof value !== 'number') out.causes.push(typeCause(path, value, 'number'));
      return;
    case 'boolean':
      if (typeof value !== 'boolean') out.causes.push(typeCause(path, value, 'boolean'));
      return;
    case 'intOrString':
      if (typeof value === 'number' && !fitsInteger(value, 'int32')) out.causes.push(rangeCause(path, value, 'int32'));
      else if (typeof value !== 'string' && typeof value !== 'number')
        out.causes.push(typeCause(path, value, 'integer,string'));
      return;
    case 'quantity':
      if (typeof value === 'number') return;
      if (typeof value !== 'string') out.causes.push(typeCause(path, value, 'integer,string'));
      else if (!QUANTITY.test(value.trim())) {
        out.causes.push({
          reason: 'FieldValueInvalid',
          field: path,
          message: `Invalid value: "${value}": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`,
        });
      }
      return;
  }
}

function walk(value: unknown, schema: Schema, site: Site): void {
  const { path, out } = site;
  // null stands for "not set", as Kubernetes' decoder treats it.
  if (value === null || value === undefined) return;
  if (typeof schema === 'string') return walkScalar(value, schema, site);
  if ('list' in schema) {
    if (!Array.isArray(value)) return void out.causes.push(typeCause(path, value, 'array'));
    value.forEach((item, i) => walk(item, schema.list, { path: `${path}[${i}]`, out }));
    return;
  }
  if (!isObject(value)) return void out.causes.push(typeCause(path, value, 'object'));
  if ('map' in schema) {
    for (const [k, v] of Object.entries(value)) walk(v, schema.map, { path: `${path}.${k}`, out });
    return;
  }
  for (const [k, v] of Object.entries(value)) {
    const sub = Object.hasOwn(schema.object, k) ? schema.object[k] : undefined;
    const p = path === '' ? k : `${path}.${k}`;
    if (sub === undefined) {
      if (schema.open !== true) {
        out.unknown.push(p);
        if (out.prune) Reflect.deleteProperty(value, k);
      }
      continue;
    }
    walk(v, sub, { path: p, out });
  }
}

function check(o: KubeObject, prune: boolean): Findings {
  const out: Findings = { causes: [], unknown: [], prune };
  const schema = schemaFor(o.kind);
  if (schema !== undefined) walk(o, schema, { path: '', out });
  return out;
}

/** Wrong JSON types and integers out of range, as causes naming each field (reason `FieldValueTypeInvalid`). */
export function checkTypes(o: KubeObject): StatusCause[] {
  return check(o, false).causes;
}

/** Paths of fields no schema knows (`spec.replicaz`), for `fieldValidation=Strict|Warn`. */
export function unknownFields(o: KubeObject): string[] {
  return check(o, false).unknown;
}

/**
 * Removes the fields no schema knows, as Kubernetes' decoder drops them (stored objects never
 * contain them); returns their paths for the warning or error fieldValidation asks for.
 */
export function pruneUnknownFields(o: KubeObject): string[] {
  return check(o, true).unknown;
}

/** Wrong JSON types in an object's metadata, for kinds this schema does not describe (custom resources). */
export function checkMetadataTypes(metadata: unknown): StatusCause[] {
  const out: Findings = { causes: [], unknown: [], prune: false };
  walk(metadata, OBJECT_META, { path: 'metadata', out });
  return out.causes;
}
