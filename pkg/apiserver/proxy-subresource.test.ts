import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  forwardedHeaders,
  proxiedPath,
  returnedHeaders,
  rewriteLocation,
  splitSchemeNamePort,
} from './proxy-subresource.js';
import { parseResourceRequest } from './request-info.js';

test('a proxy id splits as Kubernetes splits it: [scheme:]name[:port]', () => {
  assert.deepEqual(splitSchemeNamePort('web'), { scheme: '', name: 'web', port: '' });
  assert.deepEqual(splitSchemeNamePort('web:80'), { scheme: '', name: 'web', port: '80' });
  assert.deepEqual(splitSchemeNamePort('https:web:443'), { scheme: 'https', name: 'web', port: '443' });
  for (const bad of ['', ':80', 'ftp:web:21', 'a:b:c:d']) assert.equal(splitSchemeNamePort(bad), undefined, bad);
});

test('the proxied path keeps its encoding and the query; a bare …/proxy has none', () => {
  assert.deepEqual(proxiedPath('/api/v1/namespaces/d/services/web:80/proxy/a%20b/c?x=1'), {
    prefix: '/api/v1/namespaces/d/services/web:80/proxy',
    path: '/a%20b/c',
    query: '?x=1',
  });
  assert.equal(proxiedPath('/api/v1/nodes/n/proxy')?.path, '');
  assert.equal(proxiedPath('/api/v1/nodes/n/status'), undefined);
});

test('proxy paths parse with the verb of their method', () => {
  const info = parseResourceRequest('POST', '/api/v1/namespaces/d/pods/p:80/proxy/a/b', {});
  assert.equal(info?.subresource, 'proxy');
  assert.equal(info?.verb, 'create');
  assert.equal(parseResourceRequest('GET', '/api/v1/nodes/n/proxy/healthz', { watch: 'true' })?.verb, 'get');
  assert.equal(parseResourceRequest('DELETE', '/api/v1/namespaces/d/services/s/proxy/', {})?.verb, 'delete');
  assert.throws(() => parseResourceRequest('GET', '/api/v1/namespaces/d/pods/p/log/extra', {}), /could not find/);
});

test('hop-by-hop headers, credentials and impersonation stay behind', () => {
  const out = forwardedHeaders(
    {
      connection: 'keep-alive, x-private',
      'x-private': '1',
      'keep-alive': '5',
      authorization: 'Bearer secret',
      'impersonate-user': 'bob',
      'transfer-encoding': 'chunked',
      accept: 'text/html',
      host: 'localhost:8001',
    },
    '10.0.0.9',
  );
  assert.deepEqual(out, { accept: 'text/html', 'x-forwarded-for': '10.0.0.9' });
  const back = returnedHeaders(
    { connection: 'close', 'content-type': 'text/plain', location: '/login', 'transfer-encoding': 'chunked' },
    { prefix: '/api/v1/namespaces/d/services/s/proxy', targetHost: '10.1.1.1:80', requestHost: undefined },
  );
  assert.deepEqual(back, { 'content-type': 'text/plain', location: '/api/v1/namespaces/d/services/s/proxy/login' });
});

test('a redirect on the target host moves under the proxy prefix; others are left alone', () => {
  const at = { prefix: '/p', targetHost: '10.1.1.1:80', requestHost: 'localhost:8001' };
  assert.equal(rewriteLocation('/a?b=1', at), '/p/a?b=1');
  assert.equal(rewriteLocation('http://10.1.1.1:80/x/', at), '/p/x/');
  assert.equal(rewriteLocation('https://example.org/x', at), 'https://example.org/x');
  assert.equal(rewriteLocation('relative/x', at), 'relative/x');
  assert.equal(rewriteLocation('/p/already', at), '/p/already');
});
