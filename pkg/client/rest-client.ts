// The REST client every Coxswain component and coxctl use: JSON over HTTPS with mutual
// TLS (or a bearer token), keep-alive connections, paths from the resource registry, and
// failures as ApiError (from the server's Status, or built from the HTTP code).

import type { IncomingMessage } from 'node:http';
import https from 'node:https';
import { isObject, type DeleteOptions, type KubeList, type KubeObject } from '../api/meta.js';
import { apiVersionOf, resourcePath, type Resource, type ResourceInfo } from '../api/registry.js';
import { ApiError, readStatus, reasonForCode } from '../errors/index.js';
import { Apiservers } from './apiservers.js';
import type { ClientConfig } from './kubeconfig.js';

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
};

export interface RawRequest {
  method: string;
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  accept?: string;
  timeoutMs?: number;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

interface Scoped {
  namespace?: string | undefined;
}

export interface ListOptions extends Scoped {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  resourceVersion?: string;
}

export interface WriteOptions extends Scoped {
  fieldManager?: string;
  fieldValidation?: 'Strict' | 'Warn' | 'Ignore';
  dryRun?: boolean;
  subresource?: string;
}

export interface PatchOptions extends WriteOptions {
  force?: boolean;
}

/** A patch and where it goes: `{ type: 'merge', body: {...}, namespace }`. */
export interface PatchRequest extends PatchOptions {
  type: PatchType;
  body: unknown;
}

/** A subresource read: `{ subresource: 'scale', namespace }`. */
export interface SubresourceGet extends Scoped {
  subresource: string;
}

/** A POST to a subresource: `{ subresource: 'binding', body: {...}, namespace }`. */
export interface SubresourceCreate extends WriteOptions {
  subresource: string;
  body: unknown;
}

export interface DeleteCallOptions extends Scoped {
  propagationPolicy?: DeleteOptions['propagationPolicy'];
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
}

/** One try of a request on one apiserver that failed without an answer. */
class AttemptFailed extends Error {
  constructor(
    readonly server: string,
    readonly failure: Error,
    /** Whether the request may have reached the apiserver (the TLS session was up when it failed). */
    readonly sent: boolean,
  ) {
    super(failure.message);
  }
}

/** Patches that state wanted values: applying one twice gives the object of applying it once. */
const REPLAYABLE_PATCHES = new Set([
  PATCH_CONTENT_TYPES.merge,
  PATCH_CONTENT_TYPES.strategic,
  PATCH_CONTENT_TYPES.apply,
]);

/**
 * Whether a request that may already have reached an apiserver (its connection broke after
 * it was sent, or a not-ready apiserver answered 503) may be sent again to another one:
 * reads; a PUT with a resourceVersion (a replay of an applied one gets 409 Conflict, never a
 * second write); a DELETE with preconditions (a replay gets 404 or 409, never deletes a
 * newer object of the same name); merge, strategic-merge and apply patches (they set values).
 * Never a POST (a create replayed blindly can make a second object with generateName) nor a
 * JSON patch (`add` to `/-` or `move` applied twice differ from once): the caller decides.
 */
export function replayable(req: RawRequest): boolean {
  const body: unknown = req.body;
  switch (req.method.toUpperCase()) {
    case 'GET':
    case 'HEAD':
    case 'OPTIONS':
      return true;
    case 'PUT': {
      const meta = isObject(body) ? body['metadata'] : undefined;
      return isObject(meta) && typeof meta['resourceVersion'] === 'string' && meta['resourceVersion'] !== '';
    }
    case 'DELETE': {
      const pre = isObject(body) ? body['preconditions'] : undefined;
      return isObject(pre) && (typeof pre['uid'] === 'string' || typeof pre['resourceVersion'] === 'string');
    }
    case 'PATCH':
      return REPLAYABLE_PATCHES.has(req.contentType ?? '');
    default:
      return false;
  }
}

/** What one try on one apiserver got: its HTTP status, the value for the caller, how to drop an unread body. */
interface Answer<T> {
  status: number;
  value: T;
  discard?: () => void;
}

/** A 503 of a proxied backend (pods/…/proxy) says nothing about the apiserver itself. */
function isProxyPath(path: string): boolean {
  return /\/proxy(\/|$)/.test(path);
}

/** Longest wait for the TCP connection and TLS handshake to one apiserver before trying the next. */
const CONNECT_TIMEOUT_MS = 10_000;

/** Pause before trying the next apiserver: short, a little more for each one tried. */
function failoverPause(attempt: number): Promise<void> {
  const ms = Math.min(250, 50 * attempt) * (0.8 + Math.random() * 0.4);
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** client-go's default number of retries of a throttled request. */
const MAX_THROTTLED_RETRIES = 10;
/** The longest Retry-After honoured; a longer one is waited this long. */
const MAX_RETRY_AFTER_MS = 10_000;

/** How long to wait before sending again a request refused with 429 and Retry-After (else undefined). */
export function throttledWaitMs(res: Pick<RawResponse, 'status' | 'headers'>): number | undefined {
  if (res.status !== 429) return undefined;
  const header = res.headers['retry-after'];
  const seconds = Number(Array.isArray(header) ? header[0] : header);
  if (header === undefined || !Number.isInteger(seconds) || seconds < 1) return undefined;
  return Math.min(seconds * 1000, MAX_RETRY_AFTER_MS);
}

export interface RestClientOptions {
  maxSockets?: number;
  /** Share the apiserver list (and which one is current) of another client of the same cluster. */
  apiservers?: Apiservers;
}

export class RestClient {
  config: ClientConfig;
  /** The apiservers this client fails over between (config.servers, else config.server; plus learned ones). */
  readonly apiservers: Apiservers;
  private agent: https.Agent;
  private readonly maxSockets: number;

  constructor(config: ClientConfig, options: RestClientOptions = {}) {
    this.config = config;
    this.apiservers = options.apiservers ?? new Apiservers(config.servers ?? [config.server]);
    this.maxSockets = options.maxSockets ?? 64;
    this.agent = new https.Agent({ keepAlive: true, maxSockets: this.maxSockets, ...this.tlsOptions() });
  }

  /**
   * Swaps the client certificate (rotation): new requests and watches use the new one;
   * requests in flight finish on their old connections, which the server closes once idle.
   */
  setClientCertificate(certPem: string, keyPem: string): void {
    this.config = { ...this.config, certPem, keyPem };
    this.agent = new https.Agent({ keepAlive: true, maxSockets: this.maxSockets, ...this.tlsOptions() });
  }

  /** Swaps the bearer token (a refreshed ServiceAccount token): the next request sends the new one. */
  setToken(token: string): void {
    this.config = { ...this.config, token };
  }

  /** TLS settings for this cluster (also used by the websocket watch). */
  tlsOptions(): https.AgentOptions {
    const opts: https.AgentOptions = {};
    if (this.config.caPem !== undefined) opts.ca = this.config.caPem;
    if (this.config.certPem !== undefined) opts.cert = this.config.certPem;
    if (this.config.keyPem !== undefined) opts.key = this.config.keyPem;
    return opts;
  }

  authHeaders(): Record<string, string> {
    const headers: Record<string, string> =
      this.config.token !== undefined ? { Authorization: `Bearer ${this.config.token}` } : {};
    if (this.config.impersonateUser !== undefined) headers['Impersonate-User'] = this.config.impersonateUser;
    return headers;
  }

  /** `wss://host:port/path?query` for a path on the current apiserver. */
  url(
    path: string,
    query: Record<string, string | number | boolean | undefined> = {},
    scheme: 'https' | 'wss' = 'https',
  ): string {
    return this.urlOn(this.apiservers.current, { path, query, scheme });
  }

  /** The URL of a path on one given apiserver. */
  urlOn(
    server: string,
    target: {
      path: string;
      query?: Record<string, string | number | boolean | undefined>;
      scheme?: 'https' | 'wss';
    },
  ): string {
    const u = new URL(target.path, server);
    u.protocol = target.scheme === 'wss' ? 'wss:' : 'https:';
    for (const [k, v] of Object.entries(target.query ?? {})) if (v !== undefined) u.searchParams.set(k, String(v));
    return u.toString();
  }

  /**
   * Sends the request to the current apiserver and, when it cannot be reached (or the
   * request may be replayed and it broke or answered 503), to the next ones: at most one
   * pass over the list, with a short pause between tries; then the error.
   */
  async request(req: RawRequest): Promise<RawResponse> {
    const payload = this.payloadOf(req);
    return this.withFailover(req, async (server) => {
      const res = await this.send(server, req, payload);
      const body = await new Promise<Buffer>((resolve, reject) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks)));
        res.on('error', (err) => reject(new AttemptFailed(server, err, true)));
        res.on('aborted', () => reject(new AttemptFailed(server, new Error('the response was cut off'), true)));
      });
      const status = res.statusCode ?? 0;
      return { status, value: { status, headers: res.headers, body } };
    });
  }

  /** A request whose response body is streamed (logs -f); non-2xx answers become ApiError. */
  async stream(req: RawRequest): Promise<IncomingMessage> {
    const streamReq = { ...req, accept: req.accept ?? '*/*' };
    const res = await this.withFailover(streamReq, async (server) => {
      const answer = await this.send(server, streamReq, undefined);
      return { status: answer.statusCode ?? 0, value: answer, discard: () => answer.resume() };
    });
    const code = res.statusCode ?? 0;
    if (code >= 200 && code < 300) return res;
    const chunks: Buffer[] = [];
    return new Promise((_resolve, reject) => {
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => reject(toError(code, Buffer.concat(chunks).toString('utf8'))));
      res.on('error', (err) => reject(this.networkError(this.apiservers.current, err)));
    });
  }

  /** The failover loop of request and stream (see request). */
  private async withFailover<T>(req: RawRequest, attempt: (server: string) => Promise<Answer<T>>): Promise<T> {
    const candidates = this.apiservers.candidates();
    const replay = replayable(req);
    const failures: AttemptFailed[] = [];
    for (const [i, server] of candidates.entries()) {
      if (i > 0) await failoverPause(i);
      const last = i === candidates.length - 1;
      let answer: Answer<T>;
      try {
        answer = await attempt(server);
      } catch (err) {
        if (!(err instanceof AttemptFailed)) throw err;
        this.apiservers.failed(server);
        failures.push(err);
        if (err.sent && !replay) throw this.brokenAfterSend(req, err);
        continue;
      }
      if (answer.status === 503 && !isProxyPath(req.path)) {
        // Not ready (its store is away, or it is shutting down): the next request goes elsewhere.
        this.apiservers.failed(server);
        if (replay && !last) {
          answer.discard?.();
          continue;
        }
      } else this.apiservers.succeeded(server);
      return answer.value;
    }
    throw this.unreachable(failures);
  }

  private payloadOf(req: RawRequest): Buffer | undefined {
    if (req.body === undefined) return undefined;
    if (Buffer.isBuffer(req.body)) return req.body;
    return Buffer.from(typeof req.body === 'string' ? req.body : JSON.stringify(req.body));
  }

  /** One try on one apiserver: resolves with the response (headers read), rejects with AttemptFailed. */
  private send(server: string, req: RawRequest, payload: Buffer | undefined): Promise<IncomingMessage> {
    const url = new URL(this.urlOn(server, { path: req.path, query: req.query ?? {} }));
    const headers: Record<string, string> = {
      Accept: req.accept ?? 'application/json',
      'User-Agent': 'coxswain/0.1',
      ...this.authHeaders(),
    };
    if (payload !== undefined) {
      headers['Content-Type'] = req.contentType ?? 'application/json';
      headers['Content-Length'] = String(payload.length);
    }
    return new Promise((resolve, reject) => {
      // Until the TLS session is up nothing of the request has left: every failure is safe to retry elsewhere.
      let connected = false;
      let connectTimer: NodeJS.Timeout | undefined;
      const r = https.request(
        {
          method: req.method,
          host: url.hostname,
          port: url.port,
          path: url.pathname + url.search,
          headers,
          agent: this.agent,
          timeout: req.timeoutMs ?? 60_000,
        },
        (res) => {
          clearTimeout(connectTimer);
          resolve(res);
        },
      );
      r.on('socket', (socket) => {
        if (r.reusedSocket || !socket.connecting) {
          connected = true;
          return;
        }
        connectTimer = setTimeout(
          () => r.destroy(new Error(`no connection within ${CONNECT_TIMEOUT_MS} ms`)),
          CONNECT_TIMEOUT_MS,
        );
        socket.once('secureConnect', () => {
          connected = true;
          clearTimeout(connectTimer);
        });
      });
      r.on('timeout', () => r.destroy(new Error('request timed out')));
      r.on('error', (err) => {
        clearTimeout(connectTimer);
        reject(new AttemptFailed(server, err, connected));
      });
      r.end(payload);
    });
  }

  private networkError(server: string, err: Error): ApiError {
    return new ApiError('ServiceUnavailable', `cannot reach the API server at ${server}: ${err.message}`);
  }

  private unreachable(failures: AttemptFailed[]): ApiError {
    const [only] = failures;
    if (failures.length === 1 && only !== undefined) return this.networkError(only.server, only.failure);
    const each = failures.map((f) => `${f.server}: ${f.failure.message}`).join('; ');
    return new ApiError('ServiceUnavailable', `cannot reach any API server (${each})`);
  }

  private brokenAfterSend(req: RawRequest, failure: AttemptFailed): ApiError {
    return new ApiError(
      'ServiceUnavailable',
      `the connection to the API server at ${failure.server} broke after the request was sent: ${failure.failure.message} (a ${req.method} is not sent again: it may have been applied)`,
    );
  }

  async requestJson<T>(req: RawRequest): Promise<T> {
    let res = await this.request(req);
    // A 429 with Retry-After (the apiserver's in-flight limit) refused the request before it
    // was handled: as client-go does, wait what it says and send it again (bounded).
    for (let retry = 1; retry <= MAX_THROTTLED_RETRIES; retry++) {
      const wait = throttledWaitMs(res);
      if (wait === undefined) break;
      await new Promise((resolve) => setTimeout(resolve, wait));
      res = await this.request(req);
    }
    const text = res.body.toString('utf8');
    if (res.status < 200 || res.status >= 300) throw toError(res.status, text);
    // The typed boundary: the apiserver answers with objects of the requested resource, checked
    // against its schema on the way in; the Resource<T> of the call names their type.
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  get<T extends KubeObject>(r: Resource<T>, name: string, opts: Scoped = {}): Promise<T> {
    return this.requestJson({ method: 'GET', path: resourcePath(r, { namespace: opts.namespace, name }) });
  }

  getSubresource(r: ResourceInfo, name: string, req: SubresourceGet): Promise<KubeObject> {
    return this.requestJson({
      method: 'GET',
      path: resourcePath(r, { namespace: req.namespace, name, subresource: req.subresource }),
    });
  }

  list<T extends KubeObject>(r: Resource<T>, opts: ListOptions = {}): Promise<KubeList<T>> {
    return this.requestJson({
      method: 'GET',
      path: resourcePath(r, { namespace: opts.namespace }),
      query: {
        labelSelector: opts.labelSelector,
        fieldSelector: opts.fieldSelector,
        limit: opts.limit,
        resourceVersion: opts.resourceVersion,
      },
    });
  }

  create<T extends KubeObject>(r: Resource<T>, obj: unknown, opts: WriteOptions = {}): Promise<T> {
    return this.requestJson({
      method: 'POST',
      path: resourcePath(r, { namespace: namespaceOf(r, obj, opts) }),
      query: writeQuery(opts),
      body: withTypeMeta(r, obj),
    });
  }

  createSubresource(r: ResourceInfo, name: string, req: SubresourceCreate): Promise<KubeObject> {
    return this.requestJson({
      method: 'POST',
      path: resourcePath(r, { namespace: req.namespace, name, subresource: req.subresource }),
      query: writeQuery(req),
      body: req.body,
    });
  }

  update<T extends KubeObject>(r: Resource<T>, obj: T, opts: WriteOptions = {}): Promise<T> {
    return this.requestJson({
      method: 'PUT',
      path: resourcePath(r, {
        namespace: namespaceOf(r, obj, opts),
        name: obj.metadata.name ?? '',
        subresource: opts.subresource,
      }),
      query: writeQuery(opts),
      body: opts.subresource === undefined || opts.subresource === 'status' ? withTypeMeta(r, obj) : obj,
    });
  }

  updateStatus<T extends KubeObject>(r: Resource<T>, obj: T, opts: WriteOptions = {}): Promise<T> {
    return this.update(r, obj, { ...opts, subresource: 'status' });
  }

  patch<T extends KubeObject>(r: Resource<T>, name: string, req: PatchRequest): Promise<T> {
    return this.requestJson({
      method: 'PATCH',
      path: resourcePath(r, { namespace: req.namespace, name, subresource: req.subresource }),
      query: { ...writeQuery(req), force: req.force === undefined ? undefined : String(req.force) },
      body: req.body,
      contentType: PATCH_CONTENT_TYPES[req.type],
    });
  }

  delete(r: ResourceInfo, name: string, opts: DeleteCallOptions = {}): Promise<KubeObject> {
    const body: DeleteOptions = { kind: 'DeleteOptions', apiVersion: 'v1' };
    if (opts.propagationPolicy !== undefined) body.propagationPolicy = opts.propagationPolicy;
    if (opts.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = opts.gracePeriodSeconds;
    if (opts.preconditions !== undefined) body.preconditions = opts.preconditions;
    return this.requestJson({ method: 'DELETE', path: resourcePath(r, { namespace: opts.namespace, name }), body });
  }

  close(): void {
    this.agent.destroy();
  }
}

function namespaceOf(r: ResourceInfo, obj: unknown, opts: Scoped): string | undefined {
  if (!r.namespaced) return undefined;
  if (opts.namespace !== undefined) return opts.namespace;
  if (!isObject(obj) || !isObject(obj['metadata'])) return undefined;
  const ns = obj['metadata']['namespace'];
  return typeof ns === 'string' ? ns : undefined;
}

function writeQuery(opts: WriteOptions): Record<string, string | undefined> {
  return {
    fieldManager: opts.fieldManager,
    fieldValidation: opts.fieldValidation,
    dryRun: opts.dryRun ? 'All' : undefined,
  };
}

/** An ApiError from a failed response: its Status body when there is one. */
export function toError(code: number, text: string): ApiError {
  try {
    const status = readStatus(JSON.parse(text));
    if (status?.kind === 'Status') return ApiError.fromStatus(status, code);
  } catch {
    // not JSON: fall through
  }
  const reason = reasonForCode(code);
  const snippet = text.trim().slice(0, 200);
  return new ApiError(reason, `the server responded with HTTP ${code}${snippet ? `: ${snippet}` : ''}`, { code: code });
}

/** The apiserver refuses objects without apiVersion and kind (as Kubernetes): typed clients always send them. */
function withTypeMeta(r: ResourceInfo, obj: unknown): unknown {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return obj;
  return { apiVersion: apiVersionOf(r), kind: r.kind, ...obj };
}
