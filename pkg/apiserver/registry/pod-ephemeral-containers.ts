// pods/ephemeralcontainers (Kubernetes' EphemeralContainersREST): GET answers the pod; PUT
// and PATCH change only `spec.ephemeralContainers`, and only by adding containers. An
// ephemeral container is for debugging: no ports, probes, lifecycle or resources; its name is
// unique among all the pod's containers; once added it never changes and is never removed.

import { isDeepStrictEqual } from 'node:util';
import { deepCopy, isObject, type KubeObject } from '../../api/meta.js';
import { applyPatch } from '../../api/patch/index.js';
import { conflict, invalid, type StatusCause } from '../../errors/index.js';
import { objectAt } from './fields.js';
import type { Subresource, SubresourceCall, SubresourceReply } from './types.js';

/** Container fields an ephemeral container may not set (Kubernetes allows a list of the others). */
const FORBIDDEN_FIELDS = [
  'ports',
  'livenessProbe',
  'readinessProbe',
  'startupProbe',
  'lifecycle',
  'resources',
  'resizePolicy',
  'restartPolicy',
];

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function listOf(spec: Record<string, unknown>, field: string): unknown[] {
  const list = spec[field];
  return Array.isArray(list) ? list : [];
}

/** Whether a field holds more than its zero value (clients send `resources: {}` for none). */
function isSet(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (Array.isArray(value)) return value.length > 0;
  if (isObject(value)) return Object.values(value).some(isSet);
  return value !== '' && value !== false && value !== 0;
}

function nameOf(c: unknown): string {
  return isObject(c) && typeof c['name'] === 'string' ? c['name'] : '';
}

/** Why the new list of ephemeral containers may not replace the old one (empty: it may). */
export function ephemeralContainerCauses(next: KubeObject, prev: KubeObject): StatusCause[] {
  const causes: StatusCause[] = [];
  const spec = objectAt(next, 'spec');
  const base = 'spec.ephemeralContainers';
  const raw = spec['ephemeralContainers'];
  if (raw !== undefined && raw !== null && !Array.isArray(raw))
    return [{ reason: 'FieldValueInvalid', field: base, message: 'Invalid value: must be a list' }];
  const list = listOf(spec, 'ephemeralContainers');
  const old = listOf(objectAt(prev, 'spec'), 'ephemeralContainers');
  const byName = new Map(list.map((c) => [nameOf(c), c]));
  for (const before of old) {
    const name = nameOf(before);
    const now = byName.get(name);
    if (now === undefined)
      causes.push({
        reason: 'FieldValueForbidden',
        field: base,
        message: `Forbidden: existing ephemeral containers ${JSON.stringify(name)} may not be removed`,
      });
    else if (!isDeepStrictEqual(now, before))
      causes.push({
        reason: 'FieldValueForbidden',
        field: base,
        message: `Forbidden: existing ephemeral containers ${JSON.stringify(name)} may not be changed`,
      });
  }
  const oldNames = new Set(old.map(nameOf));
  const regular = [...listOf(spec, 'containers'), ...listOf(spec, 'initContainers')].map(nameOf);
  const seen = new Set(regular);
  list.forEach((c, i) => {
    const at = `${base}[${i}]`;
    if (!isObject(c)) {
      causes.push({ reason: 'FieldValueInvalid', field: at, message: 'Invalid value: must be an object' });
      return;
    }
    const name = nameOf(c);
    if (name === '') causes.push({ reason: 'FieldValueRequired', field: `${at}.name`, message: 'Required value' });
    else if (!DNS_LABEL.test(name) || name.length > 63)
      causes.push({
        reason: 'FieldValueInvalid',
        field: `${at}.name`,
        message: `Invalid value: ${JSON.stringify(name)}: a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character`,
      });
    else if (seen.has(name))
      causes.push({
        reason: 'FieldValueDuplicate',
        field: `${at}.name`,
        message: `Duplicate value: ${JSON.stringify(name)}`,
      });
    seen.add(name);
    if (oldNames.has(name)) return; // checked above as unchanged
    if (typeof c['image'] !== 'string' || c['image'] === '')
      causes.push({ reason: 'FieldValueRequired', field: `${at}.image`, message: 'Required value' });
    for (const field of FORBIDDEN_FIELDS) {
      if (isSet(c[field]))
        causes.push({
          reason: 'FieldValueForbidden',
          field: `${at}.${field}`,
          message: 'Forbidden: cannot be set for an Ephemeral Container',
        });
    }
    const target = c['targetContainerName'];
    if (target !== undefined && target !== '' && !regular.includes(String(target)))
      causes.push({
        reason: 'FieldValueNotFound',
        field: `${at}.targetContainerName`,
        message: `Not found: ${JSON.stringify(target)}`,
      });
  });
  return causes;
}

