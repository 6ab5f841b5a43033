// Hostile input against a real apiserver process (issue 9): prototype keys in every body and
// patch format, YAML alias bombs, deep nesting, duplicate and unknown fields, integers that do
// not fit, missing type information, patch preconditions and unknown SMP directives. Each is
// answered with Kubernetes' code and reason; the apiserver stays up (same PID) and the store
// does not move. The happy requests next to them still work.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import type { KubeObject } from '../pkg/api/meta.js';
import type { RestClient } from '../pkg/client/index.js';
import { adminClient, R } from './harness/clients.js';
import { startControlPlane, type ControlPlane } from './harness/control-plane.js';
import { rawRequest, type RawResponse } from './harness/https.js';

let plane: ControlPlane;
let client: RestClient;
let creds: { ca: string; cert: string; key: string };
let pid: number | undefined;

const NS = 'hostile';
const CM = `/api/v1/namespaces/${NS}/configmaps`;
const PODS = `/api/v1/namespaces/${NS}/pods`;
const DEPLOYS = `/apis/apps/v1/namespaces/${NS}/deployments`;

function deployment(name: string): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'busybox:latest' }] } },
    },
  };
}

before(async () => {
  plane = await startControlPlane();
  pid = plane.apiserver.pid;
  client = adminClient(plane);
  creds = {
    ca: readFileSync(plane.pki.caCert, 'utf8'),
    cert: readFileSync(plane.pki.adminCert, 'utf8'),
    key: readFileSync(plane.pki.adminKey, 'utf8'),
  };
  await client.create(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  await client.create(
    R.configmaps,
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' }, data: { a: '1' } },
    { namespace: NS },
  );
  await client.create(
    R.pods,
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p' },
      spec: { containers: [{ name: 'c', image: 'busybox:latest' }] },
    },
    { namespace: NS },
  );
  await client.create(R.deployments, deployment('d'), { namespace: NS });
});
after(async () => {
  client.close();
  await plane.stop();
});

interface Request {
  method: string;
  path: string;
  body?: string;
  /** The body's Content-Type; JSON unless said. */
  type?: string;
}

function send(req: Request): Promise<RawResponse> {
  const { method, path, body, type = 'application/json' } = req;
  return rawRequest({
    port: plane.port,
    method,
    path,
    ...creds,
    ...(body !== undefined ? { body, headers: { 'Content-Type': type } } : {}),
  });
}

async function getJson(path: string): Promise<Record<string, unknown>> {
  const res = await send({ method: 'GET', path });
  assert.equal(res.status, 200, res.body);
  return JSON.parse(res.body) as Record<string, unknown>;
}

interface Snapshot {
  objects: unknown[];
  revision: unknown;
}

/** The objects the hostile requests aim at, and the store's revision (nothing else writes here). */
async function snapshot(): Promise<Snapshot> {
  const objects = await Promise.all([`${CM}/cm`, `${PODS}/p`, `${DEPLOYS}/d`].map(getJson));
  const list = await getJson('/api/v1/configmaps');
  return { objects, revision: (list['metadata'] as { resourceVersion?: string }).resourceVersion };
}

/** Sends a hostile request: the answer has the code and reason; the apiserver lives on; the store did not move. */
async function refused(
  req: Request & { body: string; type: string },
  answer: { code: number; reason: string; message?: RegExp },
): Promise<void> {
  const { method, path } = req;
  const { code, reason, message } = answer;
  const before = await snapshot();
  const res = await send(req);
  assert.equal(res.status, code, `${method} ${path}: ${res.body.slice(0, 300)}`);
  const status = JSON.parse(res.body) as { kind?: string; reason?: string; code?: number; message?: string };
  assert.equal(status.kind, 'Status');
  assert.equal(status.reason, reason);
  assert.equal(status.code, code);
  if (message !== undefined) assert.match(status.message ?? '', message);
  const health = await send({ method: 'GET', path: '/healthz' });
  assert.equal(health.status, 200);
  assert.equal(plane.apiserver.pid, pid);
  assert.equal(plane.apiserver.exitCode, null);
  assert.deepEqual(await snapshot(), before);
}

