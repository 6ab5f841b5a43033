// Bootstrap tokens: their Secrets, and the detached JWS that signs cluster-info with them.
export * from './token.js';
