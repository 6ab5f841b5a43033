// The options a request carries besides its body (Kubernetes' CreateOptions, UpdateOptions,
// PatchOptions, DeleteOptions, ListOptions), decoded from the query or the DeleteOptions
// body and checked as Kubernetes checks them: a value of the wrong type is 400 BadRequest,
// a well-typed but unsupported value (dryRun=x, propagationPolicy=x) is 422 Invalid.

import { isObject, type DeleteOptions } from '../api/meta.js';
import { ApiError, badRequest, type StatusCause } from '../errors/index.js';
import { boolParam, hasQueryParam } from '../api/query-params.js';

type Query = Record<string, unknown>;

export type OptionsKind = 'CreateOptions' | 'UpdateOptions' | 'PatchOptions' | 'DeleteOptions';

type Policy = NonNullable<DeleteOptions['propagationPolicy']>;
const POLICIES: readonly Policy[] = ['Foreground', 'Background', 'Orphan'];

function isPolicy(v: string): v is Policy {
  return POLICIES.some((p) => p === v);
}

/** DeleteOptions as decoded, before the values are checked. */
interface RawDeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: string;
  orphanDependents?: boolean;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: string[];
}

/** Every value of a query parameter (repeated parameters arrive as arrays). */
export function queryValues(q: Query, name: string): string[] {
  const v = q[name];
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return [];
}

function invalidOptions(kind: OptionsKind, causes: StatusCause[]): ApiError {
  const list = causes.map((c) => `${c.field ?? ''}: ${c.message ?? ''}`).join(', ');
  return new ApiError('Invalid', `${kind}.meta.k8s.io "" is invalid: ${causes.length > 1 ? `[${list}]` : list}`, {
    details: {
      group: 'meta.k8s.io',
      kind,
      causes,
    },
  });
}

function dryRunCauses(values: string[]): StatusCause[] {
  return values
    .filter((v) => v !== 'All')
    .map((v) => ({
      reason: 'FieldValueNotSupported',
      field: 'dryRun',
      message: `Unsupported value: ${JSON.stringify(v)}: supported values: "All"`,
    }));
}

/** dryRun from the query of a create, update or patch: true for `All`, 422 for anything else. */
export function dryRunFromQuery(q: Query, kind: OptionsKind): boolean {
  const values = queryValues(q, 'dryRun');
  const causes = dryRunCauses(values);
  if (causes.length > 0) throw invalidOptions(kind, causes);
  return values.length > 0;
}

/** Whether DeleteOptions ask for a dry run (already validated by deleteOptions()). */
export function isDryRun(opts: { dryRun?: string[] | boolean } | undefined): boolean {
  const v = opts?.dryRun;
  return v === true || (Array.isArray(v) && v.includes('All'));
}

function int64(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw badRequest(
      `unable to decode DeleteOptions: ${field}: expected an integer, got ${JSON.stringify(value) ?? typeof value}`,
    );
  }
  return value;
}

function str(value: unknown, field: string): string {
  if (typeof value !== 'string')
    throw badRequest(
      `unable to decode DeleteOptions: ${field}: expected a string, got ${JSON.stringify(value) ?? typeof value}`,
    );
  return value;
}

/** DeleteOptions decoded from a body object (as sent by kubectl and client libraries). */
function decodeDeleteBody(b: Record<string, unknown>): RawDeleteOptions {
  const out: RawDeleteOptions = {};
  for (const [k, v] of Object.entries(b)) {
    if (v === null) continue;
    switch (k) {
      case 'kind':
        if (str(v, k) !== 'DeleteOptions')
          throw badRequest(`unable to decode DeleteOptions: kind ${JSON.stringify(v)} is not DeleteOptions`);
        break;
      case 'apiVersion':
        str(v, k);
        break;
      case 'gracePeriodSeconds':
        out.gracePeriodSeconds = int64(v, k);
        break;
      case 'propagationPolicy':
        out.propagationPolicy = str(v, k);
        break;
      case 'orphanDependents':
        if (typeof v !== 'boolean')
          throw badRequest(
            `unable to decode DeleteOptions: orphanDependents: expected a boolean, got ${JSON.stringify(v)}`,
          );
        out.orphanDependents = v;
        break;
      case 'dryRun':
        if (!Array.isArray(v))
          throw badRequest(
            `unable to decode DeleteOptions: dryRun: expected a list of strings, got ${JSON.stringify(v)}`,
          );
        out.dryRun = v.map((x, i) => str(x, `dryRun[${i}]`));
        break;
      case 'preconditions': {
        if (!isObject(v)) throw badRequest(`unable to decode DeleteOptions: preconditions: expected an object`);
        const pre: { uid?: string; resourceVersion?: string } = {};
        if (v['uid'] !== undefined && v['uid'] !== null) pre.uid = str(v['uid'], 'preconditions.uid');
        if (v['resourceVersion'] !== undefined && v['resourceVersion'] !== null)
          pre.resourceVersion = str(v['resourceVersion'], 'preconditions.resourceVersion');
        out.preconditions = pre;
        break;
      }
      default:
        // Unknown fields are dropped, as Kubernetes' decoder does for options.
        break;
    }
  }
  return out;
}

