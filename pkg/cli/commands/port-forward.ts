// coxctl port-forward TYPE/NAME [LOCAL:]REMOTE...: listens on 127.0.0.1 (and ::1) and carries
// each accepted connection over its own websocket to the pod's portforward subresource in
// the channel protocol (v4.channel.k8s.io: channel 0 data, 1 errors, each opened by the
// port as 2 little-endian bytes). svc/NAME and workloads pick a running pod of their
// selector; a Service port is translated to its target port, as kubectl does.

import net from 'node:net';
import WebSocket from 'ws';
import type { Pod, Service } from '../../api/index.js';
import { isObject } from '../../api/meta.js';
import { RESOURCES, resourcePath } from '../../api/registry.js';
import { toError } from '../../client/index.js';
import { errorMessage } from '../../errors/index.js';
import { frame, PORT_FORWARD_CHANNEL_PROTOCOLS } from '../../streaming/index.js';
import { CliError, type CliContext } from '../context.js';
import { parseTargets } from './targets.js';

export interface PortMapping {
  /** 0: a free port the OS picks. */
  local: number;
  remote: number;
}

function port(text: string, allowZero: boolean): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 65535 || (n === 0 && !allowZero))
    throw new CliError(`Error parsing local port '${text}': must be a number from ${allowZero ? 0 : 1} to 65535`);
  return n;
}

/** `8080:80`, `80` (same local port), `:80` or `0:80` (a free local port). */
export function parsePortMapping(text: string): PortMapping {
  const parts = text.split(':');
  if (parts.length > 2 || parts[parts.length - 1] === '') throw new CliError(`invalid port format '${text}'`);
  const [first, second] = parts;
  if (second === undefined) {
    const p = port(first ?? '', false);
    return { local: p, remote: p };
  }
  return { local: first === '' ? 0 : port(first ?? '', true), remote: port(second, false) };
}

function selectorOf(obj: Record<string, unknown>): string | undefined {
  const spec = isObject(obj['spec']) ? obj['spec'] : {};
  const raw =
    obj['kind'] === 'Service'
      ? spec['selector']
      : isObject(spec['selector'])
        ? spec['selector']['matchLabels']
        : undefined;
  if (!isObject(raw)) return undefined;
  const parts = Object.entries(raw).map(([k, v]) => `${k}=${String(v)}`);
  return parts.length > 0 ? parts.join(',') : undefined;
}

/** A Service port's target on the chosen pod (a named target port looked up in its containers). */
export function targetPortFor(svc: Service, pod: Pod, servicePort: number): number {
  const sp = svc.spec?.ports?.find((p) => p.port === servicePort);
  if (sp === undefined)
    throw new CliError(`Service ${svc.metadata.name ?? ''} does not have a service port ${servicePort}`);
  const target = sp.targetPort ?? servicePort;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  for (const c of pod.spec?.containers ?? [])
    for (const p of c.ports ?? []) if (p.name === target) return p.containerPort;
  throw new CliError(`Pod '${pod.metadata.name ?? ''}' does not have a named port '${target}'`);
}

async function podFor(ctx: CliContext, arg: string): Promise<{ pod: Pod; service: Service | undefined }> {
  const client = ctx.client();
  const namespace = ctx.namespace();
  const [target] = parseTargets([arg.includes('/') ? arg : `pod/${arg}`]);
  const name = target?.names?.[0];
  if (target === undefined || name === undefined)
    throw new CliError('TYPE/NAME and list of ports are required for port-forward');
  if (target.resource.kind === 'Pod')
    return { pod: await client.get(RESOURCES.pods, name, { namespace }), service: undefined };
  const owner = await client.get(target.resource, name, { namespace });
  const selector = selectorOf(owner);
  if (selector === undefined) throw new CliError(`cannot attach to ${target.resource.kind}: selector empty`);
  const pods = await client.list(RESOURCES.pods, { namespace, labelSelector: selector });
  const running = pods.items
    .filter((p) => p.status?.phase === 'Running' && p.metadata.deletionTimestamp === undefined)
    .sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
  const pod = running[0] ?? pods.items[0];
  if (pod === undefined) throw new CliError(`no pods found for selector ${selector}`);
  const service = owner.kind === 'Service' ? await client.get(RESOURCES.services, name, { namespace }) : undefined;
  return { pod, service };
}

