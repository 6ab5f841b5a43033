import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { KubeObject } from '../api/meta.js';
import { isObject } from '../api/meta.js';
import { ApiError } from '../errors/index.js';
import { SqliteStore } from '../storage/index.js';
import { Bitmap } from './range-allocation.js';
import { SERVICE_IPS_KEY, SERVICE_NODE_PORTS_KEY, ServiceAllocator } from './service-allocator.js';

const dir = mkdtempSync(join(tmpdir(), 'service-allocator-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let stores = 0;
const openStore = (): SqliteStore => SqliteStore.open(join(dir, String(stores++)));
const RANGES = { cidr: '10.96.0.0/24', nodePortMin: 30000, nodePortMax: 30063 };

function service(name: string, spec: Record<string, unknown>): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec };
}

function clusterIP(svc: KubeObject): string {
  const spec = svc['spec'];
  return isObject(spec) && typeof spec['clusterIP'] === 'string' ? spec['clusterIP'] : '';
}

function nodePorts(svc: KubeObject): number[] {
  const spec = svc['spec'];
  const ports = isObject(spec) && Array.isArray(spec['ports']) ? spec['ports'] : [];
  return ports.flatMap((p: unknown) => (isObject(p) && typeof p['nodePort'] === 'number' ? [p['nodePort']] : []));
}

test('bitmap: big-endian bytes as Kubernetes stores them, round trip', () => {
  const b = new Bitmap(20);
  b.set(0);
  b.set(9);
  assert.equal(Buffer.from(b.encode(), 'base64').toString('hex'), '0201');
  const back = Bitmap.decode(20, b.encode());
  assert.deepEqual(back.offsets(), [0, 9]);
  assert.equal(back.count, 2);
  assert.equal(back.set(9), false);
  // Hostile stored data: too long, not base64, absent.
  assert.deepEqual(Bitmap.decode(4, Buffer.alloc(64, 0xff).toString('base64')).offsets(), [0, 1, 2, 3]);
  assert.equal(Bitmap.decode(8, '%%%').count, 0);
  assert.equal(Bitmap.decode(8, undefined).count, 0);
});

test('two allocators on one store (two apiservers) never hand out an address twice', async () => {
  const store = openStore();
  const a = new ServiceAllocator(store, RANGES);
  const b = new ServiceAllocator(store, RANGES);
  const made = await Promise.all(
    Array.from({ length: 40 }, async (_, i) => {
      const svc = service(`s${i}`, { type: 'NodePort', ports: [{ port: 80 }] });
      await (i % 2 === 0 ? a : b).allocate(svc);
      return svc;
    }),
  );
  const ips = made.map(clusterIP);
  const ports = made.flatMap(nodePorts);
  assert.equal(new Set(ips).size, 40);
  assert.equal(new Set(ports).size, 40);
  for (const ip of ips) assert.match(ip, /^10\.96\.0\.\d+$/);
  assert.ok(!ips.includes('10.96.0.1') && !ips.includes('10.96.0.0') && !ips.includes('10.96.0.255'));
  const stored = await store.get(SERVICE_IPS_KEY);
  assert.equal(stored?.object['kind'], 'RangeAllocation');
  assert.equal(stored?.object['range'], '10.96.0.0/24');
  assert.equal(Bitmap.decode(255, stored?.object['data']).count, 40);
  const storedPorts = await store.get(SERVICE_NODE_PORTS_KEY);
  assert.equal(storedPorts?.object['range'], '30000-30063');
  await store.close();
});

