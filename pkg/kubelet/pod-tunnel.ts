// The node agent's half of the apiserver's proxy to pods (the part Kubernetes' Konnectivity
// agent plays): an HTTP CONNECT from the apiserver, naming a pod of this node in a header,
// to that pod's IP and a port. The agent dials from the host, which has the pod network, and
// splices the two sockets. It dials nothing but the named pod's own address.

import type { IncomingMessage } from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Pod } from '../api/types/index.js';
import { TUNNEL_POD_HEADER } from '../streaming/index.js';

const DIAL_TIMEOUT_MS = 30_000;

function answer(socket: Duplex, code: number, message: string): void {
  const status = code === 403 ? 'Forbidden' : code === 400 ? 'Bad Request' : 'Bad Gateway';
  socket.end(
    `HTTP/1.1 ${code} ${status}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(message)}\r\nConnection: close\r\n\r\n${message}`,
  );
}

/** `host:port` of a CONNECT request target; undefined when it is not one. */
export function connectTarget(target: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):(\d{1,5})$/.exec(target);
  if (m === null) return undefined;
  const host = m[1] ?? m[2] ?? '';
  const port = Number(m[3]);
  if (net.isIP(host) === 0 || port < 1 || port > 65535) return undefined;
  return { host, port };
}

/** Serves one CONNECT: checks the address is the named pod's, dials it, splices. */
export function serveTunnel(
  connect: { req: IncomingMessage; socket: Duplex; head: Buffer },
  lookup: (namespace: string, name: string) => Pod | undefined,
): void {
  const { req, socket, head } = connect;
  socket.on('error', () => socket.destroy());
  const target = connectTarget(req.url ?? '');
  if (target === undefined) return answer(socket, 400, 'the target must be a pod IP and port');
  const named = String(req.headers[TUNNEL_POD_HEADER] ?? '');
  const [namespace = '', name = '', ...rest] = named.split('/');
  const pod = rest.length === 0 ? lookup(namespace, name) : undefined;
  if (pod === undefined) return answer(socket, 400, `pod ${named} is not on this node`);
  if (pod.status?.podIP !== target.host)
    return answer(socket, 403, `${target.host} is not the address of pod ${named}`);
  const upstream = net.connect({ host: target.host, port: target.port });
  upstream.setTimeout(DIAL_TIMEOUT_MS, () => upstream.destroy(new Error('i/o timeout')));
  upstream.once('connect', () => {
    upstream.setTimeout(0);
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
    upstream.on('error', () => socket.destroy());
    socket.on('close', () => upstream.destroy());
    upstream.on('close', () => socket.destroy());
  });
  upstream.once('error', (err: NodeJS.ErrnoException) => {
    if (upstream.readyState === 'open') return;
    answer(socket, 502, err.code === 'ECONNREFUSED' ? 'connect: connection refused' : err.message);
  });
}
