// The node agent's own HTTPS port: container logs and exec, for the apiserver only (its
// kubelet-client certificate, signed by the cluster CA). The apiserver proxies pods/log
// and pods/exec here, and relays pods/portforward upgrades here (port-forward.ts).

import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { TLSSocket } from 'node:tls';
import { WebSocketServer, type WebSocket } from 'ws';
import { isObject } from '../api/meta.js';
import { boolParam, checkBooleanParams } from '../api/query-params.js';
import type { Pod } from '../api/types/index.js';
import type { KubeletConfig } from './config.js';
import { chooseProtocol, CHANNEL, exitStatus, frame } from '../streaming/index.js';
import type { ContainerState, ContainerRuntime } from './runtime/index.js';
import { errorMessage } from '../errors/index.js';
import { podLogOptions, type PodLogOptions } from '../api/pod-log-options.js';
import { limitBytes, runtimeLogOptions } from './container-logs.js';
import { serveTunnel } from './pod-tunnel.js';
import { serveAttach } from './attach.js';
import { servePortForward } from './port-forward.js';
import type { MetricsEndpoints } from './metrics/index.js';

/** The only client the agent serves. */
export const APISERVER_CLIENT_CN = 'kube-apiserver-kubelet-client';

/** Whether the connection is TLS with the apiserver's client certificate (an HTTPS server's sockets are TLSSockets). */
function peerAllowed(socket: Duplex): boolean {
  if (!(socket instanceof TLSSocket) || !socket.authorized) return false;
  const cn = socket.getPeerCertificate().subject?.CN;
  return (Array.isArray(cn) ? cn[0] : cn) === APISERVER_CLIENT_CN;
}

function fail(res: ServerResponse, code: number, message: string): void {
  res.writeHead(code, { 'Content-Type': 'text/plain' });
  res.end(message + '\n');
}

/** The port a listening server took (it listens on TCP, so address() is an AddressInfo). */
function tcpPort(server: https.Server): number {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the kubelet is not listening on a TCP port');
  return address.port;
}

export type PodLookup = (namespace: string, name: string) => Pod | undefined;

export class KubeletServer {
  private constructor(
    private readonly server: https.Server,
    readonly port: number,
  ) {}

