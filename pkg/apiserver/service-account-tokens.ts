// ServiceAccount tokens inside the apiserver: the signer and verifier built from the key files,
// looking up the objects tokens are bound to in the apiserver's own store.

import { readFileSync } from 'node:fs';
import { RESOURCES } from '../api/index.js';
import type { Store } from '../storage/index.js';
import type { Response, Router } from 'express';
import {
  createServiceAccountTokens,
  DISCOVERY_CACHE_CONTROL,
  JWKS_CONTENT_TYPE,
  JWKS_PATH,
  OPENID_CONFIGURATION_CONTENT_TYPE,
  OPENID_CONFIGURATION_PATH,
  type BoundObjectLookup,
  type DiscoveryDocuments,
  type ServiceAccountTokens,
} from '../serviceaccount/index.js';
import type { ServiceAccountConfig } from './config.js';
import { typedFind } from './typed-read.js';

/** Reads the objects tokens are bound to straight from the watch cache (the REST layer is built on top). */
export function boundObjectLookup(store: Store): BoundObjectLookup {
  const find = typedFind(store);
  return {
    serviceAccount: (namespace, name) => find(RESOURCES.serviceaccounts, namespace, name),
    pod: (namespace, name) => find(RESOURCES.pods, namespace, name),
    secret: (namespace, name) => find(RESOURCES.secrets, namespace, name),
    node: (name) => find(RESOURCES.nodes, undefined, name),
  };
}

/** Signer, verifier and discovery documents; throws on unreadable keys, and the apiserver does not start. */
export function loadServiceAccountTokens(
  config: ServiceAccountConfig,
  deps: { store: Store; externalAddress: string },
): ServiceAccountTokens {
  return createServiceAccountTokens({
    config: config.tokens,
    signingKeyPem: readFileSync(config.signingKeyFile, 'utf8'),
    ...(config.keyFile === undefined ? {} : { verificationKeysPem: readFileSync(config.keyFile, 'utf8') }),
    lookup: boundObjectLookup(deps.store),
    externalAddress: deps.externalAddress,
  });
}

/** `/.well-known/openid-configuration` and `/openid/v1/jwks`, for relying parties outside the cluster. */
export function serveIssuerDiscovery(routes: Router, documents: DiscoveryDocuments): void {
  const send = (res: Response, contentType: string, body: unknown): void => {
    res.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': DISCOVERY_CACHE_CONTROL });
    res.end(JSON.stringify(body));
  };
  routes.get(OPENID_CONFIGURATION_PATH, (_req, res) =>
    send(res, OPENID_CONFIGURATION_CONTENT_TYPE, documents.configuration),
  );
  routes.get(JWKS_PATH, (_req, res) => send(res, JWKS_CONTENT_TYPE, documents.jwks));
}
