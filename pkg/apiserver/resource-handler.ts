// HTTP → RestStore for resource paths: decodes the request (verb, query, body), calls the
// REST layer, or the kind's subresource (registry/), and writes the answer in the form the
// client asked for (object, list, Table, watch stream, Status).

import type { Request, Response } from 'express';
import { isObject, joinApiVersion, type KubeObject } from '../api/meta.js';
import type { ResourceInfo } from '../api/registry.js';
import { ApiError, badRequest } from '../errors/index.js';
import { boolParam, checkBooleanParams, hasQueryParam } from '../api/query-params.js';
import { pageParams } from './list-pages.js';
import type { ApplyManager } from './apply.js';
import type { KubeletProxy } from './kubelet-proxy.js';
import { decodeBody, mediaType, readBody } from './body.js';
import type { ResourceRequest } from './request-info.js';
import { ANONYMOUS, type UserInfo } from './authn.js';
import type { FieldValidation } from './admit-body.js';
import type { RestStore } from './rest-store.js';
import type { WriteOptions } from './rest-types.js';
import { buildFilter } from './selection.js';
import type { RequestLimits } from './request-limits.js';
import { includeObjectParam, renderTable, TABLE_CONTENT_TYPE, wantsTable } from './table.js';
import { serveHttpWatch, type WatchParams, type WatchSettings } from './watch-transport.js';
import {
  deleteOptions,
  dryRunFromQuery,
  resourceVersionParam,
  timeoutSecondsParam,
  type OptionsKind,
} from './request-options.js';
import type { Subresource, SubresourceCall, SubresourceReply } from './registry/index.js';
import { RequestAudit } from './audit/index.js';
import { answerFormat, negotiate } from './negotiation.js';
import {
  canEncodeProtobuf,
  encodeProtobuf,
  encodeProtobufWatchEvent,
  PROTOBUF_MEDIA_TYPE,
  PROTOBUF_WATCH_MEDIA_TYPE,
} from '../api/protobuf/index.js';

export interface HandlerContext {
  store: RestStore;
  apply: ApplyManager;
  kubelets: KubeletProxy;
  maxBodyBytes: number;
  watch: WatchSettings;
  limits: RequestLimits;
  now: () => Date;
}

type Query = Record<string, unknown>;

export function queryString(q: Query, name: string): string | undefined {
  const v = q[name];
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && typeof v[0] === 'string') return v[0];
  return undefined;
}

function fieldValidation(q: Query): FieldValidation | undefined {
  const v = queryString(q, 'fieldValidation');
  if (v === undefined || v === '') return undefined;
  if (v === 'Strict' || v === 'Warn' || v === 'Ignore') return v;
  throw badRequest(`fieldValidation: invalid value "${v}": supported values: "Ignore", "Strict", "Warn"`);
}

function writeOptions(q: Query, kind: OptionsKind, user: UserInfo | undefined): WriteOptions {
  const opts: WriteOptions = user === undefined ? {} : { user };
  const manager = queryString(q, 'fieldManager');
  if (manager !== undefined) opts.fieldManager = manager;
  const fv = fieldValidation(q);
  if (fv !== undefined) opts.fieldValidation = fv;
  if (dryRunFromQuery(q, kind)) opts.dryRun = true;
  return opts;
}

/** A JSON answer: status code, body, its content type (application/json unless said) and warnings. */
export interface JsonReply {
  code: number;
  body: unknown;
  contentType?: string | undefined;
  warnings?: string[] | undefined;
}

/** The request's audit, which the authentication step keeps on the response (none when not audited). */
export function auditOf(res: Response | undefined): RequestAudit | undefined {
  const audit: unknown = res?.locals['audit'];
  return audit instanceof RequestAudit ? audit : undefined;
}

/** Runs an audit step: auditing must never break or fail a request, so its errors are only logged. */
export function auditSafely(audit: RequestAudit | undefined, step: (audit: RequestAudit) => void): void {
  if (audit === undefined) return;
  try {
    step(audit);
  } catch (err) {
    process.stderr.write(`apiserver: audit ${audit.auditID}: ${err instanceof Error ? err.message : String(err)}\n`);
  }
}

