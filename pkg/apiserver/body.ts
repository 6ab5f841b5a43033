// Reading and decoding request bodies: a size limit (413 beyond it), JSON for the JSON
// media types and for a missing Content-Type (`kubectl scale --current-replicas` sends
// none), YAML for server-side apply. Both go through pkg/api/decode, which makes them plain
// data (no prototype keys; depth, aliases and decoded size bounded). Protobuf bodies
// (kubectl's typed clients send them) go through pkg/api/protobuf into the same JSON form.

import type { IncomingMessage } from 'node:http';
import { decodeJson, decodeYaml, MAX_DEPTH, type Decoded } from '../api/decode/index.js';
import { decodeProtobuf, PROTOBUF_MEDIA_TYPE } from '../api/protobuf/index.js';
import { ApiError } from '../errors/index.js';

/** Kubernetes' default limit on a request body (3 MiB). */
export const DEFAULT_MAX_BODY_BYTES = 3 * 1024 * 1024;

export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = Number(req.headers['content-length'] ?? '0') > limit;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooBig = true;
      // Past the limit the body is read and dropped, so the client can read the 413;
      // far past it the connection is cut.
      if (tooBig) {
        chunks.length = 0;
        if (size > limit * 4) req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => (tooBig ? reject(tooLarge(limit)) : resolve(Buffer.concat(chunks))));
    req.on('error', (err) => reject(tooBig ? tooLarge(limit) : err));
  });
}

function tooLarge(limit: number): ApiError {
  return new ApiError('RequestEntityTooLarge', `Request entity too large: limit is ${limit}`);
}

/** The media type without parameters, lower-cased (`application/json`). */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

const JSON_TYPES = new Set([
  '',
  'application/json',
  'application/merge-patch+json',
  'application/json-patch+json',
  'application/strategic-merge-patch+json',
]);

/**
 * Duplicate keys the decoder saw in a body decodeBody returned, by the body's identity: the
 * REST layer reports them under fieldValidation as it does unknown fields.
 */
const duplicates = new WeakMap<object, string[]>();

export function duplicateFields(body: unknown): string[] {
  return typeof body === 'object' && body !== null ? (duplicates.get(body) ?? []) : [];
}

export function decodeBody(contentType: string | undefined, body: Buffer, limit = DEFAULT_MAX_BODY_BYTES): unknown {
  const type = mediaType(contentType);
  if (body.length === 0) return undefined;
  const limits = { maxDepth: MAX_DEPTH, maxBytes: limit };
  let decoded: Decoded;
  if (JSON_TYPES.has(type)) decoded = decodeJson(body.toString('utf8'), limits);
  else if (type === 'application/apply-patch+yaml' || type === 'application/yaml')
    decoded = decodeYaml(body.toString('utf8'), limits);
  else if (type === PROTOBUF_MEDIA_TYPE) return decodeProtobuf(body, limits);
  else {
    throw new ApiError(
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf`,
    );
  }
  const { value, duplicateFields: found } = decoded;
  if (found.length > 0 && typeof value === 'object' && value !== null) duplicates.set(value, found);
  return value;
}