const JSON_PATCH = 'application/json-patch+json';
const MERGE_PATCH = 'application/merge-patch+json';
const SMP = 'application/strategic-merge-patch+json';
const APPLY = 'application/apply-patch+yaml';

describe('prototype keys', () => {
  test('JSON patches through __proto__/constructor on a status, on data, by copy and move: 400', async () => {
    for (const [path, ops] of [
      [`${PODS}/p/status`, [{ op: 'add', path: '/__proto__/x', value: 'polluted' }]],
      [`${CM}/cm`, [{ op: 'add', path: '/data/__proto__/x', value: 'polluted' }]],
      [`${CM}/cm`, [{ op: 'copy', from: '/data', path: '/__proto__/x' }]],
      [`${CM}/cm`, [{ op: 'move', from: '/data/a', path: '/constructor/prototype/x' }]],
    ] as const) {
      await refused(
        { method: 'PATCH', path, body: JSON.stringify(ops), type: JSON_PATCH },
        { code: 400, reason: 'BadRequest', message: /not allowed/ },
      );
    }
  });

  test('POST, PUT and merge patch bodies with prototype keys: 400, also escaped and in YAML', async () => {
    await refused(
      {
        method: 'POST',
        path: CM,
        body: '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"},"data":{"__proto__":{"x":"1"}}}',
        type: 'application/json',
      },
      { code: 400, reason: 'BadRequest', message: /__proto__/ },
    );
    await refused(
      {
        method: 'POST',
        path: CM,
        body: '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x","\\u005f_proto__":{}}}',
        type: 'application/json',
      },
      { code: 400, reason: 'BadRequest', message: /__proto__/ },
    );
    const cm = await getJson(`${CM}/cm`);
    const put = JSON.stringify(cm).replace('"data":{', '"data":{"constructor":"x",');
    await refused(
      { method: 'PUT', path: `${CM}/cm`, body: put, type: 'application/json' },
      { code: 400, reason: 'BadRequest', message: /constructor/ },
    );
    await refused(
      { method: 'PATCH', path: `${CM}/cm`, body: '{"metadata":{"labels":{"__proto__":{"x":"1"}}}}', type: MERGE_PATCH },
      { code: 400, reason: 'BadRequest' },
    );
    await refused(
      {
        method: 'PATCH',
        path: `${DEPLOYS}/d`,
        body: '{"spec":{"$setElementOrder/__proto__":[{"name":"c"}]}}',
        type: SMP,
      },
      { code: 400, reason: 'BadRequest' },
    );
    await refused(
      {
        method: 'POST',
        path: CM,
        body: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y\n  __proto__: {x: 1}\n',
        type: 'application/yaml',
      },
      { code: 400, reason: 'BadRequest' },
    );
  });
});

describe('sizes and shapes', () => {
  test('a YAML alias bomb is refused at once (400); aliases expanding past the body limit: 413', async () => {
    const lines = [
      'apiVersion: v1',
      'kind: ConfigMap',
      'metadata: {name: cm}',
      'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    ];
    for (let i = 1; i <= 9; i++)
      lines.push(
        `a${i}: &a${i} [${Array(9)
          .fill(`*a${i - 1}`)
          .join(',')}]`,
      );
    const bomb = lines.join('\n');
    assert.ok(bomb.length < 1500);
    await refused(
      { method: 'PATCH', path: `${CM}/cm?fieldManager=bomb`, body: bomb, type: APPLY },
      { code: 400, reason: 'BadRequest', message: /alias/ },
    );
    const big = 'x'.repeat(64 * 1024);
    const wide = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: wide}\ndata:\n  a: &a "${big}"\n${Array.from({ length: 60 }, (_, i) => `  k${i}: *a`).join('\n')}\n`;
    await refused(
      { method: 'POST', path: CM, body: wide, type: 'application/yaml' },
      { code: 413, reason: 'RequestEntityTooLarge' },
    );
  });

  test('JSON and YAML nested 10,000 deep: 400, not a stack overflow', async () => {
    const deep = `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"deep"},"x":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
    await refused(
      { method: 'POST', path: CM, body: deep, type: 'application/json' },
      { code: 400, reason: 'BadRequest', message: /nests deeper/ },
    );
    await refused(
      {
        method: 'PATCH',
        path: `${CM}/cm`,
        body: `{"data":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}`,
        type: MERGE_PATCH,
      },
      { code: 400, reason: 'BadRequest', message: /nests deeper/ },
    );
    await refused(
      { method: 'POST', path: CM, body: `x: ${'['.repeat(100_000)}${']'.repeat(100_000)}`, type: 'application/yaml' },
      { code: 400, reason: 'BadRequest', message: /nests deeper/ },
    );
    // And the YAML decoder still works afterwards.
    const ok = await send({
      method: 'POST',
      path: CM,
      body: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: after-deep}\ndata: {a: "1"}\n',
      type: 'application/yaml',
    });
    assert.equal(ok.status, 201, ok.body);
  });
});

