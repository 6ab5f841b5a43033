// The create load the API benchmark and the API/store ratio check share: `concurrency` clients
// creating ConfigMaps (or what `object` makes) back to back until `total` creates or `seconds`
// have passed.

import { performance } from 'node:perf_hooks';
import type { KubeObject } from '../pkg/api/meta.js';
import { mustFind, type ResourceInfo } from '../pkg/api/registry.js';
import type { RestClient } from '../pkg/client/index.js';

const configmaps = mustFind('', 'v1', 'configmaps');

export interface LoadSamples {
  /** Per-create latencies in ms, unsorted. */
  latencies: number[];
  seconds: number;
  /** CPU µs the apiserver and this process spent over the round. */
  cpu?: { server: number; client: number };
}

export async function createLoad(
  client: RestClient,
  opts: {
    concurrency: number;
    total: number;
    seconds: number;
    namespace: string;
    prefix: string;
    /** What to create under a name (default: a ConfigMap with one key). */
    object?: (name: string, i: number) => { r: ResourceInfo; body: KubeObject };
  },
): Promise<LoadSamples> {
  const make =
    opts.object ??
    ((name: string, i: number) => ({
      r: configmaps,
      body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { i: String(i) } },
    }));
  const latencies: number[] = [];
  let next = 0;
  const deadline = performance.now() + opts.seconds * 1000;
  const started = performance.now();
  const worker = async (w: number): Promise<void> => {
    while (next < opts.total && performance.now() < deadline) {
      const i = next++;
      const t0 = performance.now();
      const { r, body } = make(`${opts.prefix}-${w}-${i}`, i);
      await client.create(r, body, { namespace: opts.namespace });
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, (_, w) => worker(w)));
  return { latencies, seconds: (performance.now() - started) / 1000 };
}
