// apiextensions.k8s.io/v1 CustomResourceDefinition: its validation (name `<plural>.<group>`,
// one storage version, structural schemas, printer columns, scale paths), its defaults, the
// NamesAccepted and Established conditions, and the deletion Kubernetes stages with the
// `customresourcecleanup.apiextensions.k8s.io` finalizer (crd-serving.ts removes the objects).

import { isDeepStrictEqual } from 'node:util';
import { isObject, rfc3339, type KubeObject } from '../../api/meta.js';
import { parseFieldPath } from '../../api/field-path.js';
import { structuralSchemaErrors } from '../../api/structural-schema.js';
import type {
  CustomResourceDefinition,
  CustomResourceDefinitionCondition,
  CustomResourceDefinitionStatus,
} from '../../api/types/apiextensions.js';
import type { StatusCause } from '../../errors/index.js';
import { defaultStrategy } from './default.js';
import type { Strategy } from './types.js';

export const CRD_CLEANUP_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';
const APPROVAL_ANNOTATION = 'api-approved.kubernetes.io';
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const KIND = /^[A-Za-z][A-Za-z0-9]*$/;
const COLUMN_TYPES = ['integer', 'number', 'string', 'boolean', 'date'];

const cause = (reason: string, field: string, message: string): StatusCause => ({ reason, field, message });
const invalid = (field: string, value: unknown, why: string): StatusCause =>
  cause('FieldValueInvalid', field, `Invalid value: ${JSON.stringify(value)}: ${why}`);
const required = (field: string, why?: string): StatusCause =>
  cause('FieldValueRequired', field, why === undefined ? 'Required value' : `Required value: ${why}`);

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** The CRD as typed, when its shape is one (validate() reports what is wrong otherwise). */
export function isCustomResourceDefinition(obj: KubeObject): obj is CustomResourceDefinition {
  const spec = obj['spec'];
  return (
    isObject(spec) &&
    typeof spec['group'] === 'string' &&
    isObject(spec['names']) &&
    typeof spec['names']['plural'] === 'string' &&
    typeof spec['names']['kind'] === 'string' &&
    Array.isArray(spec['versions']) &&
    spec['versions'].every((v) => isObject(v) && typeof v['name'] === 'string')
  );
}

function validateNames(names: unknown, out: StatusCause[]): void {
  if (!isObject(names)) {
    out.push(required('spec.names'));
    return;
  }
  const plural = str(names['plural']);
  if (plural === undefined || plural === '') out.push(required('spec.names.plural'));
  else if (!DNS_LABEL.test(plural) || plural.length > 63)
    out.push(
      invalid(
        'spec.names.plural',
        plural,
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
      ),
    );
  const singular = str(names['singular']);
  if (singular !== undefined && singular !== '' && !DNS_LABEL.test(singular))
    out.push(
      invalid(
        'spec.names.singular',
        singular,
        'a lowercase RFC 1123 label must consist of lower case alphanumeric characters',
      ),
    );
  const kind = str(names['kind']);
  if (kind === undefined || kind === '') out.push(required('spec.names.kind'));
  else if (!KIND.test(kind))
    out.push(
      invalid('spec.names.kind', kind, 'must be a valid kind name (letters and digits, starting with a letter)'),
    );
  const shortNames = names['shortNames'];
  if (shortNames !== undefined) {
    if (!Array.isArray(shortNames)) out.push(invalid('spec.names.shortNames', shortNames, 'must be a list'));
    else
      shortNames.forEach((s, i) => {
        if (typeof s !== 'string' || !DNS_LABEL.test(s))
          out.push(
            invalid(
              `spec.names.shortNames[${i}]`,
              s,
              'a lowercase RFC 1123 label must consist of lower case alphanumeric characters',
            ),
          );
      });
  }
}

function validateColumns(columns: unknown, field: string, out: StatusCause[]): void {
  if (columns === undefined) return;
  if (!Array.isArray(columns)) {
    out.push(invalid(field, columns, 'must be a list'));
    return;
  }
  columns.forEach((c, i) => {
    const at = `${field}[${i}]`;
    if (!isObject(c)) return void out.push(invalid(at, c, 'must be an object'));
    if (str(c['name']) === undefined || c['name'] === '') out.push(required(`${at}.name`));
    const type = c['type'];
    if (type === undefined || type === '') out.push(required(`${at}.type`));
    else if (typeof type !== 'string' || !COLUMN_TYPES.includes(type))
      out.push(
        cause(
          'FieldValueNotSupported',
          `${at}.type`,
          `Unsupported value: ${JSON.stringify(type)}: supported values: ${COLUMN_TYPES.map((t) => `"${t}"`).join(', ')}`,
        ),
      );
    const path = c['jsonPath'];
    if (path === undefined || path === '') out.push(required(`${at}.jsonPath`));
    else if (typeof path !== 'string' || parseFieldPath(path) === undefined)
      out.push(
        invalid(`${at}.jsonPath`, path, 'must be a simple JSON path (.field, [index] or [?(@.field=="value")])'),
      );
  });
}