export function sendJson(res: Response, reply: JsonReply): void {
  const { code, body, contentType = 'application/json', warnings = [] } = reply;
  // A Status sets the event's responseStatus; any body is kept at RequestResponse.
  auditSafely(auditOf(res), (audit) => audit.logResponseObject(body));
  // A client that accepts only protobuf gets it, for every kind the protobuf schema has.
  const protobuf =
    contentType === 'application/json' &&
    answerFormat(res.req.headers.accept) === 'protobuf' &&
    isObject(body) &&
    canEncodeProtobuf(body);
  const payload = protobuf ? encodeProtobuf(body) : JSON.stringify(body);
  const headers: Record<string, string | string[]> = {
    'Content-Type': protobuf ? PROTOBUF_MEDIA_TYPE : contentType,
    'Content-Length': String(Buffer.byteLength(payload)),
  };
  if (warnings.length > 0) headers['Warning'] = warnings.map((w) => `299 - ${JSON.stringify(w)}`);
  res.writeHead(code, headers);
  res.end(payload);
}

export function sendError(res: Response, err: ApiError): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const headers: Record<string, string> = {};
  if (err.code === 429 && err.details?.retryAfterSeconds !== undefined)
    headers['Retry-After'] = String(err.details.retryAfterSeconds);
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  sendJson(res, { code: err.code, body: err.toStatus() });
}

const JSON_PATCH_TYPES = new Set([
  'application/merge-patch+json',
  'application/json-patch+json',
  'application/strategic-merge-patch+json',
]);

/** The decoded body; the audit keeps it at Request level (a JSON patch as sent, as Kubernetes does). */
async function body(ctx: HandlerContext, req: Request): Promise<unknown> {
  const raw = await readBody(req, ctx.maxBodyBytes);
  const audit = auditOf(req.res);
  const isPatch = req.method === 'PATCH' && JSON_PATCH_TYPES.has(mediaType(req.headers['content-type']));
  if (isPatch && raw.length > 0) auditSafely(audit, (a) => a.logRequestPatch(raw));
  const decoded = decodeBody(req.headers['content-type'], raw, ctx.maxBodyBytes);
  if (!isPatch && decoded !== undefined) auditSafely(audit, (a) => a.logRequestObject(decoded));
  return decoded;
}

/** One HTTP exchange on a resource path, and who sent the request (authentication found). */
export interface Exchange {
  req: Request;
  res: Response;
  user?: UserInfo | undefined;
}

/** Where sendObject writes: the exchange, and the resource its objects belong to. */
interface ObjectAnswerTo {
  ctx: HandlerContext;
  req: Request;
  res: Response;
  r: ResourceInfo;
}

/** Writes one object, as a one-row Table when asked. */
function sendObject(to: ObjectAnswerTo, code: number, result: { object: KubeObject; warnings?: string[] }): void {
  const { ctx, req, res, r } = to;
  const { object: obj, warnings } = result;
  if (wantsTable(req.headers.accept) && obj.kind === r.kind) {
    const table = renderTable([obj], r, {
      includeObject: includeObjectParam(req.query['includeObject']),
      resourceVersion: obj.metadata.resourceVersion ?? '',
      now: ctx.now(),
    });
    sendJson(res, { code, body: table, contentType: TABLE_CONTENT_TYPE, warnings });
    return;
  }
  sendJson(res, { code, body: obj, warnings });
}

