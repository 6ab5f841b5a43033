// The ingress proxy on loopback with real backends on port 0: routing by host, round-robin
// over ready endpoints, 404/503/502, websocket upgrades relayed both ways, X-Forwarded-For,
// and SNI choosing the certificate of the Ingress TLS Secret.

import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type Socket } from 'node:net';
import tls from 'node:tls';
import { after, before, test } from 'node:test';
import type { Endpoints, HTTPIngressPath, Ingress, Secret, Service } from '../../api/index.js';
import { createCA } from '../../pki/index.js';
import { Backends } from './backends.js';
import { FALLBACK_SUBJECT, IngressCertificates } from './certificates.js';
import { IngressProxy } from './proxy.js';
import { compileRoutes } from './router.js';

const backends: http.Server[] = [];
let proxy: IngressProxy;

async function backend(name: string): Promise<number> {
  const server = http.createServer((req, res) => {
    res.end(`${name} ${req.url ?? ''} xff=${String(req.headers['x-forwarded-for'])} host=${req.headers.host ?? ''}`);
  });
  // A websocket-like upgrade: 101, then echo every byte back.
  server.on('upgrade', (_req, socket) => {
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    socket.pipe(socket);
  });
  backends.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return typeof address === 'object' && address !== null ? address.port : 0;
}

function service(name: string, port: number): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'web' },
    spec: { ports: [{ name: 'http', port, targetPort: 8080 }] },
  };
}

function endpoints(name: string, ports: number[]): Endpoints {
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name, namespace: 'web' },
    // One address per subset: the test's backends differ by port on one address.
    subsets: ports.map((port) => ({ addresses: [{ ip: '127.0.0.1' }], ports: [{ name: 'http', port }] })),
  };
}

const ingress: Ingress = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name: 'i', namespace: 'web', creationTimestamp: '2026-01-01T00:00:00Z' },
  spec: {
    ingressClassName: 'coxswain',
    tls: [{ hosts: ['a.example'], secretName: 'a-tls' }],
    rules: [
      { host: 'a.example', http: { paths: [path('/', 'svc-a')] } },
      { host: 'empty.example', http: { paths: [path('/', 'svc-empty')] } },
      { host: 'dead.example', http: { paths: [path('/', 'svc-dead')] } },
      { host: 'missing.example', http: { paths: [path('/', 'svc-missing')] } },
    ],
  },
};

function path(p: string, svc: string): HTTPIngressPath {
  return { path: p, pathType: 'Prefix', backend: { service: { name: svc, port: { name: 'http' } } } };
}

before(async () => {
  const a1 = await backend('a1');
  const a2 = await backend('a2');
  const closed = await backend('closed');
  await new Promise<void>((resolve) => backends.pop()?.close(() => resolve()));
  const services = new Map(
    ['svc-a', 'svc-empty', 'svc-dead'].map((n) => [`web/${n}`, service(n, 80)] as [string, Service]),
  );
  const eps = new Map<string, Endpoints>([
    ['web/svc-a', endpoints('svc-a', [a1, a2])],
    ['web/svc-empty', { ...endpoints('svc-empty', []), subsets: [] }],
    ['web/svc-dead', endpoints('svc-dead', [closed])],
  ]);
  const pair = await createCA('a.example');
  const secret: Secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'a-tls', namespace: 'web', resourceVersion: '1' },
    type: 'kubernetes.io/tls',
    data: {
      'tls.crt': Buffer.from(pair.certPem).toString('base64'),
      'tls.key': Buffer.from(pair.keyPem).toString('base64'),
    },
  };
  const certificates = await IngressCertificates.create(
    async (namespace, name) => {
      if (namespace === 'web' && name === 'a-tls') return secret;
      throw new Error('not found');
    },
    () => undefined,
  );
  await certificates.refresh([ingress]);
  const table = compileRoutes([ingress]);
  proxy = await IngressProxy.listen(
    {
      table: () => table,
      backends: new Backends({ services: { get: (k) => services.get(k) }, endpoints: { get: (k) => eps.get(k) } }),
      certificates,
    },
    { address: '127.0.0.1', httpPort: 0, httpsPort: 0, log: () => undefined },
  );
});

after(async () => {
  await proxy.close();
  await Promise.all(backends.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
});

function get(host: string, url = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: proxy.ports().http, path: url, headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

test('requests are relayed to the ready endpoints in turn, with the Host kept and X-Forwarded-For added', async () => {
  const seen = new Set<string>();
  for (let i = 0; i < 4; i++) {
    const res = await get('a.example', '/x?y=1');
    assert.equal(res.status, 200);
    assert.match(res.body, /^a[12] \/x\?y=1 xff=127\.0\.0\.1 host=a\.example$/);
    seen.add(res.body.slice(0, 2));
  }
  assert.deepEqual([...seen].sort(), ['a1', 'a2']);
});

test('no route is 404, no ready endpoint or no Service 503, a dead endpoint 502', async () => {
  assert.equal((await get('nobody.example')).status, 404);
  assert.equal((await get('empty.example')).status, 503);
  assert.equal((await get('missing.example')).status, 503);
  assert.equal((await get('dead.example')).status, 502);
});

test('a websocket upgrade passes through and carries bytes both ways', async () => {
  const socket = await new Promise<Socket>((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port: proxy.ports().http,
      headers: { host: 'a.example', connection: 'Upgrade', upgrade: 'websocket' },
    });
    req.on('upgrade', (res, s) => {
      assert.equal(res.statusCode, 101);
      resolve(s);
    });
    req.on('error', reject);
    req.end();
  });
  const echoed = await new Promise<string>((resolve) => {
    socket.once('data', (c: Buffer) => resolve(c.toString()));
    socket.write('ping');
  });
  socket.destroy();
  assert.equal(echoed, 'ping');
});

test('SNI picks the Ingress TLS certificate; other names get the fallback', async () => {
  const subject = (servername: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const s = tls.connect(
        { host: '127.0.0.1', port: proxy.ports().https, servername, rejectUnauthorized: false },
        () => {
          const cn = String(s.getPeerCertificate().subject.CN);
          s.destroy();
          resolve(cn);
        },
      );
      s.on('error', reject);
    });
  assert.equal(await subject('a.example'), 'a.example');
  assert.equal(await subject('b.example'), FALLBACK_SUBJECT);
});

test('a malformed request line is dropped without harming the proxy', async () => {
  await new Promise<void>((resolve) => {
    const s = net.connect(proxy.ports().http, '127.0.0.1', () => s.write('GARBAGE\r\n\r\n'));
    s.on('close', () => resolve());
    s.on('error', () => resolve());
    s.resume();
  });
  assert.equal((await get('a.example')).status, 200);
});

test('a port already taken stops the start with the address in the reason, and leaves nothing listening', async () => {
  const taken = proxy.ports().http;
  const certificates = await IngressCertificates.create(
    () => Promise.reject(new Error('none')),
    () => undefined,
  );
  await assert.rejects(
    IngressProxy.listen(
      {
        table: () => compileRoutes([]),
        backends: new Backends({ services: { get: () => undefined }, endpoints: { get: () => undefined } }),
        certificates,
      },
      { address: '127.0.0.1', httpPort: 0, httpsPort: taken, log: () => undefined },
    ),
    new RegExp(`ingress: cannot listen on 127\\.0\\.0\\.1:${taken}: .*EADDRINUSE`),
  );
});
