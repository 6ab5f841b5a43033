// A compact schema of every served kind's known fields and their JSON types. It catches
// wrong types before anything is stored (400, as Kubernetes' decoder does) and finds
// unknown fields for `fieldValidation=Strict|Warn`. Parts Coxswain does not model in detail
// are `open` (any fields accepted) so that real manifests are never refused wrongly.

import type { StatusCause } from '../errors/index.js';
import { isObject, type KubeObject } from './meta.js';

export type Schema =
  | 'string'
  | 'integer'
  | 'number'
  | 'boolean'
  | 'intOrString'
  | 'quantity'
  | 'any'
  | { object: Record<string, Schema>; open?: boolean }
  | { map: Schema }
  | { list: Schema };

const obj = (fields: Record<string, Schema>, open = false): Schema => ({ object: fields, open });
const map = (of: Schema): Schema => ({ map: of });
const list = (of: Schema): Schema => ({ list: of });
const strings = list('string');
const openObj: Schema = obj({}, true);

const ownerReference = obj({ apiVersion: 'string', kind: 'string', name: 'string', uid: 'string', controller: 'boolean', blockOwnerDeletion: 'boolean' });

export const OBJECT_META: Schema = obj({
  name: 'string',
  generateName: 'string',
  namespace: 'string',
  selfLink: 'string',
  uid: 'string',
  resourceVersion: 'string',
  generation: 'integer',
  creationTimestamp: 'any',
  deletionTimestamp: 'any',
  deletionGracePeriodSeconds: 'integer',
  labels: map('string'),
  annotations: map('string'),
  ownerReferences: list(ownerReference),
  finalizers: strings,
  managedFields: list('any'),
});

const labelSelector = obj({
  matchLabels: map('string'),
  matchExpressions: list(obj({ key: 'string', operator: 'string', values: strings })),
});

const handlerFields = {
  exec: obj({ command: strings }),
  httpGet: obj({ path: 'string', port: 'intOrString', host: 'string', scheme: 'string', httpHeaders: list(obj({ name: 'string', value: 'string' })) }),
  tcpSocket: obj({ port: 'intOrString', host: 'string' }),
  grpc: obj({ port: 'integer', service: 'string' }),
};

const probe = obj({
  ...handlerFields,
  initialDelaySeconds: 'integer',
  timeoutSeconds: 'integer',
  periodSeconds: 'integer',
  successThreshold: 'integer',
  failureThreshold: 'integer',
  terminationGracePeriodSeconds: 'integer',
});

const lifecycleHandler = obj({ ...handlerFields, sleep: obj({ seconds: 'integer' }) });

const keyRef = obj({ name: 'string', key: 'string', optional: 'boolean' });
const envVar = obj({
  name: 'string',
  value: 'string',
  valueFrom: obj({
    configMapKeyRef: keyRef,
    secretKeyRef: keyRef,
    fieldRef: obj({ apiVersion: 'string', fieldPath: 'string' }),
    resourceFieldRef: obj({ containerName: 'string', resource: 'string', divisor: 'quantity' }),
  }),
});

const resources = obj({ limits: map('quantity'), requests: map('quantity'), claims: list('any') });

const container = obj({
  name: 'string',
  image: 'string',
  command: strings,
  args: strings,
  workingDir: 'string',
  ports: list(obj({ name: 'string', containerPort: 'integer', hostPort: 'integer', protocol: 'string', hostIP: 'string' })),
  envFrom: list(obj({ prefix: 'string', configMapRef: obj({ name: 'string', optional: 'boolean' }), secretRef: obj({ name: 'string', optional: 'boolean' }) })),
  env: list(envVar),
  resources,
  resizePolicy: list('any'),
  restartPolicy: 'string',
  volumeMounts: list(obj({ name: 'string', readOnly: 'boolean', recursiveReadOnly: 'string', mountPath: 'string', subPath: 'string', mountPropagation: 'string', subPathExpr: 'string' })),
  volumeDevices: list(obj({ name: 'string', devicePath: 'string' })),
  livenessProbe: probe,
  readinessProbe: probe,
  startupProbe: probe,
  lifecycle: obj({ postStart: lifecycleHandler, preStop: lifecycleHandler, stopSignal: 'string' }),
  terminationMessagePath: 'string',
  terminationMessagePolicy: 'string',
  imagePullPolicy: 'string',
  securityContext: openObj,
  stdin: 'boolean',
  stdinOnce: 'boolean',
  tty: 'boolean',
});

const keyToPath = list(obj({ key: 'string', path: 'string', mode: 'integer' }));
const volume = obj(
  {
    name: 'string',
    emptyDir: obj({ medium: 'string', sizeLimit: 'quantity' }),
    hostPath: obj({ path: 'string', type: 'string' }),
    configMap: obj({ name: 'string', items: keyToPath, defaultMode: 'integer', optional: 'boolean' }),
    secret: obj({ secretName: 'string', items: keyToPath, defaultMode: 'integer', optional: 'boolean' }),
    persistentVolumeClaim: obj({ claimName: 'string', readOnly: 'boolean' }),
    projected: openObj,
    downwardAPI: openObj,
  },
  true, // the many cloud and CSI volume types
);

