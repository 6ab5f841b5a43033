// The apiserver: HTTPS with client-certificate authentication in front of the REST layer,
// the discovery documents, the OpenAPI stub, health and metrics, and the websocket watch
// transport. Its only state is the store; everything else is rebuilt on start.

import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import express, { type NextFunction, type Request, type Response } from 'express';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { WebSocketServer } from 'ws';
import { buildResourceTransformers } from '../storage/encryption/index.js';
import { EtcdStore, WatchCache, type Store } from '../storage/index.js';
import { isTlsFailure } from '../storage/etcd-store.js';
import { openStore } from './store-backend.js';
import { ApiError, errorMessage, isInvalid, toApiError } from '../errors/index.js';
import { ApplyManager } from './apply.js';
import { isSpdyUpgrade, KubeletProxy, loadKubeletClientTls } from './kubelet-proxy.js';
import { MetricsApi } from './metrics-api.js';
import { ProxySubresource, splitSchemeNamePort, withDetails } from './proxy-subresource.js';
import { Authenticator, type UserInfo } from './authn.js';
import { decide, forbidden, resourceAttributes, type AuthorizerSources } from './authorizer.js';
import type { Attributes } from './rbac/rules.js';
import { openAudit, type AuditRecorder, type AuditUser, type OpenedAudit, type RequestAudit } from './audit/index.js';
import { actingUser, type Check } from './impersonation.js';
import { LiveAuthorizerSources, policyWriter } from './authorization-sources.js';
import { boundObjectLookup, loadServiceAccountTokens, serveIssuerDiscovery } from './service-account-tokens.js';
import type { ServiceAccountTokens } from '../serviceaccount/index.js';
import { reconcileDefaultPolicy } from './rbac/reconcile.js';
import { NamespacePolicyAdmission, podSecurityConfig } from './admission/index.js';
import { ApiserverIdentity } from './apiserver-identity.js';
import {
  ensureClusterInfo,
  ensureDefaultIngressClass,
  ensureDefaultStorageClass,
  ensureKubernetesService,
  raceSafely,
} from './bootstrap.js';
import { Readiness } from './readiness.js';
import type { ApiServerConfig } from './config.js';
import {
  acceptsAggregated,
  aggregatedContentType,
  aggregatedDiscovery,
  apiGroup,
  apiGroupList,
  apiResourceList,
  apiVersions,
  SERVER_VERSION,
} from './discovery.js';
import { serveOpenApi } from './openapi.js';
import { CustomResourceServing } from './crd-serving.js';
import { parseResourceRequest, type ResourceRequest } from './request-info.js';
import {
  auditOf,
  auditSafely,
  handleResource,
  selectors,
  sendError,
  sendJson,
  type HandlerContext,
} from './resource-handler.js';
import { RestStore } from './rest-store.js';
import { createStrategies, ensureNamespace, ensureSystemPriorityClasses } from './registry/index.js';
import { serveWebSocketWatch } from './watch-transport.js';
import { isLongRunning, RequestLimits } from './request-limits.js';
import { resourceVersionParam, timeoutSecondsParam } from './request-options.js';
import { answerClientError, answeringRoutingErrors, checkWebSocketHandshake } from './protocol-errors.js';
import { DEFAULT_SERVICE_RANGES, ServiceAllocator } from './service-allocator.js';
import { isObject, type KubeObject } from '../api/meta.js';
import { RESOURCES, storageKey } from '../api/registry.js';
import { boolParam, checkBooleanParams } from '../api/query-params.js';
import { Dashboard } from '../dashboard/index.js';

/** Namespaces that exist from the start, as in Kubernetes. */
export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

/** Paths anyone may read without credentials (Kubernetes' system:public-info-viewer). */
const PUBLIC_PATHS = new Set(['/healthz', '/livez', '/readyz', '/version']);

export class ApiServer {
  readonly port: number;
  readonly restStore: RestStore;
  private readonly server: https.Server;
  private readonly backend: Store;
  private readonly cache: WatchCache;
  private readonly authz: LiveAuthorizerSources;
  private readonly audit: OpenedAudit | undefined;
  private readonly identity: ApiserverIdentity;
  private readonly readiness: Readiness;
  private readonly repairTimer: NodeJS.Timeout;
  private readonly customResources: CustomResourceServing;

