// Raw HTTPS requests for tests that must control every byte (no client certificate,
// a foreign certificate, malformed bodies, exact headers).

import https from 'node:https';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export function rawRequest(opts: {
  /** Default 127.0.0.1. */
  host?: string;
  port: number;
  method: string;
  path: string;
  /** The CA the server's certificate must chain to; without it the certificate is not verified. */
  ca?: string;
  cert?: string;
  key?: string;
  body?: string | Buffer;
  headers?: Record<string, string>;
}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: opts.host ?? '127.0.0.1',
        port: opts.port,
        method: opts.method,
        path: opts.path,
        ...(opts.ca !== undefined ? { ca: opts.ca } : { rejectUnauthorized: false }),
        ...(opts.cert !== undefined ? { cert: opts.cert } : {}),
        ...(opts.key !== undefined ? { key: opts.key } : {}),
        headers: opts.headers ?? {},
        agent: false,
        timeout: 15_000,
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(opts.body);
  });
}

export interface Credentials {
  cert?: string;
  key?: string;
  token?: string;
}

/**
 * GET https://127.0.0.1:port/path of a component (scheduler, controller-manager): their
 * serving certificate is self-signed, so it is not verified here.
 */
export function getComponent(port: number, path: string, creds: Credentials = {}): Promise<RawResponse> {
  return rawRequest({
    port,
    method: 'GET',
    path,
    ...(creds.cert === undefined ? {} : { cert: creds.cert }),
    ...(creds.key === undefined ? {} : { key: creds.key }),
    headers: creds.token === undefined ? {} : { Authorization: `Bearer ${creds.token}` },
  });
}
