// Authentication: who is calling. In order, as the Kubernetes apiserver does:
// 1. a client certificate the TLS layer verified against the cluster CA (CN = user, O = groups);
// 2. `Authorization: Bearer <jwt>`, a ServiceAccount token (pkg/serviceaccount checks its
//    signature, issuer, audience, lifetime and the objects it is bound to);
// 3. `Authorization: Bearer <id>.<secret>`, a bootstrap token (a Secret
//    `kube-system/bootstrap-token-<id>`), used by joining nodes only;
//    The bearer token may also come in a websocket subprotocol (websocket-bearer.ts), for browsers;
// 4. nothing at all: the anonymous user, who may read only what RBAC grants it.
// A certificate from another CA, or a bearer token that does not check out, is 401.

import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { timingSafeEqual } from 'node:crypto';
import { ApiError } from '../errors/index.js';
import type { KubeObject } from '../api/meta.js';
import { BOOTSTRAP_TOKEN_PATTERN, bootstrapTokenSecretName, parseBootstrapTokenSecret } from '../bootstrap/index.js';
import type { TokenVerifier } from '../serviceaccount/index.js';
import { takeWebSocketBearer } from './websocket-bearer.js';

export interface UserInfo {
  name: string;
  groups: string[];
  uid?: string;
  extra?: Record<string, string[]>;
}

/** Whether a request came over TLS (its socket can show the peer's certificate). */
function isTlsSocket(socket: IncomingMessage['socket']): socket is TLSSocket {
  return 'getPeerCertificate' in socket && typeof socket.getPeerCertificate === 'function';
}

/** What a connection's client certificate says: a user, a refusal, or nothing presented. */
type CertificateIdentity = UserInfo | 'refused' | undefined;

/**
 * Per TLS connection, the identity its certificate gave, and the handshake it came from. Reading
 * the peer certificate builds it anew on every call (a tenth of a create's CPU); it can only
 * change with a new handshake, whose Finished message differs.
 */
const certificateIdentities = new WeakMap<TLSSocket, { finished: Buffer; identity: CertificateIdentity }>();

function readCertificateIdentity(socket: TLSSocket): CertificateIdentity {
  const cert = socket.getPeerCertificate();
  const presented = cert !== null && Object.keys(cert).length > 0;
  if (!presented) return undefined;
  if (!socket.authorized) return 'refused';
  const cn = cert.subject?.CN;
  const name = Array.isArray(cn) ? cn[0] : cn;
  if (name === undefined || name === '') return 'refused';
  return { name, groups: [...asList(cert.subject.O), 'system:authenticated'] };
}

function certificateIdentity(socket: TLSSocket): CertificateIdentity {
  const finished = socket.getFinished();
  if (finished === undefined) return readCertificateIdentity(socket);
  const known = certificateIdentities.get(socket);
  if (known !== undefined && known.finished.equals(finished)) return known.identity;
  const identity = readCertificateIdentity(socket);
  certificateIdentities.set(socket, { finished, identity });
  return identity;
}

export const ANONYMOUS: UserInfo = { name: 'system:anonymous', groups: ['system:unauthenticated'] };

export function isAnonymous(user: UserInfo): boolean {
  return user.name === ANONYMOUS.name;
}

function asList(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/** Reads a Secret from kube-system (undefined when absent). */
export type SecretLookup = (name: string) => Promise<KubeObject | undefined>;

export interface AuthenticatorOptions {
  secrets: SecretLookup;
  now?: () => Date;
  /** ServiceAccount tokens; without it bearer tokens are bootstrap tokens only. */
  serviceAccountTokens?: TokenVerifier;
}

export class Authenticator {
  private readonly secrets: SecretLookup;
  private readonly now: () => Date;
  private readonly tokens: TokenVerifier | undefined;

  constructor(opts: AuthenticatorOptions) {
    this.secrets = opts.secrets;
    this.now = opts.now ?? ((): Date => new Date());
    this.tokens = opts.serviceAccountTokens;
  }

  /** The caller's identity, or a 401 ApiError. */
  async authenticate(req: IncomingMessage): Promise<UserInfo> {
    const socket = req.socket;
    if (isTlsSocket(socket)) {
      const fromCert = certificateIdentity(socket);
      if (fromCert === 'refused') throw new ApiError('Unauthorized', 'Unauthorized');
      if (fromCert !== undefined) return { name: fromCert.name, groups: [...fromCert.groups] };
    }
    // Taken out of the offered subprotocols first, whoever the caller turns out to be.
    const fromProtocol = takeWebSocketBearer(req);
    const auth = req.headers.authorization;
    if (auth !== undefined || fromProtocol !== undefined) {
      const m = auth === undefined ? undefined : /^Bearer\s+(\S+)$/i.exec(auth);
      if (m === null) throw new ApiError('Unauthorized', 'Unauthorized');
      const token = m?.[1] ?? fromProtocol ?? '';
      if (this.tokens !== undefined) {
        const verified = await this.tokens.verify(token);
        if (verified.ok) return verified.token.user;
        if (!verified.foreign) throw new ApiError('Unauthorized', 'Unauthorized');
      }
      return this.bootstrapUser(token);
    }
    return ANONYMOUS;
  }

  private async bootstrapUser(token: string): Promise<UserInfo> {
    const m = BOOTSTRAP_TOKEN_PATTERN.exec(token);
    if (m === null) throw new ApiError('Unauthorized', 'Unauthorized');
    const [, id = '', secret = ''] = m;
    const obj = await this.secrets(bootstrapTokenSecretName(id));
    const parsed = obj === undefined ? undefined : parseBootstrapTokenSecret(obj);
    const ok =
      parsed !== undefined &&
      parsed.usages.includes('authentication') &&
      !parsed.deleting &&
      (parsed.expiration === undefined || parsed.expiration.getTime() > this.now().getTime()) &&
      parsed.secret.length === secret.length &&
      timingSafeEqual(Buffer.from(parsed.secret), Buffer.from(secret));
    if (!ok || parsed === undefined) throw new ApiError('Unauthorized', 'Unauthorized');
    return {
      name: `system:bootstrap:${id}`,
      groups: ['system:bootstrappers', ...parsed.extraGroups, 'system:authenticated'],
    };
  }
}