/** The stored pod with only its ephemeral containers taken from `wanted`; 422 when that change is not allowed. */
function withEphemeralContainers(call: SubresourceCall, current: KubeObject, wanted: unknown): KubeObject {
  const next = deepCopy(current);
  const spec = objectAt(next, 'spec');
  const wantedSpec = isObject(wanted) && isObject(wanted['spec']) ? wanted['spec'] : {};
  const list = wantedSpec['ephemeralContainers'];
  if (list === undefined || list === null) delete spec['ephemeralContainers'];
  else spec['ephemeralContainers'] = list;
  next['spec'] = spec;
  const strategy = call.store.strategyFor(call.r);
  const causes = [...ephemeralContainerCauses(next, current), ...strategy.validate(call.r, next)];
  if (causes.length > 0) throw invalid(call.r, call.name, causes);
  return next;
}

/** Admission of the pod as the change leaves it (Pod Security); throws to refuse. */
export type EphemeralAdmission = (next: KubeObject, prev: KubeObject) => Promise<void>;

/** The pod moved on between the admitted read and the write: read, step and admit again. */
class Moved extends Error {}

/**
 * Steps the stored pod, admits the result, then writes it if the pod did not move meanwhile
 * (bounded retries): what was admitted is what is stored.
 */
async function write(
  call: SubresourceCall,
  step: (current: KubeObject) => KubeObject,
  admit: EphemeralAdmission | undefined,
): Promise<SubresourceReply> {
  const { dryRun } = call.options();
  const ref = { namespace: call.namespace, name: call.name };
  for (let attempt = 0; attempt < 5; attempt++) {
    const current = await call.store.get(call.r, call.namespace, call.name);
    const next = step(current);
    await admit?.(next, current);
    try {
      const stored = await call.store.swap(call.r, ref, {
        ...(dryRun !== undefined ? { dryRun } : {}),
        step: (live) => {
          if (live.metadata.resourceVersion !== current.metadata.resourceVersion) throw new Moved();
          return { next, remove: false };
        },
      });
      return { code: 200, body: stored };
    } catch (err) {
      if (!(err instanceof Moved)) throw err;
    }
  }
  throw conflict(call.r, call.name);
}

async function get(call: SubresourceCall): Promise<SubresourceReply> {
  return { code: 200, body: await call.store.get(call.r, call.namespace, call.name) };
}

/** PUT: the body is the pod; its ephemeral containers are the new list. */
function update(admit: EphemeralAdmission | undefined) {
  return async (call: SubresourceCall): Promise<SubresourceReply> => {
    const body = call.body;
    const meta = isObject(body) && isObject(body['metadata']) ? body['metadata'] : {};
    const expected = typeof meta['resourceVersion'] === 'string' ? meta['resourceVersion'] : '';
    const step = (current: KubeObject): KubeObject => {
      if (expected !== '' && expected !== current.metadata.resourceVersion) throw conflict(call.r, call.name);
      return withEphemeralContainers(call, current, body);
    };
    return write(call, step, admit);
  };
}

/** PATCH: every patch type, applied to the pod; only the ephemeral containers it yields are kept. */
function patch(admit: EphemeralAdmission | undefined) {
  return async (call: SubresourceCall): Promise<SubresourceReply> => {
    const step = (current: KubeObject): KubeObject => {
      const patched = applyPatch(deepCopy(current), { contentType: call.contentType, body: call.body }, call.r);
      return withEphemeralContainers(call, current, patched);
    };
    return write(call, step, admit);
  };
}

/** The subresource; `admit` (Pod Security) sees every change before it is stored. */
export function ephemeralContainersSubresource(admit?: EphemeralAdmission): Subresource {
  return { get, update: update(admit), patch: patch(admit) };
}

export const EPHEMERAL_CONTAINERS: Subresource = ephemeralContainersSubresource();
