import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { RESOURCES, storageKey, type KubeObject, type Pod } from '../../api/index.js';
import { ApiError } from '../../errors/index.js';
import { SqliteStore } from '../../storage/index.js';
import { admitPodPriority, priorityClassStrategy } from './priority-class.js';

const dir = mkdtempSync(join(tmpdir(), 'priority-class-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let stores = 0;

async function storeWith(...classes: { name: string; value: number; more?: Record<string, unknown> }[]) {
  const store = SqliteStore.open(join(dir, String(stores++)));
  for (const c of classes)
    await store.create(storageKey(RESOURCES.priorityclasses, undefined, c.name), {
      apiVersion: 'scheduling.k8s.io/v1',
      kind: 'PriorityClass',
      metadata: { name: c.name },
      value: c.value,
      ...c.more,
    });
  return store;
}

function pod(spec: Partial<NonNullable<Pod['spec']>> = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'default' },
    spec: { containers: [{ name: 'c', image: 'i' }], ...spec },
  };
}

const forbidden = (pattern: RegExp) => (err: unknown) =>
  err instanceof ApiError && err.code === 403 && pattern.test(err.message);

test('Priority admission: the class resolves to priority and policy; the global default; 0 without one', async () => {
  const store = await storeWith(
    { name: 'high', value: 1000, more: { preemptionPolicy: 'Never' } },
    { name: 'usual', value: 10, more: { globalDefault: true } },
  );
  const named = pod({ priorityClassName: 'high' });
  await admitPodPriority(store, named);
  assert.deepEqual([named.spec?.priority, named.spec?.preemptionPolicy], [1000, 'Never']);
  const plain = pod();
  await admitPodPriority(store, plain);
  assert.equal(plain.spec?.priorityClassName, 'usual');
  assert.equal(plain.spec?.priority, 10);
  const bare = pod();
  await admitPodPriority(await storeWith(), bare);
  assert.equal(bare.spec?.priority, 0);
  store.close();
});

test('Priority admission refuses an unknown class and a priority or policy that differs from the class', async () => {
  const store = await storeWith({ name: 'high', value: 1000 });
  await assert.rejects(
    admitPodPriority(store, pod({ priorityClassName: 'nope' })),
    forbidden(/^pods "p" is forbidden: no PriorityClass with name nope was found$/),
  );
  await assert.rejects(
    admitPodPriority(store, pod({ priorityClassName: 'high', priority: 5 })),
    forbidden(
      /the integer value of priority \(5\) must not be provided in pod spec; priority admission controller computed 1000/,
    ),
  );
  await assert.rejects(
    admitPodPriority(store, pod({ priorityClassName: 'high', preemptionPolicy: 'Never' })),
    forbidden(/the string value of PreemptionPolicy \(Never\) must not be provided/),
  );
  store.close();
});

test('only one PriorityClass may be the global default', async () => {
  const store = await storeWith({ name: 'usual', value: 10, more: { globalDefault: true } });
  const strategy = priorityClassStrategy(store);
  const second: KubeObject = {
    apiVersion: 'scheduling.k8s.io/v1',
    kind: 'PriorityClass',
    metadata: { name: 'other' },
    value: 5,
    globalDefault: true,
  };
  await assert.rejects(
    strategy.admitCreate?.(second) ?? Promise.resolve(),
    forbidden(
      /^priorityclasses.scheduling.k8s.io "other" is forbidden: PriorityClass usual is already marked as default\. Only one default can exist$/,
    ),
  );
  store.close();
});
