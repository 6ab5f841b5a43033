// API benchmark (issue 2): over mTLS against a real apiserver process on loopback.
//  1. creates/s and p50/p99 latency with 50 concurrent clients;
//  2. watch delivery latency p50/p99 with 500 watchers;
//  3. in the same run, the store alone (direct inserts) as the baseline, and the ratio.
// Prints figures; asserts nothing.

import { performance } from 'node:perf_hooks';
import { mustFind } from '../pkg/api/registry.js';
import { loadKubeconfig, RestClient, watchStream } from '../pkg/client/index.js';
import { startControlPlane } from '../test/harness/control-plane.js';
import type { ResourceInfo } from '../pkg/api/registry.js';
import { benchStore, percentile } from './bench-store.js';

const resource = (plural: string): ResourceInfo => mustFind('', 'v1', plural);

const configmaps = resource('configmaps');
const namespaces = resource('namespaces');

async function createLoad(
  client: RestClient,
  opts: { concurrency: number; total: number; seconds: number; namespace: string; prefix: string },
): Promise<{ perSec: number; p50: number; p99: number; done: number }> {
  const latencies: number[] = [];
  let next = 0;
  const deadline = performance.now() + opts.seconds * 1000;
  const started = performance.now();
  const worker = async (w: number): Promise<void> => {
    while (next < opts.total && performance.now() < deadline) {
      const i = next++;
      const t0 = performance.now();
      await client.create(
        configmaps,
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${opts.prefix}-${w}-${i}` }, data: { i: String(i) } },
        { namespace: opts.namespace },
      );
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, (_, w) => worker(w)));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    perSec: latencies.length / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    done: latencies.length,
  };
}

async function watchLatency(
  client: RestClient,
  opts: { watchers: number; events: number; namespace: string },
): Promise<{ p50: number; p99: number; delivered: number }> {
  const latencies: number[] = [];
  let ready = 0;
  const streams: { stop(): void }[] = [];
  const list = await client.list(configmaps, { namespace: opts.namespace });
  const rv = list.metadata.resourceVersion ?? '0';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('watchers did not connect in time')), 60_000);
    for (let i = 0; i < opts.watchers; i++) {
      streams.push(
        watchStream(
          client,
          { resource: configmaps, namespace: opts.namespace, resourceVersion: rv },
          {
            onOpen: () => {
              if (++ready === opts.watchers) {
                clearTimeout(timer);
                resolve();
              }
            },
            onEvent: (ev) => {
              const sent = Number(ev.object.metadata.annotations?.['bench/sent'] ?? 'NaN');
              if (!Number.isNaN(sent)) latencies.push(performance.timeOrigin + performance.now() - sent);
            },
            onClose: () => undefined,
          },
        ),
      );
    }
  });
  for (let i = 0; i < opts.events; i++) {
    await client.create(
      configmaps,
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: {
          name: `watched-${i}`,
          annotations: { 'bench/sent': String(performance.timeOrigin + performance.now()) },
        },
      },
      { namespace: opts.namespace },
    );
    await new Promise((r) => setTimeout(r, 20));
  }
  const deadline = Date.now() + 30_000;
  while (latencies.length < opts.watchers * opts.events && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 100));
  for (const s of streams) s.stop();
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), delivered: latencies.length };
}

export async function benchApi(): Promise<void> {
  const plane = await startControlPlane();
  try {
    const client = new RestClient(loadKubeconfig({ path: plane.pki.adminKubeconfig }));
    await client.create(namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } });
    await client.create(namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench-watch' } });
    // Warm up connections and JIT.
    await createLoad(client, { concurrency: 50, total: 500, seconds: 10, namespace: 'bench', prefix: 'warm' });
    const api = await createLoad(client, {
      concurrency: 50,
      total: 20_000,
      seconds: 10,
      namespace: 'bench',
      prefix: 'load',
    });
    const watch = await watchLatency(client, { watchers: 500, events: 50, namespace: 'bench-watch' });
    client.close();
    const store = await benchStore({ concurrency: 50, total: 20_000, seconds: 10 });
    const rows = [
      ['measure', 'value', 'target'],
      ['API creates/s (50 clients, mTLS)', api.perSec.toFixed(0), '>= 2000'],
      ['API create p50 ms', api.p50.toFixed(2), ''],
      ['API create p99 ms', api.p99.toFixed(2), '< 50'],
      ['watch delivery p50 ms (500 watchers)', watch.p50.toFixed(2), ''],
      ['watch delivery p99 ms (500 watchers)', watch.p99.toFixed(2), '< 50'],
      [`watch events delivered`, `${watch.delivered}/${500 * 50}`, ''],
      ['baseline: store creates/s (direct)', store.createsPerSec.toFixed(0), ''],
      ['baseline: store create p50 / p99 ms', `${store.p50Ms.toFixed(2)} / ${store.p99Ms.toFixed(2)}`, ''],
      ['ratio API / store throughput', (api.perSec / store.createsPerSec).toFixed(2), ''],
    ];
    const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
    for (const r of rows) process.stdout.write(r.map((c, i) => c.padEnd((widths[i] ?? 0) + 2)).join('') + '\n');
  } finally {
    await plane.stop();
  }
}

await benchApi();
