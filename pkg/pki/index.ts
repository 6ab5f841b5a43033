export * from './certificates.js';
export * from './kubeconfig.js';
export * from './cluster-pki.js';
