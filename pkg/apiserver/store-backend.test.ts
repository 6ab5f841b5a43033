import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../component/index.js';
import { storeConfig } from './store-backend.js';

test('without --etcd-servers the store is SQLite in --data-dir, which is then required', () => {
  assert.deepEqual(storeConfig({ dataDir: '/var/lib/coxswain' }), { dataDir: '/var/lib/coxswain' });
  assert.throws(
    () => storeConfig({}),
    (err: unknown) => err instanceof ConfigError && /--data-dir/.test(err.message),
  );
});

test('--etcd-servers: a comma-separated list of URLs, the prefix defaulted, TLS files checked', () => {
  const dir = mkdtempSync(join(tmpdir(), 'store-backend-'));
  try {
    const ca = join(dir, 'ca.crt');
    writeFileSync(ca, 'pem');
    const config = storeConfig({ etcdServers: 'https://10.0.0.1:2379, https://10.0.0.2:2379', etcdCafile: ca });
    assert.deepEqual(config.etcd, {
      servers: ['https://10.0.0.1:2379', 'https://10.0.0.2:2379'],
      prefix: '/registry',
      caFile: ca,
    });
    assert.equal(storeConfig({ etcdServers: 'http://127.0.0.1:2379', etcdPrefix: '/c1' }).etcd?.prefix, '/c1');
    const refused: [Parameters<typeof storeConfig>[0], RegExp][] = [
      [{ etcdServers: ' , ' }, /at least one URL/],
      [{ etcdServers: 'not a url' }, /is not a URL/],
      [{ etcdServers: 'ftp://x:1' }, /http:\/\/ or https:\/\//],
      [{ etcdServers: 'https://x:1' }, /--etcd-cafile is required/],
      [{ etcdServers: 'https://x:1', etcdCafile: join(dir, 'missing') }, /--etcd-cafile: cannot read/],
      [{ etcdServers: 'https://x:1', etcdCafile: ca, etcdCertfile: ca }, /go together/],
      [{ etcdServers: 'http://x:1', etcdPrefix: 'registry' }, /--etcd-prefix/],
      [{ etcdServers: 'http://x:1', etcdPrefix: '/registry/' }, /--etcd-prefix/],
    ];
    for (const [flags, message] of refused)
      assert.throws(
        () => storeConfig(flags),
        (err: unknown) => err instanceof ConfigError && message.test(err.message),
        JSON.stringify(flags),
      );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