  static async start(
    config: KubeletConfig,
    runtime: ContainerRuntime,
    serving: { lookup: PodLookup; metrics?: MetricsEndpoints },
  ): Promise<KubeletServer> {
    const { lookup, metrics } = serving;
    const server = https.createServer({
      key: readFileSync(config.tlsKeyFile),
      cert: readFileSync(config.tlsCertFile),
      ca: readFileSync(config.clientCaFile),
      requestCert: true,
      rejectUnauthorized: true,
    });
    const attempts = async (namespace: string, pod: string, container: string): Promise<ContainerState[] | string> => {
      const p = lookup(namespace, pod);
      if (p === undefined) return `pod ${namespace}/${pod} is not on this node`;
      const list = (await runtime.listManaged(p.metadata.uid ?? '')).filter(
        (c) => c.identity.containerName === container && c.identity.type !== 'sandbox',
      );
      if (list.length === 0) return `container "${container}" in pod "${pod}" is waiting to start: ContainerCreating`;
      return list.sort((a, b) => b.identity.attempt - a.identity.attempt);
    };

    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      void (async () => {
        if (!peerAllowed(req.socket)) return fail(res, 403, 'forbidden: only the apiserver may use this port');
        const url = new URL(req.url ?? '/', 'https://kubelet');
        if (url.pathname === '/healthz') return fail(res, 200, 'ok');
        if (req.method === 'GET' && metrics !== undefined && (await metrics.serve(url.pathname, res))) return;
        const m = url.pathname.match(/^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/);
        if (m === null || req.method !== 'GET') return fail(res, 404, 'not found');
        const found = await attempts(
          decodeURIComponent(m[1] ?? ''),
          decodeURIComponent(m[2] ?? ''),
          decodeURIComponent(m[3] ?? ''),
        );
        if (typeof found === 'string') return fail(res, 400, found);
        let opts: PodLogOptions;
        try {
          opts = podLogOptions(url.searchParams, decodeURIComponent(m[2] ?? ''));
        } catch (err) {
          return fail(res, 400, errorMessage(err));
        }
        const target = opts.previous ? found[1] : found[0];
        if (target === undefined)
          return fail(res, 400, `previous terminated container "${m[3] ?? ''}" in pod "${m[2] ?? ''}" not found`);
        const logs = await runtime.logs(target.id, runtimeLogOptions(opts, new Date()));
        const stream = limitBytes(logs, opts.limitBytes);
        res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
        res.flushHeaders();
        stream.pipe(res);
        res.on('close', () => stream.destroy());
      })().catch((err: unknown) => {
        if (!res.headersSent) fail(res, 500, errorMessage(err));
        else res.end();
      });
    });

    const wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      handleProtocols: (offered) => chooseProtocol(offered) ?? false,
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const deny = (code: number, message: string): void => {
        socket.end(
          `HTTP/1.1 ${code} ${message}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(message)}\r\nConnection: close\r\n\r\n${message}`,
        );
      };
      if (!peerAllowed(socket)) return deny(403, 'forbidden');
      const url = new URL(req.url ?? '/', 'https://kubelet');
      const forward = url.pathname.match(/^\/portForward\/([^/]+)\/([^/]+)$/);
      if (forward !== null) {
        const pod = { namespace: forward[1] ?? '', name: forward[2] ?? '' };
        return void servePortForward({ req, socket, head }, pod, { runtime, lookup });
      }
      const m = url.pathname.match(/^\/(exec|attach)\/([^/]+)\/([^/]+)\/([^/]+)$/);
      if (m === null) return deny(404, 'not found');
      try {
        checkBooleanParams(url.searchParams);
      } catch (err) {
        return deny(400, errorMessage(err));
      }
      void attempts(
        decodeURIComponent(m[2] ?? ''),
        decodeURIComponent(m[3] ?? ''),
        decodeURIComponent(m[4] ?? ''),
      ).then(
        (found) => {
          if (typeof found === 'string') return deny(400, found);
          const latest = found[0];
          if (latest === undefined || !latest.running) return deny(400, `container ${m[4] ?? ''} is not running`);
          const exec = { runtime, containerId: latest.id, query: url.searchParams };
          const serve = m[1] === 'attach' ? serveAttach : serveExec;
          wss.handleUpgrade(req, socket, head, (ws) => void serve(ws, exec));
        },
        (err: unknown) => deny(500, errorMessage(err)),
      );
    });

    // The apiserver's proxy to a pod of this node (pods/proxy, services/proxy).
    server.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (!peerAllowed(socket)) {
        socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
        return;
      }
      serveTunnel({ req, socket, head }, lookup);
    });

    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: Error) => {
        // Another cluster's agent on this machine most likely has the port.
        const inUse = 'code' in err && err.code === 'EADDRINUSE';
        reject(
          inUse
            ? new Error(
                `port ${config.port} is taken (by another node agent on this machine?): start this agent with another --port (COXSWAIN_KUBELET_PORT for npm run up)`,
              )
            : err,
        );
      });
      server.listen(config.port, '0.0.0.0', () => resolve());
    });
    return new KubeletServer(server, tcpPort(server));
  }

  /** Takes up a rotated serving certificate for new connections. */
  reloadCertificate(config: Pick<KubeletConfig, 'tlsCertFile' | 'tlsKeyFile' | 'clientCaFile'>): void {
    this.server.setSecureContext({
      key: readFileSync(config.tlsKeyFile),
      cert: readFileSync(config.tlsCertFile),
      ca: readFileSync(config.clientCaFile),
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

/** A resize frame's body, `{"Width":80,"Height":24}`; a missing size is 0 (no resize). */
function terminalSize(body: Buffer): { width: number; height: number } {
  const size: unknown = JSON.parse(body.toString());
  const dimension = (v: unknown): number => (typeof v === 'number' ? v : 0);
  return isObject(size)
    ? { width: dimension(size['Width']), height: dimension(size['Height']) }
    : { width: 0, height: 0 };
}

/** What an exec stream runs: the command (in the query) in one container. */
interface ExecTarget {
  runtime: ContainerRuntime;
  containerId: string;
  /** command (repeated), tty, stdin. */
  query: URLSearchParams;
}

async function serveExec(ws: WebSocket, target: ExecTarget): Promise<void> {
  const { runtime, containerId, query: q } = target;
  const cmd = q.getAll('command');
  const tty = boolParam(q, 'tty');
  const stdin = boolParam(q, 'stdin');
  // Frames can arrive before the exec exists (kubectl sends stdin at once): hold them.
  const early: Buffer[] = [];
  const input: { handle?: (buf: Buffer) => void } = {};
  ws.on('message', (data: Buffer) => {
    if (input.handle) input.handle(data);
    else early.push(data);
  });
  let session;
  try {
    session = await runtime.exec(containerId, { cmd, tty, stdin });
  } catch (err) {
    ws.send(
      frame(
        CHANNEL.error,
        JSON.stringify({
          metadata: {},
          status: 'Failure',
          message: errorMessage(err),
          reason: 'InternalError',
        }),
      ),
    );
    ws.close(1000);
    return;
  }
  const s = session;
  s.stdout.on('data', (c: Buffer) => ws.send(frame(CHANNEL.stdout, c)));
  s.stderr.on('data', (c: Buffer) => ws.send(frame(CHANNEL.stderr, c)));
  const handle = (buf: Buffer): void => {
    const channel = buf[0];
    const body = buf.subarray(1);
    if (channel === CHANNEL.stdin) s.stdin?.write(body);
    else if (channel === CHANNEL.resize) {
      try {
        const { width, height } = terminalSize(body);
        void s.resize(width, height).catch(() => undefined);
      } catch {
        // malformed resize: ignore
      }
    } else if (channel === CHANNEL.close && body[0] === CHANNEL.stdin) s.stdin?.end();
  };
  for (const buf of early.splice(0)) handle(buf);
  input.handle = handle;
  ws.on('close', () => s.stdin?.end());
  const code = await s.exitCode;
  // Let buffered output drain before the status.
  await new Promise((r) => setImmediate(r));
  if (ws.readyState === ws.OPEN) {
    ws.send(frame(CHANNEL.error, exitStatus(code)));
    ws.close(1000);
  }
}
