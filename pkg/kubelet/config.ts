// The node agent's one typed configuration object (filled by cmd/kubelet.ts from flags).

import type { ClusterIdentity } from './cluster-identity.js';

export interface KubeletConfig {
  /** The cluster this agent belongs to: what it makes on the machine carries this. */
  cluster: ClusterIdentity;
  /** This agent's own identity (kept under rootDir), recorded in its node's Lease. */
  agentId: string;
  nodeName: string;
  /** The address other hosts and the apiserver reach this node at. */
  nodeIP: string;
  dockerSocket: string;
  /** Pod volumes and agent state live here. */
  rootDir: string;
  sandboxImage: string;
  /** Docker network the pod sandboxes join (with network 'none'). */
  podNetwork: string;
  /**
   * 'host-gw': the pod network from the node's podCIDR, routes to the other nodes, the
   * service proxy and the cluster DNS; 'none': pods on `podNetwork` and no more (several
   * agents sharing one dockerd in tests).
   */
  network: 'host-gw' | 'none';
  clusterCIDR: string;
  clusterDomain: string;
  /** Nameservers for ClusterFirst pods; empty: the agent's own DNS on the pod gateway. */
  clusterDNS: string[];
  /** How long to wait for node IPAM to give the node a podCIDR. */
  podCidrTimeoutMs: number;
  /** HTTPS port for logs and exec (the apiserver's client certificate only). */
  port: number;
  tlsCertFile: string;
  tlsKeyFile: string;
  clientCaFile: string;
  maxPods: number;
  leaseDurationSeconds: number;
  leaseRenewIntervalMs: number;
  statusUpdateIntervalMs: number;
  /** How often the runtime is relisted to notice container changes (PLEG). */
  relistIntervalMs: number;
  /** How often every pod is synced regardless of events. */
  resyncIntervalMs: number;
  labels: Record<string, string>;
  /** The built-in ingress controller's ports on nodeIP (0: a free one the system picks); undefined: off. */
  ingress?: { httpPort: number; httpsPort: number };
}
