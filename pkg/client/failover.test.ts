// The client's failover between apiservers, against real TLS servers on loopback: which
// failures send a request to the next apiserver and which are handed to the caller.

import assert from 'node:assert/strict';
import https from 'node:https';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { after, before, test } from 'node:test';
import { WebSocketServer } from 'ws';
import { RESOURCES } from '../api/registry.js';
import { createCA, issueCertificate, type KeyPairPem } from '../pki/index.js';
import { learnApiservers } from './apiserver-discovery.js';
import { replayable, RestClient, type RawRequest } from './rest-client.js';
import { watchStream } from './watch.js';

let ca: KeyPairPem;
let serving: KeyPairPem;

before(async () => {
  ca = await createCA('failover-test-ca');
  serving = await issueCertificate(ca, { commonName: 'apiserver', ipAddresses: ['127.0.0.1'], usages: ['server'] });
});

interface FakeApiserver {
  url: string;
  /** Requests that reached it, as `METHOD path`. */
  seen: string[];
  server: https.Server;
}

type Behaviour = 'ok' | 'reset' | 'unavailable';

const ANSWER = { kind: 'ConfigMap', metadata: { name: 'answered' } };

const open: (https.Server | Server)[] = [];
after(() => {
  for (const s of open) s.close();
});

function urlOf(address: AddressInfo | string | null): string {
  if (address === null || typeof address === 'string') throw new Error('not listening on a port');
  return `https://127.0.0.1:${address.port}`;
}

async function listen(s: https.Server | Server): Promise<string> {
  open.push(s);
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return urlOf(s.address());
}

/** An apiserver that answers 200, resets the connection once it read the request, or answers 503. */
async function fakeApiserver(behaviour: Behaviour, answer: unknown = ANSWER): Promise<FakeApiserver> {
  const seen: string[] = [];
  const server = https.createServer({ cert: serving.certPem, key: serving.keyPem }, (req, res) => {
    seen.push(`${req.method ?? ''} ${req.url ?? ''}`);
    req.resume();
    req.on('end', () => {
      if (behaviour === 'reset') return req.socket.destroy();
      if (behaviour === 'unavailable') {
        res.writeHead(503, { 'Content-Type': 'application/json' });
        return res.end(JSON.stringify({ kind: 'Status', status: 'Failure', reason: 'ServiceUnavailable', code: 503 }));
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(answer));
    });
  });
  return { url: await listen(server), seen, server };
}

/** A port nobody listens on (connections are refused). */
async function closedPort(): Promise<string> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const url = urlOf(s.address());
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return url;
}

/** A TCP listener that drops every connection before the TLS handshake completes (a dying peer). */
async function droppingPeer(): Promise<string> {
  return listen(createServer((socket) => socket.destroy()));
}

function clientOf(servers: string[]): RestClient {
  const [server = ''] = servers;
  return new RestClient({
    server,
    servers,
    caPem: ca.certPem,
    certPem: undefined,
    keyPem: undefined,
    token: 'test',
    namespace: 'default',
    userName: 'test',
  });
}

const CM = RESOURCES.configmaps;
const newConfigMap = { metadata: { generateName: 'cm-' } };

test('a request that cannot connect goes to the next apiserver, which then stays current', async () => {
  const dead = await closedPort();
  const live = await fakeApiserver('ok');
  const client = clientOf([dead, live.url]);
  try {
    const got = await client.get(CM, 'x', { namespace: 'default' });
    assert.equal(got.metadata.name, 'answered');
    assert.equal(client.apiservers.current, live.url);
    // Any verb is safe when nothing was sent: a POST too.
    await client.create(CM, newConfigMap, { namespace: 'default' });
    assert.deepEqual(live.seen, [
      'GET /api/v1/namespaces/default/configmaps/x',
      'POST /api/v1/namespaces/default/configmaps',
    ]);
    assert.equal(client.apiservers.current, live.url, 'sticks: no round robin back to the first');
  } finally {
    client.close();
  }
});

test('a TLS handshake cut by a dying peer counts as not sent: even a POST goes to the next one', async () => {
  const dropping = await droppingPeer();
  const live = await fakeApiserver('ok');
  const client = clientOf([dropping, live.url]);
  try {
    await client.create(CM, newConfigMap, { namespace: 'default' });
    assert.deepEqual(live.seen, ['POST /api/v1/namespaces/default/configmaps']);
  } finally {
    client.close();
  }
});

