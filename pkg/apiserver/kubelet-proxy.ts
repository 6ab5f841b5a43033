// pods/log and pods/exec|attach are served by the node agent that runs the pod; the
// apiserver finds the node and relays, authenticating to the agent with its
// kubelet-client certificate. Logs are streamed as they come; exec is relayed frame by
// frame over websockets in the channel protocol the client chose.

import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer } from 'ws';
import { CHANNEL_PROTOCOLS, chooseProtocol } from '../streaming/index.js';
import { RESOURCES } from '../api/registry.js';
import type { Container, Node, Pod } from '../api/types/index.js';
import { ApiError, badRequest } from '../errors/index.js';
import type { RestStore } from './rest-store.js';
import { relayPortForward, type PortForwardRequest } from './port-forward-relay.js';

function names(containers: Container[] | undefined): string[] {
  return (containers ?? []).map((c) => c.name);
}

/** The node agent's address and port as its Node reports them. */
function agentEndpoint(node: Node): { host?: string | undefined; port?: number | undefined } {
  const host = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
  const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port;
  return { host, port };
}

interface Target {
  host: string;
  port: number;
  container: string;
  pod: Pod;
  tls: KubeletClientTls;
}

/** Which pod's logs, and the query of the request (container, follow, tailLines …). */
export interface LogsRequest {
  namespace: string;
  podName: string;
  query: URLSearchParams;
}

/** Which pod an exec or attach goes to, and the query of the request (container, command …). */
export interface StreamRequest extends LogsRequest {
  subresource: string;
}

/** The HTTP upgrade a websocket is made from. */
export interface Upgrade {
  req: IncomingMessage;
  socket: Duplex;
  head: Buffer;
}

export interface KubeletClientTls {
  cert: string;
  key: string;
  ca: string;
}

export function loadKubeletClientTls(certFile: string, keyFile: string, caFile: string): KubeletClientTls {
  return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8'), ca: readFileSync(caFile, 'utf8') };
}

