// Query parameters as Kubernetes' Go servers read them: booleans as strconv.ParseBool
// (1, t, T, TRUE, true, True; 0, f, F, FALSE, false, False), integers as strconv.ParseInt.
// The one parser for every boolean and integer parameter, in the apiserver and in the node
// agent (which gets the exec, attach and log queries relayed). A value that does not parse
// is a 400 BadRequest Status naming the parameter, never silently false.

import { ApiError, type StatusCause } from '../errors/index.js';

/** A query as Express' simple parser gives it (repeated keys become arrays), or a URL's. */
export type QueryLike = Record<string, unknown> | URLSearchParams;

const TRUE_WORDS: ReadonlySet<string> = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE_WORDS: ReadonlySet<string> = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** Go's strconv.ParseBool: the boolean, or undefined when the text is not one. */
export function parseGoBool(text: string): boolean | undefined {
  if (TRUE_WORDS.has(text)) return true;
  if (FALSE_WORDS.has(text)) return false;
  return undefined;
}

/** The first value of a query parameter (repeated parameters are read by their first, as Go does). */
export function firstQueryValue(q: QueryLike, name: string): string | undefined {
  if (q instanceof URLSearchParams) return q.get(name) ?? undefined;
  const v = q[name];
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) {
    const first: unknown = v[0];
    return typeof first === 'string' ? first : undefined;
  }
  return undefined;
}

/** The 400 for a parameter that does not parse, naming it (and as a cause, for clients that read causes). */
export function invalidQueryParam(name: string, value: string, why: string): ApiError {
  const cause: StatusCause = {
    reason: 'FieldValueInvalid',
    message: `Invalid value: ${JSON.stringify(value)}: ${why}`,
    field: name,
  };
  return new ApiError('BadRequest', `${name}: Invalid value: ${JSON.stringify(value)}: ${why}`, {
    details: { causes: [cause] },
  });
}

/**
 * A boolean parameter: absent or empty is `absent` (false unless said); one of Go's
 * boolean words is its value; anything else is 400.
 */
export function boolParam(q: QueryLike, name: string, absent = false): boolean {
  const text = firstQueryValue(q, name);
  if (text === undefined || text === '') return absent;
  const value = parseGoBool(text);
  if (value === undefined)
    throw invalidQueryParam(name, text, 'must be a boolean (1, t, T, TRUE, true, True, 0, f, F, FALSE, false, False)');
  return value;
}

/** Whether a parameter is present with a value (empty counts as absent). */
export function hasQueryParam(q: QueryLike, name: string): boolean {
  const text = firstQueryValue(q, name);
  return text !== undefined && text !== '';
}

const INT64_TEXT = /^[+-]?\d{1,19}$/;

/** An int64 parameter as strconv.ParseInt reads it; undefined when absent or empty, 400 otherwise. */
export function int64Param(q: QueryLike, name: string): number | undefined {
  const text = firstQueryValue(q, name);
  if (text === undefined || text === '') return undefined;
  const n = Number(text);
  // Beyond 2^53 a number loses digits; no parameter needs such values, so they are refused.
  if (!INT64_TEXT.test(text) || !Number.isSafeInteger(n)) throw invalidQueryParam(name, text, 'must be an integer');
  return n;
}

/** Every boolean parameter a Kubernetes API request may carry, checked up front on each request. */
export const BOOLEAN_QUERY_PARAMS: readonly string[] = [
  'watch',
  'allowWatchBookmarks',
  'sendInitialEvents',
  'pretty',
  'force',
  'orphanDependents',
  'follow',
  'previous',
  'timestamps',
  'insecureSkipTLSVerifyBackend',
  'stdin',
  'stdout',
  'stderr',
  'tty',
];

/** Throws the 400 for the first boolean parameter of the query that is not a boolean. */
export function checkBooleanParams(q: QueryLike): void {
  for (const name of BOOLEAN_QUERY_PARAMS) boolParam(q, name);
}
