// The audit events of one request, as kube-apiserver's audit filter emits them: one at
// RequestReceived, one at ResponseStarted for long-running requests (watch, exec, logs), one
// at ResponseComplete, or one at Panic instead. What an event carries grows with the level:
//   Metadata         user, verb, URI, objectRef, responseStatus, annotations; never a body
//   Request          + requestObject
//   RequestResponse  + responseObject
// Bodies are copied when logged (later changes to the object do not leak into the log) and
// only up to maxObjectBytes each: a bigger one is left out and the event annotated
// `audit.k8s.io/truncated: "true"`, as Kubernetes' truncate backend does.

import { randomUUID } from 'node:crypto';
import type { StatusDetails } from '../../errors/index.js';
import type { AuditAttributes, PolicyEvaluator } from './checker.js';
import {
  AUDIT_API_VERSION,
  type AuditEvent,
  type AuditUser,
  type Level,
  type ObjectReference,
  type ResponseStatus,
  type Stage,
} from './types.js';

export const TRUNCATED_ANNOTATION = 'audit.k8s.io/truncated';
export const DECISION_ANNOTATION = 'authorization.k8s.io/decision';
export const REASON_ANNOTATION = 'authorization.k8s.io/reason';
/** Kubernetes' default --audit-log-truncate-max-event-size. */
export const DEFAULT_MAX_OBJECT_BYTES = 100 * 1024;
/** A client-chosen Audit-ID longer than this, or not printable ASCII, is replaced by a fresh one. */
const MAX_CLIENT_AUDIT_ID = 128;
/** Validation failures can list many causes; the event keeps the first ones. */
const MAX_STATUS_CAUSES = 20;

/** Where finished events go (the log backend). Returns false when the event was dropped. */
export interface AuditSink {
  process(event: AuditEvent): boolean;
}

/** Microseconds since the Unix epoch. */
export type MicrosClock = () => number;

/** The wall clock with sub-millisecond resolution. */
export const systemMicrosClock: MicrosClock = () => Math.floor((performance.timeOrigin + performance.now()) * 1000);

/** metav1.MicroTime's JSON: RFC 3339 in UTC with six fractional digits. */
export function microTime(epochMicros: number): string {
  const millis = Math.floor(epochMicros / 1000);
  const micros = String(Math.floor(epochMicros - millis * 1000)).padStart(3, '0');
  return new Date(millis).toISOString().replace(/Z$/, `${micros}Z`);
}

const LEVEL_ORDER: Record<Level, number> = { None: 0, Metadata: 1, Request: 2, RequestResponse: 3 };

/** Whether `level` records at least as much as `floor`. */
export function levelIncludes(level: Level, floor: Level): boolean {
  return LEVEL_ORDER[level] >= LEVEL_ORDER[floor];
}

/** What the apiserver knows about a request when it arrives (after authentication). */
export interface AuditRequestInput {
  requestURI: string;
  /** The URL path without the query, for nonResourceURLs rules. */
  path: string;
  verb: string;
  user: AuditUser;
  sourceIPs: string[];
  userAgent?: string;
  /** For resource requests; absent for non-resource URLs. */
  objectRef?: ObjectReference;
  /** The client's `Audit-ID` header, which Kubernetes keeps as the event's auditID. */
  auditID?: string;
}

export interface AuditRecorderOptions {
  evaluate: PolicyEvaluator;
  sink: AuditSink;
  clock?: MicrosClock;
  newAuditID?: () => string;
  /** The largest request or response body kept, as JSON bytes. */
  maxObjectBytes?: number;
}

function usableClientAuditID(id: string | undefined): id is string {
  return id !== undefined && id.length > 0 && id.length <= MAX_CLIENT_AUDIT_ID && /^[\x21-\x7e]+$/.test(id);
}

/** Kubernetes cuts User-Agent at 1024 bytes, so a hostile header cannot push the event over the size limit. */
const MAX_USER_AGENT = 1024;
const USER_AGENT_TRUNCATED = '...TRUNCATED';

