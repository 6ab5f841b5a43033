// Kubernetes' protobuf wire format (`application/vnd.kubernetes.protobuf`), both ways, as the
// same plain JSON objects the rest of the server handles.
//
// A body is the 4 magic bytes `k8s\0` and a runtime.Unknown{typeMeta{apiVersion, kind}, raw,
// contentEncoding, contentType} whose `raw` is the object's message as defined in
// k8s.io/api/<group>/<version>/generated.proto. Decoding is driven by the message type: the
// well-known apimachinery types become their JSON forms (Time → RFC 3339, IntOrString →
// number or string, Quantity → string, RawExtension/FieldsV1 → JSON, bytes → base64), and
// what Go's protobuf encoder writes for every non-pointer field although nobody set it (empty
// strings, empty lists and maps, zero Times, zero numbers and false where Go's JSON says
// omitempty) is left out, so defaulting happens as for JSON; a pointer's explicit 0 or false
// (`replicas: 0`) stays.
// Every value then goes through the JSON decoder's plain-data check (no prototype keys,
// bounded depth and size). Any malformed input is a 400.

import protobuf from 'protobufjs';
import { ApiError, badRequest } from '../../errors/index.js';
import { rfc3339 } from '../meta.js';
import { checkPlainData, decodeJson, DEFAULT_LIMITS, isForbiddenKey, own, type WireLimits } from '../decode/index.js';
import { META_PACKAGE } from './names.js';
import { isInline, messageTypeOf, omitsZero, UNKNOWN_TYPE, WATCH_EVENT_TYPE } from './schema.js';

export const PROTOBUF_MEDIA_TYPE = 'application/vnd.kubernetes.protobuf';
export const PROTOBUF_WATCH_MEDIA_TYPE = 'application/vnd.kubernetes.protobuf;stream=watch';