test('a POST whose connection is reset after it was sent is not retried; a GET is', async () => {
  const resetting = await fakeApiserver('reset');
  const live = await fakeApiserver('ok');
  const client = clientOf([resetting.url, live.url]);
  try {
    await assert.rejects(client.create(CM, newConfigMap, { namespace: 'default' }), (err: Error) => {
      assert.match(err.message, /broke after the request was sent: .*(ECONNRESET|socket hang up)/);
      assert.match(err.message, /a POST is not sent again/);
      return true;
    });
    assert.deepEqual(live.seen, [], 'the POST never reached the second apiserver');
    assert.equal(resetting.seen.length, 1);
    // The failed apiserver is no longer current: the caller's next try goes to the other one.
    assert.equal(client.apiservers.current, live.url);
    client.apiservers.succeeded(resetting.url);
    await client.get(CM, 'x', { namespace: 'default' });
    assert.deepEqual(live.seen, ['GET /api/v1/namespaces/default/configmaps/x']);
    assert.equal(resetting.seen.length, 2, 'the GET was sent to the first, then replayed on the second');
  } finally {
    client.close();
  }
});

test('a 503 from an apiserver that is not ready: a GET goes on, a POST is answered with it', async () => {
  const unready = await fakeApiserver('unavailable');
  const live = await fakeApiserver('ok');
  const client = clientOf([unready.url, live.url]);
  try {
    await client.get(CM, 'x', { namespace: 'default' });
    assert.deepEqual(live.seen, ['GET /api/v1/namespaces/default/configmaps/x']);
    client.apiservers.succeeded(unready.url);
    await assert.rejects(client.create(CM, newConfigMap, { namespace: 'default' }), { code: 503 });
    assert.equal(live.seen.length, 1, 'the POST was not replayed');
    assert.equal(client.apiservers.current, live.url, 'the next request goes elsewhere');
  } finally {
    client.close();
  }
});

test('one pass over the list, then an error naming every apiserver tried', async () => {
  const a = await closedPort();
  const b = await closedPort();
  const client = clientOf([a, b]);
  try {
    const started = Date.now();
    await assert.rejects(client.get(CM, 'x', { namespace: 'default' }), (err: Error) => {
      assert.match(err.message, /cannot reach any API server/);
      assert.ok(err.message.includes(`${a}: connect ECONNREFUSED`), err.message);
      assert.ok(err.message.includes(`${b}: connect ECONNREFUSED`), err.message);
      return true;
    });
    assert.ok(Date.now() - started < 5_000, 'bounded');
  } finally {
    client.close();
  }
  // One apiserver alone: the message it always had.
  const single = clientOf([a]);
  try {
    await assert.rejects(single.get(CM, 'x'), new RegExp(`cannot reach the API server at ${a}: connect ECONNREFUSED`));
  } finally {
    single.close();
  }
});

test('which requests may be replayed on another apiserver after they may have been applied', () => {
  const req = (method: string, body?: unknown, contentType?: string): RawRequest => ({
    method,
    path: '/api/v1/namespaces/default/configmaps/x',
    ...(body === undefined ? {} : { body }),
    ...(contentType === undefined ? {} : { contentType }),
  });
  assert.equal(replayable(req('GET')), true);
  assert.equal(replayable(req('POST', {})), false);
  assert.equal(replayable(req('PUT', { metadata: { name: 'x', resourceVersion: '12' } })), true);
  assert.equal(replayable(req('PUT', { metadata: { name: 'x' } })), false, 'an unconditional PUT');
  assert.equal(replayable(req('PUT', { metadata: { name: 'x', resourceVersion: '' } })), false);
  assert.equal(replayable(req('DELETE', { kind: 'DeleteOptions', preconditions: { uid: 'u' } })), true);
  assert.equal(replayable(req('DELETE', { kind: 'DeleteOptions' })), false);
  assert.equal(replayable(req('PATCH', {}, 'application/merge-patch+json')), true);
  assert.equal(replayable(req('PATCH', {}, 'application/strategic-merge-patch+json')), true);
  assert.equal(replayable(req('PATCH', {}, 'application/apply-patch+yaml')), true);
  assert.equal(replayable(req('PATCH', [], 'application/json-patch+json')), false);
  assert.equal(replayable(req('PUT', Buffer.from('{}'))), false, 'a body it cannot read');
});

