// The proxy subresources (Kubernetes' ProxyREST): `pods/[scheme:]P[:port]/proxy/…`,
// `services/[scheme:]S[:port]/proxy/…` and `nodes/[scheme:]N[:port]/proxy/…` relay any
// method to the pod, a ready endpoint of the service, or the node, streaming both ways.
//
// How the apiserver reaches a pod IP: Kubernetes' apiserver either sits on the pod network
// (a control-plane node with the pod routes) or goes through the Konnectivity proxy, whose
// agent on each node dials the pod (HTTP CONNECT). Coxswain's apiserver may run on a host
// without pod routes (simulated hosts), so it does the Konnectivity equivalent with what it
// has: an HTTP CONNECT over its mTLS link to the node agent of the pod's node, which dials
// the pod IP (pkg/kubelet/pod-tunnel.ts). Nodes themselves are dialled directly, as the
// apiserver already reaches every agent.

import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { RESOURCES } from '../api/registry.js';
import type { Node, Pod } from '../api/types/index.js';
import { ApiError, badRequest, errorMessage, toApiError, type StatusDetails } from '../errors/index.js';
import type { KubeletClientTls } from './kubelet-proxy.js';
import type { RestStore } from './rest-store.js';
import { TUNNEL_POD_HEADER } from '../streaming/index.js';

/** How long dialling a target may take before the request fails. */
const DIAL_TIMEOUT_MS = 30_000;

/** Headers that belong to one connection, never forwarded (RFC 9110 §7.6.1, as Go's reverse proxy drops them). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * The error as a Status that names what it is about: kubectl 1.32 reads `details` of errors
 * on the streaming and proxy paths and fails hard on one without.
 */
export function withDetails(err: unknown, details: StatusDetails): ApiError {
  const e = toApiError(err);
  if (e.details !== undefined) return e;
  return new ApiError(e.reason, e.message, { details, code: e.code });
}

/** `[scheme:]name[:port]` as Kubernetes splits a proxy id; undefined when it is not one. */
export function splitSchemeNamePort(id: string): { scheme: string; name: string; port: string } | undefined {
  const parts = id.split(':');
  let scheme = '';
  let name = '';
  let port = '';
  if (parts.length === 1) name = parts[0] ?? '';
  else if (parts.length === 2) [name = '', port = ''] = parts;
  else if (parts.length === 3) [scheme = '', name = '', port = ''] = parts;
  else return undefined;
  if (name === '' || !['', 'http', 'https'].includes(scheme)) return undefined;
  return { scheme, name, port };
}

/** Where a proxied request goes, and through what. */
export interface ProxyTarget {
  scheme: 'http' | 'https';
  host: string;
  port: number;
  /** Through the node agent at this address (a pod IP), for the pod named. */
  tunnel?: { agentHost: string; agentPort: number; pod: string };
  /** The node agent itself: its client certificate goes along. */
  kubeletTls?: KubeletClientTls;
  /** For error messages: "service", "pod" or "node". */
  what: string;
}

/** One proxied request as the router parsed it. */
export interface ProxyRequest {
  resource: 'pods' | 'services' | 'nodes';
  namespace: string | undefined;
  /** The id in the path: `[scheme:]name[:port]`. */
  id: string;
}

function portNumber(port: string, what: string): number {
  const n = Number(port);
  if (!/^\d{1,5}$/.test(port) || n < 1 || n > 65535) throw badRequest(`invalid ${what} port ${JSON.stringify(port)}`);
  return n;
}

/** The agent's address and port as its Node reports them. */
function agentOf(node: Node): { host: string; port: number } | undefined {
  const host = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
  const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port;
  return host === undefined || port === undefined ? undefined : { host, port };
}

function serviceUnavailable(message: string, details: StatusDetails): ApiError {
  return new ApiError('ServiceUnavailable', message, { details });
}