describe('fields', () => {
  test('duplicate keys: Strict 400 naming the field; Warn a Warning header and the last value', async () => {
    const body = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"dup"},"data":{"a":"1","a":"2"}}';
    await refused(
      { method: 'POST', path: `${CM}?fieldValidation=Strict`, body, type: 'application/json' },
      { code: 400, reason: 'BadRequest', message: /strict decoding error: duplicate field "a"/ },
    );
    const warn = await send({ method: 'POST', path: `${CM}?fieldValidation=Warn`, body });
    assert.equal(warn.status, 201, warn.body);
    assert.match(String(warn.headers['warning']), /duplicate field \\"a\\"/);
    assert.deepEqual((JSON.parse(warn.body) as { data: unknown }).data, { a: '2' });
    await refused(
      {
        method: 'PATCH',
        path: `${CM}/cm?fieldValidation=Strict`,
        body: '{"data":{"b":"1","b":"2"}}',
        type: MERGE_PATCH,
      },
      { code: 400, reason: 'BadRequest', message: /duplicate field "b"/ },
    );
  });

  test('unknown fields are dropped (a warning by default and under Warn), 400 under Strict', async () => {
    const body = JSON.stringify({
      ...deployment('unknown'),
      spec: { ...(deployment('unknown')['spec'] as object), replicaz: 3 },
      extra: 1,
    });
    await refused(
      { method: 'POST', path: `${DEPLOYS}?fieldValidation=Strict`, body, type: 'application/json' },
      { code: 400, reason: 'BadRequest', message: /strict decoding error: unknown field "spec.replicaz"/ },
    );
    const res = await send({ method: 'POST', path: DEPLOYS, body });
    assert.equal(res.status, 201, res.body);
    assert.match(String(res.headers['warning']), /unknown field \\"spec.replicaz\\"/);
    const stored = await getJson(`${DEPLOYS}/unknown`);
    assert.equal((stored['spec'] as Record<string, unknown>)['replicaz'], undefined);
    assert.equal(stored['extra'], undefined);
    const patched = await send({
      method: 'PATCH',
      path: `${DEPLOYS}/unknown?fieldValidation=Ignore`,
      body: '{"spec":{"paused":true,"surprise":1}}',
      type: MERGE_PATCH,
    });
    assert.equal(patched.status, 200, patched.body);
    assert.equal(patched.headers['warning'], undefined);
    assert.equal((JSON.parse(patched.body) as { spec: Record<string, unknown> }).spec['surprise'], undefined);
  });

  test('kind and apiVersion default to the URL’s (as Kubernetes’ decoder does) and must match it: 400', async () => {
    const noKind = await send({
      method: 'POST',
      path: CM,
      body: '{"apiVersion":"v1","metadata":{"name":"nokind"}}',
      type: 'application/json',
    });
    assert.equal(noKind.status, 201, noKind.body);
    assert.equal((JSON.parse(noKind.body) as { kind: string }).kind, 'ConfigMap');
    const noVersion = await send({
      method: 'POST',
      path: CM,
      body: '{"kind":"ConfigMap","metadata":{"name":"noversion"}}',
      type: 'application/json',
    });
    assert.equal(noVersion.status, 201, noVersion.body);
    await refused(
      {
        method: 'POST',
        path: CM,
        body: '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"wrong"}}',
        type: 'application/json',
      },
      { code: 400, reason: 'BadRequest', message: /does not match/ },
    );
    const cm = await getJson(`${CM}/cm`);
    delete cm['kind'];
    const put = await send({ method: 'PUT', path: `${CM}/cm`, body: JSON.stringify(cm), type: 'application/json' });
    assert.equal(put.status, 200, put.body);
    await refused(
      {
        method: 'PATCH',
        path: `${CM}/cm?fieldManager=x`,
        body: 'apiVersion: v1\nkind: Secret\nmetadata: {name: cm}\n',
        type: APPLY,
      },
      { code: 400, reason: 'BadRequest', message: /does not match/ },
    );
    await refused(
      { method: 'PATCH', path: `${CM}/cm?fieldManager=x`, body: 'metadata: {name: cm}\ndata: {a: "2"}\n', type: APPLY },
      { code: 400, reason: 'BadRequest', message: /'Kind' is missing/ },
    );
  });
});

