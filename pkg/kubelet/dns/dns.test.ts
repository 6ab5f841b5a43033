// The agent's DNS server over real UDP and TCP sockets on loopback, fed by in-memory caches.

import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { after, before, test } from 'node:test';
import dnsPacket from 'dns-packet';
import type { EndpointSubset, Endpoints, Service, ServiceSpec } from '../../api/types/index.js';
import { ClusterRecords } from './records.js';
import { DnsServer } from './server.js';

const services = new Map<string, Service>();
const endpoints = new Map<string, Endpoints>();
function putService(ns: string, name: string, spec: ServiceSpec): void {
  services.set(`${ns}/${name}`, { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec });
}
function putEndpoints(ns: string, name: string, subsets: EndpointSubset[]): void {
  endpoints.set(`${ns}/${name}`, { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace: ns }, subsets });
}
const records = new ClusterRecords({
  services: { get: (k) => services.get(k) },
  endpoints: { get: (k) => endpoints.get(k) },
});

let server: DnsServer;
let upstream: dgram.Socket;
let silent: dgram.Socket;

before(async () => {
  putService('default', 'web', { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] });
  putService('default', 'db', { clusterIP: 'None' });
  putEndpoints('default', 'db', [
    {
      addresses: [
        { ip: '10.244.1.5', hostname: 'db-0' },
        { ip: '10.244.2.6', hostname: 'db-1' },
      ],
      notReadyAddresses: [{ ip: '10.244.3.7' }],
    },
  ]);
  putService('default', 'ext', { type: 'ExternalName', externalName: 'example.org' });
  // A fake upstream that answers every question with 192.0.2.1.
  upstream = dgram.createSocket('udp4');
  upstream.on('message', (msg, r) => {
    const q = dnsPacket.decode(msg);
    upstream.send(
      dnsPacket.encode({
        id: q.id ?? 0,
        type: 'response',
        flags: dnsPacket.RECURSION_AVAILABLE,
        questions: q.questions ?? [],
        answers: [{ type: 'A', name: q.questions?.[0]?.name ?? '', ttl: 60, data: '192.0.2.1' }],
      }),
      r.port,
      r.address,
    );
  });
  await new Promise<void>((r) => upstream.bind(0, '127.0.0.1', () => r()));
  silent = dgram.createSocket('udp4');
  await new Promise<void>((r) => silent.bind(0, '127.0.0.1', () => r()));
  server = await DnsServer.start({
    address: '127.0.0.1',
    port: 0,
    records,
    log: () => undefined,
    upstreamTimeoutMs: 300,
    upstream: [
      { host: '127.0.0.1', port: silent.address().port },
      { host: '127.0.0.1', port: upstream.address().port },
    ],
  });
});
after(async () => {
  await server.close();
  upstream.close();
  silent.close();
});

/** dns-packet's decode also fills these, which its types leave out. */
type Decoded = dnsPacket.Packet & { rcode?: string; flag_aa?: boolean };

let nextId = 1;
function udpQuery(name: string, type: dnsPacket.RecordType = 'A', raw?: Buffer): Promise<Decoded> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      sock.close();
      reject(new Error(`no answer for ${name}`));
    }, 3000);
    sock.on('message', (msg) => {
      clearTimeout(timer);
      sock.close();
      resolve(dnsPacket.decode(msg) as Decoded);
    });
    sock.send(
      raw ??
        dnsPacket.encode({
          id: nextId++,
          type: 'query',
          flags: dnsPacket.RECURSION_DESIRED,
          questions: [{ name, type }],
        }),
      server.port,
      '127.0.0.1',
    );
  });
}

function tcpQuery(name: string): Promise<Decoded> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(server.port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error('tcp timeout'));
    }, 3000);
    sock.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        clearTimeout(timer);
        sock.destroy();
        resolve(dnsPacket.decode(buf.subarray(2)) as Decoded);
      }
    });
    sock.on('error', reject);
    const q = dnsPacket.encode({ id: nextId++, type: 'query', questions: [{ name, type: 'A' }] });
    const head = Buffer.alloc(2);
    head.writeUInt16BE(q.length);
    sock.write(Buffer.concat([head, q]));
  });
}

