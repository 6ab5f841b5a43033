// The node agent's one typed configuration object (filled by cmd/kubelet.ts from flags).

export interface KubeletConfig {
  nodeName: string;
  /** The address other hosts and the apiserver reach this node at. */
  nodeIP: string;
  dockerSocket: string;
  /** Pod volumes and agent state live here. */
  rootDir: string;
  sandboxImage: string;
  /** Docker network the pod sandboxes join. */
  podNetwork: string;
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
}