/** `k8s\0`: the first bytes of every Kubernetes protobuf body. */
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** How deep a RawExtension may carry another envelope (a WatchEvent's object is one level). */
const MAX_ENVELOPE_NESTING = 3;

const TIME = `${META_PACKAGE}.Time`;
const MICRO_TIME = `${META_PACKAGE}.MicroTime`;
const FIELDS_V1 = `${META_PACKAGE}.FieldsV1`;
const INT_OR_STRING = 'k8s.io.apimachinery.pkg.util.intstr.IntOrString';
const QUANTITY = 'k8s.io.apimachinery.pkg.api.resource.Quantity';
const RAW_EXTENSION = 'k8s.io.apimachinery.pkg.runtime.RawExtension';

const NUMERIC = new Set([
  'double',
  'float',
  'int32',
  'uint32',
  'sint32',
  'fixed32',
  'sfixed32',
  'int64',
  'uint64',
  'sint64',
  'fixed64',
  'sfixed64',
]);

type Json = Record<string, unknown>;

interface Envelope {
  apiVersion: string;
  kind: string;
  raw: Buffer;
}

export function hasProtobufMagic(body: Uint8Array): boolean {
  return body.length >= MAGIC.length && MAGIC.equals(body.subarray(0, MAGIC.length));
}

/** protobufjs throws RangeError/Error on truncated or malformed input: all of it is the client's fault. */
function malformed(err: unknown, what: string): ApiError {
  if (err instanceof ApiError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return badRequest(`the protobuf ${what} could not be decoded: ${detail}`);
}

function decodeMessage(type: protobuf.Type, bytes: Uint8Array, what: string): Json {
  try {
    const message = type.decode(bytes);
    const plain: unknown = type.toObject(message, { longs: Number, enums: String, arrays: false, defaults: false });
    if (typeof plain !== 'object' || plain === null) throw badRequest(`the protobuf ${what} is not a message`);
    return { ...plain };
  } catch (err) {
    throw malformed(err, what);
  }
}

function readEnvelope(body: Uint8Array): Envelope {
  if (!hasProtobufMagic(body)) throw badRequest('the protobuf body does not start with the "k8s\\x00" prefix');
  const unknown = decodeMessage(UNKNOWN_TYPE, body.subarray(MAGIC.length), 'envelope');
  const typeMeta = own(unknown, 'typeMeta');
  const meta: Json = typeof typeMeta === 'object' && typeMeta !== null ? { ...typeMeta } : {};
  const apiVersion = own(meta, 'apiVersion');
  const kind = own(meta, 'kind');
  const raw = own(unknown, 'raw');
  const encoding = own(unknown, 'contentEncoding');
  const contentType = own(unknown, 'contentType');
  if (typeof encoding === 'string' && encoding !== '')
    throw badRequest(`the protobuf envelope's content encoding "${encoding}" is not supported`);
  if (typeof contentType === 'string' && contentType !== '' && contentType !== PROTOBUF_MEDIA_TYPE)
    throw badRequest(`the protobuf envelope's content type "${contentType}" is not supported`);
  if (typeof kind !== 'string' || kind === '') throw badRequest("Object 'Kind' is missing in the protobuf envelope");
  return {
    apiVersion: typeof apiVersion === 'string' ? apiVersion : '',
    kind,
    raw: Buffer.isBuffer(raw) ? raw : Buffer.alloc(0),
  };
}

/** Bounds that travel down one decode: the wire limits and how many envelopes deep we are. */
interface DecodeScope {
  limits: WireLimits;
  nesting: number;
}

/**
 * Decodes a protobuf request body into the object it carries, with apiVersion and kind from
 * its envelope. Throws a 400 ApiError for anything malformed, a kind the server does not know
 * included.
 */
export function decodeProtobuf(body: Uint8Array, limits: WireLimits = DEFAULT_LIMITS): Json {
  const value = decodeEnvelopeObject(body, { limits, nesting: 0 });
  checkPlainData(value, limits);
  return value;
}

function decodeEnvelopeObject(body: Uint8Array, scope: DecodeScope): Json {
  const { apiVersion, kind, raw } = readEnvelope(body);
  const type = messageTypeOf(apiVersion, kind);
  if (type === undefined) throw badRequest(`no kind "${kind}" is registered for version "${apiVersion}"`);
  const message = decodeMessage(type, raw, kind);
  return { apiVersion, kind, ...messageToJson(type, message, scope) };
}

function messageToJson(type: protobuf.Type, message: Json, scope: DecodeScope): Json {
  const out: Json = {};
  for (const field of type.fieldsArray) {
    const value = own(message, field.name);
    if (value === undefined || value === null) continue;
    const converted = fieldToJson(field, value, scope);
    if (converted === undefined) continue;
    if (isInline(field) && typeof converted === 'object' && converted !== null) Object.assign(out, converted);
    else out[field.name] = converted;
  }
  return out;
}

function fieldToJson(field: protobuf.Field, value: unknown, scope: DecodeScope): unknown {
  if (field instanceof protobuf.MapField) {
    if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype)
      throw badRequest(`the protobuf field "${field.name}" has a key that is not allowed`);
    const out: Json = {};
    for (const [key, item] of Object.entries(value)) {
      if (isForbiddenKey(key)) throw badRequest(`the field name "${key}" is not allowed in a request`);
      out[key] = valueToJson(field, item, { scope, inCollection: true });
    }
    return Object.keys(out).length > 0 ? out : undefined;
  }
  if (field.repeated) {
    if (!Array.isArray(value) || value.length === 0) return undefined;
    return value.map((item: unknown) => valueToJson(field, item, { scope, inCollection: true }) ?? null);
  }
  return valueToJson(field, value, { scope, inCollection: false });
}

interface ValueContext {
  scope: DecodeScope;
  /** A list element or map value keeps its place even when empty. */
  inCollection: boolean;
}

function valueToJson(field: protobuf.Field, value: unknown, ctx: ValueContext): unknown {
  const type = field.resolvedType;
  if (type instanceof protobuf.Type) {
    const message: Json = typeof value === 'object' && value !== null ? { ...value } : {};
    return wellKnownToJson(type, message, ctx);
  }
  if (field.type === 'bytes') {
    const bytes = Buffer.isBuffer(value) ? value : Buffer.alloc(0);
    return bytes.length === 0 && !ctx.inCollection ? undefined : bytes.toString('base64');
  }
  if (field.type === 'string') return value === '' && !ctx.inCollection ? undefined : value;
  // What gogo writes for an unset non-pointer number or boolean that JSON would leave out.
  if ((value === 0 || value === false) && !ctx.inCollection && omitsZero(field)) return undefined;
  return value;
}

function wellKnownToJson(type: protobuf.Type, message: Json, ctx: ValueContext): unknown {
  switch (type.fullName.slice(1)) {
    case TIME:
      return timeToJson(message, false);
    case MICRO_TIME:
      return timeToJson(message, true);
    case INT_OR_STRING: {
      const isString = own(message, 'type') === 1;
      return isString ? (own(message, 'strVal') ?? '') : (own(message, 'intVal') ?? 0);
    }
    case QUANTITY: {
      const q = own(message, 'string');
      return typeof q === 'string' && q !== '' ? q : undefined;
    }
    case RAW_EXTENSION:
      return rawToJson(own(message, 'raw'), ctx.scope);
    case FIELDS_V1:
      return rawToJson(own(message, 'Raw'), ctx.scope);
    default:
      return messageToJson(type, message, ctx.scope);
  }
}

function timeToJson(message: Json, micro: boolean): string | undefined {
  const seconds = own(message, 'seconds') ?? 0;
  const nanos = own(message, 'nanos') ?? 0;
  if (typeof seconds !== 'number' || typeof nanos !== 'number') return undefined;
  if (seconds === 0 && nanos === 0) return undefined;
  const date = new Date(seconds * 1000);
  if (Number.isNaN(date.getTime()) || nanos < 0 || nanos >= 1e9) throw badRequest('a protobuf time is out of range');
  const whole = rfc3339(date);
  return micro ? whole.replace(/Z$/, `.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z`) : whole;
}

/** A RawExtension's bytes: JSON (as Kubernetes embeds objects), or itself a protobuf envelope. */
function rawToJson(raw: unknown, scope: DecodeScope): unknown {
  if (!Buffer.isBuffer(raw) || raw.length === 0) return undefined;
  if (hasProtobufMagic(raw)) {
    if (scope.nesting >= MAX_ENVELOPE_NESTING) throw badRequest('the protobuf body nests envelopes too deeply');
    return decodeEnvelopeObject(raw, { ...scope, nesting: scope.nesting + 1 });
  }
  return decodeJson(raw.toString('utf8'), scope.limits).value;
}

// ---------------------------------------------------------------------------------------
// Encoding

/** Whether the schema has a message for this object's apiVersion and kind. */
export function canEncodeProtobuf(obj: unknown): boolean {
  if (typeof obj !== 'object' || obj === null) return false;
  const apiVersion = own({ ...obj }, 'apiVersion');
  const kind = own({ ...obj }, 'kind');
  return typeof apiVersion === 'string' && typeof kind === 'string' && messageTypeOf(apiVersion, kind) !== undefined;
}

/** Encodes an object (with apiVersion and kind) as a protobuf body: magic, then the runtime.Unknown envelope. */
export function encodeProtobuf(obj: Json): Buffer {
  const apiVersion = own(obj, 'apiVersion');
  const kind = own(obj, 'kind');
  const type = typeof apiVersion === 'string' && typeof kind === 'string' ? messageTypeOf(apiVersion, kind) : undefined;
  if (type === undefined || typeof apiVersion !== 'string' || typeof kind !== 'string')
    throw new ApiError('NotAcceptable', `${String(kind)} cannot be encoded as ${PROTOBUF_MEDIA_TYPE}`);
  const raw = type.encode(messageFromJson(type, obj)).finish();
  const envelope = UNKNOWN_TYPE.encode({ typeMeta: { apiVersion, kind }, raw, contentEncoding: '', contentType: '' });
  return Buffer.concat([MAGIC, envelope.finish()]);
}

/**
 * One event of a protobuf watch stream: a 4-byte big-endian length, then a WatchEvent message
 * (without envelope) whose object is the event's object as a full protobuf body.
 */
export function encodeProtobufWatchEvent(eventType: string, object: Json): Buffer {
  const message = WATCH_EVENT_TYPE.encode({ type: eventType, object: { raw: encodeProtobuf(object) } }).finish();
  const frame = Buffer.alloc(4 + message.length);
  frame.writeUInt32BE(message.length, 0);
  frame.set(message, 4);
  return frame;
}

function messageFromJson(type: protobuf.Type, json: Json): Json {
  const out: Json = {};
  for (const field of type.fieldsArray) {
    // An inline field's message is made of the parent's own JSON fields.
    const value = isInline(field) ? json : own(json, field.name);
    if (value === undefined || value === null) continue;
    const converted = fieldFromJson(field, value);
    if (converted !== undefined) out[field.name] = converted;
  }
  return out;
}

function fieldFromJson(field: protobuf.Field, value: unknown): unknown {
  if (field instanceof protobuf.MapField) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    const out: Json = {};
    for (const [key, item] of Object.entries(value)) {
      const converted = valueFromJson(field, item);
      if (converted !== undefined) out[key] = converted;
    }
    return out;
  }
  if (field.repeated) {
    if (!Array.isArray(value)) return undefined;
    return value.map((item: unknown) => valueFromJson(field, item) ?? emptyOf(field));
  }
  return valueFromJson(field, value);
}