export async function handleResource(ctx: HandlerContext, http: Exchange, info: ResourceRequest): Promise<void> {
  const { req, res, user } = http;
  const { resource: r, namespace, name, subresource, verb } = info;
  const to: ObjectAnswerTo = { ctx, req, res, r };
  const q: Query = req.query;
  // A boolean that is not one is a 400 on every verb, before any work (the readers below parse again).
  checkBooleanParams(q);
  const store = ctx.store;
  // An answer the client cannot read is refused before any work (406).
  const format = negotiate(req.headers.accept);
  // The kind's subresource, if the path names one (request-info admits only registered names).
  const sub: Subresource | undefined =
    subresource === undefined ? undefined : store.strategyFor(r).subresources[subresource];
  const call = (c: Pick<SubresourceCall, 'name' | 'body' | 'options'> & { contentType?: string }): SubresourceCall => ({
    store,
    apply: ctx.apply,
    kubelets: ctx.kubelets,
    r,
    namespace,
    query: q,
    contentType: '',
    res,
    ...c,
  });
  switch (verb) {
    case 'list': {
      const sel = selectors(q);
      const page = pageParams(q);
      // A continued list is read at its first page's revision; resourceVersion has no say.
      const rv = page.continue === undefined ? resourceVersionParam(q) : undefined;
      if (page.continue === undefined) await store.awaitRevision(rv);
      const list = await store.list(r, namespace, { ...sel, ...page, anyVersion: rv === 0 });
      if (wantsTable(req.headers.accept)) {
        const table = renderTable(list.items, r, {
          includeObject: includeObjectParam(q['includeObject']),
          resourceVersion: list.metadata.resourceVersion ?? '',
          listMeta: list.metadata,
          now: ctx.now(),
        });
        sendJson(res, { code: 200, body: table, contentType: TABLE_CONTENT_TYPE });
      } else sendJson(res, { code: 200, body: list });
      return;
    }
    case 'watch': {
      const table = wantsTable(req.headers.accept);
      const includeObject = includeObjectParam(q['includeObject']);
      const rv = resourceVersionParam(q);
      const params: WatchParams = {
        ...selectors(q),
        namespace,
        timeoutSeconds: timeoutSecondsParam(q),
        allowWatchBookmarks: boolParam(q, 'allowWatchBookmarks'),
        render: table
          ? (obj) =>
              renderTable([obj], r, {
                includeObject,
                resourceVersion: obj.metadata.resourceVersion ?? '',
                now: ctx.now(),
              })
          : (obj) => obj,
      };
      if (format === 'protobuf' && !table) {
        params.wire = {
          contentType: PROTOBUF_WATCH_MEDIA_TYPE,
          frame: (type, object) => encodeProtobufWatchEvent(type, isObject(object) ? object : {}),
        };
      }
      if (rv !== undefined) params.resourceVersion = String(rv);
      const who = user ?? ANONYMOUS;
      res.once('close', ctx.limits.admitWatch(who.name, who.groups));
      await serveHttpWatch({ store, r, settings: ctx.watch }, params, res);
      return;
    }
    case 'get': {
      const n = requireName(name);
      const handler = sub?.get;
      if (handler !== undefined) {
        reply(res, await handler(call({ name: n, body: undefined, options: () => ({}) })));
        return;
      }
      await store.awaitRevision(resourceVersionParam(q));
      sendObject(to, 200, { object: await store.get(r, namespace, n) });
      return;
    }
    case 'create': {
      // POST names a collection or a subresource, never an object.
      if (name !== undefined && subresource === undefined) throw methodNotAllowed();
      const b = await body(ctx, req);
      if (subresource !== undefined) {
        const handler = sub?.create;
        if (handler === undefined) throw methodNotAllowed();
        reply(
          res,
          await handler(
            call({ name: requireName(name), body: b, options: () => writeOptions(q, 'CreateOptions', user) }),
          ),
        );
        return;
      }
      const answer = store.strategyFor(r).answerCreate;
      if (answer !== undefined) {
        if (!isObject(b) || user === undefined) throw new ApiError('BadRequest', `the body must be a ${r.kind} object`);
        const metadata = isObject(b['metadata']) ? { ...b['metadata'] } : {};
        const question = { ...b, apiVersion: joinApiVersion(r.group, r.version), kind: r.kind, metadata };
        sendJson(res, { code: 201, body: answer({ body: question, namespace, user }) });
        return;
      }
      if (isObject(b) && user !== undefined) store.strategyFor(r).fromRequester?.(b, user);
      const result = await store.create(
        r,
        { namespace, body: b, bodyOwned: true },
        writeOptions(q, 'CreateOptions', user),
      );
      sendObject(to, 201, result);
      return;
    }
    case 'update': {
      if (name === undefined) throw methodNotAllowed();
      const n = requireName(name);
      const opts = writeOptions(q, 'UpdateOptions', user);
      const b = await body(ctx, req);
      const handler = sub?.update;
      if (handler !== undefined) {
        reply(res, await handler(call({ name: n, body: b, options: () => opts })));
        return;
      }
      if (subresource !== undefined && sub?.statusWrites !== true) throw methodNotAllowed();
      const result = await store.update(
        r,
        { namespace, name: n },
        { ...opts, body: b, ...(subresource !== undefined ? { subresource: 'status' as const } : {}) },
      );
      sendObject(to, 200, result);
      return;
    }
    case 'patch': {
      if (name === undefined) throw methodNotAllowed();
      const n = requireName(name);
      const opts = writeOptions(q, 'PatchOptions', user);
      const contentType = mediaType(req.headers['content-type']);
      const b = await body(ctx, req);
      if (b === undefined) throw badRequest('a patch needs a body');
      const handler = sub?.patch;
      if (handler !== undefined) {
        reply(res, await handler(call({ name: n, body: b, contentType, options: () => opts })));
        return;
      }
      if (subresource !== undefined && sub?.statusWrites !== true) throw methodNotAllowed();
      // Custom resources have no patch strategies: Kubernetes refuses a strategic merge patch of one.
      if (r.custom !== undefined && contentType === 'application/strategic-merge-patch+json')
        throw new ApiError(
          'UnsupportedMediaType',
          'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml',
        );
      if (contentType === 'application/apply-patch+yaml') {
        const manager = queryString(q, 'fieldManager');
        if (manager === undefined || manager === '')
          throw badRequest('PATCH with an apply patch requires a fieldManager');
        const result = await ctx.apply.apply(
          r,
          { namespace, name: n },
          { ...opts, body: b, fieldManager: manager, force: boolParam(q, 'force') },
        );
        sendObject(to, result.created ? 201 : 200, result);
        return;
      }
      const result = await store.patch(
        r,
        { namespace, name: n },
        { ...opts, contentType, body: b, ...(subresource !== undefined ? { subresource: 'status' as const } : {}) },
      );
      sendObject(to, 200, result);
      return;
    }
    case 'delete': {
      if (subresource !== undefined) throw methodNotAllowed();
      const b = await body(ctx, req);
      const opts = deleteOptions(q, b);
      const result = await store.delete(r, { namespace, name: requireName(name) }, opts);
      sendJson(
        res,
        deleteReply(
          result,
          { r, returnsObject: store.strategyFor(r).returnsDeletedObject === true },
          { body: b, query: q },
        ),
      );
      return;
    }
    case 'deletecollection': {
      const sel = selectors(q);
      const opts = deleteOptions(q, await body(ctx, req));
      sendJson(res, { code: 200, body: await store.deleteCollection(r, { namespace, ...sel }, opts) });
      return;
    }
    case 'connect':
      throw new ApiError(
        'BadRequest',
        `${r.plural}/${subresource ?? ''} needs a streaming upgrade (websocket with v5.channel.k8s.io)`,
      );
  }
}

