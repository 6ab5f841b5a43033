// Which of the three port-forward protocols a request speaks, from its upgrade headers:
// - SPDY/3.1 (`Upgrade: SPDY/3.1`, `X-Stream-Protocol-Version: portforward.k8s.io`): kubectl's
//   fallback; a pair of streams (error, data) per forwarded connection, ports in stream headers;
// - a websocket with subprotocol `SPDY/3.1+portforward.k8s.io`: the same SPDY byte stream
//   carried in binary messages (kubectl 1.31+ tries this first, KEP-4006);
// - a websocket in the channel protocol (`v4.channel.k8s.io`, or none): the official client
//   libraries; ports in the `ports` query, channel 2i = data and 2i+1 = error of the i-th port.
// Shared by the apiserver (to refuse bad requests with a Status before relaying) and the node agent.

import type { IncomingHttpHeaders } from 'node:http';
import { ApiError, badRequest } from '../errors/index.js';

export const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';
export const SPDY_TUNNEL_PROTOCOL = 'SPDY/3.1+portforward.k8s.io';
/** Channel subprotocols a port-forward websocket may use (binary frames). */
export const PORT_FORWARD_CHANNEL_PROTOCOLS = ['v4.channel.k8s.io'] as const;

export type PortForwardMode =
  | { kind: 'spdy' }
  | { kind: 'spdy-websocket' }
  | { kind: 'channel-websocket'; protocol: string | undefined; ports: number[] };

function headerList(value: string | string[] | undefined): string[] {
  const joined = Array.isArray(value) ? value.join(',') : (value ?? '');
  return joined
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
}

/** A port as Kubernetes parses one: a decimal number from 1 to 65535. */
export function parsePort(text: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535)
    throw badRequest(`unable to parse ${JSON.stringify(text)} as a port: must be a number from 1 to 65535`);
  const port = Number(text);
  if (port < 1) throw badRequest(`port ${JSON.stringify(text)} must be > 0`);
  return port;
}

/** The `ports` query (repeated and/or comma-separated); at least one. */
export function parsePortsQuery(query: URLSearchParams): number[] {
  const values = query.getAll('ports');
  if (values.length === 0) throw badRequest('query parameter "ports" is required');
  const ports: number[] = [];
  for (const value of values) {
    if (value === '') throw badRequest('query parameter "ports" cannot be empty');
    for (const p of value.split(',')) ports.push(parsePort(p));
  }
  if (ports.length > 64) throw badRequest('at most 64 ports can be forwarded at once');
  return ports;
}

/** The protocol of a port-forward upgrade; a 400 (or 403 for an unknown SPDY protocol) otherwise. */
export function portForwardMode(headers: IncomingHttpHeaders, query: URLSearchParams): PortForwardMode {
  const upgrade = (headers.upgrade ?? '').toLowerCase();
  if (upgrade === 'spdy/3.1') {
    const offered = headerList(headers['x-stream-protocol-version']);
    // No header at all is an old client: it gets the only protocol there is.
    if (offered.length > 0 && !offered.includes(PORT_FORWARD_PROTOCOL))
      throw new ApiError(
        'Forbidden',
        `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server accepts [${PORT_FORWARD_PROTOCOL}]`,
      );
    return { kind: 'spdy' };
  }
  if (upgrade !== 'websocket')
    throw badRequest('port-forward needs an upgrade to SPDY/3.1 or to a websocket (Upgrade request required)');
  const offered = headerList(headers['sec-websocket-protocol']);
  if (offered.includes(SPDY_TUNNEL_PROTOCOL)) return { kind: 'spdy-websocket' };
  const protocol = PORT_FORWARD_CHANNEL_PROTOCOLS.find((p) => offered.includes(p));
  if (protocol === undefined && offered.length > 0)
    throw badRequest(
      `port-forward: none of the requested websocket protocols [${offered.join(' ')}] is supported; use ${SPDY_TUNNEL_PROTOCOL} or ${PORT_FORWARD_CHANNEL_PROTOCOLS.join(', ')}`,
    );
  return { kind: 'channel-websocket', protocol, ports: parsePortsQuery(query) };
}

/** The first frame of each channel: the port, 2 bytes little-endian, after the channel byte. */
export function portPreamble(channel: number, port: number): Buffer {
  const b = Buffer.alloc(3);
  b.writeUInt8(channel, 0);
  b.writeUInt16LE(port, 1);
  return b;
}
