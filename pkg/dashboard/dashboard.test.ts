// The dashboard's files: served with their content types and caching headers, the page at
// /ui/ (and /ui redirected there), and every other path — traversal, encoded or not — a 404
// Status that names no file.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Dashboard } from './index.js';

let dir: string;
let server: Server;
let port = 0;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dashboard-test-'));
  const files = join(dir, 'static');
  mkdirSync(files);
  writeFileSync(join(files, 'index.html'), '<!doctype html><title>x</title>');
  writeFileSync(join(files, 'main-ABCDEFGH.js'), 'console.log(1)');
  writeFileSync(join(files, 'styles-ABCDEFGH.css'), 'body{}');
  writeFileSync(join(files, 'notes.txt'), 'not a bundle file');
  writeFileSync(join(dir, 'secret'), 'outside the bundle');
  const dashboard = new Dashboard(files);
  server = createServer((req, res) => dashboard.serve(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  port = address.port;
});

after(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw request: the path goes out exactly as written (no URL normalisation of `..`). */
function get(path: string, opts: { method?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: opts.headers },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

test('the page and its files, with their types and caching', async () => {
  const page = await get('/ui/');
  assert.equal(page.status, 200);
  assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
  assert.equal(page.headers['cache-control'], 'no-cache');
  assert.match(String(page.headers['content-security-policy']), /frame-ancestors 'none'/);
  assert.equal(page.headers['x-content-type-options'], 'nosniff');
  const script = await get('/ui/main-ABCDEFGH.js');
  assert.equal(script.status, 200);
  assert.equal(script.headers['content-type'], 'text/javascript; charset=utf-8');
  assert.match(String(script.headers['cache-control']), /immutable/);
  assert.equal(script.body, 'console.log(1)');
  assert.equal((await get('/ui/styles-ABCDEFGH.css')).headers['content-type'], 'text/css; charset=utf-8');
  const again = await get('/ui/main-ABCDEFGH.js', { headers: { 'If-None-Match': String(script.headers['etag']) } });
  assert.equal(again.status, 304);
  const redirect = await get('/ui');
  assert.equal(redirect.status, 301);
  assert.equal(redirect.headers['location'], '/ui/');
});

test('hostile paths are a 404 Status, never a file', async () => {
  for (const path of [
    '/ui/../secret',
    '/ui/../../etc/passwd',
    '/ui/..%2fsecret',
    '/ui/%2e%2e/%2e%2e/etc/passwd',
    '/ui/static/../secret',
    '/ui//etc/passwd',
    '/ui/index.html%00.js',
    '/ui/notes.txt',
    '/ui/nothing.js',
    '/ui/main-ABCDEFGH.js/',
  ]) {
    const answer = await get(path);
    assert.equal(answer.status, 404, path);
    assert.match(answer.body, /"kind":"Status"/, path);
    assert.doesNotMatch(answer.body, /outside the bundle|root:/, path);
  }
});

test('only GET and HEAD', async () => {
  assert.equal((await get('/ui/', { method: 'POST' })).status, 405);
  const head = await get('/ui/', { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.body, '');
});

test('an unbuilt dashboard says how to build it', async () => {
  const empty = new Dashboard(join(dir, 'absent'));
  const s = createServer((req, res) => empty.serve(req, res));
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const address = s.address();
  try {
    if (address === null || typeof address === 'string') throw new Error('no port');
    const answer = await new Promise<string>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: address.port, path: '/ui/' }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve(`${res.statusCode ?? 0} ${body}`));
      });
      req.on('error', reject);
      req.end();
    });
    assert.match(answer, /^503 .*npm run build/);
  } finally {
    s.close();
  }
});
