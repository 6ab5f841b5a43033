// pkg/serviceaccount's face: ServiceAccount tokens as Kubernetes makes them — keys and key ids,
// the flags' configuration, signing bound tokens, authenticating them (against the objects they
// are bound to), the TokenRequest API and the OIDC discovery documents, and setup.ts bundling
// them from the flags and key files. Pure building blocks: the apiserver supplies the key
// files' contents, the object lookups and the HTTP routes.

export * from './keys.js';
export * from './claims.js';
export * from './config.js';
export * from './signer.js';
export * from './verifier.js';
export * from './token-request.js';
export * from './oidc.js';
export * from './setup.js';