/** The raw path after `/proxy` (kept encoded), and the prefix up to and including `/proxy`. */
export function proxiedPath(rawUrl: string): { prefix: string; path: string; query: string } | undefined {
  const q = rawUrl.indexOf('?');
  const pathname = q < 0 ? rawUrl : rawUrl.slice(0, q);
  const query = q < 0 ? '' : rawUrl.slice(q);
  const m = /^(.*?\/(?:pods|services|nodes)\/[^/]+\/proxy)(\/.*)?$/.exec(pathname);
  if (m === null) return undefined;
  return { prefix: m[1] ?? '', path: m[2] ?? '', query };
}

export class ProxySubresource {
  constructor(
    private readonly store: RestStore,
    private readonly kubeletTls: KubeletClientTls | undefined,
  ) {}

  /** Resolves where a proxy request goes (Kubernetes' ResourceLocation of each kind). */
  async locate(request: ProxyRequest): Promise<ProxyTarget> {
    const split = splitSchemeNamePort(request.id);
    const singular = request.resource.slice(0, -1);
    if (split === undefined) throw badRequest(`invalid ${singular} request ${JSON.stringify(request.id)}`);
    if (request.resource === 'pods') return this.locatePod(request.namespace ?? '', split);
    if (request.resource === 'services') return this.locateService(request, split);
    return this.locateNode(split);
  }

  private async locatePod(namespace: string, id: { scheme: string; name: string; port: string }): Promise<ProxyTarget> {
    const pod = await this.store.get(RESOURCES.pods, namespace, id.name);
    const details = { name: id.name, kind: 'pods' };
    // Without a port, the first declared container port (as Kubernetes picks it).
    const declared = (pod.spec?.containers ?? []).flatMap((c) => c.ports ?? [])[0]?.containerPort;
    const port = id.port !== '' ? portNumber(id.port, 'pod') : (declared ?? 80);
    const phase = pod.status?.phase;
    if (phase !== 'Running')
      throw serviceUnavailable(`pod ${JSON.stringify(id.name)} is not running (phase ${phase ?? 'unknown'})`, details);
    const ip = pod.status?.podIP;
    if (ip === undefined || ip === '' || net.isIP(ip) === 0)
      throw new ApiError('BadRequest', 'address not allowed', { details });
    return {
      scheme: id.scheme === 'https' ? 'https' : 'http',
      host: ip,
      port,
      ...(await this.tunnelFor(pod)),
      what: 'pod',
    };
  }

  /** The node agent that can dial a pod's IP. */
  private async tunnelFor(pod: Pod): Promise<Pick<ProxyTarget, 'tunnel'>> {
    const nodeName = pod.spec?.nodeName ?? '';
    if (nodeName === '' || this.kubeletTls === undefined) return {};
    const node = await this.store.find(RESOURCES.nodes, undefined, nodeName);
    const agent = node === undefined ? undefined : agentOf(node);
    if (agent === undefined) return {};
    const who = `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`;
    return { tunnel: { agentHost: agent.host, agentPort: agent.port, pod: who } };
  }

