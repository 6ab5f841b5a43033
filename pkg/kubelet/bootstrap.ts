// Joining a cluster with a bootstrap token, as `kubeadm join` and the kubelet's TLS
// bootstrap do it:
// 1. discovery: read the public kube-public/cluster-info ConfigMap without trusting the
//    server yet; check its `jws-kubeconfig-<token id>` signature with the token (the server
//    knows the token) and the CA's public-key hash against the one given (the CA is the
//    expected one); then pin that CA and read the ConfigMap again through it;
// 2. TLS bootstrap: authenticated by the token, submit a CSR for `system:node:<name>` in
//    `system:nodes`; the controller-manager approves and signs it;
// 3. with the new client certificate, ask for a serving certificate for the agent's port.
// Every failure is one clear sentence; nothing is registered before step 3 succeeds.
// Several apiservers may be given: discovery asks each in turn until one answers (the whole
// check applies to the one that answered), and the agent keeps the list for its later starts.

import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { KUBELET_CLIENT_SIGNER, KUBELET_SERVING_SIGNER } from '../bootstrap/index.js';
import { RESOURCES, resourcePath } from '../api/registry.js';
import type { CertificateSigningRequest, CertificateSigningRequestStatus, KeyUsage } from '../api/types/index.js';
import { RestClient, type ClientConfig } from '../client/index.js';
import { isAlreadyExists, isUnauthorized } from '../errors/index.js';
import { discoverCluster, JoinError } from './discovery.js';
import { writeAtomic } from './files.js';
import { sameServer, saveApiservers, storedApiservers } from './stored-apiservers.js';
import { caPublicKeyHash, certificateValidity, createCsr, writeKubeconfig } from '../pki/index.js';

const CSRS = RESOURCES.certificatesigningrequests;

export { discoverCluster, discoverClusterCa, JoinError } from './discovery.js';

/** Where a joined agent keeps its credentials (under its root dir). */
export interface NodeCredentialFiles {
  dir: string;
  caCert: string;
  clientCert: string;
  clientKey: string;
  servingCert: string;
  servingKey: string;
  kubeconfig: string;
  /**
   * Every apiserver the agent was given, one URL a line: the kubeconfig names one server (as
   * kubectl reads it: a context has one cluster), the agent fails over to the rest.
   */
  apiservers: string;
}

export function credentialFiles(rootDir: string): NodeCredentialFiles {
  const dir = join(rootDir, 'pki');
  return {
    dir,
    caCert: join(dir, 'ca.crt'),
    clientCert: join(dir, 'kubelet-client.crt'),
    clientKey: join(dir, 'kubelet-client.key'),
    servingCert: join(dir, 'kubelet.crt'),
    servingKey: join(dir, 'kubelet.key'),
    kubeconfig: join(dir, 'kubelet.kubeconfig'),
    apiservers: join(dir, 'apiservers'),
  };
}

export interface CertificateRequest {
  commonName: string;
  organizations: string[];
  signerName: string;
  usages: KeyUsage[];
  dnsNames?: string[];
  ipAddresses?: string[];
  expirationSeconds?: number;
}

/** Submits a CSR and waits (bounded) until it is signed; refusals and denials are errors. */
export async function requestCertificate(
  client: RestClient,
  req: CertificateRequest,
  opts: { timeoutMs: number; pollMs?: number; signal?: AbortSignal },
): Promise<{ certPem: string; keyPem: string; csrName: string }> {
  const { csrPem, keyPem } = await createCsr(req.commonName, req.organizations, {
    dnsNames: req.dnsNames ?? [],
    ipAddresses: req.ipAddresses ?? [],
  });
  const body: CertificateSigningRequest = {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { generateName: 'node-csr-' },
    spec: {
      request: Buffer.from(csrPem).toString('base64'),
      signerName: req.signerName,
      usages: req.usages,
      ...(req.expirationSeconds !== undefined ? { expirationSeconds: req.expirationSeconds } : {}),
    },
  };
  let created: CertificateSigningRequest;
  try {
    created = await client.create(CSRS, body);
  } catch (err) {
    if (isUnauthorized(err))
      throw new JoinError(
        'the apiserver refused the credentials (401): the bootstrap token is wrong, expired or deleted',
      );
    throw err;
  }
  const name = created.metadata.name ?? '';
  const deadline = Date.now() + opts.timeoutMs;
  for (
    let obj = created;
    ;
    obj = await client.requestJson<CertificateSigningRequest>({
      method: 'GET',
      path: resourcePath(CSRS, { name }),
    })
  ) {
    const status: CertificateSigningRequestStatus = obj.status ?? {};
    const refused = (status.conditions ?? []).find((c) => c.type === 'Denied' || c.type === 'Failed');
    if (refused !== undefined)
      throw new JoinError(
        `certificate request ${name} was ${refused.type?.toLowerCase()}: ${refused.reason ?? ''} ${refused.message ?? ''}`.trim(),
      );
    if (status.certificate)
      return { certPem: Buffer.from(status.certificate, 'base64').toString('utf8'), keyPem, csrName: name };
    if (Date.now() > deadline || opts.signal?.aborted)
      throw new JoinError(
        `certificate request ${name} was not signed within ${Math.round(opts.timeoutMs / 1000)} s (is the controller-manager running with --cluster-signing-cert-file?)`,
      );
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 300));
  }
}