describe('integers', () => {
  test('replicas that do not fit an int32 or are not integers: 400; negative: 422', async () => {
    for (const replicas of ['1e26', '2147483648', '1e300', '1.5']) {
      const body = JSON.stringify(deployment('big')).replace('"replicas":1', `"replicas":${replicas}`);
      await refused(
        { method: 'POST', path: DEPLOYS, body, type: 'application/json' },
        { code: 400, reason: 'BadRequest', message: /of type int32/ },
      );
      await refused(
        { method: 'PATCH', path: `${DEPLOYS}/d`, body: `{"spec":{"replicas":${replicas}}}`, type: MERGE_PATCH },
        { code: 400, reason: 'BadRequest', message: /of type int32/ },
      );
      await refused(
        {
          method: 'PUT',
          path: `${DEPLOYS}/d/scale`,
          body: `{"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"d","namespace":"${NS}"},"spec":{"replicas":${replicas}}}`,
          type: 'application/json',
        },
        { code: 400, reason: 'BadRequest' },
      );
    }
    await refused(
      { method: 'PATCH', path: `${DEPLOYS}/d`, body: '{"spec":{"replicas":-1}}', type: MERGE_PATCH },
      { code: 422, reason: 'Invalid', message: /spec.replicas/ },
    );
    await refused(
      {
        method: 'PATCH',
        path: `${PODS}/p`,
        body: '{"spec":{"terminationGracePeriodSeconds":1e300}}',
        type: MERGE_PATCH,
      },
      { code: 400, reason: 'BadRequest', message: /of type int64/ },
    );
    const ok = await send({
      method: 'PATCH',
      path: `${DEPLOYS}/d`,
      body: '{"spec":{"replicas":2147483647}}',
      type: MERGE_PATCH,
    });
    assert.equal(ok.status, 200, ok.body);
    await send({ method: 'PATCH', path: `${DEPLOYS}/d`, body: '{"spec":{"replicas":1}}', type: MERGE_PATCH });
  });
});

