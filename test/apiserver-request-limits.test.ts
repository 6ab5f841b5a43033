// Load limits of the apiserver, against a real process with small limits: in-flight
// requests (reads and writes counted apart, watches not counted, system:masters never
// refused), concurrent watches per user and in total, all answered 429 TooManyRequests
// with Retry-After; and a watcher that stops reading is cut off once its buffer passes
// the limit, freeing its slot, while a reading watcher of the same events carries on.

import assert from 'node:assert/strict';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import WebSocket from 'ws';
import { after, before, describe, test } from 'node:test';
import { issueCertificate } from '../pkg/pki/index.js';
import { eventually } from './harness/clients.js';
import { startControlPlane, type ControlPlane } from './harness/control-plane.js';
import { rawRequest } from './harness/https.js';

interface Creds {
  ca: string;
  cert: string;
  key: string;
}

let plane: ControlPlane;
let admin: Creds;
let alice: Creds;
let bob: Creds;
const open: ClientRequest[] = [];
const sockets: WebSocket[] = [];

const PER_USER = 3;
const TOTAL = 5;
const BUFFER = 1024 * 1024;

before(async () => {
  plane = await startControlPlane({
    extraArgs: [
      '--max-requests-inflight',
      '1',
      '--max-mutating-requests-inflight',
      '1',
      '--max-watches-per-user',
      String(PER_USER),
      '--max-watches',
      String(TOTAL),
      '--watch-max-buffer-bytes',
      String(BUFFER),
    ],
  });
  const ca = { certPem: readFileSync(plane.pki.caCert, 'utf8'), keyPem: readFileSync(plane.pki.caKey, 'utf8') };
  admin = {
    ca: ca.certPem,
    cert: readFileSync(plane.pki.adminCert, 'utf8'),
    key: readFileSync(plane.pki.adminKey, 'utf8'),
  };
  const user = async (name: string): Promise<Creds> => {
    const pair = await issueCertificate(ca, { commonName: name, organizations: ['testers'], usages: ['client'] });
    return { ca: ca.certPem, cert: pair.certPem, key: pair.keyPem };
  };
  alice = await user('alice');
  bob = await user('bob');
  const ns = await call(admin, {
    method: 'POST',
    path: '/api/v1/namespaces',
    body: {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'limits' },
    },
  });
  assert.equal(ns.status, 201);
  // The testers may do anything through RBAC, yet are not system:masters: the limits apply to them.
  const grant = await call(admin, {
    method: 'POST',
    path: '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings',
    body: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'testers' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'testers' }],
    },
  });
  assert.equal(grant.status, 201, JSON.stringify(grant.json));
});
after(async () => {
  for (const req of open) req.destroy();
  for (const ws of sockets) ws.terminate();
  await plane.stop();
});

async function call(
  who: Creds,
  req: { method: string; path: string; body?: unknown },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; json: Record<string, unknown> }> {
  const { method, path, body } = req;
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const res = await rawRequest({
    port: plane.port,
    method,
    path,
    ...who,
    headers:
      payload !== undefined
        ? { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(payload)) }
        : {},
    ...(payload !== undefined ? { body: payload } : {}),
  });
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(res.body) as Record<string, unknown>;
  } catch {
    json = {};
  }
  return { status: res.status, headers: res.headers, json };
}

function assertTooMany(res: {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: Record<string, unknown>;
}): void {
  assert.equal(res.status, 429, JSON.stringify(res.json));
  assert.equal(res.headers['retry-after'], '1');
  assert.equal(res.json['kind'], 'Status');
  assert.equal(res.json['reason'], 'TooManyRequests');
  assert.equal((res.json['details'] as { retryAfterSeconds?: number } | undefined)?.retryAfterSeconds, 1);
}

/** Opens a chunked watch; resolves with the response once its headers arrived. */
function openWatch(
  who: Creds,
  path: string,
  opts: { read: boolean },
): Promise<{ req: ClientRequest; res: IncomingMessage; text: () => string }> {
  return new Promise((resolve, reject) => {
    let text = '';
    const req = https.request(
      { host: '127.0.0.1', port: plane.port, method: 'GET', path, agent: false, ...who },
      (res) => {
        if (opts.read) res.on('data', (c: Buffer) => (text += c.toString()));
        else res.pause();
        resolve({ req, res, text: () => text });
      },
    );
    open.push(req);
    req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
    req.setTimeout(60_000, () => req.destroy());
    req.end();
  });
}

/** The body of a refused watch (read to its end). */
function bodyOf(res: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    let text = '';
    res.on('data', (c: Buffer) => (text += c.toString()));
    res.on('end', () => resolve(JSON.parse(text) as Record<string, unknown>));
    res.resume();
  });
}

const WATCH = '/api/v1/namespaces/limits/configmaps?watch=true';

