// Bootstrap tokens, as Kubernetes keeps them: a token `<id>.<secret>` (6 and 16 characters
// of [a-z0-9]) lives in the Secret `kube-system/bootstrap-token-<id>` of type
// `bootstrap.kubernetes.io/token`. It may authenticate a joining node and sign the public
// `kube-public/cluster-info` ConfigMap, whose `jws-kubeconfig-<id>` keys are detached JWS
// (HS256, key = the whole token) over its `kubeconfig`: a joining node that knows the token
// can tell the ConfigMap came from a cluster that knows it too.

import { randomInt } from 'node:crypto';
import { CompactSign, compactVerify } from 'jose';
import { isObject, rfc3339, type KubeObject } from '../api/index.js';

export const BOOTSTRAP_TOKEN_PATTERN = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;
export const BOOTSTRAP_TOKEN_SECRET_TYPE = 'bootstrap.kubernetes.io/token';
export const BOOTSTRAP_TOKEN_SECRET_PREFIX = 'bootstrap-token-';
/** Group every node joining with a token gets in addition to system:bootstrappers (as kubeadm). */
export const DEFAULT_NODE_TOKEN_GROUP = 'system:bootstrappers:kubeadm:default-node-token';
export const CLUSTER_INFO = { namespace: 'kube-public', name: 'cluster-info' } as const;
export const JWS_KEY_PREFIX = 'jws-kubeconfig-';
/** The signers of node certificates (client for the apiserver, serving for the agent's port). */
export const KUBELET_CLIENT_SIGNER = 'kubernetes.io/kube-apiserver-client-kubelet';
export const KUBELET_SERVING_SIGNER = 'kubernetes.io/kubelet-serving';

export function bootstrapTokenSecretName(id: string): string {
  return `${BOOTSTRAP_TOKEN_SECRET_PREFIX}${id}`;
}

export interface BootstrapToken {
  id: string;
  secret: string;
  usages: ('authentication' | 'signing')[];
  expiration: Date | undefined;
  extraGroups: string[];
  description: string;
  deleting: boolean;
}

function field(data: Record<string, unknown>, key: string): string | undefined {
  const v = data[key];
  return typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : undefined;
}

/** The token a Secret holds, or undefined when it is not a well-formed bootstrap token Secret. */
export function parseBootstrapTokenSecret(obj: KubeObject): BootstrapToken | undefined {
  if (obj['type'] !== BOOTSTRAP_TOKEN_SECRET_TYPE) return undefined;
  const data = isObject(obj['data']) ? obj['data'] : {};
  const id = field(data, 'token-id');
  const secret = field(data, 'token-secret');
  if (id === undefined || secret === undefined || !BOOTSTRAP_TOKEN_PATTERN.test(`${id}.${secret}`)) return undefined;
  if (obj.metadata.name !== bootstrapTokenSecretName(id)) return undefined;
  const exp = field(data, 'expiration');
  const expiration = exp === undefined ? undefined : new Date(exp);
  if (expiration !== undefined && Number.isNaN(expiration.getTime())) return undefined;
  const usages: BootstrapToken['usages'] = [];
  if (field(data, 'usage-bootstrap-authentication') === 'true') usages.push('authentication');
  if (field(data, 'usage-bootstrap-signing') === 'true') usages.push('signing');
  const groups = (field(data, 'auth-extra-groups') ?? '')
    .split(',')
    .map((g) => g.trim())
    .filter((g) => g !== '');
  return {
    id,
    secret,
    usages,
    expiration,
    extraGroups: groups,
    description: field(data, 'description') ?? '',
    deleting: obj.metadata.deletionTimestamp !== undefined,
  };
}

export function isExpired(token: BootstrapToken, now: Date): boolean {
  return token.expiration !== undefined && token.expiration.getTime() <= now.getTime();
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
function randomString(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += ALPHABET[randomInt(ALPHABET.length)];
  return s;
}

export function generateBootstrapToken(): { id: string; secret: string; token: string } {
  const id = randomString(6);
  const secret = randomString(16);
  return { id, secret, token: `${id}.${secret}` };
}

/** The Secret that stores a token (ttlSeconds 0 = never expires). */
export function bootstrapTokenSecret(
  id: string,
  secret: string,
  opts: { ttlSeconds: number; description?: string; now?: Date },
): KubeObject {
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  const data: Record<string, string> = {
    'token-id': b64(id),
    'token-secret': b64(secret),
    'usage-bootstrap-authentication': b64('true'),
    'usage-bootstrap-signing': b64('true'),
    'auth-extra-groups': b64(DEFAULT_NODE_TOKEN_GROUP),
  };
  if (opts.ttlSeconds > 0) {
    const exp = new Date((opts.now ?? new Date()).getTime() + opts.ttlSeconds * 1000);
    data['expiration'] = b64(rfc3339(exp));
  }
  if (opts.description) data['description'] = b64(opts.description);
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: bootstrapTokenSecretName(id), namespace: 'kube-system' },
    type: BOOTSTRAP_TOKEN_SECRET_TYPE,
    data,
  };
}

/** Detached compact JWS (`header..signature`) over `content`, keyed by the whole token. */
export async function signDetached(content: string, tokenId: string, tokenSecret: string): Promise<string> {
  const key = new TextEncoder().encode(`${tokenId}.${tokenSecret}`);
  const jws = await new CompactSign(new TextEncoder().encode(content))
    .setProtectedHeader({ alg: 'HS256', kid: tokenId })
    .sign(key);
  const [header, , signature] = jws.split('.');
  return `${header}..${signature}`;
}

/** Whether a detached JWS made by signDetached verifies for this content and token. */
export async function verifyDetached(
  detached: string,
  content: string,
  token: Pick<BootstrapToken, 'id' | 'secret'>,
): Promise<boolean> {
  const { id: tokenId, secret: tokenSecret } = token;
  const [header, empty, signature] = detached.split('.');
  if (header === undefined || empty !== '' || signature === undefined) return false;
  const payload = Buffer.from(content).toString('base64url');
  try {
    const { protectedHeader } = await compactVerify(
      `${header}.${payload}.${signature}`,
      new TextEncoder().encode(`${tokenId}.${tokenSecret}`),
      { algorithms: ['HS256'] },
    );
    return protectedHeader.kid === undefined || protectedHeader.kid === tokenId;
  } catch {
    return false;
  }
}