function validateSubresources(sub: unknown, field: string, out: StatusCause[]): void {
  if (sub === undefined) return;
  if (!isObject(sub)) return void out.push(invalid(field, sub, 'must be an object'));
  const scale = sub['scale'];
  if (scale === undefined) return;
  if (!isObject(scale)) return void out.push(invalid(`${field}.scale`, scale, 'must be an object'));
  const checkPath = (key: string, under: string, needed: boolean): void => {
    const p = scale[key];
    if (p === undefined || p === '') {
      if (needed) out.push(required(`${field}.scale.${key}`));
      return;
    }
    const steps = typeof p === 'string' ? parseFieldPath(p) : undefined;
    if (
      typeof p !== 'string' ||
      steps === undefined ||
      !p.startsWith(`.${under}.`) ||
      steps.some((s) => !('field' in s))
    )
      out.push(invalid(`${field}.scale.${key}`, p, `should be a json path under .${under}`));
  };
  checkPath('specReplicasPath', 'spec', true);
  checkPath('statusReplicasPath', 'status', true);
  checkPath('labelSelectorPath', 'status', false);
}

function validateVersions(versions: unknown, out: StatusCause[]): void {
  if (!Array.isArray(versions) || versions.length === 0) {
    out.push(required('spec.versions', 'must have exactly one version marked as storage version'));
    return;
  }
  let storage = 0;
  const seen = new Set<string>();
  versions.forEach((v, i) => {
    const at = `spec.versions[${i}]`;
    if (!isObject(v)) return void out.push(invalid(at, v, 'must be an object'));
    const name = str(v['name']);
    if (name === undefined || name === '') out.push(required(`${at}.name`));
    else if (!DNS_1035.test(name) || name.length > 63)
      out.push(
        invalid(
          `${at}.name`,
          name,
          "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character",
        ),
      );
    else if (seen.has(name))
      out.push(cause('FieldValueDuplicate', `${at}.name`, `Duplicate value: ${JSON.stringify(name)}`));
    if (name !== undefined) seen.add(name);
    if (typeof v['served'] !== 'boolean') out.push(required(`${at}.served`));
    if (typeof v['storage'] !== 'boolean') out.push(required(`${at}.storage`));
    if (v['storage'] === true) storage++;
    const schema = isObject(v['schema']) ? v['schema']['openAPIV3Schema'] : undefined;
    if (schema === undefined) out.push(required(`${at}.schema.openAPIV3Schema`, 'schemas are required'));
    else out.push(...structuralSchemaErrors(schema, `${at}.schema.openAPIV3Schema`));
    validateSubresources(v['subresources'], `${at}.subresources`, out);
    validateColumns(v['additionalPrinterColumns'], `${at}.additionalPrinterColumns`, out);
  });
  if (storage !== 1)
    out.push(
      invalid(
        'spec.versions',
        versions.map((v) => (isObject(v) ? v['name'] : v)),
        'must have exactly one version marked as storage version',
      ),
    );
}

function validateCrd(obj: KubeObject): StatusCause[] {
  const out: StatusCause[] = [];
  const spec = obj['spec'];
  if (!isObject(spec)) return [required('spec')];
  const group = str(spec['group']);
  if (group === undefined || group === '') out.push(required('spec.group'));
  else if (!DNS_SUBDOMAIN.test(group) || group.length > 253)
    out.push(
      invalid(
        'spec.group',
        group,
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'",
      ),
    );
  else if (!group.includes('.')) out.push(invalid('spec.group', group, 'should be a domain with at least one dot'));
  else if (
    (group === 'k8s.io' ||
      group.endsWith('.k8s.io') ||
      group === 'kubernetes.io' ||
      group.endsWith('.kubernetes.io')) &&
    obj.metadata.annotations?.[APPROVAL_ANNOTATION] === undefined
  )
    out.push(
      required(
        `metadata.annotations[${APPROVAL_ANNOTATION}]`,
        `protected groups must have approval annotation "${APPROVAL_ANNOTATION}", see https://github.com/kubernetes/enhancements/pull/1111`,
      ),
    );
  validateNames(spec['names'], out);
  const names = isObject(spec['names']) ? spec['names'] : {};
  const expected = `${str(names['plural']) ?? ''}.${group ?? ''}`;
  if (obj.metadata.name !== expected)
    out.push(invalid('metadata.name', obj.metadata.name ?? '', 'must be spec.names.plural+"."+spec.group'));
  const scope = spec['scope'];
  if (scope === undefined || scope === '') out.push(required('spec.scope'));
  else if (scope !== 'Namespaced' && scope !== 'Cluster')
    out.push(
      cause(
        'FieldValueNotSupported',
        'spec.scope',
        `Unsupported value: ${JSON.stringify(scope)}: supported values: "Cluster", "Namespaced"`,
      ),
    );
  const conversion = spec['conversion'];
  if (isObject(conversion) && conversion['strategy'] !== undefined && conversion['strategy'] !== 'None')
    out.push(
      cause(
        'FieldValueNotSupported',
        'spec.conversion.strategy',
        `Unsupported value: ${JSON.stringify(conversion['strategy'])}: supported values: "None"`,
      ),
    );
  validateVersions(spec['versions'], out);
  return out;
}