/** Creates the Node (if absent) with the addresses its serving certificate will name. */
async function announceNode(client: RestClient, node: { name: string; addresses: string[] }): Promise<void> {
  try {
    await client.create(RESOURCES.nodes, {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: node.name, labels: { 'kubernetes.io/hostname': node.name } },
      spec: {},
    });
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
  const addresses = [
    ...node.addresses.map((address) => ({ type: 'InternalIP', address })),
    { type: 'Hostname', address: node.name },
  ];
  await client.patch(RESOURCES.nodes, node.name, {
    type: 'merge',
    subresource: 'status',
    body: { status: { addresses } },
  });
}

export function clientCertificateRequest(nodeName: string): CertificateRequest {
  return {
    commonName: `system:node:${nodeName}`,
    organizations: ['system:nodes'],
    signerName: KUBELET_CLIENT_SIGNER,
    usages: ['digital signature', 'client auth'],
  };
}

export function servingCertificateRequest(nodeName: string, addresses: string[]): CertificateRequest {
  return {
    commonName: `system:node:${nodeName}`,
    organizations: ['system:nodes'],
    signerName: KUBELET_SERVING_SIGNER,
    usages: ['digital signature', 'server auth'],
    dnsNames: [nodeName],
    ipAddresses: addresses,
  };
}

/** What the agent was asked to join: its apiservers (preferred first) and, when given, the CA's hash or file. */
export interface WantedCluster {
  servers: readonly string[];
  caHash?: string;
  caPem?: string;
}

/**
 * Why the stored credentials are not those of the cluster asked for (undefined: they are):
 * their CA must have the given hash (or be the given CA) and their kubeconfig the server.
 */
export function credentialsMismatch(files: NodeCredentialFiles, want: WantedCluster): string | undefined {
  const storedHash = caPublicKeyHash(readFileSync(files.caCert, 'utf8'));
  if (want.caHash !== undefined && storedHash !== want.caHash) return `their CA is ${storedHash}, not ${want.caHash}`;
  if (want.caPem !== undefined && storedHash !== caPublicKeyHash(want.caPem))
    return `their CA ${storedHash} is not the given one (${caPublicKeyHash(want.caPem)})`;
  const stored = storedApiservers(files);
  if (!stored.some((s) => want.servers.some((w) => sameServer(s, w))))
    return `they are for ${stored.join(', ')}, not ${want.servers.join(', ')}`;
  return undefined;
}

/** Moves stored credentials aside (kept, not deleted); returns where they went. */
export function setCredentialsAside(files: NodeCredentialFiles, now = new Date()): string {
  const aside = `${files.dir}.old-${now.toISOString().replace(/[:.]/g, '-')}`;
  renameSync(files.dir, aside);
  return aside;
}

/** Whether the stored credentials can be used as they are (present and valid for a while). */
export function haveUsableCredentials(files: NodeCredentialFiles, now = new Date()): boolean {
  for (const f of [
    files.caCert,
    files.clientCert,
    files.clientKey,
    files.servingCert,
    files.servingKey,
    files.kubeconfig,
  ])
    if (!existsSync(f)) return false;
  try {
    return certificateValidity(readFileSync(files.clientCert, 'utf8')).notAfter.getTime() > now.getTime() + 60_000;
  } catch {
    return false;
  }
}

/** Stores the client key pair, the CA and a kubeconfig naming the apiserver and this node. */
export function saveClientCredentials(
  files: NodeCredentialFiles,
  pair: { certPem: string; keyPem: string },
  kubeconfig: { server: string; nodeName: string; caPem: string },
): void {
  const { server, nodeName, caPem } = kubeconfig;
  mkdirSync(files.dir, { recursive: true, mode: 0o700 });
  writeAtomic(files.caCert, caPem, 0o644);
  writeAtomic(files.clientKey, pair.keyPem, 0o600);
  writeAtomic(files.clientCert, pair.certPem, 0o644);
  const tmp = `${files.kubeconfig}.tmp-${process.pid}`;
  writeKubeconfig(tmp, {
    clusterName: 'coxswain',
    server,
    caPem,
    userName: `system:node:${nodeName}`,
    certPem: pair.certPem,
    keyPem: pair.keyPem,
  });
  renameSync(tmp, files.kubeconfig);
}

export function saveServingCredentials(files: NodeCredentialFiles, pair: { certPem: string; keyPem: string }): void {
  writeAtomic(files.servingKey, pair.keyPem, 0o600);
  writeAtomic(files.servingCert, pair.certPem, 0o644);
}

