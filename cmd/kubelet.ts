#!/usr/bin/env node
// coxswain node agent: flags → KubeletConfig → Kubelet. First SIGTERM/SIGINT drains, a second exits.

import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { setMaxListeners } from 'node:events';
import { Command } from 'commander';
import { loadKubeconfig, RestClient } from '../pkg/client/index.js';
import type { KubeletConfig } from '../pkg/kubelet/config.js';
import { DockerRuntime, Kubelet } from '../pkg/kubelet/index.js';
import { agentIdentity } from '../pkg/kubelet/agent-identity.js';
import { credentialFiles, nodeCredentials, type NodeCredentialFiles } from '../pkg/kubelet/bootstrap.js';
import { CertificateRotator } from '../pkg/kubelet/certificate-rotation.js';
import { clusterIdentity } from '../pkg/kubelet/cluster-identity.js';
import { teardownCluster } from '../pkg/kubelet/teardown.js';

function firstAddress(): string {
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) if (!a.internal && a.family === 'IPv4') return a.address;
  }
  return '127.0.0.1';
}

const program = new Command('kubelet')
  .description('Coxswain node agent: runs the pods bound to this node in Docker')
  .option('--kubeconfig <file>', 'kubeconfig with this node\'s identity (made offline with "coxctl pki node")')
  .option('--tls-cert-file <file>', 'serving certificate for the logs/exec port (with --kubeconfig)')
  .option('--tls-private-key-file <file>', 'serving key (with --kubeconfig)')
  .option('--client-ca-file <file>', 'CA that signs the apiserver\'s client certificate (with --kubeconfig)')
  .option('--server <url>', 'join: the apiserver to join (instead of --kubeconfig)')
  .option('--token <token>', 'join: a bootstrap token from "coxctl token create"')
  .option('--discovery-token-ca-cert-hash <sha256:hex>', 'join: hash of the cluster CA\'s public key, to pin it')
  .option('--node-name <name>', 'name of this node', os.hostname())
  .option('--node-ip <ip>', 'address of this node', firstAddress())
  .option('--docker-socket <path>', 'Docker socket', '/var/run/docker.sock')
  .option('--root-dir <dir>', 'state folder (pod volumes)', '/var/lib/coxswain/kubelet')
  .option('--network <mode>', 'host-gw (pod CIDR bridge, routes, service proxy, DNS) or none (Docker network --pod-network only)', 'host-gw')
  .option('--pod-network <name>', 'Docker network for pod sandboxes with --network none', 'bridge')
  .option('--cluster-cidr <cidr>', 'pod addresses of the whole cluster', '10.244.0.0/16')
  .option('--cluster-domain <domain>', 'DNS domain of the cluster', 'cluster.local')
  .option('--cluster-dns <ips>', 'comma-separated nameservers for pods (default: this agent\'s DNS on the pod gateway)', '')
  .option('--sandbox-image <image>', 'pod sandbox image', 'coxswain/pause:latest')
  .option('--port <port>', 'HTTPS port for logs and exec', '10250')
  .option('--max-pods <n>', 'pods this node accepts', '110')
  .option('--node-labels <k=v,...>', 'extra labels of the Node', '')
  .option('--lease-duration <seconds>', 'node lease duration', '40')
  .option('--lease-renew-interval <seconds>', 'how often the lease is renewed', '10')
  .option('--node-status-update-frequency <seconds>', 'longest gap between node status updates', '60')
  .option('--teardown', 'remove what this cluster made on this machine (containers, pod network, routes, iptables chains; the cluster is the CA of --client-ca-file, --kubeconfig or --root-dir) and exit');
program.parse();
const o = program.opts<Record<string, string>>();

const labels: Record<string, string> = {};
for (const pair of (o['nodeLabels'] ?? '').split(',').filter((p) => p !== '')) {
  const [k, v] = pair.split('=');
  if (k) labels[k] = v ?? '';
}
const num = (name: string): number => {
  const v = Number(o[name]);
  if (!Number.isFinite(v) || v < 0) {
    process.stderr.write(`kubelet: --${name} must be a non-negative number\n`);
    process.exit(2);
  }
  return v;
};

const log = (msg: string): void => {
  process.stdout.write(`${new Date().toISOString()} ${msg}\n`);
};
const die = (msg: string): never => {
  process.stderr.write(`kubelet: ${msg}\n`);
  process.exit(1);
};

