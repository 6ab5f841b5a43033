// Defaulting, as Kubernetes' SetDefaults_* functions (and the DefaultTolerationSeconds
// admission plug-in) fill in what a manifest leaves out. Mutates the object.

import { isObject, type KubeObject } from './meta.js';

type Obj = Record<string, unknown>;

function child(parent: Obj, key: string): Obj {
  const v = parent[key];
  if (isObject(v)) return v;
  const created: Obj = {};
  parent[key] = created;
  return created;
}

function setDefault(o: Obj, key: string, value: unknown): void {
  if (o[key] === undefined || o[key] === null) o[key] = value;
}

function imageTag(image: string): string | undefined {
  const lastSlash = image.lastIndexOf('/');
  const rest = image.slice(lastSlash + 1).split('@')[0] ?? '';
  const colon = rest.indexOf(':');
  return colon < 0 ? undefined : rest.slice(colon + 1);
}

function defaultProbe(p: unknown): void {
  if (!isObject(p)) return;
  setDefault(p, 'timeoutSeconds', 1);
  setDefault(p, 'periodSeconds', 10);
  setDefault(p, 'successThreshold', 1);
  setDefault(p, 'failureThreshold', 3);
  if (isObject(p['httpGet'])) {
    setDefault(p['httpGet'], 'path', '/');
    setDefault(p['httpGet'], 'scheme', 'HTTP');
  }
}

function defaultContainer(c: unknown): void {
  if (!isObject(c)) return;
  const image = typeof c['image'] === 'string' ? c['image'] : '';
  if (c['imagePullPolicy'] === undefined) {
    const tag = imageTag(image);
    c['imagePullPolicy'] = tag === undefined || tag === 'latest' ? 'Always' : 'IfNotPresent';
  }
  setDefault(c, 'terminationMessagePath', '/dev/termination-log');
  setDefault(c, 'terminationMessagePolicy', 'File');
  if (Array.isArray(c['ports'])) for (const p of c['ports']) if (isObject(p)) setDefault(p, 'protocol', 'TCP');
  defaultProbe(c['livenessProbe']);
  defaultProbe(c['readinessProbe']);
  defaultProbe(c['startupProbe']);
  if (c['resources'] === undefined) c['resources'] = {};
  // Requests default to limits when only limits are given.
  const res = c['resources'];
  if (isObject(res) && isObject(res['limits'])) {
    const requests = child(res, 'requests');
    for (const [k, v] of Object.entries(res['limits'])) setDefault(requests, k, v);
  }
}

const UNREACHABLE_TOLERATIONS = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
];

function defaultPodSpec(spec: Obj, isPod: boolean): void {
  setDefault(spec, 'restartPolicy', 'Always');
  setDefault(spec, 'dnsPolicy', 'ClusterFirst');
  setDefault(spec, 'schedulerName', 'default-scheduler');
  setDefault(spec, 'terminationGracePeriodSeconds', 30);
  setDefault(spec, 'securityContext', {});
  setDefault(spec, 'enableServiceLinks', true);
  if (Array.isArray(spec['containers'])) spec['containers'].forEach(defaultContainer);
  if (Array.isArray(spec['initContainers'])) spec['initContainers'].forEach(defaultContainer);
  if (Array.isArray(spec['volumes'])) {
    for (const v of spec['volumes']) {
      if (!isObject(v)) continue;
      if (isObject(v['configMap'])) setDefault(v['configMap'], 'defaultMode', 0o644);
      if (isObject(v['secret'])) setDefault(v['secret'], 'defaultMode', 0o644);
      if (isObject(v['hostPath'])) setDefault(v['hostPath'], 'type', '');
    }
  }
  if (isPod) {
    setDefault(spec, 'priority', 0);
    const tolerations = Array.isArray(spec['tolerations']) ? (spec['tolerations'] as Obj[]) : [];
    for (const t of UNREACHABLE_TOLERATIONS) {
      const covered = tolerations.some((x) => isObject(x) && (x['key'] === t.key || (x['key'] === undefined && x['operator'] === 'Exists')) && (x['effect'] === undefined || x['effect'] === 'NoExecute'));
      if (!covered) tolerations.push({ ...t });
    }
    spec['tolerations'] = tolerations;
  }
}