describe('concurrent watches', () => {
  test(`a user gets ${PER_USER} watches, the next is 429; the server ${TOTAL} in all; a closed watch frees its slot`, async () => {
    const mine = [];
    for (let i = 0; i < PER_USER; i++) {
      const w = await openWatch(alice, WATCH, { read: true });
      assert.equal(w.res.statusCode, 200);
      mine.push(w);
    }
    const refused = await openWatch(alice, WATCH, { read: false });
    assert.equal(refused.res.statusCode, 429);
    assert.equal(refused.res.headers['retry-after'], '1');
    const status = await bodyOf(refused.res);
    assert.equal(status['reason'], 'TooManyRequests');
    // Watches are long-running: they hold no in-flight slot (the read limit is 1).
    assert.equal((await call(alice, { method: 'GET', path: '/api/v1/namespaces/limits/configmaps' })).status, 200);
    // A websocket watch counts against the same cap and is refused with a Status.
    const ws = await rawRequest({
      port: plane.port,
      method: 'GET',
      path: WATCH,
      ...alice,
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
        'Sec-WebSocket-Version': '13',
      },
    });
    assert.equal(ws.status, 429);
    assert.equal(ws.headers['retry-after'], '1');
    assert.equal((JSON.parse(ws.body) as { reason: string }).reason, 'TooManyRequests');

    // bob fills the server's total; then he too is refused.
    const his = [];
    for (let i = 0; i < TOTAL - PER_USER; i++) {
      const w = await openWatch(bob, WATCH, { read: true });
      assert.equal(w.res.statusCode, 200);
      his.push(w);
    }
    const full = await openWatch(bob, WATCH, { read: false });
    assert.equal(full.res.statusCode, 429);
    assert.match(String((await bodyOf(full.res))['message']), /too many concurrent watches on this server/);
    // system:masters is never refused.
    const adminWatch = await openWatch(admin, WATCH, { read: true });
    assert.equal(adminWatch.res.statusCode, 200);
    adminWatch.req.destroy();

    // Closing one of alice's lets bob in.
    mine[0]?.req.destroy();
    await eventually(
      async () => {
        const w = await openWatch(bob, WATCH, { read: true });
        if (w.res.statusCode === 200) {
          his.push(w);
          return true;
        }
        w.req.destroy();
        return false;
      },
      { timeoutMs: 20_000, what: 'a freed watch slot' },
    );
    for (const w of [...mine, ...his]) w.req.destroy();
  });
});

describe('in-flight requests', () => {
  test(
    'a second write while one is in flight is 429 with Retry-After; reads and system:masters still pass',
    { timeout: 120_000 },
    async () => {
      const body = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'held' } });
      // alice's create stays in flight while its body is incomplete.
      const held = https.request({
        host: '127.0.0.1',
        port: plane.port,
        method: 'POST',
        path: '/api/v1/namespaces/limits/configmaps',
        agent: false,
        ...alice,
        headers: { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) },
      });
      open.push(held);
      const heldAnswer = new Promise<number>((resolve, reject) => {
        held.on('response', (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        held.on('error', reject);
      });
      held.write(body.slice(0, 10));
      const dry = (): Promise<{
        status: number;
        headers: Record<string, string | string[] | undefined>;
        json: Record<string, unknown>;
      }> =>
        call(bob, {
          method: 'POST',
          path: '/api/v1/namespaces/limits/configmaps?dryRun=All',
          body: {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: { name: 'probe' },
          },
        });
      let refused: Awaited<ReturnType<typeof dry>> | undefined;
      await eventually(
        async () => {
          const res = await dry();
          if (res.status === 429) refused = res;
          return refused !== undefined;
        },
        { timeoutMs: 20_000, what: 'the held write to take the only mutating slot' },
      );
      assert.ok(refused);
      assertTooMany(refused);
      // Reads have their own pool; system:masters is exempt from both.
      assert.equal((await call(bob, { method: 'GET', path: '/api/v1/namespaces/limits/configmaps' })).status, 200);
      assert.equal(
        (
          await call(admin, {
            method: 'POST',
            path: '/api/v1/namespaces/limits/configmaps?dryRun=All',
            body: {
              apiVersion: 'v1',
              kind: 'ConfigMap',
              metadata: { name: 'probe' },
            },
          })
        ).status,
        201,
      );
      // Once the held write completes, the slot is free again.
      held.end(body.slice(10));
      assert.equal(await heldAnswer, 201);
      await eventually(async () => (await dry()).status === 201, {
        timeoutMs: 20_000,
        what: 'the mutating slot to be released',
      });
    },
  );

  test('a second read while one is in flight is 429', { timeout: 120_000 }, async () => {
    // A list at a resourceVersion the server has not reached waits (up to 3 s) in flight.
    const rv = Number(
      (
        (await call(admin, { method: 'GET', path: '/api/v1/namespaces' })).json['metadata'] as {
          resourceVersion: string;
        }
      ).resourceVersion,
    );
    let seen: Awaited<ReturnType<typeof call>> | undefined;
    for (let round = 0; round < 5 && seen === undefined; round++) {
      const waiting = call(alice, {
        method: 'GET',
        path: `/api/v1/namespaces/limits/configmaps?resourceVersion=${rv + 1_000_000}`,
      });
      for (let i = 0; i < 20 && seen === undefined; i++) {
        const res = await call(bob, { method: 'GET', path: '/api/v1/namespaces/limits/configmaps' });
        if (res.status === 429) seen = res;
      }
      assert.equal((await waiting).status, 504);
    }
    assert.ok(seen, 'no read was refused while another held the only read slot');
    assertTooMany(seen);
  });
});