const ips = (p: dnsPacket.Packet): string[] =>
  (p.answers ?? []).map((a) => String((a as { data: unknown }).data)).sort();

test('a Service name resolves to its ClusterIP over UDP and TCP, authoritatively', async () => {
  const udp = await udpQuery('web.default.svc.cluster.local');
  assert.equal(udp.rcode, 'NOERROR');
  assert.ok(udp.flag_aa);
  assert.deepEqual(ips(udp), ['10.96.0.20']);
  assert.deepEqual(ips(await tcpQuery('WEB.default.svc.cluster.local.')), ['10.96.0.20']);
});

test('a headless Service resolves to its ready endpoints, and each hostname to its own', async () => {
  assert.deepEqual(ips(await udpQuery('db.default.svc.cluster.local')), ['10.244.1.5', '10.244.2.6']);
  assert.deepEqual(ips(await udpQuery('db-1.db.default.svc.cluster.local')), ['10.244.2.6']);
  assert.equal((await udpQuery('db-9.db.default.svc.cluster.local')).rcode, 'NXDOMAIN');
});

test('NXDOMAIN for unknown names, NODATA for known names without the type; SRV and ExternalName', async () => {
  assert.equal((await udpQuery('nope.default.svc.cluster.local')).rcode, 'NXDOMAIN');
  const aaaa = await udpQuery('web.default.svc.cluster.local', 'AAAA');
  assert.equal(aaaa.rcode, 'NOERROR');
  assert.equal(aaaa.answers?.length, 0);
  const srv = await udpQuery('_http._tcp.web.default.svc.cluster.local', 'SRV');
  assert.deepEqual((srv.answers?.[0] as { data: { port: number; target: string } }).data.port, 80);
  const ext = await udpQuery('ext.default.svc.cluster.local');
  assert.equal(ext.answers?.[0]?.type, 'CNAME');
  assert.deepEqual(ips(await udpQuery('10-244-1-5.default.pod.cluster.local')), ['10.244.1.5']);
});

test('answers follow the cache at once', async () => {
  putService('shop', 'cart', { clusterIP: '10.96.0.30' });
  assert.deepEqual(ips(await udpQuery('cart.shop.svc.cluster.local')), ['10.96.0.30']);
  services.delete('shop/cart');
  assert.equal((await udpQuery('cart.shop.svc.cluster.local')).rcode, 'NXDOMAIN');
});

test('other names are relayed to the upstream that answers; all silent gives SERVFAIL', async () => {
  const fwd = await udpQuery('example.org');
  assert.equal(fwd.rcode, 'NOERROR');
  assert.deepEqual(ips(fwd), ['192.0.2.1']);
  const lonely = await DnsServer.start({
    address: '127.0.0.1',
    port: 0,
    records,
    log: () => undefined,
    upstreamTimeoutMs: 200,
    upstream: [{ host: '127.0.0.1', port: silent.address().port }],
  });
  try {
    const reply = await new Promise<Decoded>((resolve) => {
      const sock = dgram.createSocket('udp4');
      sock.on('message', (m) => {
        sock.close();
        resolve(dnsPacket.decode(m) as Decoded);
      });
      sock.send(
        dnsPacket.encode({ id: 7, type: 'query', questions: [{ name: 'example.org', type: 'A' }] }),
        lonely.port,
        '127.0.0.1',
      );
    });
    assert.equal(reply.rcode, 'SERVFAIL');
  } finally {
    await lonely.close();
  }
});

test('a malformed packet is ignored and the server keeps answering', async () => {
  await assert.rejects(udpQuery('x', 'A', Buffer.from([1, 2, 3])), /no answer/);
  assert.deepEqual(ips(await udpQuery('web.default.svc.cluster.local')), ['10.96.0.20']);
});
