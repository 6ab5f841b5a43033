import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Apiservers, apiserversFromEndpoints, parseApiserverList } from './apiservers.js';

test('the current apiserver sticks until it fails; then the next in the list takes over, wrapping around', () => {
  const servers = new Apiservers(['https://a:6443/', 'https://b:6443', 'https://c:6443']);
  assert.equal(servers.current, 'https://a:6443');
  assert.deepEqual(servers.candidates(), ['https://a:6443', 'https://b:6443', 'https://c:6443']);
  servers.failed('https://b:6443');
  assert.equal(servers.current, 'https://a:6443', 'a failure of another one does not move the current');
  servers.failed('https://a:6443');
  assert.equal(servers.current, 'https://b:6443');
  assert.deepEqual(servers.candidates(), ['https://b:6443', 'https://c:6443', 'https://a:6443']);
  servers.succeeded('https://b:6443');
  assert.equal(servers.current, 'https://b:6443', 'no round robin: b stays');
  servers.failed('https://b:6443');
  servers.failed('https://c:6443');
  assert.equal(servers.current, 'https://a:6443');
});

test('learned apiservers come after the given ones, which stay as the fallback', () => {
  const servers = new Apiservers(['https://10.0.0.1:6443']);
  servers.learn(['https://10.0.0.2:6443', 'https://10.0.0.1:6443/', 'https://10.0.0.3:6443']);
  assert.deepEqual(servers.all(), ['https://10.0.0.1:6443', 'https://10.0.0.2:6443', 'https://10.0.0.3:6443']);
  servers.failed('https://10.0.0.1:6443');
  assert.equal(servers.current, 'https://10.0.0.2:6443');
  // The Endpoints no longer list the current one: it stays current until it fails, then the list goes on.
  servers.learn(['https://10.0.0.3:6443']);
  assert.deepEqual(servers.candidates(), ['https://10.0.0.2:6443', 'https://10.0.0.1:6443', 'https://10.0.0.3:6443']);
  servers.learn([]);
  assert.deepEqual(servers.all(), ['https://10.0.0.1:6443']);
  assert.throws(() => new Apiservers([]), /at least one apiserver/);
});

test('parseApiserverList takes distinct https URLs and names a bad one', () => {
  assert.deepEqual(parseApiserverList(' https://a:6443/ , https://b:6443,,https://a:6443'), [
    'https://a:6443',
    'https://b:6443',
  ]);
  assert.throws(() => parseApiserverList('https://a:6443,nope'), /"nope" is not a URL/);
  assert.throws(() => parseApiserverList('http://a:6443'), /not an https:\/\/ URL/);
  assert.throws(() => parseApiserverList(' , '), /no apiserver URL given/);
});

test('apiserversFromEndpoints: every address with the https port', () => {
  const endpoints = {
    kind: 'Endpoints',
    subsets: [
      {
        addresses: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }, { ip: 'fd00::3' }],
        ports: [
          { name: 'metrics', port: 9090 },
          { name: 'https', port: 6443, protocol: 'TCP' },
        ],
      },
      { addresses: [{ ip: '10.0.0.9' }], ports: [{ port: 443 }] },
    ],
  };
  assert.deepEqual(apiserversFromEndpoints(endpoints), [
    'https://10.0.0.1:6443',
    'https://10.0.0.2:6443',
    'https://[fd00::3]:6443',
    'https://10.0.0.9:443',
  ]);
});

test('apiserversFromEndpoints skips whatever is malformed, and takes a bounded number', () => {
  for (const hostile of [null, 'text', 42, [], {}, { subsets: 'x' }, { subsets: [null, 1, 'a'] }])
    assert.deepEqual(apiserversFromEndpoints(hostile), []);
  const bad = {
    subsets: [
      { addresses: [{ ip: 'evil.example.com' }, { ip: '10.0.0.1/8' }, { ip: 7 }, {}], ports: [{ port: 6443 }] },
      { addresses: [{ ip: '10.0.0.1' }], ports: [{ name: 'https', port: 70000 }] },
      { addresses: [{ ip: '10.0.0.1' }], ports: [{ name: 'https', port: '6443' }] },
      { addresses: [{ ip: '10.0.0.1' }], ports: [{ port: 1 }, { port: 2 }] },
      { addresses: 'x', ports: [{ port: 6443 }] },
    ],
  };
  assert.deepEqual(apiserversFromEndpoints(bad), []);
  const many = {
    subsets: [
      {
        addresses: Array.from({ length: 10_000 }, (_, i) => ({ ip: `10.0.${i >> 8}.${i & 255}` })),
        ports: [{ port: 6443 }],
      },
    ],
  };
  assert.equal(apiserversFromEndpoints(many).length, 16);
});