export class KubeletProxy {
  private readonly wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    handleProtocols: (offered) => chooseProtocol(offered) ?? false,
  });

  constructor(
    private readonly store: RestStore,
    private readonly tls: KubeletClientTls | undefined,
  ) {}

  /** Where the pod's agent listens, and which container is meant. */
  private async locate(namespace: string, podName: string, container: string | undefined): Promise<Target> {
    const tls = this.tls;
    if (tls === undefined)
      throw new ApiError(
        'ServiceUnavailable',
        'the apiserver has no kubelet client certificate (--kubelet-client-certificate)',
      );
    const pod = await this.store.get(RESOURCES.pods, namespace, podName);
    const containers = names(pod.spec?.containers);
    const ephemeral = (pod.spec?.ephemeralContainers ?? []).map((c) => c.name);
    const all = [...containers, ...names(pod.spec?.initContainers), ...ephemeral];
    let chosen = container;
    if (chosen === undefined || chosen === '') {
      const annotated = pod.metadata.annotations?.['kubectl.kubernetes.io/default-container'];
      if (annotated !== undefined) chosen = annotated;
      else if (containers.length === 1) chosen = containers[0];
      else
        throw badRequest(
          `a container name must be specified for pod ${podName}, choose one of: [${containers.join(' ')}]`,
        );
    }
    if (chosen === undefined || !all.includes(chosen))
      throw badRequest(`container ${chosen ?? ''} is not valid for pod ${podName}`);
    const nodeName = pod.spec?.nodeName ?? '';
    if (!nodeName) throw badRequest(`pod ${podName} does not have a host assigned`);
    const node = await this.store.get(RESOURCES.nodes, undefined, nodeName);
    const { host, port } = agentEndpoint(node);
    if (host === undefined || port === undefined)
      throw new ApiError('ServiceUnavailable', `node ${nodeName} has not reported its agent's address`);
    return { host, port, container: chosen, pod, tls };
  }

  async logs(request: LogsRequest, res: ServerResponse): Promise<void> {
    const { namespace, podName, query } = request;
    const target = await this.locate(namespace, podName, query.get('container') ?? undefined);
    const q = new URLSearchParams();
    for (const k of ['follow', 'tailLines', 'timestamps', 'previous', 'sinceSeconds', 'sinceTime', 'limitBytes']) {
      const v = query.get(k);
      if (v !== null) q.set(k, v);
    }
    const path = `/containerLogs/${encodeURIComponent(namespace)}/${encodeURIComponent(podName)}/${encodeURIComponent(target.container)}?${q.toString()}`;
    const tls = target.tls;
    await new Promise<void>((resolve, reject) => {
      const req = https.request(
        { host: target.host, port: target.port, path, method: 'GET', ...tls, agent: false },
        (kres) => {
          if (kres.statusCode !== 200) {
            let body = '';
            kres.on('data', (c: Buffer) => (body += c.toString()));
            kres.on('end', () => reject(badRequest(body.trim() || `the node agent answered ${kres.statusCode ?? 0}`)));
            return;
          }
          res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
          res.flushHeaders();
          kres.pipe(res);
          kres.on('end', () => resolve());
          res.on('close', () => {
            kres.destroy();
            resolve();
          });
        },
      );
      req.on('error', (err) =>
        reject(
          new ApiError(
            'ServiceUnavailable',
            `cannot reach the node agent at ${target.host}:${target.port}: ${err.message}`,
          ),
        ),
      );
      req.end();
    });
  }

  /** portforward: checked here, then relayed byte for byte once the agent upgraded (port-forward-relay.ts). */
  portForward(upgrade: Upgrade, request: PortForwardRequest): Promise<void> {
    return relayPortForward({ store: this.store, tls: this.tls, agentEndpoint }, upgrade, request);
  }

  /** exec/attach: relays a websocket between the client and the pod's agent. */
  async upgrade(upgrade: Upgrade, request: StreamRequest): Promise<void> {
    const { req, socket, head } = upgrade;
    const { namespace, podName, subresource, query } = request;
    const offered = String(req.headers['sec-websocket-protocol'] ?? '').split(',');
    // kubectl retries a failed websocket exec/attach over SPDY: that retry gets the same verdict.
    const spdy = isSpdyUpgrade(req);
    const protocol = spdy ? CHANNEL_PROTOCOLS[0] : chooseProtocol(offered);
    if (protocol === undefined)
      throw badRequest('exec needs the v5.channel.k8s.io or v4.channel.k8s.io websocket subprotocol');
    const target = await this.locate(namespace, podName, query.get('container') ?? undefined);
    const phase = target.pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed')
      throw badRequest(
        subresource === 'attach'
          ? `cannot attach a container in a completed pod; current phase is ${phase}`
          : `cannot exec into a container in a completed pod; current phase is ${phase}`,
      );
    if (spdy && subresource !== 'attach') throw spdyRefused(subresource);
    const q = new URLSearchParams();
    for (const [k, v] of query) if (k !== 'container') q.append(k, v);
    // The agent's verdict on an attach without touching the container's stdin.
    if (spdy) q.set('stdin', 'false');
    const url = `wss://${target.host}:${target.port}/${subresource}/${encodeURIComponent(namespace)}/${encodeURIComponent(podName)}/${encodeURIComponent(target.container)}?${q.toString()}`;
    const upstream = new WebSocket(url, [protocol], { ...target.tls, perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      upstream.once('open', () => resolve());
      upstream.once('unexpected-response', (_r, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => reject(badRequest(body.trim() || `the node agent refused exec (${res.statusCode ?? 0})`)));
      });
      upstream.once('error', (err) =>
        reject(new ApiError('ServiceUnavailable', `cannot reach the node agent: ${err.message}`)),
      );
    });
    if (spdy) {
      upstream.close();
      throw spdyRefused(subresource);
    }
    this.wss.handleUpgrade(req, socket, head, (client) => {
      client.on('message', (data: Buffer, isBinary) => upstream.send(data, { binary: isBinary }));
      upstream.on('message', (data: Buffer, isBinary) => client.send(data, { binary: isBinary }));
      client.on('close', () => upstream.close());
      upstream.on('close', (code) => client.close(code === 1005 ? 1000 : code));
      client.on('error', () => upstream.terminate());
      upstream.on('error', () => client.terminate());
    });
  }
}

export function isStreamingSubresource(sub: string | undefined): boolean {
  return sub === 'exec' || sub === 'attach';
}

/** An upgrade to SPDY (kubectl's fallback transport for exec, attach and port-forward). */
export function isSpdyUpgrade(req: IncomingMessage): boolean {
  return /^spdy\//i.test(String(req.headers.upgrade ?? ''));
}

function spdyRefused(subresource: string): ApiError {
  return badRequest(`${subresource} is served over websockets only (v5.channel.k8s.io), not SPDY`);
}