describe('patch preconditions', () => {
  test('a stale resourceVersion is 409, an invalid one 400, a current one applies', async () => {
    const cm = await getJson(`${CM}/cm`);
    const rv = (cm['metadata'] as { resourceVersion: string }).resourceVersion;
    await refused(
      {
        method: 'PATCH',
        path: `${CM}/cm`,
        body: '{"metadata":{"resourceVersion":"1"},"data":{"a":"stale"}}',
        type: MERGE_PATCH,
      },
      { code: 409, reason: 'Conflict', message: /has been modified/ },
    );
    await refused(
      {
        method: 'PATCH',
        path: `${CM}/cm`,
        body: '{"metadata":{"resourceVersion":"abc"},"data":{"a":"bad"}}',
        type: MERGE_PATCH,
      },
      { code: 400, reason: 'BadRequest', message: /resourceVersion/ },
    );
    await refused(
      {
        method: 'PATCH',
        path: `${CM}/cm`,
        body: '[{"op":"replace","path":"/metadata/resourceVersion","value":"2"}]',
        type: JSON_PATCH,
      },
      { code: 409, reason: 'Conflict' },
    );
    await refused(
      { method: 'PATCH', path: `${CM}/cm`, body: '{"metadata":{"resourceVersion":"1"}}', type: SMP },
      { code: 409, reason: 'Conflict' },
    );
    const ok = await send({
      method: 'PATCH',
      path: `${CM}/cm`,
      body: JSON.stringify({ metadata: { resourceVersion: rv }, data: { a: 'fresh' } }),
      type: MERGE_PATCH,
    });
    assert.equal(ok.status, 200, ok.body);
  });

  test('a patch may not rename, move or re-identify the object', async () => {
    await refused(
      {
        method: 'PATCH',
        path: `${CM}/cm`,
        body: '[{"op":"replace","path":"/metadata/name","value":"other"}]',
        type: JSON_PATCH,
      },
      { code: 400, reason: 'BadRequest', message: /does not match the name on the URL/ },
    );
    await refused(
      { method: 'PATCH', path: `${CM}/cm`, body: '{"metadata":{"namespace":"default"}}', type: MERGE_PATCH },
      { code: 400, reason: 'BadRequest', message: /namespace/ },
    );
    await refused(
      {
        method: 'PATCH',
        path: `${CM}/cm`,
        body: '{"metadata":{"uid":"00000000-0000-0000-0000-000000000000"}}',
        type: MERGE_PATCH,
      },
      { code: 422, reason: 'Invalid', message: /metadata.uid/ },
    );
    const cm = await getJson(`${CM}/cm`);
    (cm['metadata'] as Record<string, unknown>)['uid'] = '00000000-0000-0000-0000-000000000000';
    await refused(
      { method: 'PUT', path: `${CM}/cm`, body: JSON.stringify(cm), type: 'application/json' },
      { code: 409, reason: 'Conflict', message: /Precondition failed: UID in precondition/ },
    );
  });

  test('an unknown strategic-merge-patch $patch directive: 400', async () => {
    await refused(
      { method: 'PATCH', path: `${DEPLOYS}/d`, body: '{"spec":{"$patch":"explode"}}', type: SMP },
      { code: 400, reason: 'BadRequest', message: /unknown patch type/ },
    );
    await refused(
      {
        method: 'PATCH',
        path: `${DEPLOYS}/d`,
        body: '{"spec":{"template":{"spec":{"containers":[{"name":"c","$patch":"nope"}]}}}}',
        type: SMP,
      },
      { code: 400, reason: 'BadRequest', message: /unknown patch type/ },
    );
  });
});

describe('the happy paths still work', () => {
  test('a YAML server-side apply creates and updates; merge, JSON and strategic patches apply', async () => {
    const yaml = (v: string): string =>
      `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\ndata:\n  v: "${v}"\n`;
    const created = await send({
      method: 'PATCH',
      path: `${CM}/applied?fieldManager=test`,
      body: yaml('1'),
      type: APPLY,
    });
    assert.equal(created.status, 201, created.body);
    const updated = await send({
      method: 'PATCH',
      path: `${CM}/applied?fieldManager=test`,
      body: yaml('2'),
      type: APPLY,
    });
    assert.equal(updated.status, 200, updated.body);
    assert.deepEqual((JSON.parse(updated.body) as { data: unknown }).data, { v: '2' });
    const json = await send({
      method: 'PATCH',
      path: `${CM}/applied`,
      body: '[{"op":"add","path":"/data/w","value":"3"}]',
      type: JSON_PATCH,
    });
    assert.equal(json.status, 200, json.body);
    const smp = await send({
      method: 'PATCH',
      path: `${DEPLOYS}/d`,
      body: '{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"busybox:1"}]}}}}',
      type: SMP,
    });
    assert.equal(smp.status, 200, smp.body);
    const status = await send({
      method: 'PATCH',
      path: `${PODS}/p/status`,
      body: '[{"op":"add","path":"/status/message","value":"ok"}]',
      type: JSON_PATCH,
    });
    assert.equal(status.status, 200, status.body);
    assert.equal(({} as Record<string, unknown>)['x'], undefined);
  });

  test('data nested just inside the limit is stored, read back and patched again', async () => {
    const deep = `${'{"a":'.repeat(990)}1${'}'.repeat(990)}`;
    const res = await send({
      method: 'PATCH',
      path: `${PODS}/p/status`,
      body: `[{"op":"add","path":"/status/deep","value":${deep}}]`,
      type: JSON_PATCH,
    });
    assert.equal(res.status, 200, res.body.slice(0, 300));
    const got = await send({ method: 'GET', path: `${PODS}/p` });
    assert.equal(got.status, 200);
    const again = await send({
      method: 'PATCH',
      path: `${PODS}/p/status`,
      body: '{"status":{"message":"still fine"}}',
      type: MERGE_PATCH,
    });
    assert.equal(again.status, 200, again.body.slice(0, 300));
    const deeper = await send({
      method: 'PATCH',
      path: `${PODS}/p/status`,
      body: `[{"op":"copy","from":"/status/deep","path":"/status/deep/a/a/a/a/a/a/a/a/a/a/a/a/a"}]`,
      type: JSON_PATCH,
    });
    assert.equal(deeper.status, 400, deeper.body.slice(0, 300));
    assert.equal((await send({ method: 'GET', path: '/healthz' })).status, 200);
  });
});