test('an address taken is refused with Invalid and changes nothing; undo and release give back', async () => {
  const store = openStore();
  const a = new ServiceAllocator(store, RANGES);
  const b = new ServiceAllocator(store, RANGES);
  const first = service('one', { clusterIP: '10.96.0.7', type: 'NodePort', ports: [{ port: 80, nodePort: 30005 }] });
  await a.allocate(first);
  const before = (await store.get(SERVICE_IPS_KEY))?.revision;
  await assert.rejects(
    b.allocate(service('two', { clusterIP: '10.96.0.7' })),
    (err: unknown) => err instanceof ApiError && err.reason === 'Invalid' && /already allocated/.test(err.message),
  );
  await assert.rejects(
    b.allocate(service('bad', { clusterIP: '10.97.0.7' })),
    (err: unknown) => err instanceof ApiError && err.reason === 'Invalid' && /not in the valid range/.test(err.message),
  );
  // The nodePort is taken: the clusterIP it got first is given back.
  await assert.rejects(
    b.allocate(service('three', { clusterIP: '10.96.0.8', type: 'NodePort', ports: [{ port: 1, nodePort: 30005 }] })),
    /provided port is already allocated/,
  );
  const ips = Bitmap.decode(255, (await store.get(SERVICE_IPS_KEY))?.object['data']);
  assert.deepEqual(ips.offsets(), [7]);
  assert.ok(((await store.get(SERVICE_IPS_KEY))?.revision ?? 0) >= (before ?? 0));
  // A refused create's undo, and a delete's release, free what was taken.
  const undo = await b.allocate(service('four', { clusterIP: '10.96.0.9', type: 'NodePort', ports: [{ port: 1 }] }));
  await undo();
  await a.release(first);
  assert.equal(Bitmap.decode(255, (await store.get(SERVICE_IPS_KEY))?.object['data']).count, 0);
  assert.equal(Bitmap.decode(64, (await store.get(SERVICE_NODE_PORTS_KEY))?.object['data']).count, 0);
  await store.close();
});

test('repair marks what Services hold and frees a leak only after three passes', async () => {
  const store = openStore();
  const a = new ServiceAllocator(store, RANGES);
  const kept = service('kept', { clusterIP: '10.96.0.20', type: 'NodePort', ports: [{ port: 1, nodePort: 30001 }] });
  const leaked = service('leaked', {});
  await a.allocate(leaked);
  // `kept` exists in the store but its addresses were never marked (an older apiserver).
  const services = [kept];
  const list = (): Promise<KubeObject[]> => Promise.resolve(services);
  const first = await a.repair(list);
  assert.deepEqual(first.ips, { added: 1, freed: 0 });
  assert.deepEqual(first.ports, { added: 1, freed: 0 });
  // A create that took an address and has not written its Service yet survives two passes.
  assert.deepEqual((await a.repair(list)).ips, { added: 0, freed: 0 });
  const third = await a.repair(list);
  assert.deepEqual(third.ips, { added: 0, freed: 1 });
  const ips = Bitmap.decode(255, (await store.get(SERVICE_IPS_KEY))?.object['data']);
  assert.deepEqual(ips.offsets(), [20]);
  // An address whose Service appears in between is not counted as leaked any more.
  const late = service('late', {});
  await a.allocate(late);
  await a.repair(list);
  services.push(late);
  await a.repair(list);
  services.pop();
  await a.repair(list);
  assert.equal(Bitmap.decode(255, (await store.get(SERVICE_IPS_KEY))?.object['data']).count, 2);
  await store.close();
});

test('decisions are made on the stored bitmap, not on a stale copy of another apiserver', async () => {
  const store = openStore();
  const a = new ServiceAllocator(store, RANGES);
  const b = new ServiceAllocator(store, RANGES);
  // b has a copy in which .30 is free; a then takes it, and b releases a Service holding it.
  const undo = await b.allocate(service('x', { clusterIP: '10.96.0.31' }));
  await undo();
  const held = service('held', { clusterIP: '10.96.0.30' });
  await a.allocate(held);
  await b.release(held);
  assert.equal(Bitmap.decode(255, (await store.get(SERVICE_IPS_KEY))?.object['data']).count, 0);
  // b's copy says .30 is taken after a took and released it elsewhere: b may still have it.
  await b.allocate(service('y', { clusterIP: '10.96.0.30' }));
  await a.release(service('y', { clusterIP: '10.96.0.30' }));
  await b.allocate(service('z', { clusterIP: '10.96.0.30' }));
  await store.close();
});

test('a dry run fills the addresses from the stored bitmaps and writes nothing', async () => {
  const store = openStore();
  const a = new ServiceAllocator(store, RANGES);
  await a.allocate(service('real', { clusterIP: '10.96.0.40' }));
  const before = await store.currentRevision();
  const dry = service('dry', { type: 'NodePort', ports: [{ port: 80 }] });
  const undo = await a.allocate(dry, { dryRun: true });
  assert.match(clusterIP(dry), /^10\.96\.0\.\d+$/);
  assert.equal(nodePorts(dry).length, 1);
  await assert.rejects(a.allocate(service('dup', { clusterIP: '10.96.0.40' }), { dryRun: true }), /already allocated/);
  await undo();
  assert.equal(await store.currentRevision(), before);
  await store.close();
});