function defaultTemplate(spec: Obj): void {
  const template = child(spec, 'template');
  child(template, 'metadata');
  defaultPodSpec(child(template, 'spec'), false);
}

function defaultJobSpec(spec: Obj): void {
  setDefault(spec, 'completions', 1);
  setDefault(spec, 'parallelism', 1);
  setDefault(spec, 'backoffLimit', 6);
  setDefault(spec, 'completionMode', 'NonIndexed');
  setDefault(spec, 'suspend', false);
  defaultTemplate(spec);
}

export function applyDefaults(obj: KubeObject): void {
  const o = obj as Obj;
  switch (obj.kind) {
    case 'Pod':
      defaultPodSpec(child(o, 'spec'), true);
      break;
    case 'Deployment': {
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
      break;
    }
    case 'ReplicaSet': {
      const spec = child(o, 'spec');
      setDefault(spec, 'replicas', 1);
      defaultTemplate(spec);
      break;
    }
    case 'DaemonSet': {
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
      break;
    }
    case 'StatefulSet': {
      const spec = child(o, 'spec');
      setDefault(spec, 'replicas', 1);
      setDefault(spec, 'podManagementPolicy', 'OrderedReady');
      const strategy = child(spec, 'updateStrategy');
      setDefault(strategy, 'type', 'RollingUpdate');
      if (strategy['type'] === 'RollingUpdate') setDefault(child(strategy, 'rollingUpdate'), 'partition', 0);
      setDefault(spec, 'revisionHistoryLimit', 10);
      setDefault(spec, 'persistentVolumeClaimRetentionPolicy', { whenDeleted: 'Retain', whenScaled: 'Retain' });
      defaultTemplate(spec);
      break;
    }
    case 'Job':
      defaultJobSpec(child(o, 'spec'));
      break;
    case 'CronJob': {
      const spec = child(o, 'spec');
      setDefault(spec, 'concurrencyPolicy', 'Allow');
      setDefault(spec, 'suspend', false);
      setDefault(spec, 'successfulJobsHistoryLimit', 3);
      setDefault(spec, 'failedJobsHistoryLimit', 1);
      const jobTemplate = child(spec, 'jobTemplate');
      const jobSpec = child(jobTemplate, 'spec');
      setDefault(jobSpec, 'backoffLimit', 6);
      setDefault(jobSpec, 'completionMode', 'NonIndexed');
      setDefault(jobSpec, 'suspend', false);
      defaultTemplate(jobSpec);
      break;
    }
    case 'Service': {
      const spec = child(o, 'spec');
      setDefault(spec, 'type', 'ClusterIP');
      setDefault(spec, 'sessionAffinity', 'None');
      if (spec['type'] !== 'ExternalName') {
        setDefault(spec, 'ipFamilies', ['IPv4']);
        setDefault(spec, 'ipFamilyPolicy', 'SingleStack');
        setDefault(spec, 'internalTrafficPolicy', 'Cluster');
      }
      if (spec['type'] === 'NodePort' || spec['type'] === 'LoadBalancer') setDefault(spec, 'externalTrafficPolicy', 'Cluster');
      if (Array.isArray(spec['ports'])) {
        for (const p of spec['ports']) {
          if (!isObject(p)) continue;
          setDefault(p, 'protocol', 'TCP');
          setDefault(p, 'targetPort', p['port']);
        }
      }
      break;
    }
    case 'Secret':
      setDefault(o, 'type', 'Opaque');
      break;
    case 'Namespace': {
      const spec = child(o, 'spec');
      setDefault(spec, 'finalizers', ['kubernetes']);
      break;
    }
    case 'CertificateSigningRequest': {
      const spec = child(o, 'spec');
      setDefault(spec, 'usages', ['digital signature', 'key encipherment']);
      break;
    }
    default:
      break;
  }
}