  private async locateService(
    request: ProxyRequest,
    id: { scheme: string; name: string; port: string },
  ): Promise<ProxyTarget> {
    const namespace = request.namespace ?? '';
    const details = { name: id.name, kind: 'services' };
    let portName = id.port;
    if (/^\d+$/.test(id.port)) {
      const svc = await this.store.get(RESOURCES.services, namespace, id.name);
      const match = (svc.spec?.ports ?? []).find((p) => p.port === Number(id.port));
      if (match === undefined)
        throw serviceUnavailable(`no service port ${id.port} found for service ${JSON.stringify(id.name)}`, details);
      portName = match.name ?? '';
    }
    const eps = await this.store.get(RESOURCES.endpoints, namespace, id.name);
    const subsets = eps.subsets ?? [];
    if (subsets.length === 0)
      throw serviceUnavailable(`no endpoints available for service ${JSON.stringify(id.name)}`, details);
    const start = Math.floor(Math.random() * subsets.length);
    for (let i = 0; i < subsets.length; i++) {
      const subset = subsets[(start + i) % subsets.length];
      const addresses = subset?.addresses ?? [];
      const port = (subset?.ports ?? []).find((p) => (p.name ?? '') === portName);
      if (addresses.length === 0 || port === undefined) continue;
      const first = Math.floor(Math.random() * addresses.length);
      for (let j = 0; j < addresses.length; j++) {
        const address = addresses[(first + j) % addresses.length];
        if (address === undefined) continue;
        const ref = address.targetRef;
        const pod =
          ref?.kind === 'Pod' && ref.name !== undefined
            ? await this.store.find(RESOURCES.pods, ref.namespace ?? namespace, ref.name)
            : undefined;
        // An endpoint naming a pod that is gone or moved is skipped (Kubernetes checks this too).
        if (ref?.kind === 'Pod' && pod?.status?.podIP !== address.ip) continue;
        return {
          scheme: id.scheme === 'https' ? 'https' : 'http',
          host: address.ip,
          port: port.port,
          ...(pod === undefined ? {} : await this.tunnelFor(pod)),
          what: 'service',
        };
      }
    }
    throw serviceUnavailable(`no endpoints available for service ${JSON.stringify(request.id)}`, details);
  }

  private async locateNode(id: { scheme: string; name: string; port: string }): Promise<ProxyTarget> {
    const node = await this.store.get(RESOURCES.nodes, undefined, id.name);
    const details = { name: id.name, kind: 'nodes' };
    const agent = agentOf(node);
    if (agent === undefined)
      throw serviceUnavailable(`node ${JSON.stringify(id.name)} has not reported its agent's address`, details);
    // No port, or the agent's: the agent, over HTTPS with the apiserver's kubelet-client certificate.
    if (id.port === '' || Number(id.port) === agent.port) {
      if (this.kubeletTls === undefined)
        throw serviceUnavailable(
          'the apiserver has no kubelet client certificate (--kubelet-client-certificate)',
          details,
        );
      return { scheme: 'https', host: agent.host, port: agent.port, kubeletTls: this.kubeletTls, what: 'node' };
    }
    return {
      scheme: id.scheme === 'https' ? 'https' : 'http',
      host: agent.host,
      port: portNumber(id.port, 'node'),
      what: 'node',
    };
  }

  /** Serves one proxied request: resolves the target, then relays request and response as streams. */
  async serve(request: ProxyRequest, exchange: { req: IncomingMessage; res: ServerResponse }): Promise<void> {
    const { req, res } = exchange;
    const parts = proxiedPath(req.url ?? '/');
    if (parts === undefined) throw badRequest('not a proxy path');
    // A bare `…/proxy` goes to `…/proxy/`, as Kubernetes redirects it (so relative links work).
    if (parts.path === '') {
      res.writeHead(301, { Location: `${parts.prefix}/${parts.query}` });
      res.end();
      return;
    }
    const target = await this.locate(request);
    const socket = await this.dial(target);
    await relay({ socket, target, parts, req, res });
  }

  /**
   * An upgrade (a websocket to the pod, say) through the proxy: the request goes on with its
   * Upgrade and Connection headers, and from then on the bytes flow both ways untouched,
   * the target's own answer (101 or a refusal) included, as Kubernetes' upgrade-aware proxy does.
   */
  async upgrade(upgrade: { req: IncomingMessage; socket: Duplex; head: Buffer }, request: ProxyRequest): Promise<void> {
    const { req, socket, head } = upgrade;
    const parts = proxiedPath(req.url ?? '/');
    if (parts === undefined || parts.path === '') throw badRequest('an upgrade needs a path after /proxy/');
    const target = await this.locate(request);
    const upstream = await this.dial(target);
    const headers: http.OutgoingHttpHeaders = {
      ...forwardedHeaders(req.headers, req.socket.remoteAddress),
      host: joinHostPort(target.host, target.port),
      connection: 'Upgrade',
      upgrade: String(req.headers.upgrade ?? ''),
    };
    const lines = [`${req.method ?? 'GET'} ${parts.path}${parts.query} HTTP/1.1`];
    for (const [key, value] of Object.entries(headers)) {
      if (value === undefined) continue;
      for (const v of Array.isArray(value) ? value : [value]) lines.push(`${key}: ${String(v)}`);
    }
    upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (head.length > 0) upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
    upstream.on('close', () => socket.destroy());
    socket.on('close', () => upstream.destroy());
  }

