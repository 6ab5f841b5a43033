// The node agent's flags (strings from the command line), checked before anything runs.
// What depends on the cluster (credentials, the cluster identity) is settled by run.ts.

import os from 'node:os';
import { ConfigError } from '../component/index.js';
import type { KubeletConfig } from './config.js';

export interface KubeletFlags {
  kubeconfig?: string;
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  clientCaFile?: string;
  server?: string;
  apiservers?: string;
  token?: string;
  discoveryTokenCaCertHash?: string;
  /** Join: seconds to keep trying while no apiserver answers or the token is not signed yet. */
  discoveryTimeout?: string;
  nodeName: string;
  nodeIp: string;
  dockerSocket: string;
  rootDir: string;
  network: string;
  podNetwork: string;
  clusterCidr: string;
  clusterDomain: string;
  clusterDns: string;
  sandboxImage: string;
  port: string;
  maxPods: string;
  nodeLabels: string;
  leaseDuration: string;
  leaseRenewInterval: string;
  nodeStatusUpdateFrequency: string;
  teardown?: boolean;
  /** The built-in ingress controller (pkg/kubelet/ingress), with its ports on --node-ip. */
  ingress?: boolean;
  ingressHttpPort?: string;
  ingressHttpsPort?: string;
}

/** The config fields flags decide; the rest (cluster, agent, TLS files) comes from the credentials. */
export type KubeletSettings = Omit<
  KubeletConfig,
  'cluster' | 'agentId' | 'tlsCertFile' | 'tlsKeyFile' | 'clientCaFile'
>;

/** The first non-internal IPv4 address of this machine (the default --node-ip). */
export function firstAddress(): string {
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) if (!a.internal && a.family === 'IPv4') return a.address;
  }
  return '127.0.0.1';
}

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of text.split(',').filter((p) => p !== '')) {
    const [k, v] = pair.split('=');
    if (k) labels[k] = v ?? '';
  }
  return labels;
}

/** Throws a ConfigError naming the first flag it cannot accept. */
export function kubeletSettings(o: KubeletFlags): KubeletSettings {
  const num = (
    name: 'port' | 'maxPods' | 'leaseDuration' | 'leaseRenewInterval' | 'nodeStatusUpdateFrequency',
  ): number => {
    const v = Number(o[name]);
    if (!Number.isFinite(v) || v < 0) throw new ConfigError(`--${name} must be a non-negative number`);
    return v;
  };
  if (o.network !== 'none' && o.network !== 'host-gw')
    throw new ConfigError(`--network must be host-gw or none, not "${o.network}"`);
  return {
    nodeName: o.nodeName,
    nodeIP: o.nodeIp,
    dockerSocket: o.dockerSocket,
    rootDir: o.rootDir,
    sandboxImage: o.sandboxImage,
    podNetwork: o.podNetwork,
    network: o.network,
    clusterCIDR: o.clusterCidr,
    clusterDomain: o.clusterDomain,
    clusterDNS: o.clusterDns
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
    podCidrTimeoutMs: 120_000,
    port: num('port'),
    maxPods: num('maxPods'),
    leaseDurationSeconds: num('leaseDuration'),
    leaseRenewIntervalMs: num('leaseRenewInterval') * 1000,
    statusUpdateIntervalMs: num('nodeStatusUpdateFrequency') * 1000,
    relistIntervalMs: 1000,
    resyncIntervalMs: 10_000,
    labels: parseLabels(o.nodeLabels),
    ...(o.ingress === true ? { ingress: ingressPorts(o) } : {}),
  };
}

function ingressPorts(o: KubeletFlags): { httpPort: number; httpsPort: number } {
  const port = (flag: string, text: string): number => {
    const v = Number(text);
    if (!Number.isInteger(v) || v < 0 || v > 65535) throw new ConfigError(`--${flag} must be a port (0 to 65535)`);
    return v;
  };
  return {
    httpPort: port('ingress-http-port', o.ingressHttpPort ?? '80'),
    httpsPort: port('ingress-https-port', o.ingressHttpsPort ?? '443'),
  };
}
