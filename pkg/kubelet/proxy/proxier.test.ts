import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoints, Service } from '../../api/types/index.js';
import type { InformerHandlers } from '../../client/informer.js';
import { ServiceProxy } from './proxier.js';
import { proxyChains } from './rules.js';
import type { Source } from './proxier.js';

class FakeSource<T extends Service | Endpoints> implements Source<T> {
  items: T[] = [];
  handlers: InformerHandlers<T>[] = [];
  constructor(private readonly sample: T) {}
  list(): T[] {
    return this.items;
  }
  addHandler(h: InformerHandlers<T>): void {
    this.handlers.push(h);
  }
  emit(): void {
    for (const h of this.handlers) h.onAdd?.(this.sample);
  }
}

const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('syncs at start, coalesces events, never overlaps, retries on error', async () => {
  const services = new FakeSource<Service>({ apiVersion: 'v1', kind: 'Service', metadata: {} });
  const endpoints = new FakeSource<Endpoints>({ apiVersion: 'v1', kind: 'Endpoints', metadata: {} });
  let running = 0;
  let calls = 0;
  let failNext = false;
  let overlap = false;
  const synced: number[] = [];
  const proxy = new ServiceProxy(
    { services, endpoints },
    {
      chains: proxyChains('COX-'),
      clusterCIDR: '10.244.0.0/16',
      log: () => undefined,
      minSyncIntervalMs: 20,
      onSynced: (at) => synced.push(at),
      iptables: {
        sync: async () => {
          running++;
          if (running > 1) overlap = true;
          calls++;
          await tick(5);
          running--;
          if (failNext) {
            failNext = false;
            throw new Error('boom');
          }
        },
      },
    },
  );
  const ac = new AbortController();
  const done = proxy.start(ac.signal);
  await tick(10);
  assert.equal(calls, 1, 'initial sync');
  assert.equal(proxy.lastSync()?.ok, true);
  for (let i = 0; i < 20; i++) endpoints.emit();
  await tick(60);
  assert.equal(calls, 2, 'events coalesced into one sync');
  failNext = true;
  services.emit();
  await tick(150);
  assert.equal(calls, 4, 'failed sync retried');
  assert.equal(proxy.lastSync()?.ok, true);
  assert.equal(synced.length, 3);
  assert.equal(overlap, false);
  ac.abort();
  await done;
});
