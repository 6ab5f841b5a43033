// The web dashboard's server side: the static single-page app under /ui/ on the apiserver's
// own port. It holds no cluster data and no credentials: the page signs in with a bearer token
// (or the browser's client certificate) and reads everything through the ordinary Kubernetes
// API, so authentication, RBAC and audit apply to it exactly as to kubectl. That is why the
// shell itself is the one thing served without authentication, as the Kubernetes Dashboard's is.

import { fileURLToPath } from 'node:url';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from '../errors/index.js';
import { loadStaticFiles, type StaticFile } from './static-files.js';

export { loadStaticFiles, type StaticFile } from './static-files.js';

/** Where the dashboard is served. */
export const DASHBOARD_PATH = '/ui/';

/** The bundle, beside this module once built (dist/pkg/dashboard/static). */
const DEFAULT_STATIC_DIR = fileURLToPath(new URL('./static/', import.meta.url));

/**
 * What the page may load and talk to: only this origin (its API and websockets), no inline
 * script, no framing (clickjacking a signed-in dashboard), no plugins. xterm.js sets styles.
 */
const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
};

function sendStatus(res: ServerResponse, err: ApiError): void {
  const body = JSON.stringify(err.toStatus());
  res.writeHead(err.code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function sendFile(req: IncomingMessage, res: ServerResponse, file: StaticFile): void {
  const headers: Record<string, string | number> = {
    ...SECURITY_HEADERS,
    'Content-Type': file.contentType,
    ETag: file.etag,
    // Hashed names never change content; the page itself is revalidated on every load.
    'Cache-Control': file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
  };
  if (req.headers['if-none-match'] === file.etag) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  res.writeHead(200, { ...headers, 'Content-Length': file.body.length });
  res.end(req.method === 'HEAD' ? undefined : file.body);
}

/** Serves the dashboard's files for request paths under /ui (the caller routes those here). */
export class Dashboard {
  private files: Map<string, StaticFile> | undefined;

  constructor(private readonly staticDir: string = DEFAULT_STATIC_DIR) {}

  /** Whether a request path is the dashboard's (`/ui` or below). */
  static claims(path: string): boolean {
    return path === '/ui' || path.startsWith(DASHBOARD_PATH);
  }

  serve(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    const path = url.split('?', 1)[0] ?? '/';
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return sendStatus(
        res,
        new ApiError('MethodNotAllowed', `the dashboard serves GET and HEAD, not ${req.method ?? ''}`),
      );
    }
    if (path === '/ui') {
      res.writeHead(301, { Location: DASHBOARD_PATH, 'Content-Length': 0 });
      res.end();
      return;
    }
    // Read on first use, so an apiserver started before `npm run build` finished still serves it.
    this.files ??= loadStaticFiles(this.staticDir);
    if (this.files.size === 0) {
      this.files = undefined;
      return sendStatus(
        res,
        new ApiError(
          'ServiceUnavailable',
          'the dashboard is not built: run `npm run build` (it bundles pkg/dashboard/ui)',
        ),
      );
    }
    const file = this.files.get(path.slice(DASHBOARD_PATH.length - 1));
    if (file === undefined)
      return sendStatus(res, new ApiError('NotFound', 'the server could not find the requested resource'));
    sendFile(req, res, file);
  }
}
