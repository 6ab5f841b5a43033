// The etcd store against a real etcd (started here: TLS with client-certificate auth, free
// loopback ports, data under the run root). The shared Store suite runs unchanged, each
// test on its own key prefix; then real effects: compaction, kill -9, a wrong CA, etcd down.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { KubeObject } from '../api/meta.js';
import { createCA } from '../pki/index.js';
import { startEtcd, type EtcdProcess } from '../../test/harness/etcd.js';
import { EtcdStore, type EtcdStoreOptions } from './etcd-store.js';
import { runStoreSuite } from './store-suite.js';
import { isStorageError, type StoreEvent } from './store.js';

let etcd: EtcdProcess | undefined;
let prefixes = 0;

function running(): EtcdProcess {
  assert.ok(etcd, 'etcd is running');
  return etcd;
}

function options(extra: Partial<EtcdStoreOptions> = {}): EtcdStoreOptions {
  const e = running();
  return {
    endpoints: [e.clientUrl],
    tls: {
      ca: readFileSync(e.pki.caCert),
      cert: readFileSync(e.pki.apiserverClientCert),
      key: readFileSync(e.pki.apiserverClientKey),
    },
    prefix: `/t${process.pid}-${++prefixes}`,
    compactIntervalMs: 0,
    ...extra,
  };
}

const cm = (name: string, data: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'ns' },
  data,
});

before(async () => {
  // Fails (not skips) when etcd cannot start.
  etcd = await startEtcd();
});

after(async () => {
  await etcd?.stop();
});

runStoreSuite('etcd', () => {
  const store = new EtcdStore(options());
  return Promise.resolve({ store, cleanup: () => store.close() });
});

describe('etcd store: real effects', () => {
  test('the value in etcd is the JSON of the object, without resourceVersion, under the prefix', async () => {
    const opts = options();
    const store = new EtcdStore(opts);
    try {
      const item = await store.create('/r/cm/ns/a', cm('a', { v: '1' }));
      const raw = await running().rawGet(`${opts.prefix ?? ''}/r/cm/ns/a`);
      assert.ok(raw, 'the key is in etcd');
      const stored = JSON.parse(raw.toString()) as KubeObject;
      assert.deepEqual(stored['data'], { v: '1' });
      assert.equal(stored.metadata.resourceVersion, undefined);
      assert.equal(item.object.metadata.resourceVersion, String(item.revision));
    } finally {
      await store.close();
    }
  });

  test('a real compaction: a watch from before it fails with Compacted and the oldest revision', async () => {
    const store = new EtcdStore(options());
    try {
      const a = await store.create('/r/cm/ns/a', cm('a'));
      let last = a;
      for (let i = 0; i < 3; i++) last = await store.update('/r/cm/ns/a', cm('a', { i: String(i) }), last.revision);
      await store.compact(last.revision);
      const err = await new Promise<unknown>((resolve) => {
        const events: StoreEvent[] = [];
        const timer = setTimeout(() => resolve(new Error('no error within 10 s')), 10_000);
        store.watch('/r/cm/', a.revision, {
          onEvent: (e) => events.push(e),
          onError: (e) => {
            clearTimeout(timer);
            resolve(events.length === 0 ? e : new Error('events before Compacted'));
          },
        });
      });
      assert.ok(isStorageError(err, 'Compacted'), String(err));
      assert.equal(err.revision, last.revision, 'the oldest watchable revision');
      // Live data is intact.
      assert.equal((await store.get('/r/cm/ns/a'))?.revision, last.revision);
    } finally {
      await store.close();
    }
  });

  test('a write acknowledged before kill -9 of etcd is there after etcd restarts', async () => {
    const opts = options({ retry: { attempts: 20, maxDelayMs: 500 } });
    const store = new EtcdStore(opts);
    try {
      const acked = await Promise.all(
        Array.from({ length: 50 }, (_, i) => store.create(`/r/cm/ns/k${i}`, cm(`k${i}`, { i: String(i) }))),
      );
      await running().crash();
      await running().restart();
      const list = await store.list('/r/cm/ns/');
      assert.equal(list.items.length, 50);
      for (const item of acked) {
        const got = await store.get(item.key);
        assert.equal(got?.revision, item.revision, item.key);
      }
      // And the store keeps working on the restarted etcd.
      assert.ok(await store.create('/r/cm/ns/after', cm('after')));
    } finally {
      await store.close();
    }
  });

  test('a watch survives an etcd restart: resumes with nothing lost and nothing repeated', async () => {
    const store = new EtcdStore(options({ retry: { attempts: 30, maxDelayMs: 500 } }));
    const events: StoreEvent[] = [];
    const errors: Error[] = [];
    const from = await store.currentRevision();
    const handle = store.watch('/r/cm/', from, { onEvent: (e) => events.push(e), onError: (e) => errors.push(e) });
    try {
      const before1 = await store.create('/r/cm/ns/w1', cm('w1'));
      await running().crash();
      await running().restart();
      const after1 = await store.create('/r/cm/ns/w2', cm('w2'));
      for (let i = 0; i < 200 && events.length < 2 && errors.length === 0; i++)
        await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(errors, []);
      assert.deepEqual(
        events.map((e) => e.revision),
        [before1.revision, after1.revision],
      );
    } finally {
      handle.stop();
      await store.close();
    }
  });

  test('a wrong CA fails with a clear error, and writes nothing', async () => {
    const wrongCa = await createCA('not-the-etcd-ca');
    const store = new EtcdStore(
      options({
        tls: {
          ca: Buffer.from(wrongCa.certPem),
          cert: readFileSync(running().pki.apiserverClientCert),
          key: readFileSync(running().pki.apiserverClientKey),
        },
        retry: { attempts: 2, baseDelayMs: 50, requestTimeoutMs: 3000 },
      }),
    );
    try {
      await assert.rejects(store.create('/r/cm/ns/x', cm('x')), (err: unknown) => {
        assert.ok(isStorageError(err, 'Unavailable'), String(err));
        assert.match(err.message, /certificate|handshake|TLS|SSL|connection/i);
        return true;
      });
    } finally {
      await store.close();
    }
  });

  test('etcd down: Unavailable within the retry bound, not a hang; back when etcd is', async () => {
    const store = new EtcdStore(options({ retry: { attempts: 3, baseDelayMs: 50, requestTimeoutMs: 1000 } }));
    try {
      await store.create('/r/cm/ns/up', cm('up'));
      await running().crash();
      const outcome = await Promise.race([
        store.create('/r/cm/ns/down', cm('down')).then(
          () => 'succeeded',
          (err: unknown) => (isStorageError(err, 'Unavailable') ? 'Unavailable' : String(err)),
        ),
        new Promise<string>((r) => setTimeout(() => r('hung'), 20_000).unref()),
      ]);
      assert.equal(outcome, 'Unavailable');
      await running().restart();
      let back = false;
      for (let i = 0; i < 40 && !back; i++) {
        back = await store.get('/r/cm/ns/up').then(
          (item) => item !== undefined,
          () => false,
        );
        if (!back) await new Promise((r) => setTimeout(r, 250));
      }
      assert.ok(back, 'reads work again once etcd is back');
      assert.equal(await store.get('/r/cm/ns/down'), undefined, 'the failed write did not happen');
    } finally {
      await store.close();
    }
  });
});
