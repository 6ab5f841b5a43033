// Hollow nodes, as Kubernetes' kubemark: many node agents in one process, each the real
// Kubelet (registration, node Lease, node status, pod workers, status writes, probe
// bookkeeping, the logs/exec server) over the in-memory FakeRuntime instead of Docker, and
// each with its own node identity and client certificate (CN system:node:<name>, so the node
// authorizer treats it as that node). They load the control plane as a fleet of real agents
// would, without a container anywhere.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { issueCertificate, type KeyPairPem } from '../pki/index.js';
import { RestClient, type ClientConfig } from '../client/index.js';
import { clusterIdentity } from './cluster-identity.js';
import type { KubeletConfig } from './config.js';
import { Kubelet } from './kubelet.js';
import { FakeRuntime } from './runtime/fake.js';

export interface HollowNodeOptions {
  /** How many agents; they are named `${prefix}-${i}` for i from 0. */
  count: number;
  prefix: string;
  /** The apiserver's URL. */
  server: string;
  /** The cluster CA (certificate and key): each node's client certificate is issued from it. */
  ca: KeyPairPem;
  /** Files of the fleet (the CA certificate, one serving certificate, pod folders). */
  rootDir: string;
  log: (message: string) => void;
  /** Agents starting at the same time (registration is a burst of writes). */
  concurrency?: number;
  leaseRenewIntervalMs?: number;
  statusUpdateIntervalMs?: number;
}

export interface HollowFleet {
  names: string[];
  /** Heap used by the process after the fleet started, divided by its agents (MiB). */
  heapPerNodeMiB: number;
}

/** The agent's settings for one hollow node: no network of its own, a port the OS picks. */
interface FleetFiles {
  rootDir: string;
  caPem: string;
  cert: string;
  key: string;
  ca: string;
}

function hollowConfig(name: string, files: FleetFiles): KubeletConfig {
  return {
    cluster: clusterIdentity(files.caPem),
    agentId: `hollow/${name}`,
    nodeName: name,
    nodeIP: '127.0.0.1',
    dockerSocket: '',
    rootDir: join(files.rootDir, name),
    sandboxImage: 'coxswain/pause:latest',
    podNetwork: 'hollow',
    network: 'none',
    clusterCIDR: '10.244.0.0/16',
    clusterDomain: 'cluster.local',
    clusterDNS: ['10.96.0.10'],
    podCidrTimeoutMs: 0,
    port: 0,
    tlsCertFile: files.cert,
    tlsKeyFile: files.key,
    clientCaFile: files.ca,
    maxPods: 110,
    leaseDurationSeconds: 40,
    leaseRenewIntervalMs: 10_000,
    statusUpdateIntervalMs: 60_000,
    relistIntervalMs: 1000,
    // Kubernetes' --sync-frequency default: a fleet of hollow agents must not resync 6× as often.
    resyncIntervalMs: 60_000,
    labels: { 'kubernetes.io/hostname': name, 'coxswain.dev/hollow': 'true' },
  };
}

/** Starts `count` hollow agents and resolves once every one has registered; they run until `signal` aborts. */
export async function startHollowNodes(opts: HollowNodeOptions, signal: AbortSignal): Promise<HollowFleet> {
  mkdirSync(opts.rootDir, { recursive: true, mode: 0o700 });
  const ca = join(opts.rootDir, 'ca.crt');
  const cert = join(opts.rootDir, 'serving.crt');
  const key = join(opts.rootDir, 'serving.key');
  writeFileSync(ca, opts.ca.certPem, { mode: 0o644 });
  // One serving certificate for every agent's logs/exec port: they all listen on 127.0.0.1.
  const serving = await issueCertificate(opts.ca, {
    commonName: 'hollow-kubelet',
    ipAddresses: ['127.0.0.1'],
    usages: ['server'],
  });
  writeFileSync(cert, serving.certPem, { mode: 0o644 });
  writeFileSync(key, serving.keyPem, { mode: 0o600 });
  const files = { rootDir: opts.rootDir, caPem: opts.ca.certPem, cert, key, ca };
  const names = Array.from({ length: opts.count }, (_, i) => `${opts.prefix}-${i}`);
  const heapBefore = process.memoryUsage().heapUsed;
  let next = 0;
  const startOne = async (name: string): Promise<void> => {
    const identity = await issueCertificate(opts.ca, {
      commonName: `system:node:${name}`,
      organizations: ['system:nodes'],
      usages: ['client'],
    });
    const clientConfig: ClientConfig = {
      server: opts.server,
      caPem: opts.ca.certPem,
      certPem: identity.certPem,
      keyPem: identity.keyPem,
      token: undefined,
      namespace: 'default',
      userName: `system:node:${name}`,
    };
    const client = new RestClient(clientConfig, { maxSockets: 4 });
    signal.addEventListener('abort', () => client.close(), { once: true });
    const config = hollowConfig(name, files);
    if (opts.leaseRenewIntervalMs !== undefined) config.leaseRenewIntervalMs = opts.leaseRenewIntervalMs;
    if (opts.statusUpdateIntervalMs !== undefined) config.statusUpdateIntervalMs = opts.statusUpdateIntervalMs;
    const runtime = new FakeRuntime({ now: () => Date.now() });
    const kubelet = new Kubelet(config, client, {
      runtime,
      log: (m) => {
        if (/fail|error|cannot/i.test(m)) opts.log(`${name}: ${m}`);
      },
    });
    await kubelet.start(signal);
  };
  const worker = async (): Promise<void> => {
    for (let i = next++; i < names.length && !signal.aborted; i = next++) {
      const name = names[i];
      if (name !== undefined) await startOne(name);
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 20, names.length) }, worker));
  const heapPerNodeMiB = (process.memoryUsage().heapUsed - heapBefore) / 1048576 / Math.max(1, names.length);
  return { names, heapPerNodeMiB };
}
