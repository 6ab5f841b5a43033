// The audit log against a real apiserver: a policy that logs Secrets at Metadata (never their
// data), ConfigMaps at RequestResponse (both bodies) and nothing else; an admin's writes, a
// stranger's refused read (403, decision forbid), a refused credential (401), an impersonated
// request (the caller and the user acted as, both recorded); the file is JSON lines, mode 0600,
// complete once the apiserver drained. A policy that does not parse stops the start, in one line.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { issueCertificate } from '../pkg/pki/index.js';
import { DIST, run, startControlPlane, type ControlPlane } from './harness/control-plane.js';
import { rawRequest, type RawResponse } from './harness/https.js';
import { runRoot } from './harness/run-root.js';

interface Creds {
  ca: string;
  cert?: string;
  key?: string;
}

const POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
rules:
  - level: Metadata
    resources:
      - group: ""
        resources: ["secrets"]
  - level: RequestResponse
    resources:
      - group: ""
        resources: ["configmaps"]
  - level: None
`;

const SECRET_VALUE = 'hunter2-never-logged';
const SECRET_B64 = Buffer.from(SECRET_VALUE).toString('base64');

/** A field of a decoded event by its path (undefined where the path leads nowhere). */
function pick(value: unknown, ...path: string[]): unknown {
  let at = value;
  for (const key of path) at = typeof at === 'object' && at !== null ? Reflect.get(at, key) : undefined;
  return at;
}

let plane: ControlPlane;
let dir: string;
let logPath: string;
let admin: Creds;
let stranger: Creds;
const replies = new Map<string, RawResponse>();

function call(who: Creds, req: { method: string; path: string; body?: unknown; headers?: Record<string, string> }) {
  return rawRequest({
    port: plane.port,
    method: req.method,
    path: req.path,
    ...who,
    headers: { 'Content-Type': 'application/json', ...req.headers },
    ...(req.body !== undefined && { body: JSON.stringify(req.body) }),
  });
}

function auditIdOf(reply: RawResponse): string {
  const id = reply.headers['audit-id'];
  assert.equal(typeof id, 'string', 'every answer carries an Audit-Id');
  return String(id);
}

before(async () => {
  dir = mkdtempSync(join(runRoot(), 'audit-'));
  logPath = join(dir, 'audit.log');
  writeFileSync(join(dir, 'policy.yaml'), POLICY);
  plane = await startControlPlane({
    extraArgs: ['--audit-policy-file', join(dir, 'policy.yaml'), '--audit-log-path', logPath],
  });
  const ca = { certPem: readFileSync(plane.pki.caCert, 'utf8'), keyPem: readFileSync(plane.pki.caKey, 'utf8') };
  admin = {
    ca: ca.certPem,
    cert: readFileSync(plane.pki.adminCert, 'utf8'),
    key: readFileSync(plane.pki.adminKey, 'utf8'),
  };
  const pair = await issueCertificate(ca, { commonName: 'stranger', organizations: ['nobodies'], usages: ['client'] });
  stranger = { ca: ca.certPem, cert: pair.certPem, key: pair.keyPem };

  replies.set(
    'secret',
    await call(admin, {
      method: 'POST',
      path: '/api/v1/namespaces/default/secrets',
      body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds' }, data: { password: SECRET_B64 } },
    }),
  );
  replies.set(
    'configmap',
    await call(admin, {
      method: 'POST',
      path: '/api/v1/namespaces/default/configmaps',
      body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data: { colour: 'teal' } },
    }),
  );
  replies.set(
    'patch',
    await call(admin, {
      method: 'PATCH',
      path: '/api/v1/namespaces/default/configmaps/settings',
      headers: { 'Content-Type': 'application/merge-patch+json' },
      body: { data: { colour: 'plum' } },
    }),
  );
  replies.set('forbidden', await call(stranger, { method: 'GET', path: '/api/v1/namespaces/default/secrets/creds' }));
  replies.set(
    'impersonated',
    await call(admin, {
      method: 'GET',
      path: '/api/v1/namespaces/default/configmaps',
      headers: { 'Impersonate-User': 'carol' },
    }),
  );
  replies.set(
    'unauthenticated',
    await call(
      { ca: ca.certPem },
      {
        method: 'GET',
        path: '/api/v1/namespaces/default/secrets',
        headers: { Authorization: 'Bearer not-a-token' },
      },
    ),
  );
  // A watch is long-running: ResponseStarted once its headers are out, ResponseComplete at its end.
  replies.set(
    'watch',
    await call(admin, { method: 'GET', path: '/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=1' }),
  );
  // A client's own Audit-ID is kept; one too long to be an ID is replaced.
  replies.set(
    'client-id',
    await call(admin, {
      method: 'GET',
      path: '/api/v1/namespaces/default/configmaps/settings',
      headers: { 'Audit-ID': 'trace-42' },
    }),
  );
  replies.set(
    'hostile-id',
    await call(admin, {
      method: 'GET',
      path: '/api/v1/namespaces/default/configmaps/settings',
      headers: { 'Audit-ID': 'x'.repeat(4096) },
    }),
  );
  // Policy None: answered, but never logged.
  replies.set('pods', await call(admin, { method: 'GET', path: '/api/v1/namespaces/default/pods' }));
  replies.set('none-denied', await call(stranger, { method: 'GET', path: '/api/v1/namespaces/default/pods' }));
});

after(async () => {
  await plane?.stop();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe('audit log', () => {
  let text: string;
  let events: unknown[];
  const of = (reply: string): unknown[] => {
    const r = replies.get(reply);
    assert.ok(r !== undefined);
    const id = auditIdOf(r);
    return events.filter((e) => pick(e, 'auditID') === id);
  };

  test('the requests were answered as expected', () => {
    assert.equal(replies.get('secret')?.status, 201);
    assert.equal(replies.get('configmap')?.status, 201);
    assert.equal(replies.get('patch')?.status, 200);
    assert.equal(replies.get('forbidden')?.status, 403);
    assert.equal(replies.get('impersonated')?.status, 403);
    assert.equal(replies.get('unauthenticated')?.status, 401);
    assert.equal(replies.get('pods')?.status, 200);
    assert.equal(replies.get('none-denied')?.status, 403);
  });

  test('the log is complete once the apiserver drained, one JSON event per line, mode 0600', async () => {
    // A graceful stop flushes the backend's queue before exit.
    plane.apiserver.kill('SIGTERM');
    await new Promise<void>((resolve) => plane.apiserver.once('exit', () => resolve()));
    assert.equal(statSync(logPath).mode & 0o777, 0o600);
    text = readFileSync(logPath, 'utf8');
    const lines = text.split('\n').filter((l) => l !== '');
    events = lines.map((l): unknown => JSON.parse(l));
    for (const e of events) {
      assert.equal(pick(e, 'kind'), 'Event');
      assert.equal(pick(e, 'apiVersion'), 'audit.k8s.io/v1');
    }
  });

  test('a Secret at Metadata: who, what, the answer, and never its data', () => {
    const secret = of('secret');
    assert.deepEqual(
      secret.map((e) => pick(e, 'stage')),
      ['RequestReceived', 'ResponseComplete'],
    );
    const done = secret[1];
    assert.equal(pick(done, 'level'), 'Metadata');
    assert.equal(pick(done, 'verb'), 'create');
    assert.equal(pick(done, 'user', 'username'), 'admin');
    assert.equal(pick(done, 'responseStatus', 'code'), 201);
    assert.equal(pick(done, 'objectRef', 'resource'), 'secrets');
    assert.equal(pick(done, 'objectRef', 'namespace'), 'default');
    assert.equal(pick(done, 'objectRef', 'name'), 'creds', 'the name is taken from the body');
    assert.equal(pick(done, 'objectRef', 'apiVersion'), 'v1');
    assert.equal(pick(done, 'annotations', 'authorization.k8s.io/decision'), 'allow');
    assert.equal(pick(done, 'requestObject'), undefined);
    assert.equal(pick(done, 'responseObject'), undefined);
    assert.deepEqual(pick(done, 'sourceIPs'), ['127.0.0.1']);
    assert.ok(!text.includes(SECRET_B64) && !text.includes(SECRET_VALUE), 'the secret value is nowhere in the log');
  });

  test('a ConfigMap at RequestResponse: the body sent and the object answered; a patch as sent', () => {
    const created = of('configmap');
    assert.deepEqual(
      created.map((e) => pick(e, 'stage')),
      ['RequestReceived', 'ResponseComplete'],
    );
    const received = created[0];
    const done = created[1];
    assert.equal(pick(received, 'requestObject'), undefined, 'no body before it is read');
    assert.equal(pick(done, 'level'), 'RequestResponse');
    assert.deepEqual(pick(done, 'requestObject', 'data'), { colour: 'teal' });
    assert.deepEqual(pick(done, 'responseObject', 'data'), { colour: 'teal' });
    assert.equal(typeof pick(done, 'responseObject', 'metadata', 'uid'), 'string', 'the response is the stored object');
    const patched = of('patch').find((e) => pick(e, 'stage') === 'ResponseComplete');
    assert.equal(pick(patched, 'verb'), 'patch');
    assert.deepEqual(pick(patched, 'requestObject'), { data: { colour: 'plum' } });
    assert.deepEqual(pick(patched, 'responseObject', 'data'), { colour: 'plum' });
  });

  test('a refused request is logged with the decision and its 403', () => {
    const done = of('forbidden').find((e) => pick(e, 'stage') === 'ResponseComplete');
    assert.equal(pick(done, 'user', 'username'), 'stranger');
    assert.equal(pick(done, 'verb'), 'get');
    assert.equal(pick(done, 'objectRef', 'name'), 'creds');
    assert.equal(pick(done, 'annotations', 'authorization.k8s.io/decision'), 'forbid');
    assert.equal(pick(done, 'responseStatus', 'code'), 403);
    assert.equal(pick(done, 'responseStatus', 'reason'), 'Forbidden');
  });

  test('impersonation: the caller is the user, the one acted as is impersonatedUser', () => {
    const done = of('impersonated').find((e) => pick(e, 'stage') === 'ResponseComplete');
    assert.equal(pick(done, 'user', 'username'), 'admin');
    assert.equal(pick(done, 'impersonatedUser', 'username'), 'carol');
    assert.equal(pick(done, 'verb'), 'list');
    assert.equal(pick(done, 'annotations', 'authorization.k8s.io/decision'), 'forbid');
    assert.equal(pick(done, 'responseStatus', 'code'), 403);
  });

  test('a refused credential (401) is logged without a user name', () => {
    const done = of('unauthenticated').find((e) => pick(e, 'stage') === 'ResponseComplete');
    assert.equal(pick(done, 'user', 'username'), '');
    assert.equal(pick(done, 'responseStatus', 'code'), 401);
  });

  test('a watch has a ResponseStarted stage before it completes', () => {
    assert.equal(replies.get('watch')?.status, 200);
    const watch = of('watch');
    assert.deepEqual(
      watch.map((e) => pick(e, 'stage')),
      ['RequestReceived', 'ResponseStarted', 'ResponseComplete'],
    );
    assert.equal(pick(watch[1], 'verb'), 'watch');
    assert.equal(pick(watch[1], 'responseStatus', 'code'), 200);
    assert.equal(pick(watch[1], 'responseObject'), undefined, 'a stream has no response object');
  });

  test("the client's Audit-ID is kept; an unusable one is replaced, in the header and the log alike", () => {
    assert.equal(replies.get('client-id')?.headers['audit-id'], 'trace-42');
    assert.deepEqual(
      of('client-id').map((e) => pick(e, 'stage')),
      ['RequestReceived', 'ResponseComplete'],
    );
    const hostile = replies.get('hostile-id');
    assert.equal(hostile?.status, 200);
    assert.ok(hostile !== undefined && auditIdOf(hostile).length <= 128);
    assert.equal(of('hostile-id').length, 2);
    assert.ok(!text.includes('x'.repeat(129)));
  });

  test('requests the policy puts at None are not logged, yet still carry an Audit-Id', () => {
    assert.deepEqual(of('pods'), []);
    assert.deepEqual(of('none-denied'), []);
    assert.ok(!events.some((e) => pick(e, 'objectRef', 'resource') === 'pods'));
    const resources = new Set(events.map((e) => String(pick(e, 'objectRef', 'resource'))));
    assert.deepEqual([...resources].sort(), ['configmaps', 'secrets']);
  });

  test('a policy that does not load stops the start with one line', async () => {
    const bad = join(dir, 'bad-policy.yaml');
    writeFileSync(bad, 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: Loud\n');
    const result = await run(process.execPath, [
      join(DIST, 'cmd', 'apiserver.js'),
      '--data-dir',
      join(dir, 'bad-data'),
      '--secure-port',
      '0',
      '--bind-address',
      '127.0.0.1',
      '--tls-cert-file',
      plane.pki.apiserverCert,
      '--tls-private-key-file',
      plane.pki.apiserverKey,
      '--client-ca-file',
      plane.pki.caCert,
      '--audit-policy-file',
      bad,
      '--audit-log-path',
      join(dir, 'bad.log'),
    ]);
    assert.notEqual(result.code, 0);
    const lines = result.stderr.split('\n').filter((l) => l !== '');
    assert.equal(lines.length, 1, result.stderr);
    assert.match(lines[0] ?? '', /audit.*Loud/);
    assert.doesNotMatch(result.stdout, /listening/);
  });
});