const podSpec = obj({
  volumes: list(volume),
  initContainers: list(container),
  containers: list(container),
  ephemeralContainers: list('any'),
  restartPolicy: 'string',
  terminationGracePeriodSeconds: 'integer',
  activeDeadlineSeconds: 'integer',
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
  securityContext: openObj,
  imagePullSecrets: list(obj({ name: 'string' })),
  hostname: 'string',
  subdomain: 'string',
  affinity: openObj,
  schedulerName: 'string',
  tolerations: list(obj({ key: 'string', operator: 'string', value: 'string', effect: 'string', tolerationSeconds: 'integer' })),
  hostAliases: list(obj({ ip: 'string', hostnames: strings })),
  priorityClassName: 'string',
  priority: 'integer',
  dnsConfig: openObj,
  readinessGates: list(obj({ conditionType: 'string' })),
  runtimeClassName: 'string',
  enableServiceLinks: 'boolean',
  preemptionPolicy: 'string',
  overhead: map('quantity'),
  topologySpreadConstraints: list('any'),
  setHostnameAsFQDN: 'boolean',
  os: obj({ name: 'string' }),
  hostUsers: 'boolean',
  schedulingGates: list(obj({ name: 'string' })),
  resourceClaims: list('any'),
  resources,
});

const podTemplate = obj({ metadata: OBJECT_META, spec: podSpec });

const jobSpec = obj({
  parallelism: 'integer',
  completions: 'integer',
  activeDeadlineSeconds: 'integer',
  podFailurePolicy: openObj,
  successPolicy: openObj,
  backoffLimit: 'integer',
  backoffLimitPerIndex: 'integer',
  maxFailedIndexes: 'integer',
  selector: labelSelector,
  manualSelector: 'boolean',
  template: podTemplate,
  ttlSecondsAfterFinished: 'integer',
  completionMode: 'string',
  suspend: 'boolean',
  podReplacementPolicy: 'string',
  managedBy: 'string',
});

const policyRule = obj({ verbs: strings, apiGroups: strings, resources: strings, resourceNames: strings, nonResourceURLs: strings });

/** Fields beyond apiVersion/kind/metadata, per kind. `status` is server-written and open. */
const KINDS: Record<string, Record<string, Schema>> = {
  Namespace: { spec: obj({ finalizers: strings }) },
  Pod: { spec: podSpec },
  Node: {
    spec: obj({
      podCIDR: 'string',
      podCIDRs: strings,
      providerID: 'string',
      unschedulable: 'boolean',
      taints: list(obj({ key: 'string', value: 'string', effect: 'string', timeAdded: 'any' })),
      configSource: openObj,
      externalID: 'string',
    }),
  },
  Service: {
    spec: obj({
      ports: list(obj({ name: 'string', protocol: 'string', appProtocol: 'string', port: 'integer', targetPort: 'intOrString', nodePort: 'integer' })),
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
      healthCheckNodePort: 'integer',
      publishNotReadyAddresses: 'boolean',
      sessionAffinityConfig: openObj,
      ipFamilies: strings,
      ipFamilyPolicy: 'string',
      allocateLoadBalancerNodePorts: 'boolean',
      loadBalancerClass: 'string',
      internalTrafficPolicy: 'string',
      trafficDistribution: 'string',
    }),
  },
  Endpoints: { subsets: list(openObj) },
  ConfigMap: { data: map('string'), binaryData: map('string'), immutable: 'boolean' },
  Secret: { data: map('string'), stringData: map('string'), type: 'string', immutable: 'boolean' },
  ServiceAccount: { secrets: list(openObj), imagePullSecrets: list(obj({ name: 'string' })), automountServiceAccountToken: 'boolean' },
  Event: {
    involvedObject: openObj, reason: 'string', message: 'string', source: openObj, firstTimestamp: 'any', lastTimestamp: 'any', count: 'integer',
    type: 'string', eventTime: 'any', series: openObj, action: 'string', related: openObj, reportingComponent: 'string', reportingInstance: 'string',
  },
  Deployment: {
    spec: obj({
      replicas: 'integer', selector: labelSelector, template: podTemplate,
      strategy: obj({ type: 'string', rollingUpdate: obj({ maxUnavailable: 'intOrString', maxSurge: 'intOrString' }) }),
      minReadySeconds: 'integer', revisionHistoryLimit: 'integer', paused: 'boolean', progressDeadlineSeconds: 'integer',
    }),
  },
  ReplicaSet: { spec: obj({ replicas: 'integer', minReadySeconds: 'integer', selector: labelSelector, template: podTemplate }) },
  DaemonSet: {
    spec: obj({
      selector: labelSelector, template: podTemplate,
      updateStrategy: obj({ type: 'string', rollingUpdate: obj({ maxUnavailable: 'intOrString', maxSurge: 'intOrString' }) }),
      minReadySeconds: 'integer', revisionHistoryLimit: 'integer',
    }),
  },
  StatefulSet: {
    spec: obj({
      replicas: 'integer', selector: labelSelector, template: podTemplate, volumeClaimTemplates: list(openObj), serviceName: 'string',
      podManagementPolicy: 'string', updateStrategy: obj({ type: 'string', rollingUpdate: obj({ partition: 'integer', maxUnavailable: 'intOrString' }) }),
      revisionHistoryLimit: 'integer', minReadySeconds: 'integer', persistentVolumeClaimRetentionPolicy: openObj, ordinals: obj({ start: 'integer' }),
    }),
  },
  Job: { spec: jobSpec },
  CronJob: {
    spec: obj({
      schedule: 'string', timeZone: 'string', startingDeadlineSeconds: 'integer', concurrencyPolicy: 'string', suspend: 'boolean',
      jobTemplate: obj({ metadata: OBJECT_META, spec: jobSpec }), successfulJobsHistoryLimit: 'integer', failedJobsHistoryLimit: 'integer',
    }),
  },
  Lease: {
    spec: obj({
      holderIdentity: 'string', leaseDurationSeconds: 'integer', acquireTime: 'any', renewTime: 'any', leaseTransitions: 'integer',
      strategy: 'string', preferredHolder: 'string',
    }),
  },
  Role: { rules: list(policyRule) },
  ClusterRole: { rules: list(policyRule), aggregationRule: openObj },
  RoleBinding: { subjects: list(obj({ kind: 'string', apiGroup: 'string', name: 'string', namespace: 'string' })), roleRef: obj({ apiGroup: 'string', kind: 'string', name: 'string' }) },
  ClusterRoleBinding: { subjects: list(obj({ kind: 'string', apiGroup: 'string', name: 'string', namespace: 'string' })), roleRef: obj({ apiGroup: 'string', kind: 'string', name: 'string' }) },
  CertificateSigningRequest: {
    spec: obj({ request: 'string', signerName: 'string', expirationSeconds: 'integer', usages: strings, username: 'string', uid: 'string', groups: strings, extra: map(strings) }),
  },
};

