// Requests that fail below the REST layer — an HTTP message Node cannot parse (e.g. headers
// past its limit), a websocket handshake ws would refuse, a path express cannot route —
// answered as Kubernetes Status objects with the right code instead of a reset socket or a
// plain-text line.

import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import { ApiError, errorMessage, toApiError } from '../errors/index.js';
import { sendError } from './resource-handler.js';

/** How long the rest of a refused request is read and dropped before the socket is closed. */
const DRAIN_MS = 10_000;
/** How much of it at most (a client still sending past this is cut off). */
const DRAIN_BYTES = 8 * 1024 * 1024;

function statusResponse(err: ApiError, statusText: string): string {
  const body = JSON.stringify(err.toStatus());
  return `HTTP/1.1 ${err.code} ${statusText}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

/**
 * The server's 'clientError' handler. Node's default answers 431 but closes the socket with
 * the rest of the request unread, which the client sees as a reset before it reads the
 * answer; here the rest is read and dropped (bounded in bytes and time) so the answer arrives.
 */
export function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const overflow = err.code === 'HPE_HEADER_OVERFLOW';
  const timeout = err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
  const apiError = overflow
    ? new ApiError('BadRequest', 'Request Header Fields Too Large: the request headers exceed the server limit', {
        code: 431,
      })
    : timeout
      ? new ApiError('Timeout', 'the request headers were not received in time', { code: 408 })
      : new ApiError('BadRequest', `malformed HTTP request: ${err.code ?? err.message}`);
  const text = overflow ? 'Request Header Fields Too Large' : timeout ? 'Request Timeout' : 'Bad Request';
  let drained = 0;
  socket.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > DRAIN_BYTES) socket.destroy();
  });
  socket.on('error', () => socket.destroy());
  socket.end(statusResponse(apiError, text));
  socket.resume();
  const timer = setTimeout(() => socket.destroy(), DRAIN_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}

const WEBSOCKET_KEY = /^[+/0-9A-Za-z]{22}==$/;

/** The checks ws makes on a handshake (RFC 6455 §4.2.1), as ApiErrors. */
export function checkWebSocketHandshake(req: IncomingMessage): void {
  if (req.method !== 'GET')
    throw new ApiError('MethodNotAllowed', `a websocket upgrade must be a GET, not ${req.method ?? ''}`);
  if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
    throw new ApiError(
      'BadRequest',
      `unsupported upgrade ${JSON.stringify(req.headers.upgrade ?? '')}: only websocket upgrades are served`,
    );
  }
  const key = req.headers['sec-websocket-key'];
  if (typeof key !== 'string' || !WEBSOCKET_KEY.test(key.trim()))
    throw new ApiError('BadRequest', 'missing or invalid Sec-WebSocket-Key header');
  const version = req.headers['sec-websocket-version'];
  if (version !== '13' && version !== '8') {
    throw new ApiError(
      'BadRequest',
      `unsupported Sec-WebSocket-Version ${JSON.stringify(version ?? '')}: supported versions are 13 and 8`,
    );
  }
}

/**
 * The routes as one handler. What they pass on comes back out of the router: errors express
 * raises itself (e.g. a malformed %-escape in a routed path) are answered as a Status, the
 * rest goes on to express.
 */
export function answeringRoutingErrors(routes: Router): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    routes(req, res, (err?: unknown) =>
      err === undefined || err === null ? next() : answerRoutingError(err, res, next),
    );
  };
}

/** An error express raised while routing: a 4xx one as BadRequest, anything else as toApiError. */
function answerRoutingError(err: unknown, res: Response, next: NextFunction): void {
  if (res.headersSent) return next(err);
  const status =
    typeof err === 'object' && err !== null && 'status' in err && typeof err.status === 'number' ? err.status : 500;
  sendError(res, status >= 400 && status < 500 ? new ApiError('BadRequest', errorMessage(err)) : toApiError(err));
}
