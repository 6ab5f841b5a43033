// pods/portforward: the apiserver checks the request (its protocol and ports, the pod is
// Running on a node), sends the same upgrade to that node's agent with its kubelet-client
// certificate, and once the agent answers 101 pipes the two sockets byte for byte. The
// relay does not know the protocol (SPDY, SPDY in a websocket, or the channel protocol):
// nothing is re-framed, so a forward costs the apiserver two TLS hops and nothing else,
// and the one implementation of each protocol lives in the agent (pkg/kubelet/port-forward.ts).

import https from 'node:https';
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { RESOURCES } from '../api/registry.js';
import { ApiError, badRequest, type StatusReason } from '../errors/index.js';
import { portForwardMode } from '../streaming/index.js';
import type { Node } from '../api/types/index.js';
import type { KubeletClientTls, Upgrade } from './kubelet-proxy.js';
import type { RestStore } from './rest-store.js';

/** Which pod to forward to, and the request's query (ports). */
export interface PortForwardRequest {
  namespace: string;
  podName: string;
  query: URLSearchParams;
}

export interface RelayDeps {
  store: RestStore;
  tls: KubeletClientTls | undefined;
  /** Where a node's agent listens (kubelet-proxy.ts reads it from the Node). */
  agentEndpoint: (node: Node) => { host?: string | undefined; port?: number | undefined };
}

/** How long the agent may take to answer the upgrade. */
const AGENT_ANSWER_TIMEOUT_MS = 30_000;
const MAX_REFUSAL_BYTES = 16 * 1024;
/** The upgrade headers that go on to the agent; the rest (credentials) stay here. */
const FORWARDED_HEADERS = [
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-protocol',
  'x-stream-protocol-version',
];

function reasonFor(code: number): StatusReason {
  if (code === 400) return 'BadRequest';
  if (code === 403) return 'Forbidden';
  if (code === 404) return 'NotFound';
  return 'InternalError';
}

function noDelay(socket: Duplex): void {
  if (socket instanceof Socket) socket.setNoDelay(true);
}

/** Pipes the two upgraded sockets; either side's end or error ends both. */
function splice(client: Duplex, agent: Duplex): void {
  noDelay(client);
  noDelay(agent);
  client.pipe(agent);
  agent.pipe(client);
  const end = (): void => {
    client.destroy();
    agent.destroy();
  };
  client.once('close', end);
  agent.once('close', end);
  client.on('error', end);
  agent.on('error', end);
}

/** The agent's 101, as it wrote it (Sec-WebSocket-Accept and the protocol are the agent's). */
function switchingProtocols(res: IncomingMessage): string {
  const lines = ['HTTP/1.1 101 Switching Protocols'];
  for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) lines.push(`${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}`);
  return lines.join('\r\n') + '\r\n\r\n';
}

/** Relays a port-forward upgrade; rejects (nothing written yet) with the Status to answer. */
export async function relayPortForward(deps: RelayDeps, upgrade: Upgrade, request: PortForwardRequest): Promise<void> {
  const { req, socket, head } = upgrade;
  const { namespace, podName, query } = request;
  // A client resetting the connection must not be an unhandled error.
  socket.on('error', () => socket.destroy());
  portForwardMode(req.headers, query);
  const tls = deps.tls;
  if (tls === undefined)
    throw new ApiError(
      'ServiceUnavailable',
      'the apiserver has no kubelet client certificate (--kubelet-client-certificate)',
    );
  const pod = await deps.store.get(RESOURCES.pods, namespace, podName);
  const phase = pod.status?.phase ?? 'Pending';
  if (phase !== 'Running')
    throw badRequest(`unable to forward port because pod is not running. Current status=${phase}`);
  const nodeName = pod.spec?.nodeName ?? '';
  if (!nodeName) throw badRequest(`pod ${podName} does not have a host assigned`);
  const { host, port } = deps.agentEndpoint(await deps.store.get(RESOURCES.nodes, undefined, nodeName));
  if (host === undefined || port === undefined)
    throw new ApiError('ServiceUnavailable', `node ${nodeName} has not reported its agent's address`);
  const headers: OutgoingHttpHeaders = { connection: 'Upgrade', upgrade: req.headers.upgrade ?? '' };
  for (const name of FORWARDED_HEADERS) {
    const value = req.headers[name];
    if (value !== undefined) headers[name] = value;
  }
  const path = `/portForward/${encodeURIComponent(namespace)}/${encodeURIComponent(podName)}?${query.toString()}`;
  await new Promise<void>((resolve, reject) => {
    const outgoing = https.request({ host, port, path, method: req.method, headers, ...tls, agent: false });
    outgoing.setTimeout(AGENT_ANSWER_TIMEOUT_MS, () =>
      outgoing.destroy(new Error(`no answer within ${AGENT_ANSWER_TIMEOUT_MS / 1000}s`)),
    );
    outgoing.on('upgrade', (res: IncomingMessage, agent: Duplex, agentHead: Buffer) => {
      outgoing.setTimeout(0);
      if (socket.destroyed) {
        agent.destroy();
        return resolve();
      }
      socket.write(switchingProtocols(res));
      if (agentHead.length > 0) socket.write(agentHead);
      if (head.length > 0) agent.write(head);
      splice(socket, agent);
      resolve();
    });
    outgoing.on('response', (res: IncomingMessage) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        if (body.length < MAX_REFUSAL_BYTES) body += c.toString();
      });
      res.on('end', () => {
        const code = res.statusCode ?? 500;
        reject(new ApiError(reasonFor(code), body.trim() || `the node agent refused the port-forward (${code})`));
      });
    });
    outgoing.on('error', (err) =>
      reject(new ApiError('ServiceUnavailable', `cannot reach the node agent at ${host}:${port}: ${err.message}`)),
    );
    // The client going away before the agent answered ends the attempt.
    socket.once('close', () => outgoing.destroy());
    outgoing.end();
  });
}
