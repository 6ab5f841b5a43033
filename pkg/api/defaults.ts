// Defaulting, as Kubernetes' SetDefaults_* functions and the admission plug-ins that fill in
// pods (DefaultTolerationSeconds, Priority, ServiceAccount's name) complete what a manifest
// leaves out. Mutates the object. Idempotent: the apiserver runs it on every write, creates,
// updates, patches and status updates alike, so nothing here may depend on create-only state.

import { isObject, type KubeObject } from './meta.js';
import { defaultLimitRange } from './validation-quota.js';
import { defaultHorizontalPodAutoscaler } from './validation-autoscaling.js';

// Defaulting runs before validation, on bodies whose JSON types are checked but whose shape
// is not: the helpers below work on the plain JSON objects isObject proves, not on Pod or
// Container, whose required fields may still be missing.

/** The object at `key`, created empty when absent. */
function child(parent: Record<string, unknown>, key: string): Record<string, unknown> {
  const v = parent[key];
  if (isObject(v)) return v;
  const created: Record<string, unknown> = {};
  parent[key] = created;
  return created;
}

function setDefault(o: Record<string, unknown>, key: string, value: unknown): void {
  if (o[key] === undefined || o[key] === null) o[key] = value;
}

function objects(v: unknown): Record<string, unknown>[] {
  return Array.isArray(v) ? v.filter(isObject) : [];
}

/** The tag of an image reference (`busybox:1.36` → `1.36`; none for `busybox` or a digest only). */
function imageTag(image: string): string | undefined {
  const name = image.split('@')[0] ?? '';
  const lastPart = name.slice(name.lastIndexOf('/') + 1);
  const colon = lastPart.indexOf(':');
  return colon < 0 ? undefined : lastPart.slice(colon + 1);
}

function defaultPullPolicy(image: string): string {
  // A digest pins the image: nothing to re-pull.
  if (image.includes('@')) return 'IfNotPresent';
  const tag = imageTag(image);
  return tag === undefined || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultHttpGet(h: unknown): void {
  if (!isObject(h)) return;
  setDefault(h, 'path', '/');
  setDefault(h, 'scheme', 'HTTP');
}

function defaultProbe(p: unknown): void {
  if (!isObject(p)) return;
  setDefault(p, 'timeoutSeconds', 1);
  setDefault(p, 'periodSeconds', 10);
  setDefault(p, 'successThreshold', 1);
  setDefault(p, 'failureThreshold', 3);
  defaultHttpGet(p['httpGet']);
}

function defaultLifecycle(l: unknown): void {
  if (!isObject(l)) return;
  if (isObject(l['postStart'])) defaultHttpGet(l['postStart']['httpGet']);
  if (isObject(l['preStop'])) defaultHttpGet(l['preStop']['httpGet']);
}

function defaultEnv(c: Record<string, unknown>): void {
  for (const e of objects(c['env'])) {
    const from = e['valueFrom'];
    if (isObject(from) && isObject(from['fieldRef'])) setDefault(from['fieldRef'], 'apiVersion', 'v1');
  }
}

function defaultContainer(c: Record<string, unknown>, hostNetwork: boolean): void {
  if (c['imagePullPolicy'] === undefined || c['imagePullPolicy'] === '') {
    c['imagePullPolicy'] = defaultPullPolicy(typeof c['image'] === 'string' ? c['image'] : '');
  }
  setDefault(c, 'terminationMessagePath', '/dev/termination-log');
  setDefault(c, 'terminationMessagePolicy', 'File');
  for (const p of objects(c['ports'])) {
    setDefault(p, 'protocol', 'TCP');
    // With the host's network, the container port is the host port.
    if (hostNetwork) setDefault(p, 'hostPort', p['containerPort']);
  }
  defaultProbe(c['livenessProbe']);
  defaultProbe(c['readinessProbe']);
  defaultProbe(c['startupProbe']);
  defaultLifecycle(c['lifecycle']);
  defaultEnv(c);
  setDefault(c, 'resources', {});
}

/** SetDefaults_Pod: requests default to limits when only limits are given (pods only, not templates). */
function defaultRequestsFromLimits(c: Record<string, unknown>): void {
  const res = c['resources'];
  if (!isObject(res) || !isObject(res['limits'])) return;
  const requests = child(res, 'requests');
  for (const [k, v] of Object.entries(res['limits'])) setDefault(requests, k, v);
}

const FILE_MODE = 0o644;

function defaultVolumes(spec: Record<string, unknown>): void {
  for (const v of objects(spec['volumes'])) {
    if (isObject(v['configMap'])) setDefault(v['configMap'], 'defaultMode', FILE_MODE);
    if (isObject(v['secret'])) setDefault(v['secret'], 'defaultMode', FILE_MODE);
    if (isObject(v['downwardAPI'])) {
      setDefault(v['downwardAPI'], 'defaultMode', FILE_MODE);
      for (const item of objects(v['downwardAPI']['items']))
        if (isObject(item['fieldRef'])) setDefault(item['fieldRef'], 'apiVersion', 'v1');
    }
    if (isObject(v['projected'])) {
      setDefault(v['projected'], 'defaultMode', FILE_MODE);
      for (const src of objects(v['projected']['sources'])) {
        if (isObject(src['serviceAccountToken'])) setDefault(src['serviceAccountToken'], 'expirationSeconds', 3600);
        if (isObject(src['downwardAPI'])) {
          for (const item of objects(src['downwardAPI']['items']))
            if (isObject(item['fieldRef'])) setDefault(item['fieldRef'], 'apiVersion', 'v1');
        }
      }
    }
    if (isObject(v['hostPath'])) setDefault(v['hostPath'], 'type', '');
    // A volume with no source at all is an emptyDir, as Kubernetes decides.
    if (Object.keys(v).length === 1 && v['name'] !== undefined) v['emptyDir'] = {};
  }
}

function defaultPodSpec(spec: Record<string, unknown>): void {
  setDefault(spec, 'restartPolicy', 'Always');
  setDefault(spec, 'dnsPolicy', 'ClusterFirst');
  setDefault(spec, 'schedulerName', 'default-scheduler');
  setDefault(spec, 'terminationGracePeriodSeconds', 30);
  setDefault(spec, 'securityContext', {});
  setDefault(spec, 'enableServiceLinks', true);
  // serviceAccount is the deprecated spelling of serviceAccountName: keep both in step.
  if (typeof spec['serviceAccountName'] !== 'string' || spec['serviceAccountName'] === '') {
    if (typeof spec['serviceAccount'] === 'string' && spec['serviceAccount'] !== '')
      spec['serviceAccountName'] = spec['serviceAccount'];
  }
  if (typeof spec['serviceAccountName'] === 'string' && spec['serviceAccountName'] !== '')
    spec['serviceAccount'] = spec['serviceAccountName'];
  const hostNetwork = spec['hostNetwork'] === true;
  for (const c of objects(spec['containers'])) defaultContainer(c, hostNetwork);
  for (const c of objects(spec['initContainers'])) defaultContainer(c, hostNetwork);
  defaultVolumes(spec);
}

/** The taints a node gets when it stops reporting; pods tolerate them for 5 minutes before eviction. */
const DEFAULT_TOLERATIONS = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
];

