// The secure serving port of the scheduler (10259) and the controller-manager (10257), as
// kube-scheduler and kube-controller-manager have it: HTTPS with a serving certificate made at
// start unless one is given, `/healthz` for anyone, `/metrics` (Prometheus text) only for a
// caller the apiserver vouches for. Authentication and authorization are delegated: a client
// certificate signed by the client CA, or a bearer token the apiserver authenticates, then a
// SubjectAccessReview for `get` on the path. Answers are cached briefly so a scraper costs no
// API call per scrape.

import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TLSSocket } from 'node:tls';
import { Gauge, type Registry } from 'prom-client';
import { ConfigError } from './exit.js';
import type { Logger } from './log.js';

export const SCHEDULER_SECURE_PORT = 10259;
export const CONTROLLER_MANAGER_SECURE_PORT = 10257;

/** Who a caller is, as the apiserver names users. */
export interface CallerIdentity {
  username: string;
  groups: string[];
}

/** What the server asks the apiserver (the real one delegates; tests pass a fake). */
export interface AccessReviewer {
  /** The user of a bearer token; undefined when the apiserver does not accept it. */
  authenticate(token: string): Promise<CallerIdentity | undefined>;
  /** May `user` get the non-resource `path`? */
  authorize(user: CallerIdentity, path: string): Promise<boolean>;
}

export type AccessDecision =
  { allowed: true; user: CallerIdentity } | { allowed: false; code: 401 | 403; message: string };

/** The answer of a review, kept for a little while (Kubernetes' delegating authn/authz caches for 10 s). */
const CACHE_TTL_MS = 10_000;
/** Bounded: a flood of distinct tokens must not grow the process. */
const CACHE_MAX = 1024;

class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; expires: number }>();

  get(key: string, now: number): V | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    if (e.expires <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  set(key: string, value: V, now: number): void {
    if (this.entries.size >= CACHE_MAX) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { value, expires: now + CACHE_TTL_MS });
  }
}

/** The authentication and authorization of one request, from its credentials; answers cached per credential. */
export class DelegatedAuth {
  private readonly tokens = new TtlCache<{ user: CallerIdentity | undefined }>();
  private readonly decisions = new TtlCache<boolean>();

  constructor(
    private readonly reviewer: AccessReviewer,
    private readonly now: () => number = Date.now,
  ) {}

  async decide(
    credentials: { certificateUser?: CallerIdentity; bearerToken?: string },
    path: string,
  ): Promise<AccessDecision> {
    const user = credentials.certificateUser ?? (await this.tokenUser(credentials.bearerToken));
    if (user === undefined) return { allowed: false, code: 401, message: 'Unauthorized' };
    const key = JSON.stringify([user.username, [...user.groups].sort(), path]);
    let allowed = this.decisions.get(key, this.now());
    if (allowed === undefined) {
      allowed = await this.reviewer.authorize(user, path);
      this.decisions.set(key, allowed, this.now());
    }
    if (allowed) return { allowed, user };
    return {
      allowed: false,
      code: 403,
      message: `forbidden: User "${user.username}" cannot get path "${path}"`,
    };
  }

  private async tokenUser(token: string | undefined): Promise<CallerIdentity | undefined> {
    if (token === undefined || token === '') return undefined;
    const now = this.now();
    const cached = this.tokens.get(token, now);
    if (cached !== undefined) return cached.user;
    const user = await this.reviewer.authenticate(token);
    // A rejected token is remembered too: repeating it must not cost an API call each time.
    this.tokens.set(token, { user }, now);
    return user;
  }
}

/** The user of a verified client certificate: CN is the name, each O a group (as the apiserver reads it). */
export function certificateIdentity(socket: TLSSocket): CallerIdentity | undefined {
  if (!socket.authorized) return undefined;
  const subject = socket.getPeerCertificate().subject;
  const cn = subject.CN;
  const org = subject.O;
  const username = Array.isArray(cn) ? cn[0] : cn;
  if (username === undefined || username === '') return undefined;
  const groups = org === undefined ? [] : Array.isArray(org) ? org : [org];
  return { username, groups: [...groups, 'system:authenticated'] };
}

function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

function sendStatus(res: ServerResponse, code: number, message: string): void {
  const reason =
    code === 401 ? 'Unauthorized' : code === 403 ? 'Forbidden' : code === 404 ? 'NotFound' : 'MethodNotAllowed';
  res.writeHead(code, { 'Content-Type': 'application/json' });
  res.end(
    JSON.stringify({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message,
      reason,
      details: {},
      code,
    }),
  );
}

export interface SecureServingFlags {
  securePort?: string;
  bindAddress?: string;
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  clientCaFile?: string;
}

export interface SecureServingConfig {
  port: number;
  bindAddress: string;
  /** Given serving certificate; undefined: a self-signed one is made at start. */
  tls: { certPem: string; keyPem: string } | undefined;
  /** --client-ca-file; undefined: the CA of the component's kubeconfig. */
  clientCaPem: string | undefined;
}

