import assert from 'node:assert/strict';
import type { Server } from 'node:https';
import { request } from 'node:https';
import { after, before, test } from 'node:test';
import { Counter, Registry } from 'prom-client';
import { createLogger } from '../component/log.js';
import { DelegatedAuth, startMetricsServer, type AccessReviewer } from '../component/metrics-server.js';
import { createCA, issueCertificate, type KeyPairPem } from '../pki/index.js';
import { selfSignedServing } from './delegated-review.js';

let server: Server;
let port: number;
let clientCa: KeyPairPem;
let admin: KeyPairPem;
let stranger: KeyPairPem;
let foreign: KeyPairPem;

/** Allows system:masters and the monitoring group; knows one token. */
const reviewer: AccessReviewer = {
  authenticate: (token) =>
    Promise.resolve(token === 'monitor' ? { username: 'prom', groups: ['system:monitoring'] } : undefined),
  authorize: (user) =>
    Promise.resolve(user.groups.includes('system:masters') || user.groups.includes('system:monitoring')),
};

before(async () => {
  clientCa = await createCA('test-client-ca');
  admin = await issueCertificate(clientCa, {
    commonName: 'admin',
    organizations: ['system:masters'],
    usages: ['client'],
  });
  stranger = await issueCertificate(clientCa, { commonName: 'someone', usages: ['client'] });
  // Right name and group, wrong CA: not a user here.
  foreign = await issueCertificate(await createCA('other-ca'), {
    commonName: 'admin',
    organizations: ['system:masters'],
    usages: ['client'],
  });
  const registry = new Registry();
  new Counter({ name: 'scheduler_schedule_attempts_total', help: 'x', registers: [registry] }).inc();
  const started = await startMetricsServer({
    config: { port: 0, bindAddress: '127.0.0.1', tls: undefined, clientCaPem: clientCa.certPem },
    registry,
    auth: new DelegatedAuth(reviewer),
    selfSigned: () => selfSignedServing('kube-scheduler', '127.0.0.1'),
    defaultClientCaPem: undefined,
    log: createLogger({ write: () => undefined }),
  });
  assert.ok(started);
  server = started;
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  port = address.port;
});
after(() => {
  server.close();
  server.closeAllConnections();
});

function get(
  path: string,
  opts: { pair?: KeyPairPem; token?: string; method?: string } = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: opts.method ?? 'GET',
        rejectUnauthorized: false,
        ...(opts.pair === undefined ? {} : { cert: opts.pair.certPem, key: opts.pair.keyPem }),
        headers: opts.token === undefined ? {} : { Authorization: `Bearer ${opts.token}` },
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

test('secure port: a client certificate of the client CA in system:masters reads /metrics', async () => {
  const res = await get('/metrics', { pair: admin });
  assert.equal(res.status, 200);
  assert.match(res.body, /scheduler_schedule_attempts_total 1/);
  assert.equal((await get('/metrics', { token: 'monitor' })).status, 200);
});

test('secure port: 401 without credentials or with a foreign certificate, 403 for a user without rights', async () => {
  const anonymous = await get('/metrics');
  assert.equal(anonymous.status, 401);
  const status: unknown = JSON.parse(anonymous.body);
  assert.deepEqual(status, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'Unauthorized',
    reason: 'Unauthorized',
    details: {},
    code: 401,
  });
  assert.equal((await get('/metrics', { pair: foreign })).status, 401);
  assert.equal((await get('/metrics', { token: 'garbage' })).status, 401);
  const denied = await get('/metrics', { pair: stranger });
  assert.equal(denied.status, 403);
  assert.match(
    denied.body,
    /"message":"forbidden: User \\"someone\\" cannot get path \\"\/metrics\\"","reason":"Forbidden"/,
  );
});

test('secure port: /healthz for anyone, unknown paths 404, writes 405', async () => {
  assert.deepEqual(await get('/healthz'), { status: 200, body: 'ok' });
  assert.equal((await get('/other', { pair: admin })).status, 404);
  assert.equal((await get('/metrics', { pair: admin, method: 'POST' })).status, 405);
});
