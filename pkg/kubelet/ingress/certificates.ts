// TLS for the ingress proxy: SNI chooses the certificate of the Ingress TLS entry whose hosts
// match the requested name (exact first, then `*.` one label deep), from the Secret it names
// (`tls.crt`, `tls.key`); anything else gets a self-signed fallback, as ingress controllers do.
// Secrets are read one by one (the node authorizer allows `get` of exactly the Secrets an
// Ingress names), refreshed on every Ingress change and periodically.

import { createSecureContext, type SecureContext } from 'node:tls';
import type { Ingress, Secret } from '../../api/index.js';
import { errorMessage, isNotFound } from '../../errors/index.js';
import { createCA, type KeyPairPem } from '../../pki/index.js';

/** The subject of the fallback certificate (ingress-nginx says "Kubernetes Ingress Controller Fake Certificate"). */
export const FALLBACK_SUBJECT = 'Coxswain Ingress Fake Certificate';

/** Which Secret (`namespace/name`) serves which host pattern, oldest Ingress first. */
export function tlsHosts(ingresses: readonly Readonly<Ingress>[]): Map<string, string> {
  const byHost = new Map<string, string>();
  for (const ing of ingresses) {
    const namespace = ing.metadata.namespace ?? 'default';
    for (const tls of ing.spec?.tls ?? []) {
      if (tls.secretName === undefined || tls.secretName === '') continue;
      for (const host of tls.hosts ?? []) {
        const h = host.toLowerCase();
        if (!byHost.has(h)) byHost.set(h, `${namespace}/${tls.secretName}`);
      }
    }
  }
  return byHost;
}

/** The Secret for a server name: an exact host entry, else a `*.` entry one label up. */
export function secretForName(byHost: ReadonlyMap<string, string>, servername: string): string | undefined {
  const name = servername.toLowerCase();
  const exact = byHost.get(name);
  if (exact !== undefined) return exact;
  const dot = name.indexOf('.');
  return dot > 0 ? byHost.get(`*${name.slice(dot)}`) : undefined;
}

function decoded(secret: Readonly<Secret>, key: string): string | undefined {
  const v = secret.data?.[key];
  return v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8');
}

/** Reads one Secret (the agent's client; a fake in tests). */
export type SecretGetter = (namespace: string, name: string) => Promise<Secret>;

interface Loaded {
  resourceVersion: string;
  context: SecureContext;
}

export class IngressCertificates {
  private byHost = new Map<string, string>();
  private readonly loaded = new Map<string, Loaded>();
  private constructor(
    private readonly getSecret: SecretGetter,
    private readonly fallback: SecureContext,
    private readonly log: (m: string) => void,
  ) {}

  static async create(getSecret: SecretGetter, log: (m: string) => void): Promise<IngressCertificates> {
    const pair: KeyPairPem = await createCA(FALLBACK_SUBJECT);
    return new IngressCertificates(getSecret, createSecureContext({ cert: pair.certPem, key: pair.keyPem }), log);
  }

  /** The context for an SNI name (the fallback without a name or a loaded Secret). */
  contextFor(servername: string | undefined): SecureContext {
    const secret = servername === undefined ? undefined : secretForName(this.byHost, servername);
    return (secret === undefined ? undefined : this.loaded.get(secret)?.context) ?? this.fallback;
  }

  /** Takes the Ingresses' TLS entries and (re)loads the Secrets they name. */
  async refresh(ingresses: readonly Readonly<Ingress>[]): Promise<void> {
    this.byHost = tlsHosts(ingresses);
    const wanted = new Set(this.byHost.values());
    for (const key of this.loaded.keys()) if (!wanted.has(key)) this.loaded.delete(key);
    for (const key of wanted) await this.load(key);
  }

  private async load(key: string): Promise<void> {
    const [namespace = '', name = ''] = key.split('/');
    try {
      const secret = await this.getSecret(namespace, name);
      const rv = secret.metadata.resourceVersion ?? '';
      if (this.loaded.get(key)?.resourceVersion === rv) return;
      const cert = decoded(secret, 'tls.crt');
      const privateKey = decoded(secret, 'tls.key');
      if (cert === undefined || privateKey === undefined) throw new Error('it has no tls.crt and tls.key');
      this.loaded.set(key, { resourceVersion: rv, context: createSecureContext({ cert, key: privateKey }) });
    } catch (err) {
      this.loaded.delete(key);
      if (!isNotFound(err)) this.log(`ingress: TLS secret ${key}: ${errorMessage(err)}`);
    }
  }
}
