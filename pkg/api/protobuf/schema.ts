// The protobuf message definitions of every served kind (generated from Kubernetes'
// generated.proto files by scripts/gen-protobuf-schema.ts; field names, numbers and types).

import protobuf from 'protobufjs';
import definitions from './schema.json' with { type: 'json' };
import { META_KINDS, META_PACKAGE, protoPackageOf, RUNTIME_UNKNOWN, splitApiVersion } from './names.js';

const root = protobuf.Root.fromJSON(definitions);
root.resolveAll();

/** Fields Go embeds with `json:",inline"`: their fields sit in the parent's JSON object. */
const INLINE = new Set(definitions.inline);

/** Non-pointer numbers and booleans Go's JSON leaves out when zero (`omitempty`). */
const OMIT_ZERO = new Set(definitions.omitZero);

const fieldName = (field: protobuf.Field): string =>
  field.parent === null ? field.name : `${field.parent.fullName.slice(1)}.${field.name}`;

export function isInline(field: protobuf.Field): boolean {
  return INLINE.has(fieldName(field));
}

export function omitsZero(field: protobuf.Field): boolean {
  return OMIT_ZERO.has(fieldName(field));
}

function mustType(name: string): protobuf.Type {
  const t = root.lookup(name);
  if (!(t instanceof protobuf.Type)) throw new Error(`the protobuf schema lacks ${name}`);
  return t;
}

export const UNKNOWN_TYPE = mustType(RUNTIME_UNKNOWN);
export const WATCH_EVENT_TYPE = mustType(`${META_PACKAGE}.WatchEvent`);

/** The message of `apiVersion`/`kind`, or undefined when the schema has none. */
export function messageTypeOf(apiVersion: string, kind: string): protobuf.Type | undefined {
  if (!/^[A-Za-z][A-Za-z0-9]*$/.test(kind)) return undefined;
  const { group, version } = splitApiVersion(apiVersion);
  if (!/^[a-z0-9]+$/.test(version) || !/^[a-z0-9.-]*$/.test(group)) return undefined;
  const name = META_KINDS.includes(kind) ? `${META_PACKAGE}.${kind}` : `${protoPackageOf(group, version)}.${kind}`;
  const t = root.lookup(name);
  return t instanceof protobuf.Type ? t : undefined;
}