/** Says that CEL rules are kept but not enforced (no maintained CEL library for JavaScript is installed). */
function celWarnings(obj: KubeObject): string[] {
  return JSON.stringify(obj['spec'] ?? null).includes('"x-kubernetes-validations"')
    ? ['x-kubernetes-validations rules are stored but not enforced by this server (no CEL evaluator)']
    : [];
}

/** Defaults Kubernetes fills in: the singular and list kind, the None conversion. */
function defaultCrd(obj: KubeObject): void {
  const spec = obj['spec'];
  if (!isObject(spec)) return;
  const names = spec['names'];
  if (isObject(names) && typeof names['kind'] === 'string') {
    if (names['singular'] === undefined || names['singular'] === '') names['singular'] = names['kind'].toLowerCase();
    if (names['listKind'] === undefined || names['listKind'] === '') names['listKind'] = `${names['kind']}List`;
  }
  if (spec['conversion'] === undefined) spec['conversion'] = { strategy: 'None' };
}

function condition(c: { type: string; reason: string; message: string }, now: Date): CustomResourceDefinitionCondition {
  return { ...c, status: 'True', lastTransitionTime: rfc3339(now) };
}

/** The status the apiserver keeps: accepted names, NamesAccepted and Established, stored versions. */
function statusFor(
  crd: CustomResourceDefinition,
  previous: CustomResourceDefinitionStatus | undefined,
): CustomResourceDefinitionStatus {
  const now = new Date();
  const keep = (c: CustomResourceDefinitionCondition): CustomResourceDefinitionCondition => {
    const old = previous?.conditions?.find((p) => p.type === c.type && p.status === c.status);
    return old?.lastTransitionTime === undefined ? c : { ...c, lastTransitionTime: old.lastTransitionTime };
  };
  const conditions = [
    keep(condition({ type: 'NamesAccepted', reason: 'NoConflicts', message: 'no conflicts found' }, now)),
    keep(
      condition(
        { type: 'Established', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' },
        now,
      ),
    ),
  ];
  const terminating = previous?.conditions?.find((c) => c.type === 'Terminating');
  if (terminating !== undefined) conditions.push(terminating);
  const stored = new Set(previous?.storedVersions ?? []);
  for (const v of crd.spec.versions) if (v.storage) stored.add(v.name);
  return { conditions, acceptedNames: { ...crd.spec.names }, storedVersions: [...stored] };
}

export const crdStrategy: Strategy = {
  ...defaultStrategy,
  normalize: defaultCrd,
  prepareForCreate(r, obj) {
    defaultStrategy.prepareForCreate(r, obj);
    if (isCustomResourceDefinition(obj)) obj.status = statusFor(obj, undefined);
  },
  prepareForUpdate(r, next, prev) {
    defaultStrategy.prepareForUpdate(r, next, prev);
    if (isCustomResourceDefinition(next) && isCustomResourceDefinition(prev))
      next.status = statusFor(next, prev.status);
  },
  validate: (r, obj) => [...defaultStrategy.validate(r, obj), ...validateCrd(obj)],
  admitCreate: (obj) => Promise.resolve(celWarnings(obj)),
  admitUpdate: ({ next }) => Promise.resolve(celWarnings(next)),
  validateUpdate(r, next, prev) {
    const out = defaultStrategy.validateUpdate(r, next, prev);
    const scope = (o: KubeObject): unknown => (isObject(o['spec']) ? o['spec']['scope'] : undefined);
    if (!isDeepStrictEqual(scope(next), scope(prev)))
      out.push(invalid('spec.scope', scope(next), 'field is immutable'));
    return out;
  },
  stageDeletion(obj, opts, now) {
    // Kubernetes stages every CRD delete with its cleanup finalizer: the objects go first.
    const finalizers = obj.metadata.finalizers ?? [];
    if (obj.metadata.deletionTimestamp === undefined && !finalizers.includes(CRD_CLEANUP_FINALIZER)) {
      obj.metadata.finalizers = [...finalizers, CRD_CLEANUP_FINALIZER];
      const status = isObject(obj['status']) ? obj['status'] : {};
      const conditions = Array.isArray(status['conditions']) ? status['conditions'] : [];
      status['conditions'] = [
        ...conditions,
        {
          type: 'Terminating',
          status: 'True',
          lastTransitionTime: rfc3339(now),
          reason: 'InstanceDeletionPending',
          message: 'CustomResourceDefinition marked for deletion; CustomResource deletion will begin soon',
        },
      ];
      obj['status'] = status;
    }
    return defaultStrategy.stageDeletion(obj, opts, now);
  },
};
