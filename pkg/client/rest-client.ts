// The REST client every Coxswain component and coxctl use: JSON over HTTPS with mutual
// TLS (or a bearer token), keep-alive connections, paths from the resource registry, and
// failures as ApiError (from the server's Status, or built from the HTTP code).

import type { IncomingMessage } from 'node:http';
import https from 'node:https';
import { isObject, type DeleteOptions, type KubeList, type KubeObject } from '../api/meta.js';
import { apiVersionOf, resourcePath, type Resource, type ResourceInfo } from '../api/registry.js';
import { ApiError, readStatus, reasonForCode } from '../errors/index.js';
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

export class RestClient {
  config: ClientConfig;
  private agent: https.Agent;
  private readonly base: URL;
  private readonly maxSockets: number;

  constructor(config: ClientConfig, options: { maxSockets?: number } = {}) {
    this.config = config;
    this.base = new URL(config.server);
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
    return this.config.token !== undefined ? { Authorization: `Bearer ${this.config.token}` } : {};
  }

  /** `wss://host:port/path?query` for a path on this server. */
  url(
    path: string,
    query: Record<string, string | number | boolean | undefined> = {},
    scheme: 'https' | 'wss' = 'https',
  ): string {
    const u = new URL(path, this.base);
    u.protocol = scheme === 'wss' ? 'wss:' : 'https:';
    for (const [k, v] of Object.entries(query)) if (v !== undefined) u.searchParams.set(k, String(v));
    return u.toString();
  }

  request(req: RawRequest): Promise<RawResponse> {
    const url = new URL(this.url(req.path, req.query ?? {}));
    let payload: Buffer | undefined;
    if (req.body !== undefined)
      payload = Buffer.isBuffer(req.body)
        ? req.body
        : Buffer.from(typeof req.body === 'string' ? req.body : JSON.stringify(req.body));
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
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
          );
          res.on('error', (err) => reject(this.networkError(err)));
        },
      );
      r.on('timeout', () => r.destroy(new Error('request timed out')));
      r.on('error', (err) => reject(this.networkError(err)));
      r.end(payload);
    });
  }

  /** A request whose response body is streamed (logs -f); non-2xx answers become ApiError. */
  stream(req: RawRequest): Promise<IncomingMessage> {
    const url = new URL(this.url(req.path, req.query ?? {}));
    return new Promise((resolve, reject) => {
      const r = https.request(
        {
          method: req.method,
          host: url.hostname,
          port: url.port,
          path: url.pathname + url.search,
          headers: { Accept: req.accept ?? '*/*', ...this.authHeaders() },
          agent: this.agent,
        },
        (res) => {
          const code = res.statusCode ?? 0;
          if (code >= 200 && code < 300) return resolve(res);
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => reject(toError(code, Buffer.concat(chunks).toString('utf8'))));
        },
      );
      r.on('error', (err) => reject(this.networkError(err)));
      r.end();
    });
  }

  private networkError(err: Error): ApiError {
    return new ApiError('ServiceUnavailable', `cannot reach the API server at ${this.config.server}: ${err.message}`);
  }

  async requestJson<T>(req: RawRequest): Promise<T> {
    const res = await this.request(req);
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
