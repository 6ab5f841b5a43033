// pods/portforward on the node agent: `/portForward/{namespace}/{pod}`, upgraded by the
// apiserver's relay to SPDY/3.1, to SPDY inside a websocket, or to the websocket channel
// protocol (pkg/streaming/port-forward-protocol.ts). Each forwarded connection reaches the
// port inside the pod's network namespace, as on Kubernetes (a process listening on
// 127.0.0.1 in the pod is reachable): `nsenter -t <sandbox pid> -n` runs the host's busybox
// `nc` there, and its stdin/stdout are the connection. A process per connection costs a few
// milliseconds and needs nothing inside the pod's image; Node itself cannot enter a namespace.

import { spawn } from 'node:child_process';
import type { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import type { Duplex, Readable, Writable } from 'node:stream';
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

/** One connection to a port inside the pod. */
export interface PodConnection {
  input: Writable;
  output: Readable;
  /** Resolves when the connection is over: with why it failed, if it did. */
  finished: Promise<string | undefined>;
  close(): void;
}

export type PodDialer = (port: number) => PodConnection;

/** Why busybox nc failed, as Go would say it (`connect: connection refused`). */
function connectFailure(port: number, stderr: string, code: number | null): string {
  const reason = stderr.trim().split('\n').pop()?.split(': ').pop()?.toLowerCase() ?? '';
  return `failed to connect to localhost:${port} inside the pod's network namespace: dial tcp4 127.0.0.1:${port}: connect: ${reason || `exit status ${code ?? 1}`}`;
}

/** Dials ports inside the network namespace of the process `pid` (the pod's sandbox). */
export function namespaceDialer(pid: number): PodDialer {
  return (port) => {
    const child = spawn('nsenter', ['-t', String(pid), '-n', '--', 'busybox', 'nc', '127.0.0.1', String(port)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < MAX_ERROR_TEXT) stderr += d.toString();
    });
    child.stdin.on('error', () => undefined);
    const finished = new Promise<string | undefined>((resolve) => {
      child.once('error', (err) => resolve(`cannot enter the pod's network namespace: ${err.message}`));
      child.once('close', (code, signal) =>
        resolve(code === 0 || signal !== null ? undefined : connectFailure(port, stderr, code)),
      );
    });
    return { input: child.stdin, output: child.stdout, finished, close: () => void child.kill('SIGKILL') };
  };
}

/** What a forward goes to: the pod (for messages) and how to reach its ports. */
export interface ForwardTarget {
  podName: string;
  uid: string;
  dial: PodDialer;
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

/** Copies one pair's data stream to and from a connection inside the pod. */
function forwardPair(pair: { data: SpdyStream; error: SpdyStream }, target: ForwardTarget): PodConnection {
  const { data, error } = pair;
  const port = Number(data.headers.get('port'));
  const conn = target.dial(port);
  error.resume(); // the client writes nothing there; reading lets its FIN end the stream
  data.pipe(conn.input);
  conn.output.pipe(data);
  data.once('close', () => conn.close());
  void conn.finished.then((why) => {
    if (why !== undefined && !error.destroyed) error.end(forwardingError(target, port, why));
    else if (!error.destroyed) error.end();
    if (!data.destroyed && !data.writableEnded) data.end();
  });
  return conn;
}

/** Serves kubectl's SPDY port-forward on a byte stream (raw socket or websocket stream). */
export function serveSpdyPortForward(transport: Duplex, target: ForwardTarget): SpdyServerSession {
  const pairs = new Map<string, StreamPair>();
  const connections = new Set<PodConnection>();
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
      const conn = forwardPair({ data, error }, target);
      connections.add(conn);
      void conn.finished.then(() => connections.delete(conn));
    },
    onClose: () => {
      for (const id of [...pairs.keys()]) dropPair(id);
      for (const conn of connections) conn.close();
    },
  });
}

/** Serves the channel protocol: one connection per port in the query, for as long as the websocket lives. */
export function serveChannelPortForward(ws: WebSocket, ports: number[], target: ForwardTarget): void {
  ports.forEach((port, i) => {
    ws.send(portPreamble(2 * i, port));
    ws.send(portPreamble(2 * i + 1, port));
  });
  const conns = ports.map((port, i) => {
    const conn = target.dial(port);
    let inFlight = 0;
    conn.output.on('data', (chunk: Buffer) => {
      inFlight++;
      if (inFlight >= 16) conn.output.pause();
      ws.send(frame(2 * i, chunk), () => {
        inFlight--;
        if (inFlight < 8) conn.output.resume();
      });
    });
    return conn;
  });
  ws.on('message', (message: Buffer) => {
    const channel = message[0];
    // Only data channels carry input; anything else from the client is ignored.
    if (channel === undefined || channel % 2 !== 0) return;
    const conn = conns[channel / 2];
    if (conn !== undefined && !conn.input.write(message.subarray(1))) {
      ws.pause();
      conn.input.once('drain', () => ws.resume());
    }
  });
  ws.on('close', () => conns.forEach((c) => c.close()));
  ws.on('error', () => conns.forEach((c) => c.close()));
  void Promise.all(
    conns.map(async (conn, i) => {
      const why = await conn.finished;
      const port = ports[i] ?? 0;
      if (why !== undefined && ws.readyState === ws.OPEN) ws.send(frame(2 * i + 1, forwardingError(target, port, why)));
    }),
  ).then(() => {
    if (ws.readyState === ws.OPEN) ws.close(1000);
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
    const target: ForwardTarget = { podName: pod.name, uid, dial: (ctx.dialer ?? namespaceDialer)(sandbox.pid) };
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