/**
 * What admission adds to a Pod (not to templates): default tolerations, service account. Priority
 * and preemptionPolicy come from the Priority admission (registry/priority-class.ts), which must
 * tell a value the client set from one it resolves.
 */
function defaultPodAdmission(spec: Record<string, unknown>): void {
  if (typeof spec['serviceAccountName'] !== 'string' || spec['serviceAccountName'] === '') {
    spec['serviceAccountName'] = 'default';
    spec['serviceAccount'] = 'default';
  }
  const tolerations = objects(spec['tolerations']);
  for (const t of DEFAULT_TOLERATIONS) {
    const covered = tolerations.some(
      (x) =>
        (x['key'] === t.key || ((x['key'] === undefined || x['key'] === '') && x['operator'] === 'Exists')) &&
        (x['effect'] === undefined || x['effect'] === '' || x['effect'] === 'NoExecute'),
    );
    if (!covered) tolerations.push({ ...t });
  }
  spec['tolerations'] = tolerations;
  for (const c of [...objects(spec['containers']), ...objects(spec['initContainers'])]) defaultRequestsFromLimits(c);
}

function defaultPod(o: KubeObject): void {
  const spec = child(o, 'spec');
  defaultPodSpec(spec);
  defaultPodAdmission(spec);
}

function defaultTemplate(spec: Record<string, unknown>): void {
  const template = child(spec, 'template');
  defaultPodSpec(child(template, 'spec'));
}

function defaultDeployment(o: KubeObject): void {
  const spec = child(o, 'spec');
  setDefault(spec, 'replicas', 1);
  const strategy = child(spec, 'strategy');
  setDefault(strategy, 'type', 'RollingUpdate');
  if (strategy['type'] === 'RollingUpdate') {
    const ru = child(strategy, 'rollingUpdate');
    setDefault(ru, 'maxUnavailable', '25%');
    setDefault(ru, 'maxSurge', '25%');
  }
  setDefault(spec, 'revisionHistoryLimit', 10);
  setDefault(spec, 'progressDeadlineSeconds', 600);
  defaultTemplate(spec);
}

function defaultReplicaSet(o: KubeObject): void {
  const spec = child(o, 'spec');
  setDefault(spec, 'replicas', 1);
  defaultTemplate(spec);
}