/** What a list element the JSON has as null is written as. */
function emptyOf(field: protobuf.Field): unknown {
  if (field.resolvedType instanceof protobuf.Type) return {};
  if (field.type === 'string') return '';
  if (field.type === 'bool') return false;
  if (field.type === 'bytes') return Buffer.alloc(0);
  return 0;
}

function valueFromJson(field: protobuf.Field, value: unknown): unknown {
  const type = field.resolvedType;
  if (type instanceof protobuf.Type) return wellKnownFromJson(type, value);
  if (NUMERIC.has(field.type)) {
    const n = typeof value === 'number' ? value : Number(value);
    return Number.isFinite(n) ? n : undefined;
  }
  if (field.type === 'bool') return typeof value === 'boolean' ? value : undefined;
  if (field.type === 'bytes') return typeof value === 'string' ? Buffer.from(value, 'base64') : undefined;
  if (field.type === 'string') return typeof value === 'string' ? value : JSON.stringify(value);
  return undefined;
}

function wellKnownFromJson(type: protobuf.Type, value: unknown): unknown {
  switch (type.fullName.slice(1)) {
    case TIME:
    case MICRO_TIME:
      return typeof value === 'string' ? timeFromJson(value) : undefined;
    case INT_OR_STRING:
      if (typeof value === 'number') return { type: 0, intVal: value };
      return typeof value === 'string' ? { type: 1, strVal: value } : undefined;
    case QUANTITY:
      return typeof value === 'string' || typeof value === 'number' ? { string: String(value) } : undefined;
    case RAW_EXTENSION:
      return { raw: Buffer.from(JSON.stringify(value)) };
    case FIELDS_V1:
      return { Raw: Buffer.from(JSON.stringify(value)) };
    default:
      return typeof value === 'object' && value !== null && !Array.isArray(value)
        ? messageFromJson(type, { ...value })
        : undefined;
  }
}

function timeFromJson(text: string): Json | undefined {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) return undefined;
  const fraction = /\.(\d+)/.exec(text)?.[1] ?? '';
  const nanos = Number(fraction.slice(0, 9).padEnd(9, '0'));
  return { seconds: Math.floor(ms / 1000), nanos };
}
