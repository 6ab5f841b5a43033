// Custom-object benchmark (issue 14): creates/s and p50/p99 latency with 50 concurrent clients
// over mTLS against a real apiserver process, for objects of a CustomResourceDefinition (a
// structural schema with defaults, an enum, a pattern and bounds: pruned, defaulted and
// validated on every create) and, in alternating rounds of the same run, for ConfigMaps; the
// ratio of the two. Prints figures; asserts nothing.

import { customResourcesOf } from '../pkg/api/custom-resources.js';
import { RESOURCES } from '../pkg/api/registry.js';
import type { CustomResourceDefinition } from '../pkg/api/types/apiextensions.js';
import { loadKubeconfig, RestClient } from '../pkg/client/index.js';
import { startControlPlane } from '../test/harness/control-plane.js';
import { createLoad, type LoadSamples } from './bench-load.js';
import { percentile } from './bench-store.js';

const ROUNDS = 3;
const ROUND_SECONDS = 8;
const NAMESPACE = 'bench-crd';

const CRD: CustomResourceDefinition = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.bench.example.com' },
  spec: {
    group: 'bench.example.com',
    scope: 'Namespaced',
    names: { plural: 'widgets', kind: 'Widget' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        subresources: { status: {} },
        additionalPrinterColumns: [{ name: 'Size', type: 'integer', jsonPath: '.spec.size' }],
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                required: ['size'],
                properties: {
                  size: { type: 'integer', minimum: 1, maximum: 1000 },
                  color: { type: 'string', enum: ['red', 'blue'], default: 'red' },
                  label: { type: 'string', pattern: '^[a-z0-9-]+$', maxLength: 63 },
                  tags: { type: 'array', maxItems: 8, items: { type: 'string' } },
                },
              },
              status: { type: 'object', properties: { phase: { type: 'string' } } },
            },
          },
        },
      },
    ],
  },
};

function summary(rounds: LoadSamples[]): { perSec: number; p50: number; p99: number } {
  const latencies = rounds.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const seconds = rounds.reduce((sum, r) => sum + r.seconds, 0);
  return { perSec: latencies.length / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

async function main(): Promise<void> {
  const plane = await startControlPlane({ withControllers: false });
  try {
    const client = new RestClient(loadKubeconfig({ path: plane.pki.adminKubeconfig }));
    await client.create(RESOURCES.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
    await client.create(RESOURCES.customresourcedefinitions, CRD);
    const widgets = customResourcesOf(CRD)[0];
    if (widgets === undefined) throw new Error('the CRD serves no version');
    const widget = (name: string, i: number) => ({
      r: widgets,
      body: {
        apiVersion: 'bench.example.com/v1',
        kind: 'Widget',
        metadata: { name },
        spec: { size: (i % 1000) + 1, label: `w-${i}`, tags: ['a', 'b'] },
      },
    });
    // The CRD is served once the apiserver's watch has seen it.
    for (let attempt = 0; attempt < 100; attempt++) {
      try {
        await client.list(widgets, { namespace: NAMESPACE });
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const load = { concurrency: 50, total: 1_000_000, namespace: NAMESPACE };
    await createLoad(client, { ...load, seconds: 5, prefix: 'warm-cm' });
    await createLoad(client, { ...load, seconds: 5, prefix: 'warm-cr', object: widget });
    const cm: LoadSamples[] = [];
    const cr: LoadSamples[] = [];
    for (let n = 0; n < ROUNDS; n++) {
      cm.push(await createLoad(client, { ...load, seconds: ROUND_SECONDS, prefix: `cm${n}` }));
      cr.push(await createLoad(client, { ...load, seconds: ROUND_SECONDS, prefix: `cr${n}`, object: widget }));
    }
    client.close();
    const a = summary(cm);
    const b = summary(cr);
    const line = (what: string, s: { perSec: number; p50: number; p99: number }): string =>
      `${what}: ${s.perSec.toFixed(0)} creates/s, p50/p99 ${s.p50.toFixed(2)} / ${s.p99.toFixed(2)} ms\n`;
    process.stdout.write(line('ConfigMap (baseline)', a));
    process.stdout.write(line('custom object (Widget)', b));
    process.stdout.write(`custom objects / ConfigMaps: ${((b.perSec / a.perSec) * 100).toFixed(0)} % (aim ≥ 80 %)\n`);
  } finally {
    await plane.stop();
  }
}

await main();
