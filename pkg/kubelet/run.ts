// The node agent process: credentials (made offline, or by joining with a token; a joined
// agent that restarts reuses what it stored under rootDir if it is of the cluster asked
// for), then the agent and, when joined, its certificate rotation — until the signal aborts.

import { existsSync, readFileSync } from 'node:fs';
import { setMaxListeners } from 'node:events';
import {
  apiserversFlag,
  componentClient,
  componentClientConfig,
  loadKubeconfig,
  parseApiserverList,
} from '../client/index.js';
import { lineLogger, type Logger } from '../component/index.js';
import { agentIdentity } from './agent-identity.js';
import { credentialFiles, nodeCredentials, type NodeCredentialFiles } from './bootstrap.js';
import { DEFAULT_DISCOVERY_WAIT_MS } from './discovery.js';
import { storedApiservers } from './stored-apiservers.js';
import { CertificateRotator } from './certificate-rotation.js';
import { clusterIdentity } from './cluster-identity.js';
import type { KubeletConfig } from './config.js';
import type { KubeletFlags, KubeletSettings } from './flags.js';
import { Kubelet } from './kubelet.js';
import { DockerRuntime } from './runtime/index.js';
import { teardownCluster } from './teardown.js';
import { errorMessage } from '../errors/index.js';

/** A failure before the agent could start, said as "kubelet: <message>". */
export class KubeletStartError extends Error {
  override readonly name = 'KubeletStartError';
}

function readCa(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new KubeletStartError(`cannot read the CA ${file}: ${errorMessage(err)}`);
  }
}

/** --teardown: removes what this cluster (the CA of --client-ca-file, --kubeconfig or rootDir) made on this machine. */
export async function teardown(flags: KubeletFlags, log: Logger): Promise<void> {
  const stored = credentialFiles(flags.rootDir).caCert;
  let caPem: string;
  if (flags.clientCaFile !== undefined) caPem = readCa(flags.clientCaFile);
  else if (flags.kubeconfig !== undefined) {
    caPem = loadKubeconfig({ path: flags.kubeconfig }).caPem ?? '';
    if (caPem === '') throw new KubeletStartError(`${flags.kubeconfig} carries no CA`);
  } else if (existsSync(stored)) caPem = readCa(stored);
  else throw new KubeletStartError(`give --client-ca-file (or --kubeconfig): no CA under ${flags.rootDir}`);
  try {
    await teardownCluster({
      cluster: clusterIdentity(caPem),
      clusterCIDR: flags.clusterCidr,
      dockerSocket: flags.dockerSocket,
      log: lineLogger(log),
    });
  } catch (err) {
    throw new KubeletStartError(`teardown: ${errorMessage(err)}`);
  }
}

/** Offline credentials need all three files; otherwise join with the token. */
async function credentials(
  flags: KubeletFlags,
  settings: KubeletSettings,
  log: Logger,
): Promise<NodeCredentialFiles | undefined> {
  if (flags.kubeconfig !== undefined) {
    if (flags.tlsCertFile === undefined || flags.tlsPrivateKeyFile === undefined || flags.clientCaFile === undefined) {
      throw new KubeletStartError('--kubeconfig needs --tls-cert-file, --tls-private-key-file and --client-ca-file');
    }
    return undefined;
  }
  if (flags.server === undefined) {
    throw new KubeletStartError(
      'give either --kubeconfig (with --tls-cert-file, --tls-private-key-file, --client-ca-file) or --server with --token and --discovery-token-ca-cert-hash',
    );
  }
  let servers: string[];
  try {
    servers = parseApiserverList(flags.server);
  } catch (err) {
    throw new KubeletStartError(`--server: ${errorMessage(err)}`);
  }
  const caHash = flags.discoveryTokenCaCertHash;
  const caFile = flags.clientCaFile;
  const discoveryWaitSeconds = Number(flags.discoveryTimeout ?? DEFAULT_DISCOVERY_WAIT_MS / 1000);
  if (!Number.isFinite(discoveryWaitSeconds) || discoveryWaitSeconds < 0)
    throw new KubeletStartError('--discovery-timeout must be a non-negative number of seconds');
  try {
    return await nodeCredentials({
      want: {
        servers,
        ...(caHash !== undefined ? { caHash } : {}),
        ...(caFile !== undefined ? { caPem: readCa(caFile) } : {}),
      },
      token: flags.token,
      nodeName: settings.nodeName,
      addresses: [settings.nodeIP],
      rootDir: settings.rootDir,
      discoveryWaitMs: discoveryWaitSeconds * 1000,
      log: lineLogger(log),
    });
  } catch (err) {
    throw new KubeletStartError(`cannot join the cluster: ${errorMessage(err)}`);
  }
}

/**
 * The apiservers to fail over between: --apiservers, else (joined) those of --server, then
 * the rest of the list stored at the join; undefined: the kubeconfig's one server.
 */
function apiservers(flags: KubeletFlags, joined: NodeCredentialFiles | undefined): string[] | undefined {
  let given: string[] | undefined;
  try {
    given =
      apiserversFlag(flags.apiservers) ??
      (joined !== undefined && flags.server !== undefined ? parseApiserverList(flags.server) : undefined);
  } catch (err) {
    throw new KubeletStartError(errorMessage(err));
  }
  if (joined === undefined) return given;
  const all = [...(given ?? [])];
  for (const s of storedApiservers(joined)) if (!all.includes(s)) all.push(s);
  return all;
}

export interface KubeletRunOptions {
  flags: KubeletFlags;
  settings: KubeletSettings;
  log: Logger;
}

/**
 * Starts the agent and runs it until `signal` aborts. Rejects with a KubeletStartError for
 * missing or refused credentials; with the agent's own error when it cannot start.
 */
export async function run(opts: KubeletRunOptions, signal: AbortSignal): Promise<void> {
  const { flags, settings, log } = opts;
  const joined = await credentials(flags, settings, log);
  const print = lineLogger(log);
  const client = componentClient(
    componentClientConfig(joined?.kubeconfig ?? flags.kubeconfig ?? '', apiservers(flags, joined)),
    signal,
    print,
  );
  const clientCaFile = joined?.caCert ?? flags.clientCaFile ?? '';
  const config: KubeletConfig = {
    ...settings,
    // The cluster is the CA this agent trusts the apiserver by.
    cluster: clusterIdentity(client.config.caPem ?? readCa(clientCaFile)),
    agentId: agentIdentity(settings.rootDir),
    tlsCertFile: joined?.servingCert ?? flags.tlsCertFile ?? '',
    tlsKeyFile: joined?.servingKey ?? flags.tlsPrivateKeyFile ?? '',
    clientCaFile,
  };
  // Informers, the proxy, DNS and rotation each listen for the stop signal.
  setMaxListeners(64, signal);
  const runtime = new DockerRuntime({
    socketPath: config.dockerSocket,
    nodeName: config.nodeName,
    clusterId: config.cluster.id,
  });
  const kubelet = new Kubelet(config, client, { runtime, log: print });
  await kubelet.start(signal);
  if (joined !== undefined) {
    const subject = { name: settings.nodeName, addresses: [settings.nodeIP], server: client.config.server };
    const onServingRotated = (): void => kubelet.reloadServingCertificate();
    new CertificateRotator(client, joined, { node: subject, onServingRotated, log: print }).start(signal);
  }
  if (!signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
}