  private constructor(parts: {
    customResources: CustomResourceServing;
    identity: ApiserverIdentity;
    readiness: Readiness;
    repairTimer: NodeJS.Timeout;
    server: https.Server;
    port: number;
    backend: Store;
    cache: WatchCache;
    restStore: RestStore;
    authz: LiveAuthorizerSources;
    audit: OpenedAudit | undefined;
  }) {
    this.server = parts.server;
    this.port = parts.port;
    this.backend = parts.backend;
    this.cache = parts.cache;
    this.restStore = parts.restStore;
    this.authz = parts.authz;
    this.audit = parts.audit;
    this.identity = parts.identity;
    this.readiness = parts.readiness;
    this.repairTimer = parts.repairTimer;
    this.customResources = parts.customResources;
  }

  static async start(config: ApiServerConfig): Promise<ApiServer> {
    const transformers = config.encryption && buildResourceTransformers(config.encryption.config);
    if (transformers !== undefined)
      process.stderr.write(`apiserver: encryption at rest for ${transformers.rules.join(', ')}\n`);
    // First, so a bad policy or an unwritable log refuses to start before anything is touched.
    const audit = config.audit === undefined ? undefined : await openAuditLog(config.audit);
    const backend = openStore(config, transformers);
    // Listening before the store answers: /livez 200, /readyz 503 with the reason, API 503.
    const readiness = new Readiness();
    const { server, port, early, earlyUpgrade } = await listenNotReady(config, readiness);
    let cache: WatchCache;
    try {
      cache = await connectStore(backend, config, readiness);
    } catch (err) {
      server.close();
      await backend.close();
      throw err;
    }
    const now = (): Date => new Date();
    // ClusterIPs and NodePorts live in the store (shared by every apiserver); repaired at start.
    const services = new ServiceAllocator(backend, { ...DEFAULT_SERVICE_RANGES, cidr: config.serviceClusterIPRange });
    const listServices = async (): Promise<KubeObject[]> =>
      (await backend.list(storageKey(RESOURCES.services))).items.map((i) => i.object);
    await services.repair(listServices);
    const authz = new LiveAuthorizerSources(cache, (m) => process.stderr.write(`apiserver: ${m}\n`));
    await authz.start();
    const host = config.advertiseAddress.includes(':') ? `[${config.advertiseAddress}]` : config.advertiseAddress;
    const tokens =
      config.serviceAccount === undefined
        ? undefined
        : loadServiceAccountTokens(config.serviceAccount, {
            store: cache,
            externalAddress: `${host}:${config.securePort}`,
          });
    const issuing =
      tokens === undefined || config.serviceAccount === undefined
        ? {}
        : { tokens: { signer: tokens.signer, lookup: boundObjectLookup(cache), config: config.serviceAccount.tokens } };
    const podSecurity = podSecurityConfig(config.podSecurityDefault);
    const podAdmission = { store: cache, podSecurity, tokens: tokens !== undefined };
    const strategies = createStrategies({ services, authz, podAdmission, store: cache, ...issuing });
    const admission = new NamespacePolicyAdmission(cache);
    const restStore = new RestStore(cache, { now, strategies, admission });
    // CustomResourceDefinitions are served before the first request (their objects are in the store).
    const customResources = new CustomResourceServing({ store: cache, rest: restStore, log });
    await customResources.start();
    for (const ns of SYSTEM_NAMESPACES) await ensureNamespace(restStore, ns);
    await ensureKubernetesService(restStore, services.apiserverServiceIP(), port).catch((err: unknown) => {
      // Its address held without a Service (a crash between the two writes): the repair
      // pass frees it and the next start creates the Service; not a reason not to serve.
      if (!isInvalid(err)) throw err;
      process.stderr.write(`apiserver: the kubernetes Service: ${errorMessage(err)}\n`);
    });
    await ensureDefaultStorageClass(restStore);
    await ensureSystemPriorityClasses(restStore);
    await ensureDefaultIngressClass(restStore);
    const policy = await raceSafely(() =>
      reconcileDefaultPolicy(policyWriter(restStore), { serviceAccountTokens: tokens !== undefined }),
    );
    if (policy.created.length + policy.updated.length > 0) {
      process.stderr.write(
        `apiserver: default RBAC policy: ${policy.created.length} created, ${policy.updated.length} repaired\n`,
      );
    }

    const kubeletTls =
      config.kubeletClientCertFile && config.kubeletClientKeyFile
        ? loadKubeletClientTls(config.kubeletClientCertFile, config.kubeletClientKeyFile, config.clientCaFile)
        : undefined;
    const ctx: HandlerContext = {
      store: restStore,
      apply: new ApplyManager(restStore, now),
      kubelets: new KubeletProxy(restStore, kubeletTls),
      maxBodyBytes: config.maxBodyBytes,
      watch: {
        bookmarkIntervalMs: config.bookmarkIntervalMs,
        maxBufferedBytes: config.watchMaxBufferedBytes,
        maxTimeoutMs: 60 * 60 * 1000,
      },
      limits: new RequestLimits(config),
      now,
    };
    const authn = new Authenticator({
      secrets: (name) => restStore.find(RESOURCES.secrets, 'kube-system', name),
      now,
      ...(tokens === undefined ? {} : { serviceAccountTokens: tokens.verifier }),
    });
    const recorder = audit?.recorder;
    const proxy = new ProxySubresource(restStore, kubeletTls);
    const metricsApi = new MetricsApi(restStore, kubeletTls);
    const app = buildApp(ctx, {
      config,
      authn,
      authz,
      recorder,
      proxy,
      metricsApi,
      discovery: tokens?.discovery,
      readiness,
    });
    server.off('request', early);
    server.on('request', app);
    server.off('upgrade', earlyUpgrade);
    attachWebSocketWatch(server, ctx, { authn, authz, recorder, proxy });
    const identity = await startIdentity(restStore, { config, port, host });
    const repairTimer = setInterval(() => {
      services.repair(listServices).catch((err: unknown) => log(`repairing Service allocations: ${errorMessage(err)}`));
    }, config.allocationRepairIntervalMs);
    repairTimer.unref();
    readiness.markStarted(backend instanceof EtcdStore ? () => backend.ping() : undefined);
    return new ApiServer({
      server,
      port,
      backend,
      cache,
      restStore,
      authz,
      audit,
      identity,
      readiness,
      repairTimer,
      customResources,
    });
  }

