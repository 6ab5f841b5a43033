// Browsers cannot set headers on a WebSocket, so Kubernetes lets them carry a bearer token in
// a subprotocol: `base64url.bearer.authorization.k8s.io.<token, base64url without padding>`
// offered beside the real one (e.g. v5.channel.k8s.io). The token is taken out of the
// Sec-WebSocket-Protocol header before anything else reads it, so the server never echoes
// it back nor picks it as the channel protocol.

import type { IncomingMessage } from 'node:http';
import { ApiError } from '../errors/index.js';

export const BEARER_PROTOCOL_PREFIX = 'base64url.bearer.authorization.k8s.io.';

/** base64url without padding, as Go's RawURLEncoding writes it. */
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** The token of a websocket upgrade's bearer subprotocol, or undefined when none is offered. */
export function takeWebSocketBearer(req: IncomingMessage): string | undefined {
  if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') return undefined;
  const header = req.headers['sec-websocket-protocol'];
  if (header === undefined) return undefined;
  const offered = header
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  const bearers = offered.filter((p) => p.startsWith(BEARER_PROTOCOL_PREFIX));
  if (bearers.length === 0) return undefined;
  const rest = offered.filter((p) => !p.startsWith(BEARER_PROTOCOL_PREFIX));
  if (rest.length > 0) req.headers['sec-websocket-protocol'] = rest.join(', ');
  else delete req.headers['sec-websocket-protocol'];
  // The same refusals as Kubernetes' websocket protocol authenticator, all a 401.
  if (bearers.length > 1)
    throw new ApiError('Unauthorized', 'Unauthorized: multiple bearer tokens in the websocket protocols');
  const encoded = (bearers[0] ?? '').slice(BEARER_PROTOCOL_PREFIX.length);
  if (!BASE64URL.test(encoded) || encoded.length % 4 === 1)
    throw new ApiError('Unauthorized', 'Unauthorized: invalid bearer token encoding in the websocket protocol');
  const token = Buffer.from(encoded, 'base64url').toString('utf8');
  if (token.trim() === '' || /\s/.test(token))
    throw new ApiError('Unauthorized', 'Unauthorized: invalid bearer token in the websocket protocol');
  return token;
}
