// pods/portforward on the node agent: `/portForward/{namespace}/{pod}`, upgraded by the
// apiserver's relay to SPDY/3.1, to SPDY inside a websocket, or to the websocket channel
// protocol (pkg/streaming/port-forward-protocol.ts). Each forwarded connection reaches the
// port inside the pod's network namespace, as on Kubernetes (a process listening on
// 127.0.0.1 in the pod is reachable). Node cannot enter a namespace, so a small helper
// (netns-dialer.ts) runs in it through `nsenter -t <sandbox pid> -n`, one per forward,
// connects there and passes each connected socket back over its IPC channel: the agent
// then moves the bytes itself. (busybox nc per connection worked too, but capped a
// forward at about 70 MB/s through its small buffers and pipes.) Nothing is needed in the pod's image.

import { spawn, type ChildProcess } from 'node:child_process';
import type { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { createWebSocketStream, WebSocketServer, type WebSocket } from 'ws';
import { ApiError, errorMessage } from '../errors/index.js';
import {
  portForwardMode,
  portPreamble,
  PORT_FORWARD_CHANNEL_PROTOCOLS,
  PORT_FORWARD_PROTOCOL,
  SPDY_TUNNEL_PROTOCOL,
  frame,
  parsePort,
  RST_STATUS,
  SpdyServerSession,
  type SpdyStream,
} from '../streaming/index.js';
import type { ContainerRuntime } from './runtime/index.js';
import type { Pod } from '../api/types/index.js';

/** How long the two streams of one forwarded connection may arrive apart (kubelet's default). */
export const STREAM_CREATION_TIMEOUT_MS = 30_000;
/** ws refuses the tunnel's subprotocol (`/` and `+` are not token characters): it is renamed for the handshake. */
const TUNNEL_ALIAS = 'coxswain-spdy-portforward';
const MAX_ERROR_TEXT = 1024;
const MAX_EARLY_BYTES = 1024 * 1024;
/** Forwards (each one helper process of some 30 MB) an agent serves at once; more are refused. */
const MAX_NAMESPACE_HELPERS = 64;
let liveHelpers = 0;

/** Opens connections to ports inside one pod; close() when the forward is over. */
export interface PodDialer {
  /** A connection to 127.0.0.1:port in the pod; rejects with why it failed (`connect: connection refused`). */
  dial(port: number): Promise<Duplex>;
  close(): void;
}

interface DialAnswer {
  id: number;
  error?: string;
}

function isDialAnswer(msg: unknown): msg is DialAnswer {
  return typeof msg === 'object' && msg !== null && 'id' in msg && typeof msg.id === 'number';
}

/** The helper that dials inside the namespace (netns-dialer.ts, beside this file once built). */
const NETNS_DIALER = fileURLToPath(new URL('./netns-dialer.js', import.meta.url));

/**
 * Dials ports inside the network namespace of the process `pid` (the pod's sandbox): one
 * helper process per forward, started at the first dial, which hands back connected sockets.
 */
export function namespaceDialer(pid: number): PodDialer {
  let child: ChildProcess | undefined;
  let closed = false;
  let nextId = 0;
  let stderr = '';
  const pending = new Map<number, { port: number; resolve: (s: Duplex) => void; reject: (e: Error) => void }>();
  const failAll = (why: string): void => {
    for (const p of pending.values()) p.reject(new Error(why));
    pending.clear();
  };
  const start = (): ChildProcess => {
    if (liveHelpers >= MAX_NAMESPACE_HELPERS)
      throw new Error(`too many port-forwards on this node at once (${MAX_NAMESPACE_HELPERS}); try again later`);
    liveHelpers++;
    const c = spawn('nsenter', ['-t', String(pid), '-n', '--', process.execPath, NETNS_DIALER], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    c.stderr?.on('data', (d: Buffer) => {
      if (stderr.length < MAX_ERROR_TEXT) stderr += d.toString();
    });
    c.on('message', (msg: unknown, handle: unknown) => {
      if (!isDialAnswer(msg)) return;
      const waiter = pending.get(msg.id);
      pending.delete(msg.id);
      if (waiter === undefined) {
        if (handle instanceof Socket) handle.destroy();
        return;
      }
      if (handle instanceof Socket) return waiter.resolve(handle);
      const { port } = waiter;
      const why = msg.error ?? 'no socket came back';
      waiter.reject(
        new Error(
          `failed to connect to localhost:${port} inside the pod's network namespace: dial tcp4 127.0.0.1:${port}: ${why}`,
        ),
      );
    });
    c.once('error', (err) => failAll(`cannot enter the pod's network namespace: ${err.message}`));
    c.once('close', () => {
      liveHelpers--;
      if (child === c) child = undefined;
    });
    c.once('exit', () => {
      failAll(`cannot enter the pod's network namespace: ${stderr.trim() || 'the helper exited'}`);
    });
    return c;
  };
  return {
    dial(port) {
      let c: ChildProcess;
      try {
        if (closed) throw new Error('the port-forward is over');
        c = child ??= start();
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
      const id = nextId++;
      return new Promise<Duplex>((resolve, reject) => {
        pending.set(id, { port, resolve, reject });
        c.send({ id, port }, (err: Error | null) => {
          if (err !== null) failAll(`cannot reach the namespace helper: ${err.message}`);
        });
      });
    },
    close() {
      closed = true;
      child?.kill('SIGKILL');
      child = undefined;
    },
  };
}

/** What a forward goes to: the pod (for messages) and how to reach its ports. */
export interface ForwardTarget {
  podName: string;
  uid: string;
  dialer: PodDialer;
}

function forwardingError(target: ForwardTarget, port: number, why: string): string {
  return `error forwarding port ${port} to pod ${target.podName}, uid ${target.uid}: ${why}`;
}

interface StreamPair {
  error?: SpdyStream;
  data?: SpdyStream;
  timer: NodeJS.Timeout;
}

/** What is wrong with a new stream's headers (kubelet's checks), if anything. */
function streamProblem(stream: SpdyStream): string | undefined {
  const port = stream.headers.get('port');
  if (port === undefined || port === '') return '"port" header is required';
  try {
    parsePort(port);
  } catch (err) {
    return errorMessage(err);
  }
  const type = stream.headers.get('streamtype');
  if (type === undefined || type === '') return '"streamType" header is required';
  if (type !== 'error' && type !== 'data') return `invalid stream type ${JSON.stringify(type)}`;
  return undefined;
}

/** The request id a stream belongs to; old clients without one pair by stream id (error n, data n+2). */
function requestIdOf(stream: SpdyStream): string {
  const id = stream.headers.get('requestid');
  if (id !== undefined && id !== '') return id;
  return String(stream.headers.get('streamtype') === 'data' ? stream.id - 2 : stream.id);
}

/** Copies one pair's data stream to and from a connection inside the pod, until either ends. */
async function forwardPair(pair: { data: SpdyStream; error: SpdyStream }, target: ForwardTarget): Promise<void> {
  const { data, error } = pair;
  const port = Number(data.headers.get('port'));
  error.resume(); // the client writes nothing there; reading lets its FIN end the stream
  let conn: Duplex;
  try {
    conn = await target.dialer.dial(port);
  } catch (err) {
    if (!error.destroyed) error.end(forwardingError(target, port, errorMessage(err)));
    if (!data.destroyed) data.end();
    return;
  }
  if (data.destroyed) return void conn.destroy();
  if (conn instanceof Socket) conn.setNoDelay(true);
  data.pipe(conn);
  conn.pipe(data);
  data.once('close', () => conn.destroy());
  await new Promise<void>((resolve) => {
    conn.once('close', () => resolve());
    conn.on('error', () => conn.destroy());
  });
  if (!error.destroyed) error.end();
  if (!data.destroyed && !data.writableEnded) data.end();
}

/** Serves kubectl's SPDY port-forward on a byte stream (raw socket or websocket stream). */
export function serveSpdyPortForward(transport: Duplex, target: ForwardTarget): SpdyServerSession {
  const pairs = new Map<string, StreamPair>();
  const dropPair = (id: string): void => {
    const pair = pairs.get(id);
    if (pair !== undefined) clearTimeout(pair.timer);
    pairs.delete(id);
  };
  return new SpdyServerSession(transport, {
    onStream: (stream) => {
      if (streamProblem(stream) !== undefined) return stream.reset(RST_STATUS.cancel);
      stream.reply();
      const id = requestIdOf(stream);
      let pair = pairs.get(id);
      if (pair === undefined) {
        const timer = setTimeout(() => {
          const p = pairs.get(id);
          dropPair(id);
          p?.error?.end(`(request=${id}) timed out waiting for streams`);
          p?.data?.reset();
        }, STREAM_CREATION_TIMEOUT_MS);
        pair = { timer };
        pairs.set(id, pair);
      }
      const type = stream.headers.get('streamtype') === 'data' ? 'data' : 'error';
      if (pair[type] !== undefined) {
        pair.error?.write(`error processing stream for request ${id}: ${type} stream already assigned`);
        return stream.reset(RST_STATUS.cancel);
      }
      pair[type] = stream;
      const { data, error } = pair;
      if (data === undefined || error === undefined) return;
      dropPair(id);
      void forwardPair({ data, error }, target);
    },
    onClose: () => {
      for (const id of [...pairs.keys()]) dropPair(id);
      target.dialer.close();
    },
  });
}

/** Serves the channel protocol: one connection per port in the query, for as long as the websocket lives. */
export function serveChannelPortForward(ws: WebSocket, ports: number[], target: ForwardTarget): void {
  ports.forEach((port, i) => {
    ws.send(portPreamble(2 * i, port));
    ws.send(portPreamble(2 * i + 1, port));
  });
  const conns: (Duplex | undefined)[] = ports.map(() => undefined);
  // What the client sends before its connection is up, held (within a bound) until it is.
  const early: Buffer[][] = ports.map(() => []);
  let earlyBytes = 0;
  const forwards = ports.map(async (port, i) => {
    let conn: Duplex;
    try {
      conn = await target.dialer.dial(port);
    } catch (err) {
      if (ws.readyState === ws.OPEN) ws.send(frame(2 * i + 1, forwardingError(target, port, errorMessage(err))));
      return;
    }
    if (ws.readyState !== ws.OPEN) return void conn.destroy();
    if (conn instanceof Socket) conn.setNoDelay(true);
    conns[i] = conn;
    for (const b of early[i]?.splice(0) ?? []) conn.write(b);
    let inFlight = 0;
    conn.on('data', (chunk: Buffer) => {
      inFlight++;
      if (inFlight >= 16) conn.pause();
      ws.send(frame(2 * i, chunk), () => {
        inFlight--;
        if (inFlight < 8) conn.resume();
      });
    });
    await new Promise<void>((resolve) => {
      conn.once('close', () => resolve());
      conn.on('error', () => conn.destroy());
    });
  });
  ws.on('message', (message: Buffer) => {
    const channel = message[0];
    // Only data channels carry input; anything else from the client is ignored.
    if (channel === undefined || channel % 2 !== 0 || channel / 2 >= ports.length) return;
    const body = message.subarray(1);
    const conn = conns[channel / 2];
    if (conn === undefined) {
      earlyBytes += body.length;
      if (earlyBytes > MAX_EARLY_BYTES) ws.close(1009, 'too much data before the connection was up');
      else early[channel / 2]?.push(body);
    } else if (!conn.write(body)) {
      ws.pause();
      conn.once('drain', () => ws.resume());
    }
  });
  const closeAll = (): void => {
    for (const conn of conns) conn?.destroy();
    target.dialer.close();
  };
  ws.on('close', closeAll);
  ws.on('error', closeAll);
  void Promise.all(forwards).then(() => {
    if (ws.readyState === ws.OPEN) ws.close(1000);
    target.dialer.close();
  });
}

/** The HTTP upgrade a port-forward is served on. */
export interface ForwardUpgrade {
  req: IncomingMessage;
  socket: Duplex;
  head: Buffer;
}

/** What the agent knows that a forward needs. */
export interface PortForwardContext {
  runtime: ContainerRuntime;
  lookup: (namespace: string, name: string) => Pod | undefined;
  /** How to reach ports of the sandbox with this pid (tests give a plain TCP dialer). */
  dialer?: (pid: number) => PodDialer;
}

const websockets = new WebSocketServer({
  noServer: true,
  perMessageDeflate: false,
  handleProtocols: (offered) => {
    if (offered.has(TUNNEL_ALIAS)) return SPDY_TUNNEL_PROTOCOL;
    return PORT_FORWARD_CHANNEL_PROTOCOLS.find((p) => offered.has(p)) ?? false;
  },
});

function refuse(socket: Duplex, err: unknown): void {
  const code = err instanceof ApiError ? err.code : 500;
  const message = errorMessage(err);
  socket.end(
    `HTTP/1.1 ${code} ${code === 500 ? 'Internal Server Error' : 'Refused'}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(message)}\r\nConnection: close\r\n\r\n${message}`,
  );
}

/** Finds the pod's running sandbox, then upgrades to the protocol the client asked for. */
export async function servePortForward(
  upgrade: ForwardUpgrade,
  path: { namespace: string; name: string },
  ctx: PortForwardContext,
): Promise<void> {
  const { req, socket, head } = upgrade;
  try {
    // The path's segments, still %-encoded.
    const pod = { namespace: decodeURIComponent(path.namespace), name: decodeURIComponent(path.name) };
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const mode = portForwardMode(req.headers, url.searchParams);
    const found = ctx.lookup(pod.namespace, pod.name);
    if (found === undefined) throw new ApiError('NotFound', `pod ${pod.namespace}/${pod.name} is not on this node`);
    const uid = found.metadata.uid ?? '';
    const sandbox = (await ctx.runtime.listManaged(uid)).find((c) => c.identity.type === 'sandbox' && c.running);
    if (sandbox?.pid === undefined)
      throw new ApiError('BadRequest', `pod ${pod.name} has no running sandbox on this node`);
    const target: ForwardTarget = { podName: pod.name, uid, dialer: (ctx.dialer ?? namespaceDialer)(sandbox.pid) };
    if (socket.destroyed) return;
    if (socket instanceof Socket) socket.setNoDelay(true);
    if (mode.kind === 'spdy') {
      socket.write(
        `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${PORT_FORWARD_PROTOCOL}\r\n\r\n`,
      );
      if (head.length > 0) socket.unshift(head);
      serveSpdyPortForward(socket, target);
      return;
    }
    if (mode.kind === 'spdy-websocket') req.headers['sec-websocket-protocol'] = TUNNEL_ALIAS;
    websockets.handleUpgrade(req, socket, head, (ws) => {
      if (mode.kind === 'spdy-websocket') serveSpdyPortForward(createWebSocketStream(ws), target);
      else serveChannelPortForward(ws, mode.ports, target);
    });
  } catch (err) {
    refuse(socket, err);
  }
}