/**
 * The whole join: discovery, then client and serving certificates. Returns the credential
 * files; the caller then starts the agent with them.
 */
export async function joinCluster(opts: {
  servers: readonly string[];
  token: string;
  caHash: string;
  nodeName: string;
  addresses: string[];
  rootDir: string;
  timeoutMs?: number;
  discoveryWaitMs?: number;
  log: (m: string) => void;
}): Promise<NodeCredentialFiles> {
  const files = credentialFiles(opts.rootDir);
  const { caPem, server } = await discoverCluster({
    servers: opts.servers,
    token: opts.token,
    caHash: opts.caHash,
    ...(opts.discoveryWaitMs !== undefined ? { waitMs: opts.discoveryWaitMs } : {}),
    log: opts.log,
  });
  opts.log(`discovery: cluster CA ${opts.caHash} verified with token ID ${opts.token.slice(0, 6)} on ${server}`);
  // The one that answered first, then the others (the kubeconfig keeps naming the preferred one).
  const bootstrapConfig: ClientConfig = {
    server,
    servers: [server, ...opts.servers.filter((s) => s !== server)],
    caPem,
    certPem: undefined,
    keyPem: undefined,
    token: opts.token,
    namespace: 'default',
    userName: `system:bootstrap:${opts.token.slice(0, 6)}`,
  };
  const bootstrap = new RestClient(bootstrapConfig);
  try {
    const client = await requestCertificate(bootstrap, clientCertificateRequest(opts.nodeName), {
      timeoutMs: opts.timeoutMs ?? 120_000,
    });
    // The kubeconfig names the apiserver that answered (a working one for whoever reads it); the list is kept beside it.
    saveClientCredentials(files, client, { server, nodeName: opts.nodeName, caPem });
    saveApiservers(files, opts.servers);
    opts.log(`TLS bootstrap: client certificate for system:node:${opts.nodeName} issued (${client.csrName})`);
  } finally {
    bootstrap.close();
  }
  const nodeClient = new RestClient({
    ...bootstrapConfig,
    token: undefined,
    certPem: readFileSync(files.clientCert, 'utf8'),
    keyPem: readFileSync(files.clientKey, 'utf8'),
    userName: `system:node:${opts.nodeName}`,
  });
  try {
    // The approver signs a serving certificate only for names and addresses the Node reports.
    await announceNode(nodeClient, { name: opts.nodeName, addresses: opts.addresses });
    const serving = await requestCertificate(nodeClient, servingCertificateRequest(opts.nodeName, opts.addresses), {
      timeoutMs: opts.timeoutMs ?? 120_000,
    });
    saveServingCredentials(files, serving);
    opts.log(`serving certificate for ${opts.addresses.join(', ')} issued (${serving.csrName})`);
  } finally {
    nodeClient.close();
  }
  return files;
}

/**
 * The credentials of an agent started with --server: the stored ones when they are usable
 * and belong to the cluster asked for; otherwise, with a token, a fresh join (stored ones of
 * another cluster are moved aside first); without a token, a JoinError saying what to run.
 */
export async function nodeCredentials(opts: {
  want: WantedCluster;
  token: string | undefined;
  nodeName: string;
  addresses: string[];
  rootDir: string;
  discoveryWaitMs?: number;
  log: (m: string) => void;
}): Promise<NodeCredentialFiles> {
  const files = credentialFiles(opts.rootDir);
  const { servers, caHash } = opts.want;
  const server = servers.join(',');
  const stored = existsSync(files.caCert) && existsSync(files.kubeconfig);
  const mismatch = stored ? credentialsMismatch(files, opts.want) : undefined;
  if (mismatch === undefined && haveUsableCredentials(files)) {
    opts.log(`using the credentials stored in ${files.dir}`);
    return files;
  }
  if (mismatch !== undefined && opts.token === undefined) {
    throw new JoinError(
      `the credentials stored in ${files.dir} are of another cluster (${mismatch}): to join ${server}, run again with --token and --discovery-token-ca-cert-hash from "coxctl token create" on that cluster (or remove ${files.dir})`,
    );
  }
  if (opts.token === undefined)
    throw new JoinError('--token is needed to join (this node has no usable credentials yet)');
  if (caHash === undefined) throw new JoinError('--discovery-token-ca-cert-hash is needed to join');
  if (stored) {
    // Kept, not overwritten: they may be the only copy of another cluster's node identity.
    const why = mismatch !== undefined ? `are of another cluster (${mismatch})` : 'are no longer usable';
    opts.log(
      `the credentials stored in ${files.dir} ${why}: moved to ${setCredentialsAside(files)}; joining ${server} afresh`,
    );
  }
  return joinCluster({
    servers,
    token: opts.token,
    caHash,
    nodeName: opts.nodeName,
    addresses: opts.addresses,
    rootDir: opts.rootDir,
    ...(opts.discoveryWaitMs !== undefined ? { discoveryWaitMs: opts.discoveryWaitMs } : {}),
    log: opts.log,
  });
}
