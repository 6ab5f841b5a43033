// The ingress proxy's listeners: plain HTTP and HTTPS (SNI picks the certificate) on the
// node's address. Each request is routed by host and path (router.ts), sent to one ready
// endpoint of the backend Service port (backends.ts), and relayed by http-proxy-3, which also
// carries websocket upgrades and adds the X-Forwarded-* headers. No route: 404; a route whose
// Service has no ready endpoint: 503; an endpoint that fails: 502 (as ingress-nginx answers).

import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { ProxyServer } from 'http-proxy-3';
import { errorMessage } from '../../errors/index.js';
import type { Backends, Endpoint } from './backends.js';
import type { IngressCertificates } from './certificates.js';
import { hostOf, pathOf, route, type RouteTable } from './router.js';

export interface IngressListenOptions {
  address: string;
  httpPort: number;
  httpsPort: number;
  log: (m: string) => void;
}

export interface IngressProxyDeps {
  table: () => RouteTable;
  backends: Backends;
  certificates: IngressCertificates;
}

/** Headers and socket limits that keep one client from holding the proxy. */
const HEADERS_TIMEOUT_MS = 30_000;
const KEEP_ALIVE_TIMEOUT_MS = 60_000;

function endpointFor(deps: IngressProxyDeps, req: http.IncomingMessage): Endpoint | number {
  const target = route(deps.table(), hostOf(req.headers.host), pathOf(req.url));
  if (target === undefined) return 404;
  const picked = deps.backends.pick(target);
  return 'endpoint' in picked ? picked.endpoint : 503;
}

function reply(res: http.ServerResponse, code: number): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = `${code} ${http.STATUS_CODES[code] ?? ''}\n`;
  res.writeHead(code, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function refuseUpgrade(socket: Duplex, code: number): void {
  socket.end(`HTTP/1.1 ${code} ${http.STATUS_CODES[code] ?? ''}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

export class IngressProxy {
  private constructor(
    private readonly servers: (http.Server | https.Server)[],
    private readonly relay: ProxyServer,
    private readonly agent: http.Agent,
  ) {}

  static async listen(deps: IngressProxyDeps, options: IngressListenOptions): Promise<IngressProxy> {
    // Keep-alive to the endpoints: one TCP handshake per many requests.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 512, maxFreeSockets: 64 });
    const relay = new ProxyServer({ xfwd: true, agent, proxyTimeout: 120_000 });
    relay.on('error', (err) => options.log(`ingress: relay: ${errorMessage(err)}`));
    const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
      const endpoint = endpointFor(deps, req);
      if (typeof endpoint === 'number') return reply(res, endpoint);
      relay.web(req, res, { target: `http://${endpoint.ip}:${endpoint.port}` }, (err) => {
        options.log(`ingress: ${endpoint.ip}:${endpoint.port}: ${errorMessage(err)}`);
        reply(res, 502);
      });
    };
    const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
      socket.on('error', () => socket.destroy());
      const endpoint = endpointFor(deps, req);
      if (typeof endpoint === 'number') return refuseUpgrade(socket, endpoint);
      relay.ws(req, socket, head, { target: `ws://${endpoint.ip}:${endpoint.port}` }, () => socket.destroy());
    };
    const plain = http.createServer(onRequest);
    const secure = https.createServer(
      {
        SNICallback: (servername, done) => done(null, deps.certificates.contextFor(servername)),
        // Without SNI (a client asking by IP address) the fallback certificate answers.
        secureContext: deps.certificates.contextFor(undefined),
      },
      onRequest,
    );
    const servers = [plain, secure];
    for (const s of servers) {
      s.headersTimeout = HEADERS_TIMEOUT_MS;
      s.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
      s.on('upgrade', onUpgrade);
      s.on('clientError', (_err, socket: Socket) => socket.destroy());
    }
    const proxy = new IngressProxy(servers, relay, agent);
    try {
      await listenOn(plain, options.address, options.httpPort);
      await listenOn(secure, options.address, options.httpsPort);
    } catch (err) {
      await proxy.close();
      throw err;
    }
    return proxy;
  }

  /** The ports actually bound (a port of 0 asks the kernel for a free one). */
  ports(): { http: number; https: number } {
    const port = (s: http.Server | https.Server | undefined): number => {
      const a = s?.address();
      return typeof a === 'object' && a !== null ? (a satisfies AddressInfo).port : 0;
    };
    return { http: port(this.servers[0]), https: port(this.servers[1]) };
  }

  async close(): Promise<void> {
    this.relay.close();
    this.agent.destroy();
    await Promise.all(
      this.servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
    );
  }
}

function listenOn(server: http.Server | https.Server, address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    // The flag asked for the proxy: a port it cannot take stops the agent with a clear reason.
    const refuse = (err: Error): void =>
      reject(new Error(`ingress: cannot listen on ${address}:${port}: ${errorMessage(err)}`));
    server.once('error', refuse);
    server.listen(port, address, () => {
      server.off('error', refuse);
      resolve();
    });
  });
}
