// One identity per controller (kube-controller-manager's --use-service-account-credentials):
// the controller-manager's own client makes sure ServiceAccount kube-system/<name> exists,
// asks the TokenRequest API for its token and hands the controller a client that sends it,
// refreshed at 80 % of its life. An apiserver that issues no tokens gets one log line and
// the controllers share the process's own client.

import { isObject, type KubeObject } from '../api/meta.js';
import { RESOURCES } from '../api/registry.js';
import { RestClient } from '../client/index.js';
import { sleep } from '../component/index.js';
import { ApiError, errorMessage } from '../errors/index.js';
import type { ControllerName } from './index.js';

/**
 * The ServiceAccount each controller runs as, by Kubernetes' names (nodeipam shares
 * node-controller and both CSR controllers certificate-controller, as in kube-controller-manager).
 */
export const SERVICE_ACCOUNT_OF: Record<ControllerName, string> = {
  namespace: 'namespace-controller',
  replicaset: 'replicaset-controller',
  replicationcontroller: 'replication-controller',
  deployment: 'deployment-controller',
  daemonset: 'daemon-set-controller',
  statefulset: 'statefulset-controller',
  job: 'job-controller',
  cronjob: 'cronjob-controller',
  endpoints: 'endpoint-controller',
  endpointslice: 'endpointslice-controller',
  serviceaccount: 'service-account-controller',
  nodelifecycle: 'node-controller',
  garbagecollector: 'generic-garbage-collector',
  podgc: 'pod-garbage-collector',
  bootstrapsigner: 'bootstrap-signer',
  tokencleaner: 'token-cleaner',
  csrapproving: 'certificate-controller',
  csrsigning: 'certificate-controller',
  nodeipam: 'node-controller',
  'clusterrole-aggregation': 'clusterrole-aggregation-controller',
  'root-ca-cert-publisher': 'root-ca-cert-publisher',
  'persistentvolume-binder': 'persistent-volume-binder',
  disruption: 'disruption-controller',
  servicelb: 'service-controller',
  resourcequota: 'resourcequota-controller',
  horizontalpodautoscaling: 'horizontal-pod-autoscaler',
};

export const CREDENTIALS_NAMESPACE = 'kube-system';
const TOKEN_SECONDS = 3600;
/** How long to wait before asking again when a refresh failed (the held token still serves). */
const RETRY_MS = 10_000;

/** Time and timers, so tests can drive the refresh with a fake clock. */
export interface CredentialsClock {
  now(): number;
  /** Calls `fn` after `ms`; the returned function cancels it. */
  after(ms: number, fn: () => void): () => void;
}

export const realClock: CredentialsClock = {
  now: () => Date.now(),
  after(ms, fn) {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return () => clearTimeout(timer);
  },
};

export interface CredentialsOptions {
  /** The controller-manager's own client: creates the ServiceAccounts and requests their tokens. */
  client: RestClient;
  log: (msg: string) => void;
  clock?: CredentialsClock;
  /** The lifetime asked for each token (default 1 h). */
  expirationSeconds?: number;
  /** Builds a controller's client from its config (tests pass a fake). */
  newClient?: (config: RestClient['config']) => RestClient;
}

interface IssuedToken {
  token: string;
  /** When 80 % of its life has passed. */
  refreshAtMs: number;
}

/** True when the apiserver has no TokenRequest API (no service-account signing key). */
function tokensUnsupported(err: unknown): boolean {
  return err instanceof ApiError && (err.code === 404 || err.code === 405);
}

export class ControllerCredentials {
  private readonly clock: CredentialsClock;
  private readonly seconds: number;
  private readonly clients = new Map<string, RestClient>();
  private readonly pending = new Set<() => void>();
  private unsupported = false;
  private closed = false;

  constructor(private readonly opts: CredentialsOptions) {
    this.clock = opts.clock ?? realClock;
    this.seconds = opts.expirationSeconds ?? TOKEN_SECONDS;
  }

