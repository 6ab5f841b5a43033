// The node agent's face: cmd/ and tests import from here.
export { Kubelet } from './kubelet.js';
export type { KubeletConfig } from './config.js';
export * from './runtime/index.js';
export { PodSyncer, type PodSyncConfig, type SyncResult } from './pod-sync.js';
export type { ObjectReader, PodApi } from './pod-api.js';
export { agentIdentity } from './agent-identity.js';
export { credentialFiles, nodeCredentials, type NodeCredentialFiles } from './bootstrap.js';
export { CertificateRotator } from './certificate-rotation.js';
export { clusterIdentity, type ClusterIdentity } from './cluster-identity.js';
export { teardownCluster } from './teardown.js';
export { firstAddress, kubeletSettings, type KubeletFlags, type KubeletSettings } from './flags.js';
export { KubeletStartError, run, teardown } from './run.js';