function truncateUserAgent(userAgent: string): string {
  return userAgent.length > MAX_USER_AGENT ? `${userAgent.slice(0, MAX_USER_AGENT)}${USER_AGENT_TRUNCATED}` : userAgent;
}

function copyUser(user: AuditUser): AuditUser {
  return {
    username: user.username,
    ...(user.uid !== undefined && { uid: user.uid }),
    ...(user.groups !== undefined && { groups: [...user.groups] }),
    ...(user.extra !== undefined && {
      extra: Object.fromEntries(Object.entries(user.extra).map(([k, v]) => [k, [...v]])),
    }),
  };
}

function attributesOf(input: AuditRequestInput): AuditAttributes {
  const ref = input.objectRef;
  return {
    user: { username: input.user.username, groups: input.user.groups ?? [] },
    verb: input.verb,
    path: input.path,
    resource:
      ref === undefined
        ? undefined
        : {
            apiGroup: ref.apiGroup ?? '',
            resource: ref.resource ?? '',
            subresource: ref.subresource,
            namespace: ref.namespace,
            name: ref.name,
          },
  };
}

/** Starts auditing requests; one per apiserver. */
export class AuditRecorder {
  private readonly clock: MicrosClock;
  private readonly newAuditID: () => string;
  private readonly maxObjectBytes: number;

  constructor(private readonly options: AuditRecorderOptions) {
    this.clock = options.clock ?? systemMicrosClock;
    this.newAuditID = options.newAuditID ?? randomUUID;
    this.maxObjectBytes = options.maxObjectBytes ?? DEFAULT_MAX_OBJECT_BYTES;
  }

  /**
   * Evaluates the policy and, unless the level is None, emits RequestReceived and returns the
   * request's audit; undefined means the request is not audited at all.
   */
  begin(input: AuditRequestInput): RequestAudit | undefined {
    const config = this.options.evaluate(attributesOf(input));
    if (config.level === 'None') return undefined;
    const audit = new RequestAudit({
      input: {
        ...input,
        user: copyUser(input.user),
        sourceIPs: [...input.sourceIPs],
        userAgent: input.userAgent === undefined ? undefined : truncateUserAgent(input.userAgent),
        auditID: usableClientAuditID(input.auditID) ? input.auditID : this.newAuditID(),
      },
      level: config.level,
      omitStages: config.omitStages,
      omitManagedFields: config.omitManagedFields,
      recorder: { sink: this.options.sink, clock: this.clock, maxObjectBytes: this.maxObjectBytes },
    });
    audit.emit('RequestReceived');
    return audit;
  }
}

type PlainObject = Record<string, unknown>;

function isPlainObject(value: unknown): value is PlainObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A copy without metadata.managedFields, also for every item of a list. */
function withoutManagedFields(value: unknown): unknown {
  if (!isPlainObject(value)) return value;
  let out: PlainObject = value;
  const meta = value['metadata'];
  if (isPlainObject(meta) && 'managedFields' in meta) {
    const rest = { ...meta };
    delete rest['managedFields'];
    out = { ...out, metadata: rest };
  }
  const items = value['items'];
  if (Array.isArray(items)) out = { ...out, items: items.map(withoutManagedFields) };
  return out;
}

/** A deep copy of `value` when its JSON fits in maxBytes; undefined when too large or not JSON. */
function snapshot(value: unknown, maxBytes: number): { value: unknown } | undefined {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    return undefined; // cycles or BigInt: not something the apiserver would serve
  }
  if (text === undefined || Buffer.byteLength(text) > maxBytes) return undefined;
  const copy: unknown = JSON.parse(text);
  return { value: copy };
}

/** The string-valued fields among `keys`, copied. */
function pickStrings<K extends string>(obj: PlainObject, keys: readonly K[]): Partial<Record<K, string>> {
  const out: Partial<Record<K, string>> = {};
  for (const key of keys) {
    const value = obj[key];
    if (typeof value === 'string') out[key] = value;
  }
  return out;
}