  /**
   * The client of ServiceAccount kube-system/`account`; the shared client when the apiserver
   * issues no tokens. Throws other failures (the caller retries in its next term).
   */
  async clientFor(account: string): Promise<RestClient> {
    const known = this.clients.get(account);
    if (known !== undefined) return known;
    if (this.unsupported) return this.opts.client;
    await this.ensureServiceAccount(account);
    let issued: IssuedToken;
    try {
      issued = await this.requestToken(account);
    } catch (err) {
      if (!tokensUnsupported(err)) throw err;
      if (!this.unsupported)
        this.opts.log(
          `--use-service-account-credentials: the apiserver issues no ServiceAccount tokens (TokenRequest answered ${err instanceof ApiError ? err.code : '?'}); controllers use the controller-manager's own credentials`,
        );
      this.unsupported = true;
      return this.opts.client;
    }
    const { caPem, server, namespace } = this.opts.client.config;
    const config = {
      server,
      caPem,
      namespace,
      certPem: undefined,
      keyPem: undefined,
      token: issued.token,
      userName: `system:serviceaccount:${CREDENTIALS_NAMESPACE}:${account}`,
    };
    // The shared client's apiservers (and which one is current): a failover moves every controller.
    const client = this.opts.newClient?.(config) ?? new RestClient(config, { apiservers: this.opts.client.apiservers });
    this.clients.set(account, client);
    this.scheduleRefresh(account, client, issued.refreshAtMs);
    return client;
  }

  /** clientFor, asked again every 2 s (saying why) until it answers or `signal` aborts. */
  async clientWhenReady(account: string, signal: AbortSignal): Promise<RestClient> {
    for (;;) {
      try {
        return await this.clientFor(account);
      } catch (err) {
        if (signal.aborted) throw err;
        this.opts.log(
          `credentials of ServiceAccount ${CREDENTIALS_NAMESPACE}/${account}: ${errorMessage(err)}; retrying`,
        );
        await sleep(2_000, signal);
      }
    }
  }

  /** Stops refreshing and closes the per-controller clients (not the shared one). */
  close(): void {
    this.closed = true;
    for (const cancel of this.pending) cancel();
    this.pending.clear();
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }

  private scheduleRefresh(account: string, client: RestClient, atMs: number): void {
    if (this.closed) return;
    const cancel = this.clock.after(Math.max(0, atMs - this.clock.now()), () => {
      this.pending.delete(cancel);
      void this.refresh(account, client);
    });
    this.pending.add(cancel);
  }

  private async refresh(account: string, client: RestClient): Promise<void> {
    if (this.closed) return;
    try {
      const issued = await this.requestToken(account);
      if (this.closed) return;
      client.setToken(issued.token);
      this.scheduleRefresh(account, client, issued.refreshAtMs);
    } catch (err) {
      this.opts.log(`refreshing the token of ServiceAccount ${CREDENTIALS_NAMESPACE}/${account}: ${errorMessage(err)}`);
      this.scheduleRefresh(account, client, this.clock.now() + RETRY_MS);
    }
  }

  private async ensureServiceAccount(account: string): Promise<void> {
    const client = this.opts.client;
    try {
      await client.get(RESOURCES.serviceaccounts, account, { namespace: CREDENTIALS_NAMESPACE });
      return;
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 404)) throw err;
    }
    const body = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: account } };
    try {
      await client.create(RESOURCES.serviceaccounts, body, { namespace: CREDENTIALS_NAMESPACE });
    } catch (err) {
      // Another controller-manager (or the term before) made it first.
      if (!(err instanceof ApiError && err.code === 409)) throw err;
    }
  }

  private async requestToken(account: string): Promise<IssuedToken> {
    const startedMs = this.clock.now();
    const reply: KubeObject = await this.opts.client.createSubresource(RESOURCES.serviceaccounts, account, {
      subresource: 'token',
      namespace: CREDENTIALS_NAMESPACE,
      body: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { audiences: [], expirationSeconds: this.seconds },
      },
    });
    const status: unknown = reply['status'];
    const token = isObject(status) ? status['token'] : undefined;
    if (typeof token !== 'string' || token === '')
      throw new Error(`TokenRequest for ${CREDENTIALS_NAMESPACE}/${account}: the reply has no token`);
    const expiry = isObject(status) ? status['expirationTimestamp'] : undefined;
    const expiresMs = typeof expiry === 'string' ? Date.parse(expiry) : Number.NaN;
    // The life the apiserver granted (it may shorten the request); what was asked if it says nothing.
    const lifeMs = Number.isFinite(expiresMs) && expiresMs > startedMs ? expiresMs - startedMs : this.seconds * 1000;
    return { token, refreshAtMs: startedMs + Math.floor(lifeMs * 0.8) };
  }
}