describe('slow watchers', () => {
  test(
    'a watcher that stops reading is cut off past the buffer limit and its slot freed; a reading one gets every event',
    { timeout: 180_000 },
    async () => {
      const rv = (
        (await call(admin, { method: 'GET', path: '/api/v1/namespaces/limits/configmaps' })).json['metadata'] as {
          resourceVersion: string;
        }
      ).resourceVersion;
      const path = `${WATCH}&resourceVersion=${rv}`;
      const stuck = [];
      for (let i = 0; i < PER_USER; i++) stuck.push(await openWatch(alice, path, { read: false }));
      const reader = await openWatch(bob, path, { read: true });
      for (const w of [...stuck, reader]) assert.equal(w.res.statusCode, 200);
      const count = 40;
      await writeBigEvents('big', count);
      // alice's stuck watches were cut off: her slots are free again.
      await eventually(
        async () => {
          const w = await openWatch(alice, WATCH, { read: true });
          w.req.destroy();
          return w.res.statusCode === 200;
        },
        { timeoutMs: 30_000, what: 'the stuck watchers to be cut off' },
      );
      // The stuck streams end (once read) rather than hang: each is a prefix of the events.
      for (const w of stuck) {
        const ended = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), 30_000);
          w.res.on('data', () => undefined);
          w.res.on('close', () => {
            clearTimeout(timer);
            resolve(true);
          });
          w.res.resume();
        });
        assert.ok(ended, 'a stuck watch stream never ended');
      }
      // bob read along and saw every event.
      await eventually(
        () =>
          reader
            .text()
            .split('\n')
            .filter((l) => l.includes('"ADDED"')).length === count,
        { timeoutMs: 30_000, what: 'every event at the reading watcher' },
      );
      reader.req.destroy();
    },
  );
});

/** ~24 MiB of events in the watched namespace: far more than socket buffers and the limit hold. */
async function writeBigEvents(prefix: string, count = 40): Promise<void> {
  const big = 'x'.repeat(600 * 1024);
  for (let i = 0; i < count; i++) {
    const res = await call(admin, {
      method: 'POST',
      path: '/api/v1/namespaces/limits/configmaps',
      body: {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: `${prefix}-${i}` },
        data: { big },
      },
    });
    assert.equal(res.status, 201);
  }
}

function rssKiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(/(\d+)/.exec(line ?? '')?.[1] ?? NaN);
}

describe('slow websocket watchers', () => {
  test('a websocket watcher that stops reading is cut off too and frees its slot', { timeout: 180_000 }, async () => {
    const rv = (
      (await call(admin, { method: 'GET', path: '/api/v1/namespaces/limits/configmaps' })).json['metadata'] as {
        resourceVersion: string;
      }
    ).resourceVersion;
    const ws = new WebSocket(`wss://127.0.0.1:${plane.port}${WATCH}&resourceVersion=${rv}`, {
      ...alice,
      perMessageDeflate: false,
    });
    sockets.push(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    let closed = false;
    ws.on('close', () => (closed = true));
    ws.pause();
    const others = [];
    for (let i = 1; i < PER_USER; i++) others.push(await openWatch(alice, WATCH, { read: true }));
    const full = await openWatch(alice, WATCH, { read: false });
    assert.equal(full.res.statusCode, 429, `alice holds all her watch slots (websocket closed: ${String(closed)})`);
    full.req.destroy();
    await writeBigEvents('ws');
    await eventually(
      async () => {
        const w = await openWatch(alice, WATCH, { read: true });
        w.req.destroy();
        return w.res.statusCode === 200;
      },
      { timeoutMs: 30_000, what: 'the stuck websocket watcher to be cut off' },
    );
    ws.resume();
    await eventually(() => closed, { timeoutMs: 30_000, what: 'the websocket to close' });
    for (const w of others) w.req.destroy();
  });
});

describe('memory', () => {
  test('20 watches that never read do not keep the events they missed', { timeout: 180_000 }, async () => {
    const pid = plane.apiserver.pid;
    assert.ok(pid !== undefined);
    const rv = (
      (await call(admin, { method: 'GET', path: '/api/v1/namespaces/limits/configmaps' })).json['metadata'] as {
        resourceVersion: string;
      }
    ).resourceVersion;
    const stuck = [];
    // system:masters is exempt from the watch caps, not from the buffer limit.
    for (let i = 0; i < 20; i++) stuck.push(await openWatch(admin, `${WATCH}&resourceVersion=${rv}`, { read: false }));
    const before = rssKiB(pid);
    await writeBigEvents('mem');
    const grown = (rssKiB(pid) - before) / 1024;
    // Unbounded, the 20 buffers hold 20 copies of ~24 MiB of events (measured: +530 MiB);
    // bounded, 20 × 1 MiB, the cache's own copy and the garbage of serialising (measured: +130 MiB).
    assert.ok(grown < 250, `the apiserver grew by ${Math.round(grown)} MiB`);
    for (const w of stuck) w.req.destroy();
  });
});