  async close(): Promise<void> {
    clearInterval(this.repairTimer);
    this.readiness.stop();
    // Out of the `kubernetes` Endpoints before the listener closes.
    await this.identity.stop().catch((err: unknown) => {
      process.stderr.write(`apiserver: removing the identity lease: ${errorMessage(err)}\n`);
    });
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    this.authz.stop();
    this.customResources.stop();
    // The last events (those of the requests just drained) are written before exit.
    await this.audit?.backend.shutdown();
    await this.cache.close();
    await this.backend.close();
  }
}

const log = (m: string): void => void process.stderr.write(`apiserver: ${m}\n`);

/** This apiserver's identity lease, the `kubernetes` Endpoints and cluster-info, kept current. */
async function startIdentity(
  restStore: RestStore,
  at: { config: ApiServerConfig; port: number; host: string },
): Promise<ApiserverIdentity> {
  const { config, port } = at;
  const self = { server: `https://${at.host}:${port}`, caPem: readFileSync(config.clientCaFile, 'utf8') };
  const identity = new ApiserverIdentity(restStore, {
    advertiseAddress: config.advertiseAddress,
    port,
    leaseDurationSeconds: config.identityLease.durationSeconds,
    renewIntervalSeconds: config.identityLease.renewIntervalSeconds,
    leases: config.etcd !== undefined,
    log,
    afterReconcile: (live) => ensureClusterInfo(restStore, self, live),
  });
  await identity.start();
  return identity;
}

