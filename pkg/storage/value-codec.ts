// A value's stored form, shared by the backends: the object's JSON without
// metadata.resourceVersion (the store's revision is the resourceVersion), passed through the
// resource's transformer from --encryption-provider-config (toStorage on write, fromStorage
// on read, `stale` when the value was not written by the first provider).

import type { KubeObject } from '../api/meta.js';
import { errorMessage } from '../errors/index.js';
import {
  groupResourceOfStorageKey,
  identityTransformer,
  type ResourceTransformers,
  type ValueTransformer,
} from './encryption/index.js';
import { StorageError } from './store.js';

/** A value as stored: JSON text, or the transformer's bytes. */
export type StoredValue = string | Buffer;

/** A value to write: its JSON (for the answer and events) and its stored form. */
export interface Written {
  json: string;
  stored: StoredValue;
}

export function decode(value: string | Buffer, revision: number): KubeObject {
  // What encode() wrote, read back: the store holds only objects the apiserver admitted, and a
  // guard here would throw on a row it cannot fix (the object could be neither read nor deleted).
  const obj = JSON.parse(typeof value === 'string' ? value : value.toString('utf8')) as KubeObject;
  obj.metadata.resourceVersion = String(revision);
  return obj;
}

/** The stored form: resourceVersion is the row id, never part of the JSON. */
export function encode(obj: KubeObject): string {
  const metadata = { ...obj.metadata };
  delete metadata.resourceVersion;
  return JSON.stringify({ ...obj, metadata });
}

export function unavailable(key: string, message: string): StorageError {
  return new StorageError('Unavailable', message, { key });
}

/** A decoded row: the object and whether its stored form should be rewritten. */
export interface Decoded {
  object: KubeObject;
  stale: boolean;
}

/**
 * Reads stored values through the transformers. Without transformers, a value is its JSON (a BLOB
 * still goes through identity, which refuses encrypted bytes rather than parse them).
 */
export class ValueCodec {
  private readonly transformers: ResourceTransformers | undefined;

  constructor(transformers: ResourceTransformers | undefined) {
    this.transformers = transformers;
  }

  get encrypting(): boolean {
    return this.transformers !== undefined;
  }

  private transformerFor(key: string): ValueTransformer {
    const gr = groupResourceOfStorageKey(key);
    if (this.transformers === undefined || gr === undefined) return identityTransformer;
    return this.transformers.forResource(gr);
  }

  /** The stored form of an object: TEXT when the transformer is identity, else a BLOB. */
  encode(key: string, obj: KubeObject): Written {
    const json = encode(obj);
    const transformer = this.transformerFor(key);
    if (transformer === identityTransformer) return { json, stored: json };
    return { json, stored: transformer.toStorage(Buffer.from(json, 'utf8'), key) };
  }

  /** Throws StorageError('Unavailable') when the value cannot be read back. */
  decode(key: string, value: StoredValue, revision: number): Decoded {
    if (typeof value === 'string' && this.transformers === undefined)
      return { object: decode(value, revision), stale: false };
    const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
    let read;
    try {
      read = this.transformerFor(key).fromStorage(bytes, key);
    } catch (err) {
      throw unavailable(key, `cannot decrypt ${key} (revision ${revision}): ${errorMessage(err)}`);
    }
    return { object: decode(Buffer.from(read.data), revision), stale: read.stale };
  }
}