/** Carries one accepted connection to the pod's port over a fresh websocket. */
function forwardConnection(
  ctx: CliContext,
  socket: net.Socket,
  target: { pod: Pod; remote: number; local: number },
): void {
  const client = ctx.client();
  const path = resourcePath(RESOURCES.pods, {
    namespace: target.pod.metadata.namespace,
    name: target.pod.metadata.name ?? '',
    subresource: 'portforward',
  });
  const ws = new WebSocket(client.url(path, { ports: target.remote }, 'wss'), [...PORT_FORWARD_CHANNEL_PROTOCOLS], {
    ...client.tlsOptions(),
    headers: client.authHeaders(),
    perMessageDeflate: false,
  });
  // Each channel starts with the port (2 bytes), possibly in the same frame as data.
  const preamble = [2, 2];
  let errorText = '';
  const pending: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => {
    const framed = frame(0, chunk);
    if (ws.readyState === WebSocket.OPEN) ws.send(framed);
    else pending.push(framed);
  });
  socket.on('end', () => ws.close());
  socket.on('error', () => ws.terminate());
  ws.on('open', () => {
    for (const f of pending.splice(0)) ws.send(f);
  });
  ws.on('unexpected-response', (_req, res) => {
    let body = '';
    res.on('data', (c: Buffer) => (body += c.toString()));
    res.on('end', () => {
      ctx.err(
        `error: an error occurred forwarding ${target.local} -> ${target.remote}: ${toError(res.statusCode ?? 0, body).message}`,
      );
      socket.destroy();
    });
  });
  ws.on('message', (data: Buffer) => {
    const channel = data[0];
    if (channel !== 0 && channel !== 1) return;
    let body = data.subarray(1);
    const skip = Math.min(preamble[channel] ?? 0, body.length);
    preamble[channel] = (preamble[channel] ?? 0) - skip;
    body = body.subarray(skip);
    if (body.length === 0) return;
    if (channel === 0) socket.write(body);
    else if (errorText.length < 4096) errorText += body.toString();
  });
  ws.on('error', (err) => {
    ctx.err(`error: an error occurred forwarding ${target.local} -> ${target.remote}: ${err.message}`);
    socket.destroy();
  });
  ws.on('close', () => {
    if (errorText !== '')
      ctx.err(`error: an error occurred forwarding ${target.local} -> ${target.remote}: ${errorText.trim()}`);
    socket.end();
  });
}

function listen(server: net.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}

export interface PortForwardFlags {
  address?: string;
}

/** Forwards until the signal aborts (SIGINT/SIGTERM in the CLI). */
export async function runPortForward(
  ctx: CliContext,
  target: { resource: string; ports: string[] },
  options: { flags: PortForwardFlags; signal: AbortSignal },
): Promise<void> {
  if (target.ports.length === 0) throw new CliError('TYPE/NAME and list of ports are required for port-forward');
  const mappings = target.ports.map(parsePortMapping);
  const { pod, service } = await podFor(ctx, target.resource);
  if (pod.status?.phase !== 'Running')
    throw new CliError(
      `unable to forward port because pod is not running. Current status=${pod.status?.phase ?? 'Unknown'}`,
    );
  const remotes = mappings.map((m) => ({ ...m, remote: service ? targetPortFor(service, pod, m.remote) : m.remote }));
  const hosts = (options.flags.address ?? 'localhost')
    .split(',')
    .flatMap((a) => (a === 'localhost' ? ['127.0.0.1', '::1'] : [a]));
  const servers: net.Server[] = [];
  try {
    for (const m of remotes) {
      let local = m.local;
      for (const host of hosts) {
        const server = net.createServer((socket) => {
          ctx.out(`Handling connection for ${local}`);
          forwardConnection(ctx, socket, { pod, remote: m.remote, local });
        });
        try {
          local = await listen(server, host, local);
        } catch (err) {
          // localhost without IPv6 is fine; an explicit address that cannot be bound is not.
          if (host === '::1') continue;
          throw new CliError(`unable to listen on port ${m.local}: ${errorMessage(err)}`);
        }
        servers.push(server);
        ctx.out(`Forwarding from ${host.includes(':') ? `[${host}]` : host}:${local} -> ${m.remote}`);
      }
    }
    await new Promise<void>((resolve) => {
      if (options.signal.aborted) resolve();
      options.signal.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    for (const s of servers) s.close();
  }
}