/** The template's labels, when the spec has a template with labels. */
function templateLabels(spec: Record<string, unknown>): Record<string, unknown> | undefined {
  const template = spec['template'];
  const labels = isObject(template) && isObject(template['metadata']) ? template['metadata']['labels'] : undefined;
  return isObject(labels) ? labels : undefined;
}

/** An object without labels takes its template's (SetDefaults_Job, SetDefaults_ReplicationController). */
function labelsFromTemplate(o: KubeObject, spec: Record<string, unknown>): void {
  const meta = isObject(o['metadata']) ? o['metadata'] : undefined;
  const labels = templateLabels(spec);
  if (
    meta !== undefined &&
    labels !== undefined &&
    (!isObject(meta['labels']) || Object.keys(meta['labels']).length === 0)
  )
    meta['labels'] = { ...labels };
}

function defaultReplicationController(o: KubeObject): void {
  const spec = child(o, 'spec');
  setDefault(spec, 'replicas', 1);
  // The selector is the template's labels unless given.
  const labels = templateLabels(spec);
  const selector = spec['selector'];
  if (labels !== undefined && (!isObject(selector) || Object.keys(selector).length === 0))
    spec['selector'] = { ...labels };
  labelsFromTemplate(o, spec);
  // The template is optional in the type: none is made up (validation asks for it).
  if (isObject(spec['template'])) defaultTemplate(spec);
}

function defaultDaemonSet(o: KubeObject): void {
  const spec = child(o, 'spec');
  const strategy = child(spec, 'updateStrategy');
  setDefault(strategy, 'type', 'RollingUpdate');
  if (strategy['type'] === 'RollingUpdate') {
    const ru = child(strategy, 'rollingUpdate');
    setDefault(ru, 'maxUnavailable', 1);
    setDefault(ru, 'maxSurge', 0);
  }
  setDefault(spec, 'revisionHistoryLimit', 10);
  defaultTemplate(spec);
}

function defaultStatefulSet(o: KubeObject): void {
  const spec = child(o, 'spec');
  setDefault(spec, 'replicas', 1);
  setDefault(spec, 'podManagementPolicy', 'OrderedReady');
  const strategy = child(spec, 'updateStrategy');
  setDefault(strategy, 'type', 'RollingUpdate');
  if (strategy['type'] === 'RollingUpdate') setDefault(child(strategy, 'rollingUpdate'), 'partition', 0);
  setDefault(spec, 'revisionHistoryLimit', 10);
  const retention = child(spec, 'persistentVolumeClaimRetentionPolicy');
  setDefault(retention, 'whenDeleted', 'Retain');
  setDefault(retention, 'whenScaled', 'Retain');
  for (const claim of objects(spec['volumeClaimTemplates'])) {
    defaultClaimSpec(child(claim, 'spec'));
    setDefault(child(claim, 'status'), 'phase', 'Pending');
  }
  defaultTemplate(spec);
}

function defaultJob(o: KubeObject): void {
  const spec = child(o, 'spec');
  // Without both, one pod to run once; with parallelism only, a work queue (completions unset).
  if (spec['completions'] === undefined && spec['parallelism'] === undefined) {
    spec['completions'] = 1;
    spec['parallelism'] = 1;
  }
  setDefault(spec, 'parallelism', 1);
  setDefault(spec, 'backoffLimit', spec['backoffLimitPerIndex'] === undefined ? 6 : 2147483647);
  setDefault(spec, 'completionMode', 'NonIndexed');
  setDefault(spec, 'suspend', false);
  setDefault(spec, 'manualSelector', false);
  setDefault(spec, 'podReplacementPolicy', spec['podFailurePolicy'] === undefined ? 'TerminatingOrFailed' : 'Failed');
  labelsFromTemplate(o, spec);
  defaultTemplate(spec);
}

function defaultCronJob(o: KubeObject): void {
  const spec = child(o, 'spec');
  setDefault(spec, 'concurrencyPolicy', 'Allow');
  setDefault(spec, 'suspend', false);
  setDefault(spec, 'successfulJobsHistoryLimit', 3);
  setDefault(spec, 'failedJobsHistoryLimit', 1);
  // The job template's own fields are defaulted when the Job is created; its pod template now.
  defaultTemplate(child(child(spec, 'jobTemplate'), 'spec'));
}

