import assert from 'node:assert/strict';
import { once } from 'node:events';
import type http from 'node:http';
import { after, before, test } from 'node:test';
import express from 'express';
import { serveOpenApi } from './openapi.js';

let server: http.Server;
let base: string;

before(async () => {
  const app = express();
  const routes = express.Router();
  serveOpenApi(routes);
  app.use(routes);
  server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  base = `http://127.0.0.1:${address.port}`;
});
after(() => server.close());

function get(path: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(base + path, { headers, redirect: 'manual' });
}

async function indexUrl(key: string): Promise<string> {
  const index = (await (await get('/openapi/v3')).json()) as { paths: Record<string, { serverRelativeURL: string }> };
  const url = index.paths[key]?.serverRelativeURL;
  assert.ok(url !== undefined, key);
  return url;
}

test('a document at its current hash is immutable; a stale hash is redirected; ETags revalidate', async () => {
  const url = await indexUrl('api/v1');
  const res = await get(url);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('cache-control'), 'public, immutable');
  assert.ok(res.headers.get('expires'));
  const etag = res.headers.get('etag') ?? '';
  assert.equal(etag, `"${url.split('hash=')[1] ?? ''}"`);
  assert.equal((await get(url, { 'If-None-Match': etag })).status, 304);
  const plain = await get('/openapi/v3/api/v1');
  assert.equal(plain.status, 200);
  assert.equal(plain.headers.get('cache-control'), null, 'only a hashed URL is immutable');
  const stale = await get('/openapi/v3/api/v1?hash=ABC');
  assert.equal(stale.status, 301);
  assert.equal(stale.headers.get('location'), url);
});

test('hostile paths and queries get a 404 Status or the plain document, never a crash', async () => {
  for (const path of ['/openapi/v3/apis/nosuch/v1', '/openapi/v3/api', `/openapi/v3/${'a/'.repeat(2000)}`]) {
    const res = await get(path);
    assert.equal(res.status, 404, path.slice(0, 40));
    const body = (await res.json()) as { kind: string; code: number; reason: string; details?: unknown };
    assert.deepEqual([body.kind, body.code, body.reason], ['Status', 404, 'NotFound']);
    assert.ok(body.details !== undefined);
  }
  const twice = await get('/openapi/v3/api/v1?hash=A&hash=B');
  assert.equal(twice.status, 200);
  assert.equal(twice.headers.get('cache-control'), null);
  assert.equal((await get('/openapi/v3')).status, 200);
});

test('/openapi/v2 is Swagger 2.0 JSON, and an empty protobuf Document when kubectl asks for protobuf', async () => {
  const json = await get('/openapi/v2');
  assert.equal(json.status, 200);
  const doc = (await json.json()) as { swagger: string; definitions: Record<string, unknown> };
  assert.equal(doc.swagger, '2.0');
  assert.ok(Object.hasOwn(doc.definitions, 'io.k8s.api.core.v1.Pod'));
  const pb = await get('/openapi/v2', { Accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf' });
  assert.equal(pb.status, 200);
  assert.equal(pb.headers.get('content-type'), 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf');
  assert.equal((await pb.arrayBuffer()).byteLength, 0);
});