const nodeName = o['nodeName'] ?? os.hostname();
const nodeIP = o['nodeIp'] ?? firstAddress();
const rootDir = o['rootDir'] ?? '/var/lib/coxswain/kubelet';
const clusterCIDR = o['clusterCidr'] ?? '10.244.0.0/16';
const dockerSocket = o['dockerSocket'] ?? '/var/run/docker.sock';
const readCa = (file: string): string => {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    return die(`cannot read the CA ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
};

if (o['teardown'] !== undefined) {
  const stored = credentialFiles(rootDir).caCert;
  const caPem = o['clientCaFile'] !== undefined ? readCa(o['clientCaFile'])
    : o['kubeconfig'] !== undefined ? loadKubeconfig({ path: o['kubeconfig'] }).caPem ?? die(`${o['kubeconfig']} carries no CA`)
    : existsSync(stored) ? readCa(stored) : die(`give --client-ca-file (or --kubeconfig): no CA under ${rootDir}`);
  try {
    await teardownCluster({ cluster: clusterIdentity(caPem), clusterCIDR, dockerSocket, log });
  } catch (err) {
    die(`teardown: ${err instanceof Error ? err.message : String(err)}`);
  }
  process.exit(0);
}

// Credentials: made offline (--kubeconfig and friends), or by joining with a token; a joined
// agent that restarts reuses what it stored under --root-dir if it is of the cluster asked for.
let joined: NodeCredentialFiles | undefined;
if (o['kubeconfig'] === undefined) {
  const server = o['server'] ?? die('give either --kubeconfig (with --tls-cert-file, --tls-private-key-file, --client-ca-file) or --server with --token and --discovery-token-ca-cert-hash');
  const caHash = o['discoveryTokenCaCertHash'];
  const caFile = o['clientCaFile'];
  try {
    joined = await nodeCredentials({
      want: { server, ...(caHash !== undefined ? { caHash } : {}), ...(caFile !== undefined ? { caPem: readCa(caFile) } : {}) },
      token: o['token'],
      nodeName,
      addresses: [nodeIP],
      rootDir,
      log,
    });
  } catch (err) {
    die(`cannot join the cluster: ${err instanceof Error ? err.message : String(err)}`);
  }
} else if (o['tlsCertFile'] === undefined || o['tlsPrivateKeyFile'] === undefined || o['clientCaFile'] === undefined) {
  die('--kubeconfig needs --tls-cert-file, --tls-private-key-file and --client-ca-file');
}

const client = new RestClient(loadKubeconfig({ path: joined?.kubeconfig ?? o['kubeconfig'] ?? '' }));
const clientCaFile = joined?.caCert ?? o['clientCaFile'] ?? '';
const config: KubeletConfig = {
  // The cluster is the CA this agent trusts the apiserver by.
  cluster: clusterIdentity(client.config.caPem ?? readCa(clientCaFile)),
  agentId: agentIdentity(rootDir),
  nodeName,
  nodeIP,
  dockerSocket,
  rootDir,
  sandboxImage: o['sandboxImage'] ?? 'coxswain/pause:latest',
  podNetwork: o['podNetwork'] ?? 'bridge',
  network: o['network'] === 'none' ? 'none' : o['network'] === 'host-gw' ? 'host-gw' : die(`--network must be host-gw or none, not "${o['network']}"`),
  clusterCIDR,
  clusterDomain: o['clusterDomain'] ?? 'cluster.local',
  clusterDNS: (o['clusterDns'] ?? '').split(',').map((s) => s.trim()).filter((s) => s !== ''),
  podCidrTimeoutMs: 120_000,
  port: num('port'),
  tlsCertFile: joined?.servingCert ?? o['tlsCertFile'] ?? '',
  tlsKeyFile: joined?.servingKey ?? o['tlsPrivateKeyFile'] ?? '',
  clientCaFile,
  maxPods: num('maxPods'),
  leaseDurationSeconds: num('leaseDuration'),
  leaseRenewIntervalMs: num('leaseRenewInterval') * 1000,
  statusUpdateIntervalMs: num('nodeStatusUpdateFrequency') * 1000,
  relistIntervalMs: 1000,
  resyncIntervalMs: 10_000,
  labels,
};

const abort = new AbortController();
// Informers, the proxy, DNS and rotation each listen for the stop signal.
setMaxListeners(64, abort.signal);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (abort.signal.aborted) process.exit(1);
    abort.abort();
    setTimeout(() => process.exit(0), 500).unref();
  });
}
try {
  const runtime = new DockerRuntime({ socketPath: config.dockerSocket, nodeName: config.nodeName, clusterId: config.cluster.id });
  const kubelet = new Kubelet(config, client, { runtime, log });
  await kubelet.start(abort.signal);
  if (joined !== undefined) {
    new CertificateRotator(client, joined, { name: nodeName, addresses: [nodeIP], server: client.config.server }, () => kubelet.reloadServingCertificate(), log).start(abort.signal);
  }
} catch (err) {
  process.stderr.write(`kubelet: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
