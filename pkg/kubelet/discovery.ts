// Discovery, the first step of a join (see bootstrap.ts): the public kube-public/cluster-info
// ConfigMap read without trusting the server, its signature checked with the token and its
// CA with the given hash, then read again through that CA.

import https from 'node:https';
import yaml from 'js-yaml';
import { BOOTSTRAP_TOKEN_PATTERN, CLUSTER_INFO, JWS_KEY_PREFIX, verifyDetached } from '../bootstrap/index.js';
import { isObject } from '../api/meta.js';
import { errorMessage } from '../errors/index.js';
import { caPublicKeyHash } from '../pki/index.js';

export class JoinError extends Error {}

function getJson(url: string, ca: string | undefined, timeoutMs: number): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      url,
      {
        ...(ca === undefined ? { rejectUnauthorized: false } : { ca }),
        timeout: timeoutMs,
        headers: { Accept: 'application/json' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown;
          try {
            body = JSON.parse(text);
          } catch {
            body = text;
          }
          resolve({ status: res.statusCode ?? 0, body });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/** How long a join waits, by default, for a token's signature or for an apiserver to answer. */
export const DEFAULT_DISCOVERY_WAIT_MS = 60_000;
const DISCOVERY_RETRY_MS = 1_000;

/**
 * Discovery on the first of `servers` that answers (an unreachable one, or one that does not
 * hand out cluster-info, is skipped; a failed check is not): the cluster CA and that server.
 * As kubeadm's join does, it tries again for up to `waitMs` while no apiserver answers or
 * cluster-info carries no signature for the token yet: the controller-manager signs it a moment
 * after the token is made, and an agent started at once must not fail for asking first.
 */
export async function discoverCluster(opts: {
  servers: readonly string[];
  token: string;
  caHash: string;
  timeoutMs?: number;
  waitMs?: number;
  log?: (m: string) => void;
}): Promise<{ caPem: string; server: string }> {
  const deadline = Date.now() + (opts.waitMs ?? DEFAULT_DISCOVERY_WAIT_MS);
  let said = false;
  for (;;) {
    let retryable: JoinError;
    try {
      return await discoverOnce(opts);
    } catch (err) {
      if (!(err instanceof Unreachable || err instanceof NotSignedYet)) throw err;
      retryable = err;
    }
    const left = deadline - Date.now();
    if (left <= 0) throw new JoinError(retryable.message);
    if (!said) opts.log?.(`discovery: ${retryable.message}; trying again for up to ${Math.ceil(left / 1000)} s`);
    said = true;
    await new Promise((r) => setTimeout(r, Math.min(DISCOVERY_RETRY_MS, left)));
  }
}

async function discoverOnce(opts: {
  servers: readonly string[];
  token: string;
  caHash: string;
  timeoutMs?: number;
}): Promise<{ caPem: string; server: string }> {
  const unreachable: string[] = [];
  let unsigned: NotSignedYet | undefined;
  for (const server of opts.servers) {
    try {
      return { caPem: await discoverClusterCa({ ...opts, server }), server };
    } catch (err) {
      // A failed check is the answer: asking the others until one passes would defeat it.
      if (err instanceof NotSignedYet) unsigned ??= err;
      else if (err instanceof Unreachable) unreachable.push(errorMessage(err));
      else throw err;
    }
  }
  if (unsigned !== undefined) throw unsigned;
  if (unreachable.length === 1) throw new Unreachable(unreachable.join(''));
  if (unreachable.length > 1) throw new Unreachable(`no apiserver answered: ${unreachable.join('; ')}`);
  throw new JoinError('no apiserver given to join');
}

/** cluster-info has no signature for the token: wrong, expired, deleted, or not signed yet. */
class NotSignedYet extends JoinError {}

/** A discovery failure that says nothing against the cluster: the next apiserver may answer. */
class Unreachable extends JoinError {}

/** Discovery: the cluster CA, verified by the token's signature and pinned by its hash. */
export async function discoverClusterCa(opts: {
  server: string;
  token: string;
  caHash: string;
  timeoutMs?: number;
}): Promise<string> {
  const { server, token, caHash, timeoutMs = 10_000 } = opts;
  const m = BOOTSTRAP_TOKEN_PATTERN.exec(token);
  if (m === null)
    throw new JoinError('the token must look like [a-z0-9]{6}.[a-z0-9]{16} (as printed by "coxctl token create")');
  const [, id = '', secret = ''] = m;
  if (!/^sha256:[0-9a-f]{64}$/.test(caHash))
    throw new JoinError(
      '--discovery-token-ca-cert-hash must be sha256:<64 hex digits> (as printed by "coxctl token create")',
    );
  const url = new URL(
    `/api/v1/namespaces/${CLUSTER_INFO.namespace}/configmaps/${CLUSTER_INFO.name}`,
    server,
  ).toString();
  let first: { status: number; body: unknown };
  try {
    first = await getJson(url, undefined, timeoutMs);
  } catch (err) {
    throw new Unreachable(`cannot reach the apiserver at ${server}: ${errorMessage(err)}`);
  }
  if (first.status !== 200 || !isObject(first.body))
    throw new Unreachable(
      `the apiserver at ${server} did not hand out ${CLUSTER_INFO.namespace}/${CLUSTER_INFO.name} (HTTP ${first.status})`,
    );
  const data = configMapData(first.body);
  const kubeconfig = data['kubeconfig'];
  if (kubeconfig === undefined) throw new JoinError(`${CLUSTER_INFO.namespace}/${CLUSTER_INFO.name} has no kubeconfig`);
  const signature = data[`${JWS_KEY_PREFIX}${id}`];
  if (signature === undefined)
    throw new NotSignedYet(`the cluster does not know token ID "${id}": the token is wrong, expired or deleted`);
  if (!(await verifyDetached(signature, kubeconfig, { id, secret })))
    throw new JoinError(`the cluster-info signature for token ID "${id}" does not verify: the token secret is wrong`);
  const caPem = clusterCaOf(kubeconfig);
  const actual = caPublicKeyHash(caPem);
  if (actual !== caHash)
    throw new JoinError(`the cluster CA's public key hash is ${actual}, not ${caHash}: refusing to trust this cluster`);
  // Now that the CA is trusted, the server must prove it holds a certificate from it.
  let second: { status: number; body: unknown };
  try {
    second = await getJson(url, caPem, timeoutMs);
  } catch (err) {
    throw new JoinError(
      `the apiserver at ${server} does not present a certificate of the pinned CA: ${errorMessage(err)}`,
    );
  }
  const again = configMapData(second.body)['kubeconfig'];
  if (again !== kubeconfig)
    throw new JoinError('cluster-info changed between the insecure and the pinned read; try again');
  return caPem;
}

/** The CA of the first cluster of the (untrusted) cluster-info kubeconfig. */
function clusterCaOf(kubeconfig: string): string {
  const doc: unknown = yaml.load(kubeconfig);
  const clusters: unknown = isObject(doc) ? doc['clusters'] : undefined;
  const first: unknown = Array.isArray(clusters) ? clusters[0] : undefined;
  const cluster = isObject(first) ? first['cluster'] : undefined;
  const data = isObject(cluster) ? cluster['certificate-authority-data'] : undefined;
  if (typeof data !== 'string')
    throw new JoinError('the cluster-info kubeconfig carries no certificate-authority-data');
  return Buffer.from(data, 'base64').toString('utf8');
}

/** The string entries of a ConfigMap read from an apiserver not yet trusted (anything else: none). */
function configMapData(body: unknown): Record<string, string> {
  const data = isObject(body) && isObject(body['data']) ? body['data'] : {};
  return Object.fromEntries(Object.entries(data).filter((e): e is [string, string] => typeof e[1] === 'string'));
}
