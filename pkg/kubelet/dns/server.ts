// The node agent's DNS server for its pods (a node-local CoreDNS, smaller): UDP and TCP on
// one address (the pod network's gateway). Names in the cluster domain are answered from
// ClusterRecords; every other query is relayed unchanged to the node's upstream resolvers,
// the next one tried when one is silent, SERVFAIL when all are. Malformed packets are dropped.

import dgram from 'node:dgram';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import dnsPacket from 'dns-packet';
import type { ClusterRecords } from './records.js';

export interface Upstream {
  host: string;
  port: number;
}

export interface DnsServerOptions {
  address: string;
  port: number;
  records: ClusterRecords;
  upstream: Upstream[];
  log: (m: string) => void;
  upstreamTimeoutMs?: number;
}

const RCODES = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3 } as const;
const UDP_DEFAULT_SIZE = 512;

/** The `nameserver` lines of a resolv.conf (loopback resolvers skipped unless asked). */
export function upstreamsFromResolvConf(
  path = '/etc/resolv.conf',
  opts: { includeLoopback?: boolean; exclude?: string[] } = {},
): Upstream[] {
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const out: Upstream[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    const host = m?.[1];
    if (host === undefined || net.isIP(host) === 0) continue;
    if (!opts.includeLoopback && (host.startsWith('127.') || host === '::1')) continue;
    if (opts.exclude?.includes(host)) continue;
    out.push({ host, port: 53 });
  }
  return out;
}

export class DnsServer {
  private constructor(
    private readonly udp: dgram.Socket,
    private readonly tcp: net.Server,
    private readonly options: DnsServerOptions,
  ) {}

  get port(): number {
    return this.udp.address().port;
  }

  static async start(options: DnsServerOptions): Promise<DnsServer> {
    // With port 0 the UDP socket's port may be taken for TCP: try a few others.
    const tries = options.port === 0 ? 5 : 1;
    for (let attempt = 1; ; attempt++) {
      try {
        return await DnsServer.listen(options);
      } catch (err) {
        if (attempt >= tries || !(err instanceof Error && 'code' in err && err.code === 'EADDRINUSE')) throw err;
      }
    }
  }

  /** Binds UDP, then TCP on the same port; a failure leaves nothing bound. */
  private static async listen(options: DnsServerOptions): Promise<DnsServer> {
    const udp = dgram.createSocket(net.isIPv6(options.address) ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(options.port, options.address, () => resolve());
    }).catch((err: unknown) => {
      try {
        udp.close();
      } catch {
        // never bound: nothing to close
      }
      throw err;
    });
    const port = udp.address().port;
    const tcp = net.createServer();
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(port, options.address, () => resolve());
    }).catch((err: unknown) => {
      udp.close();
      throw err;
    });
    const server = new DnsServer(udp, tcp, options);
    udp.on('message', (msg, rinfo) => {
      void server.answer(msg, 'udp').then((reply) => {
        if (reply !== undefined) udp.send(reply, rinfo.port, rinfo.address);
      });
    });
    udp.on('error', (err) => options.log(`dns: udp: ${err.message}`));
    tcp.on('connection', (socket) => server.serveTcp(socket));
    return server;
  }

  /** TCP: two-byte length prefix, several queries per connection. */
  private serveTcp(socket: net.Socket): void {
    let buffer = Buffer.alloc(0);
    socket.setTimeout(10_000, () => socket.destroy());
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (buffer.length >= 2) {
        const len = buffer.readUInt16BE(0);
        if (buffer.length < 2 + len) break;
        const msg = buffer.subarray(2, 2 + len);
        buffer = buffer.subarray(2 + len);
        void this.answer(msg, 'tcp').then((reply) => {
          if (reply === undefined || socket.destroyed) return;
          const head = Buffer.alloc(2);
          head.writeUInt16BE(reply.length);
          socket.write(Buffer.concat([head, reply]));
        });
      }
    });
  }

  /** The reply to one query, or undefined for a packet not worth answering. */
  async answer(msg: Buffer, transport: 'udp' | 'tcp'): Promise<Buffer | undefined> {
    let query: dnsPacket.Packet;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      return undefined;
    }
    if (query.type !== 'query' || query.id === undefined) return undefined;
    const question = query.questions?.[0];
    const rd = (query.flags ?? 0) & dnsPacket.RECURSION_DESIRED;
    if (question === undefined)
      return this.encode(
        { id: query.id, type: 'response', flags: rd | RCODES.SERVFAIL, questions: [] },
        transport,
        UDP_DEFAULT_SIZE,
      );
    const limit = Math.max(
      UDP_DEFAULT_SIZE,
      // EDNS: an OPT record carries the largest UDP reply the client takes.
      ...(query.additionals ?? []).flatMap((a) => (a.type === 'OPT' ? [a.udpPayloadSize] : [])),
    );
    const records = this.options.records;
    if (!records.inDomain(question.name)) return this.forward(msg, { id: query.id, question, rd });
    const found = records.resolve(question.name, question.type);
    return this.encode(
      {
        id: query.id,
        type: 'response',
        flags: dnsPacket.AUTHORITATIVE_ANSWER | rd | dnsPacket.RECURSION_AVAILABLE | RCODES[found.rcode],
        questions: [question],
        answers: found.answers,
      },
      transport,
      limit,
    );
  }

  private encode(packet: dnsPacket.Packet, transport: 'udp' | 'tcp', limit: number): Buffer {
    const buf = dnsPacket.encode(packet);
    if (transport === 'tcp' || buf.length <= limit) return buf;
    // Too big for this UDP client: an empty truncated answer tells it to ask over TCP.
    return dnsPacket.encode({ ...packet, answers: [], flags: (packet.flags ?? 0) | dnsPacket.TRUNCATED_RESPONSE });
  }

  /** The first upstream's reply; none answering: SERVFAIL (with the query's id, question and RD flag). */
  private async forward(msg: Buffer, query: { id: number; question: dnsPacket.Question; rd: number }): Promise<Buffer> {
    const { id, question, rd } = query;
    for (const up of this.options.upstream) {
      const reply = await this.ask(up, msg);
      if (reply !== undefined) return reply;
    }
    return dnsPacket.encode({
      id,
      type: 'response',
      flags: rd | dnsPacket.RECURSION_AVAILABLE | RCODES.SERVFAIL,
      questions: [question],
    });
  }

  private ask(up: Upstream, msg: Buffer): Promise<Buffer | undefined> {
    return new Promise((resolve) => {
      const sock = dgram.createSocket(net.isIPv6(up.host) ? 'udp6' : 'udp4');
      const done = (reply: Buffer | undefined): void => {
        clearTimeout(timer);
        sock.close();
        resolve(reply);
      };
      const timer = setTimeout(() => done(undefined), this.options.upstreamTimeoutMs ?? 2000);
      sock.on('error', () => done(undefined));
      sock.on('message', (reply) => {
        if (reply.length >= 2 && reply.readUInt16BE(0) === msg.readUInt16BE(0)) done(reply);
      });
      sock.send(msg, up.port, up.host);
    });
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.udp.close(() => resolve()));
    await new Promise<void>((resolve) => this.tcp.close(() => resolve()));
  }
}