/**
 * What a delete answers, as Kubernetes does: the object while it still exists (staged for
 * finalizers or a grace period) or when the kind returns deleted objects (pods, services,
 * service accounts); else a Success Status naming what went. 200, but 202 for an object
 * not yet gone when the client explicitly asked orphanDependents=false.
 */
function deleteReply(
  result: { object: KubeObject; deleted: boolean },
  kind: { r: ResourceInfo; returnsObject: boolean },
  request: { body: unknown; query: Query },
): JsonReply {
  const { body: deleteBody, query: q } = request;
  const noOrphans = isObject(deleteBody)
    ? deleteBody['orphanDependents'] === false
    : hasQueryParam(q, 'orphanDependents') && !boolParam(q, 'orphanDependents');
  const code = !result.deleted && noOrphans ? 202 : 200;
  if (!result.deleted || kind.returnsObject) return { code, body: result.object };
  const meta = result.object.metadata;
  return {
    code,
    body: {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: {
        name: meta.name ?? '',
        ...(kind.r.group !== '' && { group: kind.r.group }),
        kind: kind.r.plural,
        ...(meta.uid !== undefined && { uid: meta.uid }),
      },
    },
  };
}

/** Answers what a subresource returned (nothing when it streamed its answer itself). */
function reply(res: Response, answer: SubresourceReply): void {
  if (answer !== undefined) sendJson(res, answer);
}

function methodNotAllowed(): ApiError {
  return new ApiError('MethodNotAllowed', 'the server does not allow this method on the requested resource');
}

function requireName(name: string | undefined): string {
  if (name === undefined || name === '') throw badRequest('a resource name is required');
  return name;
}

/** The label and field selectors of a request, parsed once here so a malformed one is a 400 before any work. */
export function selectors(q: Query): { labelSelector?: string; fieldSelector?: string } {
  const out: { labelSelector?: string; fieldSelector?: string } = {};
  const l = queryString(q, 'labelSelector');
  const f = queryString(q, 'fieldSelector');
  if (l !== undefined && l !== '') out.labelSelector = l;
  if (f !== undefined && f !== '') out.fieldSelector = f;
  buildFilter(out);
  return out;
}
