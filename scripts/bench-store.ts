// Store benchmark: creates per second and their latency with 50 concurrent callers, for 10 s
// or 20,000 creates (whichever comes first), straight into the SQLite store and through the
// watch cache over it; then the same on the etcd store against one real etcd member (TLS,
// started here, data under the run root), beside etcd's own put rate through the same
// client (the ceiling the etcd store can reach). The API benchmark reuses benchStore() as
// its baseline.
//
// Run: node dist/scripts/bench-store.js

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { readFileSync } from 'node:fs';
import { Etcd3 } from 'etcd3';
import { noop } from 'cockatiel';
import { EtcdStore, SqliteStore, WatchCache, type EtcdStoreOptions, type Store } from '../pkg/storage/index.js';
import { startEtcd } from '../test/harness/etcd.js';

export interface StoreBenchResult {
  createsPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

export interface StoreBenchOptions {
  /** Callers issuing creates at the same time (default 50). */
  concurrency?: number;
  /** Stop after this many creates (default 20,000). */
  total?: number;
  /** ... or after this many seconds (default 10). */
  seconds?: number;
  /** Measure through a WatchCache over the store (default: the store directly). */
  watchCache?: boolean;
  /** Measure the etcd store with these options instead of SQLite. */
  etcd?: EtcdStoreOptions;
}

/** The p-th percentile (0..100) of ascending values. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? Number.NaN;
}

export async function benchStore(opts: StoreBenchOptions = {}): Promise<StoreBenchResult> {
  const concurrency = opts.concurrency ?? 50;
  const total = opts.total ?? 20_000;
  const seconds = opts.seconds ?? 10;
  const dir = mkdtempSync(join(tmpdir(), 'bench-store-'));
  const backend: Store = opts.etcd === undefined ? SqliteStore.open(dir) : new EtcdStore(opts.etcd);
  const cache = opts.watchCache === true ? await WatchCache.start(backend) : undefined;
  const store: Store = cache ?? backend;
  try {
    return await timedCalls({ concurrency, total, seconds }, async (i) => {
      await store.create(`/registry/core/configmaps/bench/cm-${i}`, {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: {
          name: `cm-${i}`,
          namespace: 'bench',
          uid: `uid-${i}`,
          creationTimestamp: new Date().toISOString(),
        },
        data: { i: String(i) },
      });
    });
  } finally {
    await cache?.close();
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs call(i) from `concurrency` callers until `total` calls or `seconds` passed; rate and latency. */
async function timedCalls(
  limits: { concurrency: number; total: number; seconds: number },
  call: (i: number) => Promise<void>,
): Promise<StoreBenchResult> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  const deadline = started + limits.seconds * 1000;
  const caller = async (): Promise<void> => {
    while (next < limits.total && performance.now() < deadline) {
      const i = next++;
      const t0 = performance.now();
      await call(i);
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: limits.concurrency }, caller));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    createsPerSec: latencies.length / elapsed,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
}

/**
 * etcd alone: plain puts through the same gRPC client, 50 callers; values of `valueBytes`
 * (default: the size of a small ConfigMap's JSON), for `seconds` (default 10) or 20,000 puts.
 */
export async function benchEtcdPuts(
  opts: EtcdStoreOptions,
  load: { valueBytes?: number; seconds?: number; concurrency?: number } = {},
): Promise<StoreBenchResult> {
  const tls = opts.tls;
  const client = new Etcd3({
    hosts: opts.endpoints,
    ...(tls === undefined
      ? {}
      : { credentials: { rootCertificate: tls.ca, certChain: tls.cert, privateKey: tls.key } }),
    faultHandling: { host: () => noop, global: noop },
  });
  const value =
    load.valueBytes === undefined
      ? Buffer.from(JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x'.repeat(120) } }))
      : Buffer.alloc(load.valueBytes, 'x');
  const limits = { concurrency: load.concurrency ?? 50, total: 20_000, seconds: load.seconds ?? 10 };
  try {
    return await timedCalls(limits, async (i) => {
      await client.kv.put({ key: Buffer.from(`${opts.prefix ?? ''}/bench-raw/k-${i}`), value });
    });
  } finally {
    client.close();
  }
}

async function main(): Promise<void> {
  const rows: [string, StoreBenchResult][] = [
    ['SQLite store', await benchStore()],
    ['watch cache over SQLite', await benchStore({ watchCache: true })],
  ];
  const etcd = await startEtcd();
  try {
    const options = (prefix: string): EtcdStoreOptions => ({
      endpoints: [etcd.clientUrl],
      tls: {
        ca: readFileSync(etcd.pki.caCert),
        cert: readFileSync(etcd.pki.apiserverClientCert),
        key: readFileSync(etcd.pki.apiserverClientKey),
      },
      prefix,
      root: '/registry',
      compactIntervalMs: 0,
    });
    rows.push(['etcd store (1 member)', await benchStore({ etcd: options('/bench-store') })]);
    rows.push(['watch cache over etcd', await benchStore({ etcd: options('/bench-cache'), watchCache: true })]);
    rows.push(['etcd alone (plain puts)', await benchEtcdPuts(options(''))]);
  } finally {
    await etcd.stop();
  }
  console.log('50 concurrent callers, 20,000 creates or 10 s');
  console.log(`${'path'.padEnd(28)}${'creates/s'.padStart(12)}${'p50 ms'.padStart(10)}${'p99 ms'.padStart(10)}`);
  for (const [name, r] of rows) {
    console.log(
      `${name.padEnd(28)}${r.createsPerSec.toFixed(0).padStart(12)}${r.p50Ms.toFixed(2).padStart(10)}${r.p99Ms.toFixed(2).padStart(10)}`,
    );
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