/** DeleteOptions from the query (when there is no body). */
function decodeDeleteQuery(q: Query): RawDeleteOptions {
  const out: RawDeleteOptions = {};
  const grace = queryValues(q, 'gracePeriodSeconds')[0];
  if (grace !== undefined && grace !== '') {
    const n = Number(grace);
    if (!/^-?\d+$/.test(grace) || !Number.isSafeInteger(n))
      throw badRequest(`gracePeriodSeconds: invalid value "${grace}": must be an integer`);
    out.gracePeriodSeconds = n;
  }
  const policy = queryValues(q, 'propagationPolicy')[0];
  if (policy !== undefined && policy !== '') out.propagationPolicy = policy;
  if (hasQueryParam(q, 'orphanDependents')) out.orphanDependents = boolParam(q, 'orphanDependents');
  const dryRun = queryValues(q, 'dryRun');
  if (dryRun.length > 0) out.dryRun = dryRun;
  return out;
}

/**
 * DeleteOptions of a delete, deletecollection or eviction: from the body when there is one,
 * else from the query (as Kubernetes reads them), then validated.
 */
export function deleteOptions(q: Query, body: unknown): DeleteOptions {
  if (body !== undefined && !isObject(body))
    throw badRequest('unable to decode DeleteOptions: the body is not a JSON object');
  const opts = body !== undefined ? decodeDeleteBody(body) : decodeDeleteQuery(q);
  const causes = dryRunCauses(opts.dryRun ?? []);
  const policy = opts.propagationPolicy;
  if (policy !== undefined && !isPolicy(policy)) {
    causes.push({
      reason: 'FieldValueNotSupported',
      field: 'propagationPolicy',
      message: `Unsupported value: ${JSON.stringify(policy)}: supported values: "Foreground", "Background", "Orphan"`,
    });
  }
  if (opts.gracePeriodSeconds !== undefined && opts.gracePeriodSeconds < 0) {
    // A negative grace period becomes 1 s, as Kubernetes' pod strategy does.
    opts.gracePeriodSeconds = 1;
  }
  if (opts.orphanDependents !== undefined && policy !== undefined) {
    causes.push({
      reason: 'FieldValueInvalid',
      field: 'propagationPolicy',
      message: 'Invalid value: "' + policy + '": orphanDependents and deletionPropagation cannot be both set',
    });
  }
  if (causes.length > 0) throw invalidOptions('DeleteOptions', causes);
  const out: DeleteOptions = {};
  if (opts.gracePeriodSeconds !== undefined) out.gracePeriodSeconds = opts.gracePeriodSeconds;
  if (policy !== undefined && isPolicy(policy)) out.propagationPolicy = policy;
  else if (opts.orphanDependents !== undefined) out.propagationPolicy = opts.orphanDependents ? 'Orphan' : 'Background';
  if (opts.preconditions !== undefined) out.preconditions = opts.preconditions;
  if (opts.dryRun !== undefined && opts.dryRun.length > 0) out.dryRun = opts.dryRun;
  return out;
}

/** A store revision named by `resourceVersion`; undefined when unset ('' or absent: whatever state); 400 for garbage. */
export function resourceVersionParam(q: Query): number | undefined {
  const rv = queryValues(q, 'resourceVersion')[0];
  if (rv === undefined || rv === '') return undefined;
  return parseResourceVersion(rv);
}

export function parseResourceVersion(rv: string): number {
  const n = Number(rv);
  if (!/^\d+$/.test(rv) || !Number.isSafeInteger(n)) {
    throw new ApiError(
      'BadRequest',
      `resourceVersion: Invalid value: ${JSON.stringify(rv)}: must be a non-negative integer`,
      {
        details: {
          causes: [
            { reason: 'FieldValueInvalid', field: 'resourceVersion', message: `Invalid value: ${JSON.stringify(rv)}` },
          ],
        },
      },
    );
  }
  return n;
}

/** Longest delay a Node timer takes (2^31-1 ms); longer ones fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A watch's timeoutSeconds: undefined when absent or 0 (the server's default); 400 for non-integers. */
export function timeoutSecondsParam(q: Query): number | undefined {
  const v = queryValues(q, 'timeoutSeconds')[0];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || !Number.isInteger(n))
    throw badRequest(`timeoutSeconds: invalid value "${v}": must be an integer`);
  return n > 0 ? n : undefined;
}
