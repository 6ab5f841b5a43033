export * from './certificates.js';
export * from './kubeconfig.js';
export * from './cluster-pki.js';
export * from './etcd-pki.js';
export * from './member-pki.js';