/** The HTTPS listener, answering as not ready (readiness.ts) until the API is attached. */
async function listenNotReady(
  config: ApiServerConfig,
  readiness: Readiness,
): Promise<{
  server: https.Server;
  port: number;
  early: (req: IncomingMessage, res: ServerResponse) => void;
  earlyUpgrade: (req: IncomingMessage, socket: Duplex) => void;
}> {
  const server = https.createServer({
    key: readFileSync(config.tlsKeyFile),
    cert: readFileSync(config.tlsCertFile),
    ca: readFileSync(config.clientCaFile),
    requestCert: true,
    // Verified here, answered in the handler: a missing or foreign certificate gets a
    // 401 Status rather than a bare TLS failure (bearer tokens will share this port).
    rejectUnauthorized: false,
  });
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 125_000;
  server.on('clientError', answerClientError);
  const early = (req: IncomingMessage, res: ServerResponse): void => readiness.serveNotReady(req, res);
  const earlyUpgrade = (_req: IncomingMessage, socket: Duplex): void => readiness.refuseUpgrade(socket);
  server.on('request', early);
  server.on('upgrade', earlyUpgrade);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.securePort, config.bindAddress, () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the apiserver is not listening on a TCP port');
  return { server, port: address.port, early, earlyUpgrade };
}

/**
 * How long a read waits for the cache to catch up with etcd before reading etcd directly
 * (Kubernetes' cacher falls back to etcd the same way; an answer beats a 504 to retry).
 */
const CONSISTENT_READ_WAIT_MS = 3000;
/** Longest pause between attempts to reach the store at start. */
const MAX_CONNECT_DELAY_MS = 10_000;

/**
 * Fills the watch cache from the store, retrying (forever, with bounded back-off) while the
 * store cannot be reached, and reporting why in /readyz. A TLS failure is not transient:
 * etcd's certificate does not verify against --etcd-cafile (or etcd refuses ours).
 */
async function connectStore(backend: Store, config: ApiServerConfig, readiness: Readiness): Promise<WatchCache> {
  let said = '';
  for (let attempt = 1; ; attempt++) {
    try {
      // On etcd other apiservers write too: reads without resourceVersion wait for them.
      const consistentReads =
        config.etcd === undefined ? {} : { consistentReads: { timeoutMs: CONSISTENT_READ_WAIT_MS } };
      return await WatchCache.start(backend, { capacity: config.historyRevisions, ...consistentReads });
    } catch (err) {
      const etcd = config.etcd;
      if (etcd === undefined) throw err;
      const reason = errorMessage(err).replace(/\s*\n\s*/g, ' ');
      if (isTlsFailure(err))
        throw new Error(
          `etcd at ${etcd.servers.join(', ')}: TLS failed (${reason}); check that --etcd-cafile (${etcd.caFile ?? 'not given'}) is the CA that signed etcd's certificate, and --etcd-certfile/--etcd-keyfile`,
        );
      readiness.report(reason);
      if (reason !== said) process.stderr.write(`apiserver: waiting for etcd: ${reason}\n`);
      said = reason;
      await sleep(Math.min(MAX_CONNECT_DELAY_MS, 250 * 2 ** Math.min(attempt, 6)));
    }
  }
}

/** Opens the audit log; a failure is one line (a YAML error spans several). */
async function openAuditLog(options: NonNullable<ApiServerConfig['audit']>): Promise<OpenedAudit> {
  try {
    const opened = await openAudit(options, {
      onError: (message) => process.stderr.write(`apiserver: audit: ${message}\n`),
    });
    for (const warning of opened.warnings) process.stderr.write(`apiserver: audit policy: ${warning}\n`);
    return opened;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(`audit: ${message.replace(/\s*\n\s*/g, ' ')}`);
  }
}

/** The query of a URL as Express' simple parser gives it (repeated keys become arrays). */
function queryOf(url: URL): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of url.searchParams) {
    const prev = query[k];
    query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return query;
}

/** The parsed resource request, or undefined for other paths and paths that do not parse. */
function resourceRequestOf(method: string, url: URL): ResourceRequest | undefined {
  try {
    return parseResourceRequest(method, url.pathname, queryOf(url));
  } catch {
    return undefined;
  }
}

function auditUser(user: UserInfo): AuditUser {
  return {
    username: user.name,
    ...(user.uid !== undefined && { uid: user.uid }),
    groups: [...user.groups],
    ...(user.extra !== undefined && { extra: user.extra }),
  };
}

/** What an audited request gets: its event (none when the policy says None) and its Audit-Id. */
interface AuditStart {
  audit: RequestAudit | undefined;
  auditID: string;
  info: ResourceRequest | undefined;
}

/**
 * Begins a request's audit as kube-apiserver's audit filter does, right after authentication:
 * the authenticated caller (a refused one has no name), the verb authorization will see (the
 * lowercase method outside the API's resources) and the object the path names.
 */
