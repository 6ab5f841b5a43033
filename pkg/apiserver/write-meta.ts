// Metadata the server itself writes or ignores: type meta on answers, generated names,
// managedFields entries, and what a no-op comparison leaves out.

import { convertVersion } from '../api/conversion-autoscaling.js';
import { randomInt } from 'node:crypto';
import { isObject, rfc3339, type KubeObject } from '../api/meta.js';
import { apiVersionOf, type Resource, type ResourceInfo } from '../api/registry.js';

const GENERATE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** An object as answered: with the apiVersion and kind of its resource. */
export function withType(r: ResourceInfo, obj: KubeObject): KubeObject {
  if (obj.apiVersion === apiVersionOf(r) && obj.kind === r.kind) return obj;
  // A kind served in two versions is stored in one (HorizontalPodAutoscaler: v2).
  const converted = convertVersion(obj, apiVersionOf(r));
  if (converted !== undefined) return converted;
  return { ...obj, apiVersion: apiVersionOf(r), kind: r.kind };
}

/**
 * An object read from r's part of the store, typed as r's objects, with r's type meta. The one
 * place the apiserver trusts its store: every object under r's keys was decoded, type-checked
 * and validated as r's kind on its way in, which no guard here could prove again short of
 * validating it anew.
 */
export function storedAs<T extends KubeObject>(r: Resource<T>, obj: KubeObject): T {
  return withType(r, obj) as T;
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

/** One write of a field manager: who, how, when, and to which subresource (none: the object). */
export interface ManagerWrite {
  manager: string;
  operation: 'Update' | 'Apply';
  now: Date;
  subresource?: string | undefined;
}

/** Records who wrote an object, as Kubernetes' managedFields (manager, operation, time). */
export function recordManager(obj: KubeObject, write: ManagerWrite): void {
  const { manager, operation, now, subresource } = write;
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
