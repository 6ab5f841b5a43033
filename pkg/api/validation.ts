// Validation of objects and updates, with Kubernetes' reasons, field paths and messages.
// Each function returns causes; an empty list means valid.

import { isDeepStrictEqual } from 'node:util';
import type { StatusCause } from '../errors/index.js';
import { isObject, type KubeObject } from './meta.js';
import type { ResourceInfo } from './registry.js';
import { parseCronSchedule } from './cron.js';
import { unsupportedSecurityCauses } from './validation-security.js';
import { endpointSliceCauses } from './validation-endpoint-slice.js';
import { podDisruptionBudgetCauses, priorityClassCauses, priorityClassUpdateCauses } from './validation-policy.js';
import { ingressCauses, ingressClassCauses } from './validation-ingress.js';
import { networkPolicyCauses } from './validation-network-policy.js';
import { limitRangeCauses, resourceQuotaCauses } from './validation-quota.js';
import { horizontalPodAutoscalerCauses } from './validation-autoscaling.js';
import {
  claimCauses,
  claimTemplateCauses,
  persistentVolumeCauses,
  storageClassCauses,
  storageUpdateCauses,
} from './validation-storage.js';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;

const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

class Causes {
  readonly list: StatusCause[] = [];
  required(field: string): void {
    this.list.push({ reason: 'FieldValueRequired', field, message: 'Required value' });
  }
  invalid(field: string, value: unknown, why: string): void {
    this.list.push({ reason: 'FieldValueInvalid', field, message: `Invalid value: ${JSON.stringify(value)}: ${why}` });
  }
  notSupported(field: string, value: unknown, supported: string[]): void {
    this.list.push({
      reason: 'FieldValueNotSupported',
      field,
      message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${supported.map((s) => `"${s}"`).join(', ')}`,
    });
  }
  duplicate(field: string, value: unknown): void {
    this.list.push({ reason: 'FieldValueDuplicate', field, message: `Duplicate value: ${JSON.stringify(value)}` });
  }
  forbidden(field: string, why: string): void {
    this.list.push({ reason: 'FieldValueForbidden', field, message: `Forbidden: ${why}` });
  }
  tooLong(field: string, max: number): void {
    this.list.push({ reason: 'FieldValueTooLong', field, message: `Too long: may not be more than ${max} bytes` });
  }
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** The object at `key` of `o`, undefined unless both are objects: bodies are checked, not trusted. */
function objAt(o: unknown, key: string): Record<string, unknown> | undefined {
  return isObject(o) && isObject(o[key]) ? o[key] : undefined;
}

function listAt(o: unknown, key: string): unknown[] {
  return isObject(o) && Array.isArray(o[key]) ? o[key] : [];
}

function checkSubdomain(c: Causes, field: string, v: string): void {
  if (v.length > 253) c.tooLong(field, 253);
  else if (!DNS1123_SUBDOMAIN.test(v)) c.invalid(field, v, SUBDOMAIN_MSG);
}

function checkLabelName(c: Causes, field: string, v: string): void {
  if (v.length > 63) c.invalid(field, v, 'must be no more than 63 characters');
  else if (!DNS1123_LABEL.test(v)) c.invalid(field, v, LABEL_MSG);
}

function checkQualifiedKey(c: Causes, field: string, key: string): void {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix === '' || !DNS1123_SUBDOMAIN.test(prefix) || prefix.length > 253))
    c.invalid(field, key, 'prefix part ' + SUBDOMAIN_MSG);
  if (name.length === 0 || name.length > 63 || !QUALIFIED_NAME.test(name)) {
    c.invalid(
      field,
      key,
      "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with at most 63 characters",
    );
  }
}

function validateMeta(c: Causes, obj: KubeObject, r: ResourceInfo): void {
  const m = obj.metadata;
  const name = m.name;
  if (name === undefined || name === '') {
    if (m.generateName === undefined || m.generateName === '') c.required('metadata.name');
  } else if (r.kind === 'Namespace' || r.kind === 'Service') {
    checkLabelName(c, 'metadata.name', name);
  } else if (
    r.kind === 'Role' ||
    r.kind === 'ClusterRole' ||
    r.kind === 'RoleBinding' ||
    r.kind === 'ClusterRoleBinding' ||
    r.kind === 'Node' ||
    r.kind === 'Event'
  ) {
    if (name.includes('/') || name.includes('%') || name === '.' || name === '..')
      c.invalid('metadata.name', name, 'may not contain "/" or "%"');
  } else {
    checkSubdomain(c, 'metadata.name', name);
  }
  if (r.kind === 'CronJob' && name !== undefined && name.length > 52)
    c.invalid('metadata.name', name, 'must be no more than 52 characters');
  for (const [k, v] of Object.entries(m.labels ?? {})) {
    checkQualifiedKey(c, 'metadata.labels', k);
    if (typeof v !== 'string' || v.length > 63 || !LABEL_VALUE.test(v)) {
      c.invalid(
        'metadata.labels',
        v,
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
      );
    }
  }
  let annotationBytes = 0;
  for (const [k, v] of Object.entries(m.annotations ?? {})) {
    checkQualifiedKey(c, 'metadata.annotations', k);
    annotationBytes += k.length + String(v).length;
  }
  if (annotationBytes > 256 * 1024) c.tooLong('metadata.annotations', 256 * 1024);
  for (const [i, f] of (m.finalizers ?? []).entries()) {
    if (typeof f !== 'string' || f === '') c.invalid(`metadata.finalizers[${i}]`, f, 'must be a non-empty string');
  }
}

const PROTOCOLS = ['TCP', 'UDP', 'SCTP'];

function validateProbe(c: Causes, field: string, probe: unknown): void {
  if (!isObject(probe)) return;
  const handlers = ['exec', 'httpGet', 'tcpSocket', 'grpc'].filter((h) => probe[h] !== undefined);
  if (handlers.length === 0) c.required(`${field}`);
  if (handlers.length > 1) c.forbidden(`${field}.${handlers[1] ?? ''}`, 'may not specify more than 1 handler type');
  for (const k of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold']) {
    const v = probe[k];
    if (typeof v === 'number' && v < 0) c.invalid(`${field}.${k}`, v, 'must be greater than or equal to 0');
  }
  const port = objAt(probe, 'httpGet')?.['port'] ?? objAt(probe, 'tcpSocket')?.['port'];
  if (typeof port === 'number' && (port < 1 || port > 65535))
    c.invalid(
      `${field}.${probe['httpGet'] ? 'httpGet' : 'tcpSocket'}.port`,
      port,
      'must be between 1 and 65535, inclusive',
    );
}

/** Names a pod's containers are checked against: its volumes, and the container names seen so far. */
interface PodNames {
  volumeNames: Set<string>;
  seen: Set<string>;
}

function validateContainers(c: Causes, list: { field: string; containers: unknown[] }, names: PodNames): void {
  const { field, containers } = list;
  const { volumeNames, seen } = names;
  containers.forEach((raw, i) => {
    const f = `${field}[${i}]`;
    if (!isObject(raw)) return;
    const name = str(raw['name']);
    if (name === undefined || name === '') c.required(`${f}.name`);
    else {
      checkLabelName(c, `${f}.name`, name);
      if (seen.has(name)) c.duplicate(`${f}.name`, name);
      seen.add(name);
    }
    const image = str(raw['image']);
    if (image === undefined || image.trim() === '') c.required(`${f}.image`);
    const policy = raw['imagePullPolicy'];
    if (policy !== undefined && !['Always', 'IfNotPresent', 'Never'].includes(String(policy)))
      c.notSupported(`${f}.imagePullPolicy`, policy, ['Always', 'IfNotPresent', 'Never']);
    const portNames = new Set<string>();
    listAt(raw, 'ports').forEach((p, j) => {
      if (!isObject(p)) return;
      const cp = p['containerPort'];
      if (typeof cp !== 'number') c.required(`${f}.ports[${j}].containerPort`);
      else if (cp < 1 || cp > 65535)
        c.invalid(`${f}.ports[${j}].containerPort`, cp, 'must be between 1 and 65535, inclusive');
      const hp = p['hostPort'];
      if (typeof hp === 'number' && (hp < 0 || hp > 65535))
        c.invalid(`${f}.ports[${j}].hostPort`, hp, 'must be between 1 and 65535, inclusive');
      const proto = p['protocol'];
      if (proto !== undefined && !PROTOCOLS.includes(String(proto)))
        c.notSupported(`${f}.ports[${j}].protocol`, proto, PROTOCOLS);
      const pn = str(p['name']);
      if (pn !== undefined) {
        if (pn.length > 15 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(pn) || !/[a-z]/.test(pn))
          c.invalid(
            `${f}.ports[${j}].name`,
            pn,
            "must be no more than 15 characters, contain only lowercase alphanumerics or '-', and contain at least one letter",
          );
        if (portNames.has(pn)) c.duplicate(`${f}.ports[${j}].name`, pn);
        portNames.add(pn);
      }
    });
    listAt(raw, 'env').forEach((e, j) => {
      if (!isObject(e)) return;
      const en = str(e['name']);
      if (en === undefined || en === '') c.required(`${f}.env[${j}].name`);
      if (e['value'] !== undefined && e['valueFrom'] !== undefined)
        c.invalid(`${f}.env[${j}].valueFrom`, '', 'may not be specified when `value` is not empty');
    });
    listAt(raw, 'volumeMounts').forEach((m, j) => {
      if (!isObject(m)) return;
      const vn = str(m['name']);
      if (vn === undefined || vn === '') c.required(`${f}.volumeMounts[${j}].name`);
      else if (!volumeNames.has(vn))
        c.list.push({
          reason: 'FieldValueNotFound',
          field: `${f}.volumeMounts[${j}].name`,
          message: `Not found: "${vn}"`,
        });
      if (str(m['mountPath']) === undefined || m['mountPath'] === '') c.required(`${f}.volumeMounts[${j}].mountPath`);
    });
    validateProbe(c, `${f}.livenessProbe`, raw['livenessProbe']);
    validateProbe(c, `${f}.readinessProbe`, raw['readinessProbe']);
    validateProbe(c, `${f}.startupProbe`, raw['startupProbe']);
  });
}

/** A pod spec to validate: where it sits, and the restart policies its owner allows (all when absent). */
interface PodSpecAt {
  field: string;
  spec: unknown;
  allowedRestart?: string[];
  /** The pod's (or template's) metadata: AppArmor's old annotations live there. */
  metadata?: unknown;
  /** A StatefulSet's volumeClaimTemplates: each is a volume its pods may mount. */
  claimTemplates?: unknown[];
}

function validatePodSpec(c: Causes, at: PodSpecAt): void {
  const { field, spec, allowedRestart } = at;
  if (!isObject(spec)) {
    c.required(field);
    return;
  }
  const volumeNames = new Set<string>();
  for (const t of at.claimTemplates ?? []) {
    const n = str(objAt(t, 'metadata')?.['name']);
    if (n !== undefined && n !== '') volumeNames.add(n);
  }
  listAt(spec, 'volumes').forEach((v, i) => {
    if (!isObject(v)) return;
    const n = str(v['name']);
    if (n === undefined || n === '') c.required(`${field}.volumes[${i}].name`);
    else {
      checkLabelName(c, `${field}.volumes[${i}].name`, n);
      if (volumeNames.has(n)) c.duplicate(`${field}.volumes[${i}].name`, n);
      volumeNames.add(n);
    }
    const hostPath = objAt(v, 'hostPath');
    if (hostPath !== undefined && (str(hostPath['path']) ?? '') === '')
      c.required(`${field}.volumes[${i}].hostPath.path`);
    const claim = objAt(v, 'persistentVolumeClaim');
    if (claim !== undefined && (str(claim['claimName']) ?? '') === '')
      c.required(`${field}.volumes[${i}].persistentVolumeClaim.claimName`);
  });
  const containers = listAt(spec, 'containers');
  if (containers.length === 0) c.required(`${field}.containers`);
  const names: PodNames = { volumeNames, seen: new Set<string>() };
  validateContainers(c, { field: `${field}.initContainers`, containers: listAt(spec, 'initContainers') }, names);
  validateContainers(c, { field: `${field}.containers`, containers }, names);
  const restart = spec['restartPolicy'];
  const all = ['Always', 'OnFailure', 'Never'];
  if (restart !== undefined && !all.includes(String(restart))) c.notSupported(`${field}.restartPolicy`, restart, all);
  else if (restart !== undefined && allowedRestart !== undefined && !allowedRestart.includes(String(restart)))
    c.notSupported(`${field}.restartPolicy`, restart, allowedRestart);
  const annotationsField = `${field.replace(/(^|\.)spec$/, '$1metadata')}.annotations`;
  c.list.push(
    ...unsupportedSecurityCauses(spec, { field, annotations: objAt(at.metadata, 'annotations'), annotationsField }),
  );
  const dns = spec['dnsPolicy'];
  const dnsPolicies = ['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None'];
  if (dns !== undefined && !dnsPolicies.includes(String(dns))) c.notSupported(`${field}.dnsPolicy`, dns, dnsPolicies);
  for (const k of ['terminationGracePeriodSeconds', 'activeDeadlineSeconds']) {
    const v = spec[k];
    if (typeof v === 'number' && v < 0) c.invalid(`${field}.${k}`, v, 'must be greater than or equal to 0');
  }
  listAt(spec, 'tolerations').forEach((t, i) => {
    if (!isObject(t)) return;
    const op = t['operator'];
    if (op !== undefined && op !== 'Exists' && op !== 'Equal')
      c.notSupported(`${field}.tolerations[${i}].operator`, op, ['Equal', 'Exists']);
    const effect = t['effect'];
    if (
      effect !== undefined &&
      effect !== '' &&
      !['NoSchedule', 'PreferNoSchedule', 'NoExecute'].includes(String(effect))
    )
      c.notSupported(`${field}.tolerations[${i}].effect`, effect, ['NoExecute', 'NoSchedule', 'PreferNoSchedule']);
  });
}

function validateSelectorAndTemplate(
  c: Causes,
  spec: unknown,
  rules: { restart: string[]; selectorRequired?: boolean },
): void {
  const { restart, selectorRequired = true } = rules;
  const claimTemplates = listAt(spec, 'volumeClaimTemplates');
  if (!isObject(spec)) {
    c.required('spec');
    return;
  }
  const selector = objAt(spec, 'selector');
  const template = objAt(spec, 'template');
  if (selector === undefined) {
    if (selectorRequired) c.required('spec.selector');
  } else {
    const ml = objAt(selector, 'matchLabels') ?? {};
    const me = listAt(selector, 'matchExpressions');
    if (Object.keys(ml).length === 0 && me.length === 0)
      c.invalid('spec.selector', selector, 'empty selector is invalid for deployment');
    const labels = objAt(objAt(template, 'metadata'), 'labels') ?? {};
    const matches = Object.entries(ml).every(([k, v]) => labels[k] === v);
    if (!matches) c.invalid('spec.template.metadata.labels', labels, '`selector` does not match template `labels`');
  }
  nonNegative(c, spec, ['replicas', 'minReadySeconds', 'revisionHistoryLimit', 'progressDeadlineSeconds']);
  validatePodSpec(c, {
    field: 'spec.template.spec',
    spec: objAt(template, 'spec'),
    allowedRestart: restart,
    metadata: objAt(template, 'metadata'),
    claimTemplates,
  });
}

/** The labels a Job's generated selector selects by (Kubernetes' batch.kubernetes.io/controller-uid, and the legacy name). */
export const JOB_UID_LABELS = ['batch.kubernetes.io/controller-uid', 'controller-uid'] as const;

/**
 * Unless `manualSelector`, a Job's selector is the one the server made from its uid, and its
 * template carries that uid: a selector a client wrote is refused, as Kubernetes does.
 */
function validateGeneratedSelector(
  c: Causes,
  spec: Record<string, unknown> | undefined,
  uid: string | undefined,
): void {
  if (spec === undefined || spec['manualSelector'] === true || uid === undefined) return;
  const labels = objAt(objAt(objAt(spec, 'template'), 'metadata'), 'labels');
  if (labels === undefined) c.required('spec.template.metadata.labels');
  for (const key of JOB_UID_LABELS)
    if (labels !== undefined && labels[key] !== uid)
      c.invalid(`spec.template.metadata.labels[${key}]`, labels[key] ?? '', `must be '${uid}'`);
  const selector = objAt(spec, 'selector');
  if (selector === undefined) return c.required('spec.selector');
  const expected = { matchLabels: { [JOB_UID_LABELS[0]]: uid } };
  if (!isDeepStrictEqual(selector, expected)) c.invalid('spec.selector', selector, '`selector` not auto-generated');
}

/** A ReplicationController: a plain-map selector (defaulted from the template's labels) that the template matches. */
function validateReplicationController(c: Causes, spec: Record<string, unknown> | undefined): void {
  if (spec === undefined) return c.required('spec');
  const selector = objAt(spec, 'selector') ?? {};
  if (Object.keys(selector).length === 0) c.required('spec.selector');
  const template = objAt(spec, 'template');
  if (template === undefined) return c.required('spec.template');
  const labels = objAt(objAt(template, 'metadata'), 'labels') ?? {};
  if (!Object.entries(selector).every(([k, v]) => labels[k] === v))
    c.invalid('spec.template.metadata.labels', labels, '`selector` does not match template `labels`');
  nonNegative(c, spec, ['replicas', 'minReadySeconds']);
  validatePodSpec(c, {
    field: 'spec.template.spec',
    spec: objAt(template, 'spec'),
    allowedRestart: ['Always'],
    metadata: objAt(template, 'metadata'),
  });
}

/** Integer fields of a spec that Kubernetes' validation requires to be >= 0 (422 otherwise). */
function nonNegative(c: Causes, spec: unknown, keys: string[]): void {
  for (const k of keys) {
    const v = isObject(spec) ? spec[k] : undefined;
    if (typeof v === 'number' && v < 0) c.invalid(`spec.${k}`, v, 'must be greater than or equal to 0');
  }
}

function validateService(c: Causes, spec: unknown): void {
  if (!isObject(spec)) return c.required('spec');
  const types = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'];
  const type = spec['type'] ?? 'ClusterIP';
  if (!types.includes(String(type))) c.notSupported('spec.type', type, types);
  const ports = listAt(spec, 'ports');
  const headless = spec['clusterIP'] === 'None';
  if (ports.length === 0 && type !== 'ExternalName' && !headless) c.required('spec.ports');
  const names = new Set<string>();
  ports.forEach((p, i) => {
    if (!isObject(p)) return;
    const port = p['port'];
    if (typeof port !== 'number') c.required(`spec.ports[${i}].port`);
    else if (port < 1 || port > 65535)
      c.invalid(`spec.ports[${i}].port`, port, 'must be between 1 and 65535, inclusive');
    const proto = p['protocol'];
    if (proto !== undefined && !PROTOCOLS.includes(String(proto)))
      c.notSupported(`spec.ports[${i}].protocol`, proto, PROTOCOLS);
    const np = p['nodePort'];
    if (typeof np === 'number' && np !== 0 && (np < 30000 || np > 32767))
      c.invalid(
        `spec.ports[${i}].nodePort`,
        np,
        'provided port is not in the valid range. The range of valid ports is 30000-32767',
      );
    if (typeof np === 'number' && np !== 0 && type === 'ClusterIP')
      c.forbidden(`spec.ports[${i}].nodePort`, "may not be used when `type` is 'ClusterIP'");
    const tp = p['targetPort'];
    if (typeof tp === 'number' && (tp < 1 || tp > 65535))
      c.invalid(`spec.ports[${i}].targetPort`, tp, 'must be between 1 and 65535, inclusive');
    const name = str(p['name']);
    if (ports.length > 1 && (name === undefined || name === '')) c.required(`spec.ports[${i}].name`);
    if (name !== undefined && name !== '') {
      if (names.has(name)) c.duplicate(`spec.ports[${i}].name`, name);
      names.add(name);
    }
  });
}

function validateDataKeys(c: Causes, data: unknown, at: { field: string; base64: boolean }): void {
  const { field, base64 } = at;
  if (!isObject(data)) return;
  for (const [k, v] of Object.entries(data)) {
    if (!CONFIG_KEY.test(k) || k.length > 253)
      c.invalid(
        `${field}[${k}]`,
        k,
        "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
      );
    if (base64 && typeof v === 'string' && !/^[A-Za-z0-9+/]*={0,2}$/.test(v.replace(/\s/g, '')))
      c.invalid(`${field}[${k}]`, '<secret contents redacted>', 'illegal base64 data');
  }
}

export function validateObject(obj: KubeObject, r: ResourceInfo): StatusCause[] {
  const c = new Causes();
  validateMeta(c, obj, r);
  const spec = objAt(obj, 'spec');
  switch (r.kind) {
    case 'Pod':
      validatePodSpec(c, { field: 'spec', spec, metadata: obj.metadata });
      break;
    case 'Deployment': {
      validateSelectorAndTemplate(c, spec, { restart: ['Always'] });
      const strategy = objAt(spec, 'strategy');
      const st = strategy?.['type'];
      if (st !== undefined && st !== 'RollingUpdate' && st !== 'Recreate')
        c.notSupported('spec.strategy.type', st, ['Recreate', 'RollingUpdate']);
      if (st === 'Recreate' && strategy?.['rollingUpdate'] !== undefined)
        c.forbidden('spec.strategy.rollingUpdate', "may not be specified when strategy `type` is 'Recreate'");
      break;
    }
    case 'ReplicaSet':
    case 'DaemonSet':
      validateSelectorAndTemplate(c, spec, { restart: ['Always'] });
      break;
    case 'StatefulSet':
      validateSelectorAndTemplate(c, spec, { restart: ['Always'] });
      c.list.push(...claimTemplateCauses(spec));
      break;
    case 'PersistentVolume':
      c.list.push(...persistentVolumeCauses(obj));
      break;
    case 'PersistentVolumeClaim':
      c.list.push(...claimCauses(spec, 'spec'));
      break;
    case 'StorageClass':
      c.list.push(...storageClassCauses(obj));
      break;
    case 'ReplicationController':
      validateReplicationController(c, spec);
      break;
    case 'Job': {
      validateSelectorAndTemplate(c, spec, { restart: ['OnFailure', 'Never'], selectorRequired: false });
      validateGeneratedSelector(c, spec, obj.metadata.uid);
      if (spec?.['completionMode'] === 'Indexed') {
        const completions = spec['completions'];
        if (typeof completions !== 'number') c.required('spec.completions');
        else if (completions > 100_000)
          c.invalid(
            'spec.completions',
            completions,
            'must be less than or equal to 100000 when completion mode is Indexed',
          );
      }
      if (spec?.['completionMode'] !== undefined && !['NonIndexed', 'Indexed'].includes(String(spec['completionMode'])))
        c.notSupported('spec.completionMode', spec['completionMode'], ['NonIndexed', 'Indexed']);
      nonNegative(c, spec, [
        'completions',
        'parallelism',
        'backoffLimit',
        'activeDeadlineSeconds',
        'ttlSecondsAfterFinished',
      ]);
      break;
    }
    case 'CronJob': {
      const schedule = str(spec?.['schedule']);
      if (schedule === undefined || schedule === '') c.required('spec.schedule');
      else {
        const err = parseCronSchedule(schedule).error;
        if (err !== undefined) c.invalid('spec.schedule', schedule, err);
      }
      const policy = spec?.['concurrencyPolicy'];
      if (policy !== undefined && !['Allow', 'Forbid', 'Replace'].includes(String(policy)))
        c.notSupported('spec.concurrencyPolicy', policy, ['Allow', 'Forbid', 'Replace']);
      nonNegative(c, spec, ['startingDeadlineSeconds', 'successfulJobsHistoryLimit', 'failedJobsHistoryLimit']);
      const jobSpec = objAt(objAt(spec, 'jobTemplate'), 'spec');
      validatePodSpec(c, {
        field: 'spec.jobTemplate.spec.template.spec',
        spec: objAt(objAt(jobSpec, 'template'), 'spec'),
        allowedRestart: ['OnFailure', 'Never'],
        metadata: objAt(objAt(jobSpec, 'template'), 'metadata'),
      });
      break;
    }
    case 'Service':
      validateService(c, spec);
      break;
    case 'ResourceQuota':
      c.list.push(...resourceQuotaCauses(obj));
      break;
    case 'LimitRange':
      c.list.push(...limitRangeCauses(obj));
      break;
    case 'ConfigMap':
      validateDataKeys(c, obj['data'], { field: 'data', base64: false });
      validateDataKeys(c, obj['binaryData'], { field: 'binaryData', base64: true });
      break;
    case 'Secret':
      validateDataKeys(c, obj['data'], { field: 'data', base64: true });
      break;
    case 'Role':
    case 'ClusterRole':
      listAt(obj, 'rules').forEach((rule, i) => {
        if (listAt(rule, 'verbs').length === 0) c.required(`rules[${i}].verbs`);
      });
      break;
    case 'RoleBinding':
    case 'ClusterRoleBinding': {
      const ref = objAt(obj, 'roleRef');
      if (ref === undefined) c.required('roleRef');
      else {
        if (!str(ref['name'])) c.required('roleRef.name');
        if (!['Role', 'ClusterRole'].includes(String(ref['kind'])))
          c.notSupported('roleRef.kind', ref['kind'], ['ClusterRole', 'Role']);
      }
      break;
    }
    case 'CertificateSigningRequest':
      if (!str(spec?.['request'])) c.required('spec.request');
      if (!str(spec?.['signerName'])) c.required('spec.signerName');
      break;
    case 'ControllerRevision': {
      const revision = obj['revision'];
      if (obj['data'] === undefined || obj['data'] === null)
        c.list.push({ reason: 'FieldValueRequired', field: 'data', message: 'Required value: data is mandatory' });
      if (typeof revision === 'number' && revision < 0)
        c.invalid('revision', revision, 'must be greater than or equal to 0');
      break;
    }
    case 'EndpointSlice':
      c.list.push(...endpointSliceCauses(obj));
      break;
    case 'PodDisruptionBudget':
      c.list.push(...podDisruptionBudgetCauses(obj));
      break;
    case 'PriorityClass':
      c.list.push(...priorityClassCauses(obj));
      break;
    case 'Ingress':
      c.list.push(...ingressCauses(obj));
      break;
    case 'IngressClass':
      c.list.push(...ingressClassCauses(obj));
      break;
    case 'NetworkPolicy':
      c.list.push(...networkPolicyCauses(spec));
      break;
    case 'HorizontalPodAutoscaler':
      c.list.push(...horizontalPodAutoscalerCauses(obj));
      break;
    case 'Lease': {
      const d = spec?.['leaseDurationSeconds'];
      if (typeof d === 'number' && d <= 0) c.invalid('spec.leaseDurationSeconds', d, 'must be greater than 0');
      break;
    }
    default:
      break;
  }
  return c.list;
}

const POD_MUTABLE =
  'spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

function withoutMutablePodFields(spec: unknown): unknown {
  if (!isObject(spec)) return undefined;
  const copy = structuredClone(spec);
  for (const key of ['containers', 'initContainers']) {
    const list = copy[key];
    if (Array.isArray(list)) for (const ctr of list) if (isObject(ctr)) delete ctr['image'];
  }
  delete copy['activeDeadlineSeconds'];
  delete copy['tolerations'];
  delete copy['nodeName']; // set once through binding
  return copy;
}

export function validateUpdate(next: KubeObject, prev: KubeObject, r: ResourceInfo): StatusCause[] {
  const c = new Causes();
  const ns = objAt(next, 'spec');
  const ps = objAt(prev, 'spec');
  const immutable = (field: string, a: unknown, b: unknown): void => {
    if (!isDeepStrictEqual(a, b)) c.invalid(field, a, 'field is immutable');
  };
  switch (r.kind) {
    case 'Pod': {
      if (!isDeepStrictEqual(withoutMutablePodFields(ns), withoutMutablePodFields(ps)))
        c.list.push({ reason: 'FieldValueForbidden', field: 'spec', message: POD_MUTABLE });
      const oldNode = str(ps?.['nodeName']);
      if (oldNode !== undefined && oldNode !== '' && str(ns?.['nodeName']) !== oldNode)
        immutable('spec.nodeName', ns?.['nodeName'], oldNode);
      break;
    }
    case 'Deployment':
    case 'ReplicaSet':
    case 'DaemonSet':
    case 'StatefulSet':
      immutable('spec.selector', ns?.['selector'], ps?.['selector']);
      break;
    case 'Job':
      immutable('spec.selector', ns?.['selector'], ps?.['selector']);
      immutable('spec.template', ns?.['template'], ps?.['template']);
      immutable('spec.completions', ns?.['completions'], ps?.['completions']);
      break;
    case 'Service': {
      const old = str(ps?.['clusterIP']);
      if (old !== undefined && old !== '' && ns?.['clusterIP'] !== undefined && ns['clusterIP'] !== old)
        immutable('spec.clusterIP', ns['clusterIP'], old);
      break;
    }
    case 'RoleBinding':
    case 'ClusterRoleBinding':
      immutable('roleRef', next['roleRef'], prev['roleRef']);
      break;
    case 'ConfigMap':
    case 'Secret':
      if (prev['immutable'] === true) {
        immutable('data', next['data'], prev['data']);
        immutable('immutable', next['immutable'], true);
      }
      break;
    case 'CertificateSigningRequest':
      immutable('spec', ns, ps);
      break;
    case 'ControllerRevision':
      immutable('data', next['data'], prev['data']);
      break;
    case 'ResourceQuota':
      immutable('spec.scopes', ns?.['scopes'], ps?.['scopes']);
      immutable('spec.scopeSelector', ns?.['scopeSelector'], ps?.['scopeSelector']);
      break;
    case 'EndpointSlice':
      immutable('addressType', next['addressType'], prev['addressType']);
      break;
    case 'IngressClass':
      immutable('spec.controller', ns?.['controller'], ps?.['controller']);
      break;
    case 'PersistentVolume':
    case 'PersistentVolumeClaim':
    case 'StorageClass':
      c.list.push(...storageUpdateCauses(r.kind, next, prev));
      break;
    case 'PriorityClass':
      c.list.push(...priorityClassUpdateCauses(next, prev));
      break;
    default:
      break;
  }
  return c.list;
}