/** The bounded fields of a Status' details (a handler may put anything there). */
function statusDetails(details: PlainObject): StatusDetails {
  const out: StatusDetails = pickStrings(details, ['name', 'group', 'kind', 'uid'] as const);
  const causes = details['causes'];
  if (Array.isArray(causes))
    out.causes = causes
      .filter(isPlainObject)
      .slice(0, MAX_STATUS_CAUSES)
      .map((cause) => pickStrings(cause, ['reason', 'message', 'field'] as const));
  if (typeof details['retryAfterSeconds'] === 'number') out.retryAfterSeconds = details['retryAfterSeconds'];
  return out;
}

interface RequestAuditInit {
  input: AuditRequestInput & { auditID: string };
  level: Exclude<Level, 'None'>;
  omitStages: readonly Stage[];
  omitManagedFields: boolean;
  recorder: { sink: AuditSink; clock: MicrosClock; maxObjectBytes: number };
}

/** The audit of one request: the handler reports what happened and the stages are emitted from it. */
export class RequestAudit {
  readonly auditID: string;
  readonly level: Exclude<Level, 'None'>;
  private readonly receivedAt: number;
  private readonly annotations = new Map<string, string>();
  private impersonatedUser: AuditUser | undefined;
  private objectRef: ObjectReference | undefined;
  private responseStatus: ResponseStatus | undefined;
  private requestObject: { value: unknown } | undefined;
  private responseObject: { value: unknown } | undefined;
  private started = false;
  private finished = false;

  constructor(private readonly init: RequestAuditInit) {
    this.auditID = init.input.auditID;
    this.level = init.level;
    this.receivedAt = init.recorder.clock();
    this.objectRef = init.input.objectRef === undefined ? undefined : { ...init.input.objectRef };
  }

  /** Adds an annotation; as in Kubernetes the first value for a key is kept. */
  addAnnotation(key: string, value: string): boolean {
    if (this.annotations.has(key)) return false;
    this.annotations.set(key, value);
    return true;
  }

  /** Records the authorizer's answer as `authorization.k8s.io/decision` and `/reason`. */
  recordAuthorization(decision: { allowed: boolean; reason: string }): void {
    this.addAnnotation(DECISION_ANNOTATION, decision.allowed ? 'allow' : 'forbid');
    if (decision.reason !== '') this.addAnnotation(REASON_ANNOTATION, decision.reason);
  }

  setImpersonatedUser(user: AuditUser): void {
    this.impersonatedUser = copyUser(user);
  }

  /** The decoded request body; fills the objectRef's name, namespace and uid from it at every level. */
  logRequestObject(obj: unknown): void {
    this.fillObjectRef(obj);
    if (!levelIncludes(this.level, 'Request') || this.requestObject !== undefined) return;
    this.requestObject = this.capture(obj);
  }

  /** A patch body as sent (JSON); its size is checked before it is parsed. */
  logRequestPatch(raw: string | Uint8Array): void {
    if (!levelIncludes(this.level, 'Request') || this.requestObject !== undefined) return;
    const size = typeof raw === 'string' ? Buffer.byteLength(raw) : raw.byteLength;
    if (size > this.init.recorder.maxObjectBytes) {
      this.markTruncated();
      return;
    }
    try {
      const text = typeof raw === 'string' ? raw : Buffer.from(raw).toString('utf8');
      const value: unknown = JSON.parse(text);
      this.requestObject = { value };
    } catch {
      // A YAML or malformed patch is refused by the handler; the event keeps no body.
    }
  }

  /** The response body: its Status fields at every level, the object itself at RequestResponse. */
  logResponseObject(obj: unknown): void {
    if (isPlainObject(obj) && obj['kind'] === 'Status') this.setStatus(obj);
    if (!levelIncludes(this.level, 'RequestResponse') || this.responseObject !== undefined) return;
    this.responseObject = this.capture(obj);
  }

  /** For long-running requests (watch, exec, follow logs): emitted once the headers are sent. */
  responseStarted(code: number): void {
    if (this.started || this.finished) return;
    this.started = true;
    this.setCode(code);
    this.emit('ResponseStarted');
  }