  /** A connected socket to the target: straight, or through the pod's node agent. */
  private async dial(target: ProxyTarget): Promise<Duplex> {
    const details = { kind: `${target.what}s` };
    const refused = (err: unknown): ApiError =>
      serviceUnavailable(
        `error trying to reach ${target.what}: dial tcp ${joinHostPort(target.host, target.port)}: ${errorMessage(err)}`,
        details,
      );
    let raw: Duplex;
    try {
      raw = target.tunnel !== undefined ? await this.tunnel(target) : await connectTcp(target.host, target.port);
    } catch (err) {
      throw refused(err);
    }
    if (target.scheme !== 'https') return raw;
    // Pods and other node ports present whatever certificate they have (Kubernetes skips
    // verification for them); the agent's is checked against the cluster CA.
    const kubelet = target.kubeletTls;
    const secure = tls.connect({
      socket: raw,
      servername: net.isIP(target.host) === 0 ? target.host : undefined,
      ...(kubelet !== undefined
        ? { cert: kubelet.cert, key: kubelet.key, ca: kubelet.ca, checkServerIdentity: () => undefined }
        : { rejectUnauthorized: false }),
    });
    try {
      await new Promise<void>((resolve, reject) => {
        secure.once('secureConnect', () => resolve());
        secure.once('error', reject);
      });
    } catch (err) {
      secure.destroy();
      throw refused(err);
    }
    return secure;
  }

  /** HTTP CONNECT to the pod's node agent, which dials the pod (see pkg/kubelet/pod-tunnel.ts). */
  private tunnel(target: ProxyTarget): Promise<Duplex> {
    const via = target.tunnel;
    const tlsConfig = this.kubeletTls;
    if (via === undefined || tlsConfig === undefined) return connectTcp(target.host, target.port);
    return new Promise((resolve, reject) => {
      const req = https.request({
        host: via.agentHost,
        port: via.agentPort,
        method: 'CONNECT',
        path: joinHostPort(target.host, target.port),
        headers: { [TUNNEL_POD_HEADER]: via.pod },
        ...tlsConfig,
        agent: false,
        timeout: DIAL_TIMEOUT_MS,
      });
      req.once('connect', (res, socket, head) => {
        if (res.statusCode === 200) {
          if (head.length > 0) socket.unshift(head);
          resolve(socket);
          return;
        }
        let body = head.toString();
        socket.on('data', (c: Buffer) => {
          if (body.length < 4096) body += c.toString();
        });
        socket.once('close', () => reject(new Error(body.trim() || `the node agent answered ${res.statusCode ?? 0}`)));
        socket.once('error', () => undefined);
        setTimeout(() => socket.destroy(), 1000).unref();
      });
      req.once('timeout', () => req.destroy(new Error('i/o timeout')));
      req.once('error', (err) => reject(new Error(`cannot reach the node agent: ${err.message}`)));
      req.end();
    });
  }
}

function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function connectTcp(host: string, port: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(DIAL_TIMEOUT_MS, () => socket.destroy(new Error('i/o timeout')));
    socket.once('connect', () => {
      socket.setTimeout(0);
      resolve(socket);
    });
    socket.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(err.code === 'ECONNREFUSED' ? 'connect: connection refused' : err.message)),
    );
  });
}

