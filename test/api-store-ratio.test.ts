// Benchmark regression check (issue 19), cheap enough for every run: creates with 50 clients
// through a real apiserver (mTLS, authn, authz, admission, store) and straight into the SQLite
// store, in alternating rounds in this one process run, and the API's rate as a share of the
// store's. It fails when that ratio drops below a floor set from measurements: a ratio, never
// an absolute time, so a slow or busy machine slows both sides alike.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { benchStore } from '../scripts/bench-store.js';
import { createLoad } from '../scripts/bench-load.js';
import type { RestClient } from '../pkg/client/index.js';
import { adminClient, R } from './harness/clients.js';
import { startControlPlane, type ControlPlane } from './harness/control-plane.js';

/**
 * Measured on a 2-core machine shared with other builds and tests (load average 5–7): 0.05–0.06
 * before issue 19's work, ABOUT_AFTER after it. The floor is well under both, so only a real
 * loss of the request path's speed (the 1.7x the issue found) trips it, not the machine's noise.
 */
const RATIO_FLOOR = 0.02;
const CONCURRENCY = 50;
const ROUND_SECONDS = 1.75;
const NAMESPACE = 'ratio';

let plane: ControlPlane;
let client: RestClient;

before(async () => {
  plane = await startControlPlane();
  client = adminClient(plane);
  await client.create(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
});

after(async () => {
  client.close();
  await plane.stop();
});

test('API creates/s stay above a floor share of the bare store creates/s in the same run', async (t) => {
  const api = (prefix: string): ReturnType<typeof createLoad> =>
    createLoad(client, {
      concurrency: CONCURRENCY,
      total: 1_000_000,
      seconds: ROUND_SECONDS,
      namespace: NAMESPACE,
      prefix,
    });
  const store = (): ReturnType<typeof benchStore> =>
    benchStore({ concurrency: CONCURRENCY, total: 1_000_000, seconds: ROUND_SECONDS });
  await api('warm'); // connections and JIT
  // A S S A A S S A: drift in the machine's load weighs on both alike.
  let apiCreates = 0;
  let apiSeconds = 0;
  const storeRates: number[] = [];
  for (const [n, side] of ['A', 'S', 'S', 'A', 'A', 'S', 'S', 'A'].entries()) {
    if (side === 'S') {
      storeRates.push((await store()).createsPerSec);
    } else {
      const round = await api(`round-${n}`);
      apiCreates += round.latencies.length;
      apiSeconds += round.seconds;
    }
  }
  const apiRate = apiCreates / apiSeconds;
  const storeRate = storeRates.reduce((a, b) => a + b, 0) / storeRates.length;
  const ratio = apiRate / storeRate;
  const figures = `API ${apiRate.toFixed(0)} creates/s, store ${storeRate.toFixed(0)} creates/s, ratio ${ratio.toFixed(3)}`;
  t.diagnostic(figures);
  assert.ok(
    ratio >= RATIO_FLOOR,
    `the API runs at ${ratio.toFixed(3)} of the store, under the floor ${RATIO_FLOOR}: ${figures}`,
  );
});
