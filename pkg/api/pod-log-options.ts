// PodLogOptions (the query of pods/log), read once and checked as Kubernetes checks them:
// a value that does not decode (follow=maybe, limitBytes=x, a sinceTime that is not RFC 3339)
// is 400 BadRequest; a decoded value out of range (tailLines=-1, limitBytes=0, sinceSeconds=0,
// both sinceSeconds and sinceTime) is 422 Invalid, as ValidatePodLogOptions answers. The
// apiserver checks and relays them; the node agent reads the relayed query with the same code.

import { invalid, type StatusCause } from '../errors/index.js';
import { boolParam, firstQueryValue, int64Param, invalidQueryParam, type QueryLike } from './query-params.js';

export interface PodLogOptions {
  container?: string;
  follow: boolean;
  previous: boolean;
  timestamps: boolean;
  tailLines?: number;
  sinceSeconds?: number;
  /** RFC 3339, as sent (validated). */
  sinceTime?: string;
  limitBytes?: number;
  insecureSkipTLSVerifyBackend: boolean;
}

/** Go's time.RFC3339 as time.Parse accepts it (fractional seconds allowed). */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

function sinceTimeParam(q: QueryLike): string | undefined {
  const text = firstQueryValue(q, 'sinceTime');
  if (text === undefined || text === '') return undefined;
  if (!RFC3339.test(text) || Number.isNaN(Date.parse(text)))
    throw invalidQueryParam('sinceTime', text, 'must be a time in RFC 3339 format (2006-01-02T15:04:05Z)');
  return text;
}

function rangeCauses(opts: PodLogOptions): StatusCause[] {
  const causes: StatusCause[] = [];
  const cause = (field: string, message: string): void => {
    causes.push({ reason: 'FieldValueInvalid', field, message });
  };
  if (opts.tailLines !== undefined && opts.tailLines < 0)
    cause('tailLines', `Invalid value: ${opts.tailLines}: must be greater than or equal to 0`);
  if (opts.limitBytes !== undefined && opts.limitBytes < 1)
    cause('limitBytes', `Invalid value: ${opts.limitBytes}: must be greater than 0`);
  if (opts.sinceSeconds !== undefined && opts.sinceTime !== undefined)
    cause('sinceSeconds', 'Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified');
  if (opts.sinceSeconds !== undefined && opts.sinceSeconds < 1)
    cause('sinceSeconds', `Invalid value: ${opts.sinceSeconds}: must be greater than 0`);
  return causes;
}

/** The PodLogOptions of a pods/log query (for the pod named, which Invalid names); throws 400 or 422. */
export function podLogOptions(q: QueryLike, podName: string): PodLogOptions {
  const opts: PodLogOptions = {
    follow: boolParam(q, 'follow'),
    previous: boolParam(q, 'previous'),
    timestamps: boolParam(q, 'timestamps'),
    insecureSkipTLSVerifyBackend: boolParam(q, 'insecureSkipTLSVerifyBackend'),
  };
  const container = firstQueryValue(q, 'container');
  if (container !== undefined && container !== '') opts.container = container;
  const tailLines = int64Param(q, 'tailLines');
  if (tailLines !== undefined) opts.tailLines = tailLines;
  const sinceSeconds = int64Param(q, 'sinceSeconds');
  if (sinceSeconds !== undefined) opts.sinceSeconds = sinceSeconds;
  const sinceTime = sinceTimeParam(q);
  if (sinceTime !== undefined) opts.sinceTime = sinceTime;
  const limitBytes = int64Param(q, 'limitBytes');
  if (limitBytes !== undefined) opts.limitBytes = limitBytes;
  const causes = rangeCauses(opts);
  if (causes.length > 0) throw invalid({ kind: 'PodLogOptions', group: '' }, podName, causes);
  return opts;
}

/** The query that carries checked options on to the node agent (the container travels in the path). */
export function podLogQuery(opts: PodLogOptions): URLSearchParams {
  const q = new URLSearchParams();
  if (opts.follow) q.set('follow', 'true');
  if (opts.previous) q.set('previous', 'true');
  if (opts.timestamps) q.set('timestamps', 'true');
  if (opts.tailLines !== undefined) q.set('tailLines', String(opts.tailLines));
  if (opts.sinceSeconds !== undefined) q.set('sinceSeconds', String(opts.sinceSeconds));
  if (opts.sinceTime !== undefined) q.set('sinceTime', opts.sinceTime);
  if (opts.limitBytes !== undefined) q.set('limitBytes', String(opts.limitBytes));
  return q;
}