test('a watch that cannot connect opens on the next apiserver', async () => {
  const dead = await closedPort();
  const server = https.createServer({ cert: serving.certPem, key: serving.keyPem });
  const wss = new WebSocketServer({ server });
  const queries: string[] = [];
  wss.on('connection', (ws, req) => {
    queries.push(req.url ?? '');
    ws.send(
      JSON.stringify({
        type: 'ADDED',
        object: { kind: 'ConfigMap', metadata: { name: 'seen', resourceVersion: '8' } },
      }),
    );
  });
  const live = await listen(server);
  const client = clientOf([dead, live]);
  try {
    const name = await new Promise<string>((resolve, reject) => {
      const stream = watchStream(
        client,
        { resource: CM, namespace: 'default', resourceVersion: '7' },
        {
          onEvent: (ev) => {
            stream.stop();
            resolve(ev.object.metadata.name ?? '');
          },
          onClose: (err) => reject(err ?? new Error('closed')),
        },
      );
    });
    assert.equal(name, 'seen');
    assert.match(queries[0] ?? '', /resourceVersion=7/, 'from the resourceVersion asked for');
    assert.equal(client.apiservers.current, live);
  } finally {
    client.close();
    wss.close();
  }
});

test('a client given one apiserver learns the others from the kubernetes Endpoints and fails over to them', async () => {
  const other = await fakeApiserver('ok');
  const otherPort = Number(new URL(other.url).port);
  const endpoints = {
    kind: 'Endpoints',
    metadata: { name: 'kubernetes', namespace: 'default' },
    subsets: [{ addresses: [{ ip: '127.0.0.1' }], ports: [{ name: 'https', port: otherPort, protocol: 'TCP' }] }],
  };
  const first = await fakeApiserver('ok', endpoints);
  const client = clientOf([first.url]);
  try {
    const learned: string[][] = [];
    assert.equal(await learnApiservers(client, (servers) => learned.push(servers)), true);
    assert.deepEqual(first.seen, ['GET /api/v1/namespaces/default/endpoints/kubernetes']);
    assert.deepEqual(learned, [[other.url]]);
    assert.deepEqual(client.apiservers.all(), [first.url, other.url], 'the given one stays first, as the fallback');
    await new Promise<void>((resolve) => {
      first.server.closeAllConnections();
      first.server.close(() => resolve());
    });
    const got = await client.get(CM, 'x', { namespace: 'default' });
    assert.equal(got.metadata.name, 'answered');
    assert.equal(client.apiservers.current, other.url);
    // An answer that names no apiserver changes nothing and tells nobody.
    assert.equal(await learnApiservers(client, (servers) => learned.push(servers)), true);
    assert.equal(learned.length, 1);
  } finally {
    client.close();
  }
});

/** An apiserver that refuses the first `refusals` requests with 429 (and Retry-After when given), then answers. */
async function throttlingApiserver(refusals: number, retryAfter: string | undefined): Promise<FakeApiserver> {
  const seen: string[] = [];
  const server = https.createServer({ cert: serving.certPem, key: serving.keyPem }, (req, res) => {
    seen.push(`${req.method ?? ''} ${req.url ?? ''}`);
    req.resume();
    req.on('end', () => {
      if (seen.length <= refusals) {
        res.writeHead(429, {
          'Content-Type': 'application/json',
          ...(retryAfter !== undefined ? { 'Retry-After': retryAfter } : {}),
        });
        return res.end(JSON.stringify({ kind: 'Status', status: 'Failure', reason: 'TooManyRequests', code: 429 }));
      }
      res.writeHead(201, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(ANSWER));
    });
  });
  return { url: await listen(server), seen, server };
}

test('a write refused with 429 and Retry-After is sent again after the wait, as client-go does', async () => {
  const api = await throttlingApiserver(2, '1');
  const client = clientOf([api.url]);
  try {
    const created = await client.create(CM, newConfigMap, { namespace: 'default' });
    assert.equal(created.metadata.name, 'answered');
    assert.equal(api.seen.length, 3, 'two refusals, then the answer');
  } finally {
    client.close();
  }
});

test('a 429 without Retry-After (an eviction a budget refuses) goes to the caller at once', async () => {
  const api = await throttlingApiserver(1, undefined);
  const client = clientOf([api.url]);
  try {
    await assert.rejects(client.create(CM, newConfigMap, { namespace: 'default' }), (err: Error) => {
      assert.match(err.message, /TooManyRequests|429/);
      return true;
    });
    assert.equal(api.seen.length, 1);
  } finally {
    client.close();
  }
});

test('a 429 with Retry-After 0 asks for no wait: it goes to the caller at once', async () => {
  const api = await throttlingApiserver(100, '0');
  const client = clientOf([api.url]);
  try {
    await assert.rejects(client.create(CM, newConfigMap, { namespace: 'default' }));
    assert.equal(api.seen.length, 1);
  } finally {
    client.close();
  }
});
