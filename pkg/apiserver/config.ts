// The apiserver's one typed configuration object (filled by cmd/apiserver.ts from flags).

import type { ServiceAccountTokenConfig } from '../serviceaccount/index.js';
import type { EncryptionConfiguration } from '../storage/encryption/index.js';
import type { Level } from './admission/index.js';
import type { AuditLogOptions } from './audit/index.js';

/** ServiceAccount tokens: the key that signs them, the keys that verify them, and their claims. */
export interface ServiceAccountConfig {
  /** `--service-account-signing-key-file` (pkg/pki's service-account.key). */
  signingKeyFile: string;
  /** `--service-account-key-file`: public keys that verify, retired ones included. */
  keyFile?: string;
  tokens: ServiceAccountTokenConfig;
}

/** etcd as the store (store-backend.ts). */
export interface EtcdConfig {
  /** Client URLs. */
  servers: string[];
  /** Key prefix in etcd (--etcd-prefix, default /registry). */
  prefix: string;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

export interface ApiServerConfig {
  /** Address to listen on (default 0.0.0.0). */
  bindAddress: string;
  /** HTTPS port (default 6443; 0 picks a free port, for tests). */
  securePort: number;
  /** Folder of the embedded SQLite store (unused with etcd). */
  dataDir: string;
  /** `--etcd-servers` and the other --etcd-* flags: the store is etcd instead of SQLite. */
  etcd?: EtcdConfig;
  tlsCertFile: string;
  tlsKeyFile: string;
  /** CA that signs client certificates (the cluster CA). */
  clientCaFile: string;
  /** Request body limit in bytes (413 beyond it). */
  maxBodyBytes: number;
  /** How often watches that asked for bookmarks get one. */
  bookmarkIntervalMs: number;
  /** Revisions of history kept for watches to resume from. */
  historyRevisions: number;
  /** How often history older than that is compacted away. */
  compactionIntervalMs: number;
  /** Client certificate and key the apiserver presents to node agents (logs, exec). */
  kubeletClientCertFile?: string;
  kubeletClientKeyFile?: string;
  /**
   * Address the cluster reaches this apiserver at: the `kubernetes` Service's endpoint,
   * cluster-info and discovery (`serverAddressByClientCIDRs`). Empty: chosen at start
   * (advertise-address.ts).
   */
  advertiseAddress: string;
  /** This apiserver's identity Lease (apiserver-identity.ts): how long it lives, how often it is renewed. */
  identityLease: { durationSeconds: number; renewIntervalSeconds: number };
  /** How often the ClusterIP and NodePort bitmaps are repaired from the stored Services (Kubernetes: 3 min). */
  allocationRepairIntervalMs: number;
  /** Services' ClusterIPs come from here (two clusters on one machine need distinct ones). */
  serviceClusterIPRange: string;
  /** Concurrent non-mutating requests before 429 (Kubernetes' --max-requests-inflight; 0 = unlimited). */
  maxRequestsInflight: number;
  /** Concurrent mutating requests before 429 (--max-mutating-requests-inflight; 0 = unlimited). */
  maxMutatingRequestsInflight: number;
  /** Concurrent watches of one user before 429 (0 = unlimited). */
  maxWatchesPerUser: number;
  /** Concurrent watches in total before 429 (0 = unlimited). */
  maxWatches: number;
  /** Bytes a watcher may leave unread before it is cut off (it then re-lists). */
  watchMaxBufferedBytes: number;
  /** Without it ServiceAccount tokens are neither issued nor accepted. */
  serviceAccount?: ServiceAccountConfig;
  /** Pod Security level of namespaces without `pod-security.kubernetes.io/*` labels. */
  podSecurityDefault: Level;
  /** `--encryption-provider-config`, parsed and validated: encryption at rest of the store. */
  encryption?: { file: string; config: EncryptionConfiguration };
  /** `--audit-policy-file` and `--audit-log-*`; without both a policy and a path nothing is audited. */
  audit?: AuditLogOptions;
}

export const DEFAULT_CONFIG: Omit<ApiServerConfig, 'dataDir' | 'tlsCertFile' | 'tlsKeyFile' | 'clientCaFile'> = {
  bindAddress: '0.0.0.0',
  securePort: 6443,
  maxBodyBytes: 3 * 1024 * 1024,
  bookmarkIntervalMs: 60_000,
  historyRevisions: 100_000,
  compactionIntervalMs: 60_000,
  advertiseAddress: '',
  serviceClusterIPRange: '10.96.0.0/12',
  identityLease: { durationSeconds: 30, renewIntervalSeconds: 10 },
  allocationRepairIntervalMs: 3 * 60_000,
  maxRequestsInflight: 400,
  maxMutatingRequestsInflight: 200,
  maxWatchesPerUser: 64,
  maxWatches: 2000,
  watchMaxBufferedBytes: 10 * 1024 * 1024,
  podSecurityDefault: 'privileged',
};
