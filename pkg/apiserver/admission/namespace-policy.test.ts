import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { RESOURCES, storageKey, type KubeObject } from '../../api/index.js';
import { ApiError } from '../../errors/index.js';
import { SqliteStore } from '../../storage/index.js';
import { NamespacePolicyAdmission } from './namespace-policy.js';

const quota: KubeObject = {
  apiVersion: 'v1',
  kind: 'ResourceQuota',
  metadata: { name: 'q', namespace: 'ns' },
  spec: { hard: { pods: '3' } },
  status: { hard: { pods: '3' }, used: { pods: '0' } },
};

const pod = (name: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'ns' },
  spec: { containers: [{ name: 'c' }] },
});

test('the quota charge is a compare-and-swap: concurrent creates take exactly the free slots; dry runs take none', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'quota-admission-'));
  const store = SqliteStore.open(dir);
  try {
    const key = storageKey(RESOURCES.resourcequotas, 'ns', 'q');
    await store.create(key, quota);
    const admission = new NamespacePolicyAdmission(store);
    await admission.validate(RESOURCES.pods, pod('dry'), { dryRun: true });
    const used = async (): Promise<unknown> => (await store.get(key))?.object['status'];
    assert.deepEqual(await used(), { hard: { pods: '3' }, used: { pods: '0' } });
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => admission.validate(RESOURCES.pods, pod(`p${i}`), { dryRun: false })),
    );
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 3);
    for (const r of results)
      if (r.status === 'rejected') {
        assert.ok(r.reason instanceof ApiError);
        assert.equal(r.reason.code, 403);
      }
    assert.deepEqual(await used(), { hard: { pods: '3' }, used: { pods: '3' } });
    // Cluster-scoped kinds are never charged; other kinds the quota does not name neither.
    await admission.validate(
      RESOURCES.configmaps,
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'ns' } },
      { dryRun: false },
    );
    assert.deepEqual(await used(), { hard: { pods: '3' }, used: { pods: '3' } });
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