function defaultService(o: KubeObject): void {
  const spec = child(o, 'spec');
  setDefault(spec, 'type', 'ClusterIP');
  setDefault(spec, 'sessionAffinity', 'None');
  if (spec['sessionAffinity'] === 'ClientIP') {
    setDefault(child(child(spec, 'sessionAffinityConfig'), 'clientIP'), 'timeoutSeconds', 10800);
  }
  const type = spec['type'];
  if (type !== 'ExternalName') {
    setDefault(spec, 'ipFamilies', ['IPv4']);
    setDefault(spec, 'ipFamilyPolicy', 'SingleStack');
    setDefault(spec, 'internalTrafficPolicy', 'Cluster');
  }
  if (type === 'NodePort' || type === 'LoadBalancer') setDefault(spec, 'externalTrafficPolicy', 'Cluster');
  if (type === 'LoadBalancer') setDefault(spec, 'allocateLoadBalancerNodePorts', true);
  if (typeof spec['clusterIP'] === 'string' && spec['clusterIP'] !== '' && spec['clusterIPs'] === undefined)
    spec['clusterIPs'] = [spec['clusterIP']];
  for (const p of objects(spec['ports'])) {
    setDefault(p, 'protocol', 'TCP');
    if (p['targetPort'] === undefined || p['targetPort'] === 0 || p['targetPort'] === '') p['targetPort'] = p['port'];
  }
}

function defaultNamespace(o: KubeObject): void {
  setDefault(child(o, 'spec'), 'finalizers', ['kubernetes']);
  setDefault(child(o, 'status'), 'phase', 'Active');
  // Every namespace carries its own name as a label, so selectors can pick namespaces by name.
  const meta = isObject(o['metadata']) ? o['metadata'] : undefined;
  const name = meta?.['name'];
  if (meta !== undefined && typeof name === 'string' && name !== '')
    child(meta, 'labels')['kubernetes.io/metadata.name'] = name;
}

function defaultNode(o: KubeObject): void {
  const status = o['status'];
  if (!isObject(status) || !isObject(status['capacity'])) return;
  // What can be allocated is what the node has, unless the agent reserves some.
  if (!isObject(status['allocatable'])) status['allocatable'] = { ...status['capacity'] };
}

/** Kubernetes defaults an EndpointSlice port's name to "" and protocol to TCP. */
function defaultEndpointSlice(o: KubeObject): void {
  for (const port of objects(o['ports'])) {
    setDefault(port, 'name', '');
    setDefault(port, 'protocol', 'TCP');
  }
}

/**
 * NetworkPolicies (Kubernetes' SetDefaults_NetworkPolicy): ports default to TCP; without
 * policyTypes a policy is an Ingress policy, and an Egress one too when it has egress rules.
 */
function defaultNetworkPolicy(o: KubeObject): void {
  const spec = child(o, 'spec');
  setDefault(spec, 'podSelector', {});
  const ingress = objects(spec['ingress']);
  const egress = objects(spec['egress']);
  for (const rule of [...ingress, ...egress])
    for (const port of objects(rule['ports'])) setDefault(port, 'protocol', 'TCP');
  const types = spec['policyTypes'];
  if (!Array.isArray(types) || types.length === 0)
    spec['policyTypes'] = egress.length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
}

/** PersistentVolumes: Retain, Filesystem, Pending until the controller looks (Kubernetes' SetDefaults). */
function defaultPersistentVolume(o: KubeObject): void {
  const spec = child(o, 'spec');
  setDefault(spec, 'persistentVolumeReclaimPolicy', 'Retain');
  setDefault(spec, 'volumeMode', 'Filesystem');
  setDefault(child(o, 'status'), 'phase', 'Pending');
}

function defaultClaimSpec(spec: Record<string, unknown>): void {
  setDefault(spec, 'volumeMode', 'Filesystem');
}

function defaultPersistentVolumeClaim(o: KubeObject): void {
  defaultClaimSpec(child(o, 'spec'));
  setDefault(child(o, 'status'), 'phase', 'Pending');
}

function defaultStorageClass(o: KubeObject): void {
  setDefault(o, 'reclaimPolicy', 'Delete');
  setDefault(o, 'volumeBindingMode', 'Immediate');
}

const BY_KIND: Record<string, (o: KubeObject) => void> = {
  PersistentVolume: defaultPersistentVolume,
  PersistentVolumeClaim: defaultPersistentVolumeClaim,
  StorageClass: defaultStorageClass,
  Pod: defaultPod,
  Deployment: defaultDeployment,
  ReplicaSet: defaultReplicaSet,
  ReplicationController: defaultReplicationController,
  DaemonSet: defaultDaemonSet,
  StatefulSet: defaultStatefulSet,
  Job: defaultJob,
  CronJob: defaultCronJob,
  Service: defaultService,
  Secret: (o) => setDefault(o, 'type', 'Opaque'),
  Namespace: defaultNamespace,
  Node: defaultNode,
  EndpointSlice: defaultEndpointSlice,
  NetworkPolicy: defaultNetworkPolicy,
  LimitRange: defaultLimitRange,
  HorizontalPodAutoscaler: defaultHorizontalPodAutoscaler,
  // Lease, ConfigMap, ServiceAccount, Event, RBAC and CSR objects have no defaults upstream.
};

export function applyDefaults(obj: KubeObject): void {
  BY_KIND[obj.kind]?.(obj);
}
