// The apiserver's side of a component's secure port (pkg/component/metrics-server.ts): who a
// bearer token belongs to and whether a user may get a path, both asked of the apiserver, and
// the throwaway serving certificate made when none is given.

import { isObject } from '../api/index.js';
import { RESOURCES } from '../api/registry.js';
import type { Registry } from 'prom-client';
import type { Logger } from '../component/log.js';
import {
  DelegatedAuth,
  startMetricsServer,
  type AccessReviewer,
  type CallerIdentity,
  type SecureServingConfig,
} from '../component/metrics-server.js';
import { isForbidden, isUnauthorized } from '../errors/index.js';
import { createCA, issueCertificate } from '../pki/index.js';
import type { ClientConfig } from './kubeconfig.js';
import { RestClient } from './rest-client.js';

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/**
 * Kubernetes asks with a TokenReview; this apiserver has no TokenReview, so the token itself
 * asks "who am I" (SelfSubjectReview): the same authenticator answers, and a token it
 * rejects gets 401 either way.
 */
async function tokenUser(config: ClientConfig, token: string): Promise<CallerIdentity | undefined> {
  const asToken = new RestClient({ ...config, certPem: undefined, keyPem: undefined, token });
  try {
    const review = await asToken.create(RESOURCES.selfsubjectreviews, {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'SelfSubjectReview',
    });
    const status = review['status'];
    const info = isObject(status) ? status['userInfo'] : undefined;
    const username = isObject(info) ? info['username'] : undefined;
    if (!isObject(info) || typeof username !== 'string' || username === '') return undefined;
    return { username, groups: strings(info['groups']) };
  } catch (err) {
    // Unknown token, or one whose user may not even ask who it is: not authenticated here.
    if (isUnauthorized(err) || isForbidden(err)) return undefined;
    throw err;
  } finally {
    asToken.close();
  }
}

/** Reviews through the apiserver: `client` (the component's own identity) creates the SubjectAccessReviews. */
export function apiserverReviewer(client: RestClient, config: ClientConfig): AccessReviewer {
  return {
    authenticate: (token) => tokenUser(config, token),
    async authorize(user, path) {
      const review = await client.create(RESOURCES.subjectaccessreviews, {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: { user: user.username, groups: user.groups, nonResourceAttributes: { path, verb: 'get' } },
      });
      const status = review['status'];
      return isObject(status) && status['allowed'] === true;
    },
  };
}

/** A serving certificate for `name` on loopback and `bindAddress`, from a CA thrown away at once. */
export async function selfSignedServing(
  name: string,
  bindAddress: string,
): Promise<{ certPem: string; keyPem: string }> {
  const ca = await createCA(`${name}-ca@${Math.floor(Date.now() / 1000)}`);
  const ips = [...new Set(['127.0.0.1', ...(bindAddress === '0.0.0.0' || bindAddress === '::' ? [] : [bindAddress])])];
  return issueCertificate(ca, {
    commonName: name,
    dnsNames: ['localhost', name],
    ipAddresses: ips,
    usages: ['server'],
  });
}

export interface ComponentServingOptions {
  /** kube-scheduler, kube-controller-manager: the certificate's name. */
  name: string;
  serving: SecureServingConfig;
  client: RestClient;
  clientConfig: ClientConfig;
  registry: Registry;
  log: Logger;
}

/** Serves /metrics and /healthz until `signal` aborts (a port that cannot be had is logged, not fatal). */
export async function serveComponentMetrics(opts: ComponentServingOptions, signal: AbortSignal): Promise<void> {
  const server = await startMetricsServer({
    config: opts.serving,
    registry: opts.registry,
    auth: new DelegatedAuth(apiserverReviewer(opts.client, opts.clientConfig)),
    selfSigned: () => selfSignedServing(opts.name, opts.serving.bindAddress),
    defaultClientCaPem: opts.clientConfig.caPem,
    log: opts.log,
  });
  if (server === undefined) return;
  const close = (): void => {
    server.close();
    server.closeAllConnections();
  };
  if (signal.aborted) close();
  else signal.addEventListener('abort', close, { once: true });
}
