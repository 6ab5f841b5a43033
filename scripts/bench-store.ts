// Store benchmark: creates per second and their latency with 50 concurrent callers, for 10 s
// or 20,000 creates (whichever comes first), straight into the SQLite store and through the
// watch cache over it. The API benchmark reuses benchStore() as its baseline.
//
// Run: node dist/scripts/bench-store.js

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { SqliteStore, WatchCache, type Store } from '../pkg/storage/index.js';

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
  const sqlite = SqliteStore.open(dir);
  const cache = opts.watchCache === true ? await WatchCache.start(sqlite) : undefined;
  const store: Store = cache ?? sqlite;
  try {
    const latencies: number[] = [];
    let next = 0;
    const started = performance.now();
    const deadline = started + seconds * 1000;
    const caller = async (): Promise<void> => {
      while (next < total && performance.now() < deadline) {
        const i = next++;
        const t0 = performance.now();
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
        latencies.push(performance.now() - t0);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, caller));
    const elapsed = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    return {
      createsPerSec: latencies.length / elapsed,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
    };
  } finally {
    await cache?.close();
    await sqlite.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const rows: [string, StoreBenchResult][] = [
    ['SQLite store', await benchStore()],
    ['watch cache over SQLite', await benchStore({ watchCache: true })],
  ];
  console.log('50 concurrent callers, 20,000 creates or 10 s');
  console.log(`${'path'.padEnd(26)}${'creates/s'.padStart(12)}${'p50 ms'.padStart(10)}${'p99 ms'.padStart(10)}`);
  for (const [name, r] of rows) {
    console.log(
      `${name.padEnd(26)}${r.createsPerSec.toFixed(0).padStart(12)}${r.p50Ms.toFixed(2).padStart(10)}${r.p99Ms.toFixed(2).padStart(10)}`,
    );
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