/** The whole schema of a kind (undefined for kinds the registry does not serve). */
export function schemaFor(kind: string): Schema | undefined {
  const fields = KINDS[kind];
  if (fields === undefined) return undefined;
  return obj({ apiVersion: 'string', kind: 'string', metadata: OBJECT_META, status: 'any', ...fields });
}

const QUANTITY = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+|[KMGTPE]i|[mkMGTPE])?$/;

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value === 'object' ? 'object' : typeof value;
}

function walk(value: unknown, schema: Schema, path: string, causes: StatusCause[], unknown: string[]): void {
  if (value === null || value === undefined || schema === 'any') return;
  const wrong = (expected: string): void => {
    causes.push({
      reason: 'FieldValueTypeInvalid',
      field: path,
      message: `Invalid value: ${JSON.stringify(typeName(value))}: ${path} in body must be of type ${expected}: ${JSON.stringify(typeName(value))}`,
    });
  };
  if (typeof schema === 'string') {
    switch (schema) {
      case 'string':
        if (typeof value !== 'string') wrong('string');
        return;
      case 'integer':
        if (typeof value !== 'number' || !Number.isInteger(value)) wrong('integer');
        return;
      case 'number':
        if (typeof value !== 'number') wrong('number');
        return;
      case 'boolean':
        if (typeof value !== 'boolean') wrong('boolean');
        return;
      case 'intOrString':
        if (typeof value !== 'string' && !(typeof value === 'number' && Number.isInteger(value))) wrong('integer or string');
        return;
      case 'quantity':
        if (typeof value === 'number') return;
        if (typeof value !== 'string') wrong('quantity (string or number)');
        else if (!QUANTITY.test(value.trim())) {
          causes.push({ reason: 'FieldValueInvalid', field: path, message: `Invalid value: "${value}": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'` });
        }
        return;
    }
  }
  if ('list' in schema) {
    if (!Array.isArray(value)) return wrong('array');
    value.forEach((item, i) => walk(item, schema.list, `${path}[${i}]`, causes, unknown));
    return;
  }
  if (!isObject(value)) return wrong('object');
  if ('map' in schema) {
    for (const [k, v] of Object.entries(value)) walk(v, schema.map, `${path}.${k}`, causes, unknown);
    return;
  }
  for (const [k, v] of Object.entries(value)) {
    const sub = schema.object[k];
    const p = path === '' ? k : `${path}.${k}`;
    if (sub === undefined) {
      if (!schema.open) unknown.push(p);
      continue;
    }
    walk(v, sub, p, causes, unknown);
  }
}

function check(obj: KubeObject): { causes: StatusCause[]; unknown: string[] } {
  const causes: StatusCause[] = [];
  const unknown: string[] = [];
  const schema = schemaFor(obj.kind);
  if (schema !== undefined) walk(obj, schema, '', causes, unknown);
  return { causes, unknown };
}

/** Wrong JSON types, as causes naming each field. */
export function checkTypes(obj: KubeObject): StatusCause[] {
  return check(obj).causes;
}

/** Paths of fields no schema knows (`spec.replicaz`). */
export function unknownFields(obj: KubeObject): string[] {
  return check(obj).unknown;
}