/** The request headers to send on: hop-by-hop ones, the caller's credentials and impersonation dropped. */
export function forwardedHeaders(headers: IncomingHttpHeaders, remote: string | undefined): http.OutgoingHttpHeaders {
  const named = new Set(
    String(headers['connection'] ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter((h) => h !== ''),
  );
  const out: http.OutgoingHttpHeaders = {};
  for (const [key, value] of Object.entries(headers)) {
    const k = key.toLowerCase();
    if (value === undefined || HOP_BY_HOP.has(k) || named.has(k)) continue;
    if (k === 'authorization' || k.startsWith('impersonate-') || k === 'host') continue;
    out[k] = value;
  }
  if (remote !== undefined) {
    const prior = headers['x-forwarded-for'];
    out['x-forwarded-for'] = prior === undefined ? remote : `${String(prior)}, ${remote}`;
  }
  return out;
}

/** The response headers to send back: hop-by-hop ones dropped, a same-host Location put under the proxy prefix. */
export function returnedHeaders(
  headers: IncomingHttpHeaders,
  at: { prefix: string; targetHost: string; requestHost: string | undefined },
): http.OutgoingHttpHeaders {
  const named = new Set(
    String(headers['connection'] ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase()),
  );
  const out: http.OutgoingHttpHeaders = {};
  for (const [key, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(key) || named.has(key)) continue;
    out[key] = key === 'location' && typeof value === 'string' ? rewriteLocation(value, at) : value;
  }
  return out;
}

/** Kubernetes' proxy rewrite of a redirect: an absolute path on the target's host moves under the prefix. */
export function rewriteLocation(
  location: string,
  at: { prefix: string; targetHost: string; requestHost: string | undefined },
): string {
  let url: URL;
  try {
    url = new URL(location, 'http://relative.invalid');
  } catch {
    return location;
  }
  const relativeHost = url.host === 'relative.invalid';
  // Hosts compared as URLs write them (a scheme's default port dropped).
  const hostOf = (h: string | undefined): string | undefined => {
    if (h === undefined) return undefined;
    try {
      return new URL(`${url.protocol}//${h}`).host;
    } catch {
      return h;
    }
  };
  const sameHost = relativeHost || url.host === hostOf(at.targetHost) || url.host === hostOf(at.requestHost);
  const absolutePath = relativeHost ? location.startsWith('/') && !location.startsWith('//') : true;
  if (!sameHost || !absolutePath) return location;
  if (url.pathname.startsWith(at.prefix)) return relativeHost ? location : `${url.pathname}${url.search}${url.hash}`;
  return `${at.prefix}${url.pathname}${url.search}${url.hash}`;
}

interface Relay {
  socket: Duplex;
  target: ProxyTarget;
  parts: { prefix: string; path: string; query: string };
  req: IncomingMessage;
  res: ServerResponse;
}

/** One HTTP exchange over the dialled socket; request and response bodies stream. */
function relay({ socket, target, parts, req, res }: Relay): Promise<void> {
  const hostHeader = joinHostPort(target.host, target.port);
  return new Promise((resolve, reject) => {
    const upstream = http.request({
      method: req.method,
      path: `${parts.path}${parts.query}`,
      headers: { ...forwardedHeaders(req.headers, req.socket.remoteAddress), host: hostHeader },
      // No agent: the request goes over the socket dialled for it.
      createConnection: () => socket,
    });
    upstream.once('response', (answer) => {
      const headers = returnedHeaders(answer.headers, {
        prefix: parts.prefix,
        targetHost: hostHeader,
        requestHost: req.headers.host,
      });
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, headers);
      answer.pipe(res);
      answer.once('end', () => resolve());
      answer.once('error', () => {
        res.destroy();
        resolve();
      });
    });
    upstream.once('error', (err) => {
      if (res.headersSent) {
        res.destroy();
        resolve();
      } else
        reject(serviceUnavailable(`error trying to reach ${target.what}: ${err.message}`, { kind: `${target.what}s` }));
    });
    // The client leaving ends the exchange with the target.
    res.once('close', () => {
      upstream.destroy();
      socket.destroy();
      resolve();
    });
    req.pipe(upstream);
  });
}
