// The OpenAPI components of a custom resource, made from its CRD version's structural schema
// as Kubernetes publishes them: named `<reversed group>.<version>.<Kind>` (`com.example.v1.Widget`),
// with apiVersion, kind and a metadata reference added, and its list kind.

import type { ResourceInfo } from '../../api/registry.js';
import type { JsonSchema } from './schemas.js';

export const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';
const LIST_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta';

const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });

/** `com.example.v1.Widget` for widgets.example.com/v1. */
export function customComponentName(r: ResourceInfo): string {
  return `${r.group.split('.').reverse().join('.')}.${r.version}.${r.kind}`;
}

/** The kind's component and its list's, by name. */
export function customComponents(r: ResourceInfo): Record<string, JsonSchema> {
  const name = customComponentName(r);
  const schema: JsonSchema = { ...structuredClone(r.custom?.schema ?? {}) };
  const properties: JsonSchema =
    typeof schema['properties'] === 'object' && schema['properties'] !== null ? { ...schema['properties'] } : {};
  properties['apiVersion'] = {
    type: 'string',
    description: 'APIVersion defines the versioned schema of this representation of an object.',
  };
  properties['kind'] = {
    type: 'string',
    description: 'Kind is a string value representing the REST resource this object represents.',
  };
  properties['metadata'] = { allOf: [ref(OBJECT_META)], description: "Standard object's metadata." };
  const gvk = (kind: string): JsonSchema[] => [{ group: r.group, kind, version: r.version }];
  return {
    [name]: { ...schema, type: 'object', properties, 'x-kubernetes-group-version-kind': gvk(r.kind) },
    [`${name}List`]: {
      description: `${r.kind}List is a list of ${r.kind}`,
      type: 'object',
      required: ['items'],
      properties: {
        apiVersion: { type: 'string' },
        kind: { type: 'string' },
        metadata: { allOf: [ref(LIST_META)] },
        items: { type: 'array', items: ref(name), description: `List of ${r.plural}.` },
      },
      'x-kubernetes-group-version-kind': gvk(r.listKind),
    },
  };
}