describe('request fuzz (last: it may change the objects above)', () => {
  const key = fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    'apiVersion',
    'kind',
    'metadata',
    'name',
    'data',
    'spec',
    'replicas',
    '$patch',
    'op',
    'path',
    'value',
    'x',
  );
  const jsonText = fc.letrec<{ v: string }>((tie) => ({
    v: fc.oneof(
      { depthSize: 'small' },
      fc.constantFrom(
        'null',
        'true',
        '0',
        '-1',
        '1e26',
        '1.5',
        '"v1"',
        '"ConfigMap"',
        '"cm"',
        '"add"',
        '"/data/x"',
        '"/__proto__/x"',
        '"delete"',
      ),
      fc.array(tie('v'), { maxLength: 4 }).map((xs) => `[${xs.join(',')}]`),
      fc
        .array(fc.tuple(key, tie('v')), { maxLength: 4 })
        .map((ps) => `{${ps.map(([k, v]) => `"${k}":${v}`).join(',')}}`),
    ),
  })).v;
  const target = fc.constantFrom(
    { method: 'POST', path: CM, type: 'application/json' },
    { method: 'PUT', path: `${CM}/cm`, type: 'application/json' },
    { method: 'PATCH', path: `${CM}/cm`, type: JSON_PATCH },
    { method: 'PATCH', path: `${CM}/cm`, type: MERGE_PATCH },
    { method: 'PATCH', path: `${DEPLOYS}/d`, type: SMP },
    { method: 'PATCH', path: `${PODS}/p/status`, type: JSON_PATCH },
    { method: 'PATCH', path: `${CM}/fuzz?fieldManager=fuzz`, type: APPLY },
    { method: 'POST', path: `${CM}?fieldValidation=Strict`, type: 'application/yaml' },
  );
  const body = fc.oneof(
    jsonText,
    fc.string({ maxLength: 300 }),
    jsonText.map((t) => `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"f"},"data":${t}}`),
  );

  test('500 random bodies: never a 5xx; a 4xx changes nothing; the apiserver stays up, its memory too', async () => {
    const rssBefore = residentBytes();
    await fc.assert(
      fc.asyncProperty(target, body, async (t, b) => {
        const before = await getJson('/api/v1/configmaps');
        const res = await send({ method: t.method, path: t.path, body: b, type: t.type });
        assert.ok(
          res.status < 500,
          `${t.method} ${t.path} ${b.slice(0, 200)} → ${res.status} ${res.body.slice(0, 300)}`,
        );
        if (res.status >= 400) assert.deepEqual(await getJson('/api/v1/configmaps'), before);
      }),
      { numRuns: 500 },
    );
    assert.equal((await send({ method: 'GET', path: '/healthz' })).status, 200);
    assert.equal(plane.apiserver.pid, pid);
    assert.equal(plane.apiserver.exitCode, null);
    assert.equal(({} as Record<string, unknown>)['x'], undefined);
    assert.ok(
      residentBytes() - rssBefore < 50 * 1024 * 1024,
      `apiserver memory grew from ${rssBefore} to ${residentBytes()} bytes`,
    );
  });
});

/** The apiserver's resident memory (this test started it, on this machine). */
function residentBytes(): number {
  const status = readFileSync(`/proc/${String(pid)}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
  assert.ok(kb !== undefined, 'VmRSS not found');
  return Number(kb) * 1024;
}
