// Metadata the server itself writes or ignores: type meta on answers, generated names,
// managedFields entries, and what a no-op comparison leaves out.

import { randomInt } from 'node:crypto';
import { isObject, rfc3339, type KubeObject } from '../api/meta.js';
import { apiVersionOf, type ResourceInfo } from '../api/registry.js';

const GENERATE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** An object as answered: with the apiVersion and kind of its resource. */
export function withType(r: ResourceInfo, obj: KubeObject): KubeObject {
  if (obj.apiVersion === apiVersionOf(r) && obj.kind === r.kind) return obj;
  return { ...obj, apiVersion: apiVersionOf(r), kind: r.kind };
}

/** Fields a write never compares on (a no-op update must not bump resourceVersion). */
export function stripVolatile(obj: KubeObject): KubeObject {
  const copy = { ...obj, metadata: { ...obj.metadata } };
  delete copy.metadata.resourceVersion;
  delete copy.metadata.managedFields;
  return copy;
}

/** The random suffix a generateName gets. */
export function randomSuffix(): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += GENERATE_ALPHABET[randomInt(GENERATE_ALPHABET.length)];
  return s;
}

/** Records who wrote an object, as Kubernetes' managedFields (manager, operation, time). */
export function recordManager(
  obj: KubeObject,
  manager: string,
  operation: 'Update' | 'Apply',
  now: Date,
  subresource?: string,
): void {
  const entries = (obj.metadata.managedFields ?? []).filter(
    (e) =>
      !(
        isObject(e) &&
        e['manager'] === manager &&
        e['operation'] === operation &&
        (e['subresource'] ?? undefined) === subresource
      ),
  );
  const entry: Record<string, unknown> = {
    manager,
    operation,
    apiVersion: obj.apiVersion,
    time: rfc3339(now),
    fieldsType: 'FieldsV1',
    fieldsV1: {},
  };
  if (subresource !== undefined && subresource !== 'binding') entry['subresource'] = subresource;
  entries.push(entry);
  obj.metadata.managedFields = entries;
}