  /** Emits ResponseComplete once; later calls are ignored. */
  complete(code: number): void {
    if (this.finished) return;
    this.finished = true;
    this.setCode(code);
    this.emit('ResponseComplete');
  }

  /** The handler threw unexpectedly: a 500 Panic event instead of ResponseComplete. */
  panic(cause: unknown): void {
    if (this.finished) return;
    this.finished = true;
    const message = cause instanceof Error ? cause.message : String(cause);
    this.responseStatus = {
      metadata: {},
      status: 'Failure',
      message: `APIServer panic'd: ${message}`,
      reason: 'InternalError',
      code: 500,
    };
    this.emit('Panic');
  }

  /** Builds the event for a stage and hands it to the sink, unless the stage is omitted. */
  emit(stage: Stage): void {
    if (this.init.omitStages.includes(stage)) return;
    this.init.recorder.sink.process(this.eventAt(stage));
  }

  private eventAt(stage: Stage): AuditEvent {
    const { input } = this.init;
    const afterReceipt = stage !== 'RequestReceived';
    // Keys in Kubernetes' order, so lines read the same as kube-apiserver's.
    return {
      kind: 'Event',
      apiVersion: AUDIT_API_VERSION,
      level: this.level,
      auditID: this.auditID,
      stage,
      requestURI: input.requestURI,
      verb: input.verb,
      user: input.user,
      ...(this.impersonatedUser !== undefined && { impersonatedUser: this.impersonatedUser }),
      sourceIPs: [...input.sourceIPs],
      ...(input.userAgent !== undefined && { userAgent: input.userAgent }),
      ...(this.objectRef !== undefined && { objectRef: { ...this.objectRef } }),
      ...(afterReceipt && this.responseStatus !== undefined && { responseStatus: { ...this.responseStatus } }),
      ...(afterReceipt && this.requestObject !== undefined && { requestObject: this.requestObject.value }),
      ...(stage !== 'ResponseStarted' &&
        afterReceipt &&
        this.responseObject !== undefined && { responseObject: this.responseObject.value }),
      requestReceivedTimestamp: microTime(this.receivedAt),
      stageTimestamp: microTime(this.init.recorder.clock()),
      ...(this.annotations.size > 0 && { annotations: Object.fromEntries(this.annotations) }),
    };
  }

  private capture(obj: unknown): { value: unknown } | undefined {
    const value = this.init.omitManagedFields ? withoutManagedFields(obj) : obj;
    const copy = snapshot(value, this.init.recorder.maxObjectBytes);
    if (copy === undefined) this.markTruncated();
    return copy;
  }

  private markTruncated(): void {
    this.addAnnotation(TRUNCATED_ANNOTATION, 'true');
  }

  private fillObjectRef(obj: unknown): void {
    const ref = this.objectRef;
    if (ref === undefined || !isPlainObject(obj)) return;
    const meta = obj['metadata'];
    if (!isPlainObject(meta)) return;
    const take = (key: 'namespace' | 'name' | 'uid' | 'resourceVersion'): void => {
      const value = meta[key];
      if ((ref[key] === undefined || ref[key] === '') && typeof value === 'string' && value !== '') ref[key] = value;
    };
    take('namespace');
    take('name');
    take('uid');
    take('resourceVersion');
  }

  private setStatus(status: PlainObject): void {
    const next: ResponseStatus = { metadata: {}, code: this.responseStatus?.code ?? 0 };
    if (status['status'] === 'Success' || status['status'] === 'Failure') next.status = status['status'];
    if (typeof status['message'] === 'string') next.message = status['message'];
    if (typeof status['reason'] === 'string') next.reason = status['reason'];
    const details = status['details'];
    if (isPlainObject(details)) next.details = statusDetails(details);
    if (typeof status['code'] === 'number') next.code = status['code'];
    this.responseStatus = next;
  }

  private setCode(code: number): void {
    this.responseStatus = { ...(this.responseStatus ?? { metadata: {} }), code };
  }
}