function beginAudit(
  recorder: AuditRecorder | undefined,
  req: IncomingMessage,
  caller: UserInfo | undefined,
): AuditStart {
  const header = req.headers['audit-id'];
  const clientID = Array.isArray(header) ? header[0] : header;
  // Kubernetes keeps a client's Audit-ID; one too long or unprintable to be an ID is replaced.
  const auditID = clientID !== undefined && /^[\x21-\x7e]{1,128}$/.test(clientID) ? clientID : randomUUID();
  if (recorder === undefined) return { audit: undefined, auditID, info: undefined };
  let info: ResourceRequest | undefined;
  try {
    // Parsed as a path: `//x` is not a host here.
    const url = new URL(`https://localhost${req.url ?? '/'}`);
    info = resourceRequestOf(req.method ?? 'GET', url);
    const attributes = info === undefined ? undefined : resourceAttributes(info);
    const group = info?.resource.group ?? '';
    const audit = recorder.begin({
      requestURI: req.url ?? '/',
      path: url.pathname,
      verb: attributes?.verb ?? (req.method ?? 'GET').toLowerCase(),
      user: caller === undefined ? { username: '' } : auditUser(caller),
      sourceIPs: req.socket.remoteAddress === undefined ? [] : [req.socket.remoteAddress],
      ...(typeof req.headers['user-agent'] === 'string' && { userAgent: req.headers['user-agent'] }),
      ...(info !== undefined && {
        objectRef: {
          resource: info.resource.plural,
          ...(info.namespace !== undefined && { namespace: info.namespace }),
          ...(info.name !== undefined && { name: info.name }),
          ...(group !== '' && { apiGroup: group }),
          apiVersion: info.resource.version,
          ...(info.subresource !== undefined && { subresource: info.subresource }),
        },
      }),
      auditID,
    });
    return { audit, auditID: audit?.auditID ?? auditID, info };
  } catch (err) {
    process.stderr.write(`apiserver: audit: ${err instanceof Error ? err.message : String(err)}\n`);
    return { audit: undefined, auditID, info };
  }
}

/**
 * Audits one HTTP exchange: the Audit-Id header, the audit kept for the handlers, ResponseStarted
 * when a stream's headers go out, ResponseComplete when the response ends (or the client leaves).
 */
function auditExchange(
  recorder: AuditRecorder | undefined,
  http: { req: Request; res: Response; caller?: UserInfo },
): void {
  const { req, res } = http;
  const { audit, auditID, info } = beginAudit(recorder, req, http.caller);
  res.setHeader('Audit-Id', auditID);
  if (audit === undefined) return;
  res.locals['audit'] = audit;
  if (info !== undefined && isLongRunning(info)) {
    res.writeHead = new Proxy(res.writeHead, {
      apply(target, self, args) {
        try {
          return Reflect.apply(target, self, args);
        } finally {
          auditSafely(audit, (a) => a.responseStarted(res.statusCode));
        }
      },
    });
  }
  const complete = (): void => auditSafely(audit, (a) => a.complete(res.statusCode));
  res.once('finish', complete);
  res.once('close', complete);
}

/** One authorization question, and the audit its answer is recorded in. */
interface AuthorizationQuestion {
  user: UserInfo;
  attributes: Attributes;
  audit: RequestAudit | undefined;
}

/** Throws the 403 unless the chain allows; the decision and its reason go into the audit event. */
function authorizeAudited(authz: AuthorizerSources, question: AuthorizationQuestion): void {
  const { user, attributes, audit } = question;
  const decision = decide(authz, user, attributes);
  auditSafely(audit, (a) => a.recordAuthorization(decision));
  if (!decision.allowed) throw forbidden(user, attributes, decision.reason);
}

/** Whether a request is a watch or a stream (a path that does not parse is not). */
function longRunning(req: Request): boolean {
  try {
    const info = parseResourceRequest(req.method, req.path, req.query);
    return info !== undefined && isLongRunning(info);
  } catch {
    return false;
  }
}

/** The caller the authentication step recorded on the response, if it did. */
function authenticatedUser(res: Response): UserInfo | undefined {
  const user: unknown = res.locals['user'];
  return isUserInfo(user) ? user : undefined;
}

