// Store benchmark: direct creates into the SQLite store (the baseline the API benchmark
// compares with), 50 concurrent callers.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { SqliteStore } from '../pkg/storage/index.js';

export interface StoreBenchResult {
  createsPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? Number.NaN;
}

export async function benchStore(opts: { concurrency: number; total: number; seconds: number }): Promise<StoreBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-store-'));
  const store = SqliteStore.open(dir);
  try {
    const latencies: number[] = [];
    let next = 0;
    const deadline = performance.now() + opts.seconds * 1000;
    const started = performance.now();
    const worker = async (): Promise<void> => {
      while (next < opts.total && performance.now() < deadline) {
        const i = next++;
        const t0 = performance.now();
        await store.create(`/registry/core/configmaps/bench/cm-${i}`, {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: `cm-${i}`, namespace: 'bench', uid: `uid-${i}`, creationTimestamp: new Date().toISOString() },
          data: { i: String(i) },
        });
        latencies.push(performance.now() - t0);
      }
    };
    await Promise.all(Array.from({ length: opts.concurrency }, worker));
    const elapsed = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    return { createsPerSec: latencies.length / elapsed, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
