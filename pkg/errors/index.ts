// One error type for the whole project. An ApiError carries a Kubernetes reason and HTTP
// code and serialises to a metav1.Status, so the server, the client and the CLI all speak
// of failures the same way.

import { isObject } from '../api/meta.js';

export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Gone'
  | 'Expired'
  | 'Invalid'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'RequestEntityTooLarge'
  | 'UnsupportedMediaType'
  | 'TooManyRequests'
  | 'InternalError'
  | 'ServiceUnavailable'
  | 'Timeout';

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, unknown>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: StatusReason | string;
  details?: StatusDetails;
  code: number;
}

const CODES: Record<StatusReason, number> = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  NotAcceptable: 406,
  AlreadyExists: 409,
  Conflict: 409,
  Gone: 410,
  Expired: 410,
  RequestEntityTooLarge: 413,
  UnsupportedMediaType: 415,
  Invalid: 422,
  TooManyRequests: 429,
  InternalError: 500,
  ServiceUnavailable: 503,
  Timeout: 504,
};

/** Reasons whose Status Kubernetes always gives details (clients such as kubectl read them unchecked). */
const DETAILED_REASONS: ReadonlySet<StatusReason> = new Set<StatusReason>([
  'NotFound',
  'AlreadyExists',
  'Conflict',
  'Invalid',
  'Forbidden',
  'MethodNotAllowed',
  'InternalError',
  'TooManyRequests',
  'Timeout',
]);

const INTERNAL_PREFIX = 'Internal error occurred: ';

/** The details Kubernetes sets for a reason when the error named none (an internal error's cause is its message). */
function defaultDetails(reason: StatusReason, message: string): StatusDetails | undefined {
  if (!DETAILED_REASONS.has(reason)) return undefined;
  if (reason === 'InternalError')
    return {
      causes: [{ message: message.startsWith(INTERNAL_PREFIX) ? message.slice(INTERNAL_PREFIX.length) : message }],
    };
  return {};
}

export class ApiError extends Error {
  readonly reason: StatusReason;
  readonly code: number;
  readonly details: StatusDetails | undefined;
  /** The Status's list metadata (a 410 for an old continue token carries a new token). */
  readonly listMeta: { continue?: string } | undefined;

  constructor(
    reason: StatusReason,
    message: string,
    extra: { details?: StatusDetails; code?: number; metadata?: { continue?: string } } = {},
  ) {
    super(message);
    this.name = 'ApiError';
    this.reason = reason;
    this.code = extra.code ?? CODES[reason];
    this.details = extra.details;
    this.listMeta = extra.metadata;
  }

  /** The Status, its fields in Go's order (kind, apiVersion, metadata, status, message, reason, details, code). */
  toStatus(): Status {
    const details = this.details ?? defaultDetails(this.reason, this.message);
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: { ...this.listMeta },
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(details !== undefined && { details }),
      code: this.code,
    };
  }

  /** Rebuilds an ApiError from a Status body received over the wire. */
  static fromStatus(status: Partial<Status>, httpCode: number): ApiError {
    // A reason this client does not know (another server's) is read as the HTTP code's.
    const reason = isStatusReason(status.reason) ? status.reason : reasonForCode(httpCode);
    return new ApiError(reason, status.message ?? `request failed with HTTP ${httpCode}`, {
      details: status.details,
      code: status.code ?? httpCode,
    });
  }
}

/** A Status body received over the wire (JSON of any shape), keeping the fields that have their types. */
export function readStatus(value: unknown): Partial<Status> | undefined {
  if (!isObject(value)) return undefined;
  const { kind, status, message, reason, code } = value;
  const out: Partial<Status> = {};
  if (kind === 'Status') out.kind = kind;
  if (status === 'Success' || status === 'Failure') out.status = status;
  if (typeof message === 'string') out.message = message;
  if (typeof reason === 'string') out.reason = reason;
  if (typeof code === 'number') out.code = code;
  const details = readDetails(value['details']);
  if (details !== undefined) out.details = details;
  return out;
}

