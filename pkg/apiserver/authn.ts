// Authentication: who is calling. Today: a client certificate signed by the cluster CA
// (CN = user, O = groups). A request with no certificate, or one the TLS layer did not
// verify against the CA, is anonymous and gets 401 before any handler runs. Bearer tokens
// (ServiceAccount JWTs, bootstrap tokens) will plug in here.

import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { ApiError } from '../errors/index.js';

export interface UserInfo {
  name: string;
  groups: string[];
}

function asList(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/** The caller's identity, or a 401 ApiError. */
export function authenticate(req: IncomingMessage): UserInfo {
  const socket = req.socket as TLSSocket;
  if (typeof socket.getPeerCertificate === 'function' && socket.authorized) {
    const cert = socket.getPeerCertificate();
    const cn = cert.subject?.CN;
    const name = Array.isArray(cn) ? cn[0] : cn;
    if (name !== undefined && name !== '') {
      return { name, groups: [...asList(cert.subject.O), 'system:authenticated'] };
    }
  }
  throw new ApiError('Unauthorized', 'Unauthorized');
}