/** Checks the serving flags; `defaultPort` is the component's (10259, 10257). */
export function secureServingConfig(flags: SecureServingFlags, defaultPort: number): SecureServingConfig {
  const port = flags.securePort === undefined ? defaultPort : Number(flags.securePort);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new ConfigError(`--secure-port: "${flags.securePort ?? ''}" is not a port (1-65535)`);
  if ((flags.tlsCertFile === undefined) !== (flags.tlsPrivateKeyFile === undefined))
    throw new ConfigError('--tls-cert-file and --tls-private-key-file go together');
  const read = (flag: string, file: string): string => {
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`${flag}: cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  return {
    port,
    bindAddress: flags.bindAddress ?? '127.0.0.1',
    tls:
      flags.tlsCertFile === undefined || flags.tlsPrivateKeyFile === undefined
        ? undefined
        : {
            certPem: read('--tls-cert-file', flags.tlsCertFile),
            keyPem: read('--tls-private-key-file', flags.tlsPrivateKeyFile),
          },
    clientCaPem: flags.clientCaFile === undefined ? undefined : read('--client-ca-file', flags.clientCaFile),
  };
}

/** commander options for the serving flags, shared by both commands. */
export const SECURE_SERVING_OPTIONS: readonly [flag: string, help: string][] = [
  ['--secure-port <port>', 'HTTPS port of /metrics and /healthz'],
  ['--bind-address <ip>', 'address the secure port listens on (default: 127.0.0.1)'],
  ['--tls-cert-file <file>', 'serving certificate (default: a self-signed one made at start)'],
  ['--tls-private-key-file <file>', 'key of --tls-cert-file'],
  ['--client-ca-file <file>', "CA of accepted client certificates (default: the kubeconfig's CA)"],
];

export interface MetricsServerOptions {
  config: SecureServingConfig;
  registry: Registry;
  auth: DelegatedAuth;
  /** The serving certificate when none was given (made by the caller: pkg/pki sits above this package). */
  selfSigned: () => Promise<{ certPem: string; keyPem: string }>;
  /** Client CA when --client-ca-file is not given. */
  defaultClientCaPem: string | undefined;
  log: Logger;
}

/**
 * Starts the secure server; resolves once it listens, or logs why not and resolves undefined
 * (a taken port must not stop the scheduler or the controllers).
 */
export async function startMetricsServer(opts: MetricsServerOptions): Promise<Server | undefined> {
  const { config, registry, auth, log } = opts;
  const tls = config.tls ?? (await opts.selfSigned());
  const ca = config.clientCaPem ?? opts.defaultClientCaPem;
  const server = createServer(
    {
      cert: tls.certPem,
      key: tls.keyPem,
      requestCert: true,
      rejectUnauthorized: false,
      ...(ca === undefined ? {} : { ca }),
    },
    (req, res) => {
      void serve(req, res).catch((err: unknown) => {
        log.error(`metrics request failed: ${err instanceof Error ? err.message : String(err)}`);
        if (!res.headersSent) sendStatus(res, 500, 'Internal error');
        else res.destroy();
      });
    },
  );
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'https://local').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return sendStatus(res, 405, `method ${req.method ?? ''} not allowed`);
    if (path === '/healthz' || path === '/livez' || path === '/readyz') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('ok');
      return;
    }
    if (path !== '/metrics') return sendStatus(res, 404, 'the server could not find the requested resource');
    const certificateUser = req.socket instanceof TLSSocket ? certificateIdentity(req.socket) : undefined;
    const decision = await auth.decide(
      { ...(certificateUser === undefined ? {} : { certificateUser }), ...tokenOf(req) },
      path,
    );
    if (!decision.allowed) return sendStatus(res, decision.code, decision.message);
    res.writeHead(200, { 'Content-Type': registry.contentType });
    res.end(await registry.metrics());
  };
  return new Promise((resolve) => {
    server.once('error', (err) => {
      log.error(`secure serving on ${config.bindAddress}:${config.port} failed: ${err.message}; /metrics is off`);
      resolve(undefined);
    });
    server.listen(config.port, config.bindAddress, () => {
      log.info(`serving securely on ${config.bindAddress}:${config.port}`);
      resolve(server);
    });
  });
}

function tokenOf(req: IncomingMessage): { bearerToken?: string } {
  const token = bearerToken(req);
  return token === undefined ? {} : { bearerToken: token };
}

/**
 * leader_election_master_status{name}: 1 while this process leads. Returns `lead` wrapped so
 * each term sets it (runElected's `lead`).
 */
export function leaderElectionStatus(
  registry: Registry,
  name: string,
  lead: (term: AbortSignal) => Promise<void>,
): (term: AbortSignal) => Promise<void> {
  const gauge = new Gauge({
    name: 'leader_election_master_status',
    help: '[ALPHA] Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master.',
    labelNames: ['name'],
    registers: [registry],
  });
  gauge.set({ name }, 0);
  return async (term) => {
    gauge.set({ name }, 1);
    try {
      await lead(term);
    } finally {
      gauge.set({ name }, 0);
    }
  };
}