function readDetails(value: unknown): StatusDetails | undefined {
  if (!isObject(value)) return undefined;
  const details: StatusDetails = {};
  for (const key of ['name', 'group', 'kind', 'uid'] as const) {
    const v = value[key];
    if (typeof v === 'string') details[key] = v;
  }
  const retry = value['retryAfterSeconds'];
  if (typeof retry === 'number') details.retryAfterSeconds = retry;
  const causes = value['causes'];
  if (Array.isArray(causes)) details.causes = causes.filter(isObject).map(readCause);
  return details;
}

function readCause(value: Record<string, unknown>): StatusCause {
  const cause: StatusCause = {};
  for (const key of ['reason', 'message', 'field'] as const) {
    const v = value[key];
    if (typeof v === 'string') cause[key] = v;
  }
  return cause;
}

export function isStatusReason(reason: unknown): reason is StatusReason {
  return typeof reason === 'string' && Object.hasOwn(CODES, reason);
}

export function reasonForCode(code: number): StatusReason {
  for (const [reason, c] of Object.entries(CODES)) if (c === code && isStatusReason(reason)) return reason;
  return code >= 500 ? 'InternalError' : 'BadRequest';
}

/** Human name of a resource in messages: `deployments.apps` or `pods`. */
export function qualifiedResource(resource: string, group: string): string {
  return group === '' ? resource : `${resource}.${group}`;
}

export function notFound(resource: string, group: string, name: string): ApiError {
  return new ApiError('NotFound', `${qualifiedResource(resource, group)} "${name}" not found`, {
    details: { name, group, kind: resource },
  });
}

export function alreadyExists(resource: string, group: string, name: string): ApiError {
  return new ApiError('AlreadyExists', `${qualifiedResource(resource, group)} "${name}" already exists`, {
    details: { name, group, kind: resource },
  });
}

export function conflict(
  r: { plural: string; group: string },
  name: string,
  why = 'the object has been modified; please apply your changes to the latest version and try again',
): ApiError {
  return new ApiError(
    'Conflict',
    `Operation cannot be fulfilled on ${qualifiedResource(r.plural, r.group)} "${name}": ${why}`,
    {
      details: { name, group: r.group, kind: r.plural },
    },
  );
}

export function invalid(r: { kind: string; group: string }, name: string, causes: StatusCause[]): ApiError {
  const { kind, group } = r;
  const list = causes.map((c) => (c.field ? `${c.field}: ${c.message ?? ''}` : (c.message ?? ''))).join(', ');
  const summary = causes.length > 1 ? `[${list}]` : list;
  return new ApiError('Invalid', `${kind} "${name}" is invalid: ${summary}`, {
    details: { name, group, kind, causes },
  });
}

export function badRequest(message: string): ApiError {
  return new ApiError('BadRequest', message);
}

export function internal(message: string): ApiError {
  return new ApiError('InternalError', `Internal error occurred: ${message}`);
}

/** Storage revision older than the retained history. */
export function expired(requested: number, oldest: number): ApiError {
  return new ApiError('Expired', `too old resource version: ${requested} (${oldest})`);
}

function hasReason(err: unknown, ...reasons: StatusReason[]): boolean {
  return err instanceof ApiError && reasons.includes(err.reason);
}

export const isNotFound = (err: unknown): boolean => hasReason(err, 'NotFound');
export const isAlreadyExists = (err: unknown): boolean => hasReason(err, 'AlreadyExists');
export const isConflict = (err: unknown): boolean => hasReason(err, 'Conflict');
export const isGone = (err: unknown): boolean => hasReason(err, 'Gone', 'Expired');
export const isInvalid = (err: unknown): boolean => hasReason(err, 'Invalid');
export const isUnauthorized = (err: unknown): boolean => hasReason(err, 'Unauthorized');
export const isForbidden = (err: unknown): boolean => hasReason(err, 'Forbidden');
export const isTooManyRequests = (err: unknown): boolean => hasReason(err, 'TooManyRequests');

/** Any thrown value as an ApiError (unknown errors become InternalError). */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  return internal(errorMessage(err));
}

/** The message of any thrown value: an Error's message, anything else as a string. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