function isUserInfo(value: unknown): value is UserInfo {
  if (!isObject(value) || typeof value['name'] !== 'string') return false;
  const groups = value['groups'];
  return Array.isArray(groups) && groups.every((g) => typeof g === 'string');
}

/** Who the caller is and what it may do: the two questions asked of every request. */
interface Gatekeepers {
  authn: Authenticator;
  authz: AuthorizerSources;
  /** Undefined when audit is off. */
  recorder: AuditRecorder | undefined;
}

/** Impersonation asks the same chain whether the caller may `impersonate` each part. */
function mayImpersonate(authz: AuthorizerSources): Check {
  return async (user, attributes) => decide(authz, user, attributes).allowed;
}

/** Paths outside the API's resources (discovery, OpenAPI, metrics), authorized by URL. */
function authorizePath(
  authz: AuthorizerSources,
  user: UserInfo,
  req: { method: string; path: string; audit: RequestAudit | undefined },
): void {
  const attributes: Attributes = { kind: 'nonResource', verb: req.method.toLowerCase(), path: req.path };
  authorizeAudited(authz, { user, attributes, audit: req.audit });
}

function buildApp(
  ctx: HandlerContext,
  {
    config,
    authn,
    authz,
    recorder,
    proxy,
    metricsApi,
    discovery,
    readiness,
  }: Gatekeepers & {
    config: ApiServerConfig;
    proxy: ProxySubresource;
    metricsApi: MetricsApi;
    discovery?: ServiceAccountTokens['discovery'];
    readiness: Readiness;
  },
): express.Express {
  const app = express();
  app.set('query parser', 'simple');
  app.set('etag', false);
  app.disable('x-powered-by');
  const routes = express.Router();
  // The dashboard's static shell, before authentication: it holds no data; its API calls do.
  const dashboard = new Dashboard();
  app.use((req: Request, res: Response, next: NextFunction) =>
    Dashboard.claims(req.path) ? dashboard.serve(req, res) : next(),
  );

  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics });
  const requests = new Counter({
    name: 'apiserver_request_total',
    help: 'API requests by verb, resource and code',
    labelNames: ['verb', 'resource', 'code'],
    registers: [metrics],
  });
  const latency = new Histogram({
    name: 'apiserver_request_duration_seconds',
    help: 'API request latency (watches excluded)',
    labelNames: ['verb', 'resource'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [metrics],
  });

  routes.use((req: Request, res: Response, next: NextFunction) => {
    if (PUBLIC_PATHS.has(req.path)) return next();
    authn
      .authenticate(req)
      .then(
        async (caller) => {
          // Audit begins with the authenticated caller; the impersonated user is added to it.
          auditExchange(recorder, { req, res, caller });
          const audit = auditOf(res);
          const user = await actingUser(caller, req.headers, mayImpersonate(authz));
          if (user !== caller) auditSafely(audit, (a) => a.setImpersonatedUser(auditUser(user)));
          res.locals['user'] = user;
          // Resource paths are authorized once parsed (below); every other path here.
          if (!req.path.startsWith('/api/v1/') && !/^\/apis\/[^/]+\/[^/]+\//.test(req.path))
            authorizePath(authz, user, { method: req.method, path: req.path, audit });
          next();
        },
        (err: unknown) => {
          // A refused caller (401) is audited too, without a name.
          auditExchange(recorder, { req, res });
          throw err;
        },
      )
      .catch((err: unknown) => sendError(res, toApiError(err)));
  });

  // In-flight limits (after authentication, before authorization, as in Kubernetes).
  routes.use((req: Request, res: Response, next: NextFunction) => {
    if (PUBLIC_PATHS.has(req.path) || longRunning(req)) return next();
    const user = authenticatedUser(res);
    try {
      res.once('close', ctx.limits.admitRequest(req.method, user?.groups ?? []));
    } catch (err) {
      sendError(res, toApiError(err));
      return;
    }
    next();
  });

  for (const path of ['/healthz', '/livez']) {
    routes.get(path, (_req, res) => {
      res.type('text/plain').send('ok');
    });
  }
  routes.get('/readyz', (_req, res) => {
    const { code, body } = readiness.readyz();
    res.status(code).type('text/plain').send(body);
  });
  routes.get('/version', (_req, res) => sendJson(res, { code: 200, body: SERVER_VERSION }));
  routes.get('/metrics', async (_req, res) => {
    res.type(metrics.contentType).send(await metrics.metrics());
  });

  routes.get(['/api', '/api/'], (req, res) => {
    const agg = acceptsAggregated(req.headers.accept);
    const address = `${config.advertiseAddress}:${req.socket.localPort ?? config.securePort}`;
    const body = agg ? aggregatedDiscovery('api', agg) : apiVersions(address);
    sendJson(res, { code: 200, body, contentType: agg ? aggregatedContentType(agg) : undefined });
  });
  routes.get(['/apis', '/apis/'], (req, res) => {
    const agg = acceptsAggregated(req.headers.accept);
    const body = agg ? aggregatedDiscovery('apis', agg) : apiGroupList();
    sendJson(res, { code: 200, body, contentType: agg ? aggregatedContentType(agg) : undefined });
  });
  routes.get('/api/:version', (req, res, next) => {
    const list = apiResourceList('', req.params['version'] ?? '');
    if (list) sendJson(res, { code: 200, body: list });
    else next();
  });
  routes.get('/apis/:group', (req, res, next) => {
    const group = apiGroup(req.params['group'] ?? '');
    if (group) sendJson(res, { code: 200, body: group });
    else next();
  });
  routes.get('/apis/:group/:version', (req, res, next) => {
    const list = apiResourceList(req.params['group'] ?? '', req.params['version'] ?? '');
    if (list) sendJson(res, { code: 200, body: list });
    else next();
  });

  if (discovery?.enabled === true) serveIssuerDiscovery(routes, discovery.documents);

  serveOpenApi(routes);

  routes.use(async (req: Request, res: Response) => {
    const started = process.hrtime.bigint();
    let verb = 'unknown';
    let resource = '';
    try {
      const info = parseResourceRequest(req.method, req.path, req.query);
      if (info === undefined) throw new ApiError('NotFound', 'the server could not find the requested resource');
      verb = info.verb;
      resource = info.subresource ? `${info.resource.plural}/${info.subresource}` : info.resource.plural;
      const user = authenticatedUser(res);
      if (user === undefined) throw new ApiError('InternalError', 'the request was not authenticated');
      authorizeAudited(authz, { user, attributes: resourceAttributes(info), audit: auditOf(res) });
      if (info.subresource === 'proxy' && isProxied(info.resource.plural) && info.name !== undefined) {
        const request = { resource: info.resource.plural, namespace: info.namespace, id: info.name };
        await proxy.serve(request, { req, res }).catch((err: unknown) => {
          throw withDetails(err, { name: splitSchemeNamePort(request.id)?.name ?? request.id, kind: request.resource });
        });
        return;
      }
      if (MetricsApi.claims(info)) {
        const url = new URL(req.originalUrl, 'https://localhost');
        return sendJson(res, { code: 200, body: await metricsApi.serve(info, url.searchParams) });
      }
      await handleResource(ctx, { req, res, user }, info);
    } catch (err) {
      sendError(res, toApiError(err));
    } finally {
      requests.inc({ verb, resource, code: String(res.statusCode) });
      if (verb !== 'watch') latency.observe({ verb, resource }, Number(process.hrtime.bigint() - started) / 1e9);
    }
  });
  app.use(answeringRoutingErrors(routes));
  return app;
}

/**
 * Websocket upgrades: watches (the list path with `watch=true`) and pods/exec|attach,
 * which are relayed to the pod's node agent; pods/portforward (websocket or SPDY/3.1).
 */
function attachWebSocketWatch(
  server: https.Server,
  ctx: HandlerContext,
  gates: Gatekeepers & { proxy: ProxySubresource },
): void {
  const { authn, authz, recorder } = gates;
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  server.on('upgrade', (req, socket: Duplex, head: Buffer) => {
    // The upgrade's audit: begun after authentication, completed when the socket closes.
    let audit: RequestAudit | undefined;
    let code = 101;
    socket.once('close', () => auditSafely(audit, (a) => a.complete(code)));
    const refuse = (err: ApiError): void => {
      code = err.code;
      auditSafely(audit, (a) => a.logResponseObject(err.toStatus()));
      const body = JSON.stringify(err.toStatus());
      const retry =
        err.details?.retryAfterSeconds !== undefined ? `Retry-After: ${err.details.retryAfterSeconds}\r\n` : '';
      socket.end(
        `HTTP/1.1 ${err.code} ${err.reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${retry}Connection: close\r\n\r\n${body}`,
      );
    };
    const handle = async (): Promise<void> => {
      // ws answers a malformed handshake in plain text; answer it with a Status instead.
      // SPDY/3.1: port-forward (its relay checks that handshake), and kubectl's fallback after
      // a failed websocket exec/attach, answered below.
      const spdy = isSpdyUpgrade(req);
      if (!spdy) checkWebSocketHandshake(req);
      const caller = await authn.authenticate(req).catch((err: unknown) => {
        audit = beginAudit(recorder, req, undefined).audit;
        throw err;
      });
      audit = beginAudit(recorder, req, caller).audit;
      const user = await actingUser(caller, req.headers, mayImpersonate(authz));
      if (user !== caller) auditSafely(audit, (a) => a.setImpersonatedUser(auditUser(user)));
      const url = new URL(req.url ?? '/', 'https://localhost');
      const query = queryOf(url);
      const info = parseResourceRequest('GET', url.pathname, query);
      checkBooleanParams(query);
      if (info !== undefined) authorizeAudited(authz, { user, attributes: resourceAttributes(info), audit });
      else authorizePath(authz, user, { method: 'GET', path: url.pathname, audit });
      if (info?.subresource === 'portforward' && info.name !== undefined) {
        const request = { namespace: info.namespace ?? '', podName: info.name, query: url.searchParams };
        const name = info.name;
        ctx.kubelets
          .portForward({ req, socket, head }, request)
          .catch((err: unknown) => refuse(withDetails(err, { name, kind: 'pods' })));
        return;
      }
      if (info?.subresource === 'proxy' && isProxied(info.resource.plural) && info.name !== undefined) {
        const request = { resource: info.resource.plural, namespace: info.namespace, id: info.name };
        const name = splitSchemeNamePort(info.name)?.name ?? info.name;
        gates.proxy
          .upgrade({ req, socket, head }, request)
          .catch((err: unknown) => refuse(withDetails(err, { name, kind: request.resource })));
        return;
      }
      if (
        info !== undefined &&
        (info.subresource === 'exec' || info.subresource === 'attach') &&
        info.name !== undefined
      ) {
        ctx.kubelets
          .upgrade(
            { req, socket, head },
            {
              namespace: info.namespace ?? '',
              podName: info.name,
              subresource: info.subresource,
              query: url.searchParams,
            },
          )
          .catch((err: unknown) => refuse(withDetails(err, { name: info.name ?? '', kind: 'pods' })));
        return;
      }
      if (spdy) throw new ApiError('BadRequest', 'SPDY upgrades are served for port-forward, exec and attach only');
      if (info === undefined || info.verb !== 'watch')
        throw new ApiError('BadRequest', 'websocket upgrades are served for watches, exec and attach only');
      const rv = resourceVersionParam(query);
      const params = {
        ...selectors(query),
        namespace: info.namespace,
        timeoutSeconds: timeoutSecondsParam(query),
        allowWatchBookmarks: boolParam(query, 'allowWatchBookmarks'),
        render: (o: unknown) => o,
        ...(rv !== undefined ? { resourceVersion: String(rv) } : {}),
      };
      const release = ctx.limits.admitWatch(user.name, user.groups);
      socket.once('close', release);
      wss.handleUpgrade(req, socket, head, (ws) => {
        auditSafely(audit, (a) => a.responseStarted(101));
        ws.once('close', release);
        void serveWebSocketWatch({ store: ctx.store, r: info.resource, settings: ctx.watch }, params, ws);
      });
    };
    handle().catch((err: unknown) => refuse(toApiError(err)));
  });
}

function isProxied(plural: string): plural is 'pods' | 'services' | 'nodes' {
  return plural === 'pods' || plural === 'services' || plural === 'nodes';
}

/** Whether the TLS layer verified the peer (exported for tests of the refusal path). */
export function peerVerified(socket: TLSSocket): boolean {
  return socket.authorized;
}
