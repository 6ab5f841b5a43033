// /openapi/v3 (the index), /openapi/v3/<api|apis/group>/<version> (one document per served
// group/version) and /openapi/v2, generated from the validation schema (openapi/schemas.ts).
// Every document is serialised and hashed once, at start; requests only pick bytes.
//
// Caching as Kubernetes does it: the index names each document by the SHA-512 of its bytes
// (`?hash=`), kubectl caches by that URL; a request with the current hash is immutable for a
// year, an outdated hash is redirected to the current one, and every answer has an ETag that
// If-None-Match can revalidate.
//
// /openapi/v2 in protobuf (what kubectl asks for) is answered with an empty document, which the
// protobuf decoder reads as a valid Document with nothing in it: kubectl then finds no v2
// schema for a kind and skips client-side checks it would otherwise make against v2 (the v3
// documents carry everything kubectl needs: explain, the fieldValidation verification and the
// strategic merge patch metadata). A 404 or 406 instead would fail `create -f` of an unknown
// kind with "failed to download openapi" rather than "no matches for kind".

import { createHash } from 'node:crypto';
import type { Request, Response, Router } from 'express';
import { registryGeneration } from '../api/registry.js';
import { ApiError } from '../errors/index.js';
import { allGvDocuments, v2Document } from './openapi/documents.js';
import { sendError } from './resource-handler.js';

interface Served {
  body: Buffer;
  etag: string;
}

export interface OpenApiDocuments {
  index: Served;
  groupVersions: Map<string, Served>;
  v2: Served;
}

function served(value: unknown): Served {
  const body = Buffer.from(JSON.stringify(value));
  return { body, etag: createHash('sha512').update(body).digest('hex').toUpperCase() };
}

/** Builds every document once. */
export function buildOpenApi(): OpenApiDocuments {
  const docs = allGvDocuments();
  const groupVersions = new Map<string, Served>();
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const [key, doc] of docs) {
    const s = served(doc);
    groupVersions.set(key, s);
    paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${s.etag}` };
  }
  return { index: served({ paths }), groupVersions, v2: served(v2Document(docs.values())) };
}

const V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';
/** What Kubernetes answers it with: Go's MIME parser refuses the `@` kubectl asks with. */
const V2_PROTOBUF_REPLY = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';
const ONE_YEAR_MS = 365 * 24 * 3600 * 1000;

function notModified(req: Request, etag: string): boolean {
  const header = req.get('If-None-Match');
  if (header === undefined) return false;
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === `"${etag}"` || t.trim() === '*');
}

/** Answers with a document's bytes, or 304 when the client's copy is current. */
function send(exchange: { req: Request; res: Response }, doc: Served, contentType: string): void {
  const { req, res } = exchange;
  res.setHeader('ETag', `"${doc.etag}"`);
  res.setHeader('Vary', 'Accept');
  if (notModified(req, doc.etag)) {
    res.status(304).end();
    return;
  }
  res.status(200).setHeader('Content-Type', contentType);
  res.end(doc.body);
}

function notFound(path: string): ApiError {
  return new ApiError('NotFound', `the server could not find the requested resource (get ${path})`, {
    details: { causes: [{ reason: 'UnexpectedServerResponse', message: `no OpenAPI document at ${path}` }] },
  });
}

/**
 * The documents of the registry as it is now: rebuilt when a CustomResourceDefinition changed
 * what is served (between such changes, built once).
 */
function currentDocuments(): () => OpenApiDocuments {
  let built = buildOpenApi();
  let generation = registryGeneration();
  return () => {
    if (generation !== registryGeneration()) {
      generation = registryGeneration();
      built = buildOpenApi();
    }
    return built;
  };
}

/** Registers the OpenAPI routes. */
export function serveOpenApi(routes: Router): void {
  const documents = currentDocuments();
  routes.get('/openapi/v3', (req, res) => send({ req, res }, documents().index, 'application/json'));
  routes.get(/^\/openapi\/v3\/(.+)$/, (req, res) => {
    const key = String(req.params[0] ?? '');
    const doc = documents().groupVersions.get(key);
    if (doc === undefined) return sendError(res, notFound(req.path));
    const hash = req.query['hash'];
    if (typeof hash === 'string' && hash !== '') {
      if (hash !== doc.etag) {
        res.redirect(301, `/openapi/v3/${key}?hash=${doc.etag}`);
        return;
      }
      res.setHeader('Cache-Control', 'public, immutable');
      res.setHeader('Expires', new Date(Date.now() + ONE_YEAR_MS).toUTCString());
    }
    send({ req, res }, doc, 'application/json');
  });
  routes.get('/openapi/v2', (req, res) => {
    if ((req.get('Accept') ?? '').includes(V2_PROTOBUF)) {
      res.setHeader('Vary', 'Accept');
      res.status(200).setHeader('Content-Type', V2_PROTOBUF_REPLY);
      res.end();
      return;
    }
    send({ req, res }, documents().v2, 'application/json');
  });
}
