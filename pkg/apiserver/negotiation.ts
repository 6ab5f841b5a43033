// Which wire format an answer takes, from the request's Accept header, as Kubernetes
// negotiates it: JSON whenever the client accepts it (kubectl's typed clients send
// `application/vnd.kubernetes.protobuf,application/json`), protobuf when only protobuf is
// accepted, and 406 NotAcceptable when neither is. No Accept header means JSON.

import { PROTOBUF_MEDIA_TYPE } from '../api/protobuf/index.js';
import { ApiError } from '../errors/index.js';

export type WireFormat = 'json' | 'protobuf';

/** Media ranges that JSON answers satisfy (YAML is answered in JSON, as it always was here). */
const JSON_RANGES = new Set(['application/json', 'application/yaml', 'application/*', '*/*']);

interface MediaRange {
  type: string;
  /** Parameters other than q, lower-cased (`stream=watch`, `as=table`). */
  params: string[];
}

/** The media ranges of an Accept header, without those the client refuses (q=0). At most 64 are read. */
function mediaRanges(accept: string): MediaRange[] {
  const out: MediaRange[] = [];
  for (const part of accept.split(',').slice(0, 64)) {
    const [type = '', ...rest] = part.split(';').map((p) => p.trim().toLowerCase());
    const params = rest.filter((p) => p !== '');
    if (type === '' || params.some((p) => /^q=0(\.0*)?$/.test(p))) continue;
    out.push({ type, params: params.filter((p) => !p.startsWith('q=')) });
  }
  return out;
}

/** The format to answer in; undefined when the client accepts neither JSON nor protobuf. */
export function answerFormat(accept: string | undefined): WireFormat | undefined {
  if (accept === undefined || accept.trim() === '') return 'json';
  const ranges = mediaRanges(accept);
  if (ranges.some((r) => JSON_RANGES.has(r.type))) return 'json';
  if (ranges.some((r) => r.type === PROTOBUF_MEDIA_TYPE)) return 'protobuf';
  return undefined;
}

/** The format of a request's answer, or a 406 Status when there is none the client accepts. */
export function negotiate(accept: string | undefined): WireFormat {
  const format = answerFormat(accept);
  if (format === undefined) {
    throw new ApiError(
      'NotAcceptable',
      'only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf',
    );
  }
  return format;
}
