import { NodeGraph } from '../nodeauth/graph.js';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isObject, type KubeObject } from '../../api/meta.js';
import { RESOURCES } from '../../api/registry.js';
import { ApiError } from '../../errors/index.js';
import { SqliteStore } from '../../storage/index.js';
import { ApplyManager } from '../apply.js';
import { KubeletProxy } from '../kubelet-proxy.js';
import { RestStore } from '../rest-store.js';
import { ServiceAllocator } from '../service-allocator.js';
import {
  createStrategies,
  defaultStrategy,
  ensureNamespace,
  FOREGROUND_FINALIZER,
  type Strategy,
  type SubresourceCall,
} from './index.js';

const PODS = RESOURCES.pods;
const NAMESPACES = RESOURCES.namespaces;
const NODES = RESOURCES.nodes;
const SECRETS = RESOURCES.secrets;
const CONFIGMAPS = RESOURCES.configmaps;
const DEPLOYMENTS = RESOURCES.deployments;
const CSRS = RESOURCES.certificatesigningrequests;

const NOW = new Date('2026-01-01T00:00:00Z');
/** No roles, no bindings, no pods: the reviews' answers do not matter here. */
const NO_POLICY = {
  rbac: { role: () => undefined, clusterRole: () => undefined, roleBindings: () => [], clusterRoleBindings: () => [] },
  nodes: new NodeGraph(),
};
const allocations = SqliteStore.open(mkdtempSync(join(tmpdir(), 'strategies-ranges-')));
const strategyFor = createStrategies({ services: new ServiceAllocator(allocations), authz: NO_POLICY });

function obj(fields: { metadata: KubeObject['metadata'] } & Record<string, unknown>): KubeObject {
  return { apiVersion: 'v1', kind: 'Test', ...fields };
}

/** The value at a path of nested objects, or undefined. */
function at(value: unknown, ...path: string[]): unknown {
  let v = value;
  for (const k of path) v = isObject(v) ? v[k] : undefined;
  return v;
}

function pod(spec: Record<string, unknown>, status: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid: 'u1' }, spec, status };
}

function subresource(s: Strategy, name: string): NonNullable<Strategy['subresources'][string]> {
  const sub = s.subresources[name];
  assert.ok(sub !== undefined, `no subresource ${name}`);
  return sub;
}

test('kinds with special behaviour have their strategy; plain kinds the default', () => {
  assert.equal(strategyFor(CONFIGMAPS), defaultStrategy);
  for (const r of [PODS, NAMESPACES, NODES, SECRETS, DEPLOYMENTS, CSRS])
    assert.notEqual(strategyFor(r), defaultStrategy, r.plural);
  assert.deepEqual(Object.keys(strategyFor(PODS).subresources).sort(), [
    'binding',
    'ephemeralcontainers',
    'eviction',
    'log',
    'status',
  ]);
  assert.deepEqual(Object.keys(strategyFor(DEPLOYMENTS).subresources).sort(), ['scale', 'status']);
  assert.deepEqual(Object.keys(strategyFor(NAMESPACES).subresources).sort(), ['finalize', 'status']);
  assert.equal(subresource(strategyFor(CSRS), 'approval').statusWrites, true);
});

test('an update of the main resource keeps the stored status and bumps generation only on spec changes', () => {
  const s = strategyFor(DEPLOYMENTS);
  const prev = obj({
    metadata: { name: 'd', uid: 'u', generation: 3 },
    spec: { replicas: 1 },
    status: { replicas: 1 },
  });
  const same = obj({ metadata: { name: 'd' }, spec: { replicas: 1 }, status: { replicas: 9 } });
  s.prepareForUpdate(DEPLOYMENTS, same, prev);
  assert.equal(same.metadata.generation, 3);
  assert.deepEqual(same['status'], { replicas: 1 });
  assert.equal(same.metadata.uid, 'u');
  const changed = obj({ metadata: { name: 'd' }, spec: { replicas: 2 } });
  s.prepareForUpdate(DEPLOYMENTS, changed, prev);
  assert.equal(changed.metadata.generation, 4);
});

test('a node keeps the status its agent writes and has no generation', () => {
  const s = strategyFor(NODES);
  const created = obj({ metadata: { name: 'n', deletionTimestamp: 'x' }, status: { capacity: { cpu: '2' } } });
  s.prepareForCreate(NODES, created);
  assert.deepEqual(created['status'], { capacity: { cpu: '2' } });
  assert.equal(created.metadata.generation, undefined);
  assert.equal(created.metadata.deletionTimestamp, undefined);
  const next = obj({ metadata: { name: 'n' }, status: { capacity: { cpu: '4' } } });
  s.prepareForUpdate(NODES, next, created);
  assert.deepEqual(next['status'], { capacity: { cpu: '4' } });
});

test('a pod is created Pending, keeping only its qosClass, and never has a generation', () => {
  const p = pod({}, { phase: 'Running', qosClass: 'BestEffort', podIP: '10.0.0.1' });
  p.metadata.generation = 7;
  strategyFor(PODS).prepareForCreate(PODS, p);
  assert.deepEqual(p['status'], { phase: 'Pending', qosClass: 'BestEffort' });
  assert.equal(p.metadata.generation, undefined);
  const next = pod({ activeDeadlineSeconds: 5 });
  next.metadata.generation = 2;
  strategyFor(PODS).prepareForUpdate(PODS, next, p);
  assert.equal(next.metadata.generation, undefined);
  assert.deepEqual(next['status'], { phase: 'Pending', qosClass: 'BestEffort' });
  assert.equal(strategyFor(PODS).returnsDeletedObject, true);
  assert.equal(strategyFor(CONFIGMAPS).returnsDeletedObject, undefined);
});

test('a DaemonSet is created, and its status written, with the four counts Kubernetes requires', () => {
  const s = strategyFor(RESOURCES.daemonsets);
  const ds = obj({ metadata: { name: 'ds' }, spec: {}, status: { numberReady: 5 } });
  s.prepareForCreate(RESOURCES.daemonsets, ds);
  assert.deepEqual(ds['status'], {
    currentNumberScheduled: 0,
    numberMisscheduled: 0,
    desiredNumberScheduled: 0,
    numberReady: 0,
  });
  const written = obj({ metadata: { name: 'ds' }, status: { numberReady: 2, observedGeneration: 1 } });
  s.normalize(written);
  assert.deepEqual(written['status'], {
    currentNumberScheduled: 0,
    numberMisscheduled: 0,
    desiredNumberScheduled: 0,
    numberReady: 2,
    observedGeneration: 1,
  });
});

test('an unscheduled pod goes at once; a scheduled one waits its grace period, then a 0 ends it', () => {
  const s = strategyFor(PODS);
  assert.equal(s.stageDeletion(pod({}), {}, NOW), false);
  const running = pod({ nodeName: 'n1', terminationGracePeriodSeconds: 30 }, { phase: 'Running' });
  assert.equal(s.stageDeletion(running, {}, NOW), true);
  assert.equal(running.metadata.deletionGracePeriodSeconds, 30);
  assert.equal(running.metadata.deletionTimestamp, '2026-01-01T00:00:30Z');
  assert.equal(s.waitsAfterFinalizers(running), true);
  assert.equal(s.stageDeletion(running, { gracePeriodSeconds: 0 }, NOW), false);
  const finished = pod({ nodeName: 'n1' }, { phase: 'Succeeded' });
  assert.equal(s.stageDeletion(finished, {}, NOW), false);
});

test('a pod with finalizers and no grace period waits for them with a zero grace period', () => {
  const p = pod({});
  p.metadata.finalizers = ['example.com/hold'];
  assert.equal(strategyFor(PODS).stageDeletion(p, {}, NOW), true);
  assert.equal(p.metadata.deletionGracePeriodSeconds, 0);
  assert.equal(p.metadata.deletionTimestamp, '2026-01-01T00:00:00Z');
});

test('a namespace turns Terminating and waits while spec.finalizers remain', () => {
  const s = strategyFor(NAMESPACES);
  const ns = obj({ metadata: { name: 'a' }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } });
  assert.equal(s.stageDeletion(ns, {}, NOW), true);
  assert.deepEqual(ns['status'], { phase: 'Terminating' });
  assert.equal(ns.metadata.deletionTimestamp, '2026-01-01T00:00:00Z');
  const empty = obj({ metadata: { name: 'b' }, spec: {} });
  assert.equal(s.stageDeletion(empty, {}, NOW), false);
});

test('a foreground delete of a plain object adds the garbage collector finalizer and waits', () => {
  const cm = obj({ metadata: { name: 'c' } });
  assert.equal(defaultStrategy.stageDeletion(cm, { propagationPolicy: 'Foreground' }, NOW), true);
  assert.deepEqual(cm.metadata.finalizers, [FOREGROUND_FINALIZER]);
  assert.equal(cm.metadata.deletionGracePeriodSeconds, 0);
  assert.equal(
    defaultStrategy.stageDeletion(obj({ metadata: { name: 'd' } }), { propagationPolicy: 'Background' }, NOW),
    false,
  );
});

test("a secret's stringData is folded into base64 data", () => {
  const secret = obj({ metadata: { name: 's' }, data: { a: 'eA==' }, stringData: { b: 'hi' } });
  strategyFor(SECRETS).normalize(secret);
  assert.deepEqual(secret['data'], { a: 'eA==', b: 'aGk=' });
  assert.equal(secret['stringData'], undefined);
});

test('a CSR records who asked for it, whatever the body says', () => {
  const body: Record<string, unknown> = { spec: { username: 'mallory', uid: 'x', request: 'r' } };
  strategyFor(CSRS).fromRequester?.(body, { name: 'alice', groups: ['g'] });
  assert.deepEqual(body['spec'], { username: 'alice', groups: ['g'], request: 'r' });
});

test('subresources dispatched from the maps write through the REST layer', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'strategies-'));
  const sqlite = SqliteStore.open(dir);
  try {
    const store = new RestStore(sqlite, { now: () => NOW, strategies: strategyFor });
    await ensureNamespace(store, 'default');
    const res = new ServerResponse(new IncomingMessage(new Socket()));
    const call = (
      r: SubresourceCall['r'],
      c: Pick<SubresourceCall, 'namespace' | 'name' | 'body'>,
    ): SubresourceCall => ({
      store,
      apply: new ApplyManager(store, () => NOW),
      kubelets: new KubeletProxy(store, undefined),
      r,
      query: {},
      contentType: 'application/merge-patch+json',
      options: () => ({}),
      res,
      ...c,
    });

    await store.create(PODS, {
      namespace: 'default',
      body: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'web' },
        spec: { containers: [{ name: 'c', image: 'busybox' }] },
      },
    });
    const bind = subresource(strategyFor(PODS), 'binding').create;
    assert.ok(bind !== undefined);
    const bound = await bind(call(PODS, { namespace: 'default', name: 'web', body: { target: { name: 'node-1' } } }));
    assert.equal(bound?.code, 201);
    const stored = await store.get(PODS, 'default', 'web');
    assert.equal(at(stored, 'spec', 'nodeName'), 'node-1');
    await assert.rejects(
      bind(call(PODS, { namespace: 'default', name: 'web', body: { target: { name: 'node-2' } } })),
      (e: unknown) => e instanceof ApiError && e.code === 409,
    );

    await store.create(DEPLOYMENTS, {
      namespace: 'default',
      body: {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'd' },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'd' } },
          template: { metadata: { labels: { app: 'd' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
        },
      },
    });
    const scale = subresource(strategyFor(DEPLOYMENTS), 'scale');
    const patched = await scale.patch?.(
      call(DEPLOYMENTS, { namespace: 'default', name: 'd', body: { spec: { replicas: 3 } } }),
    );
    assert.deepEqual(at(patched?.body, 'spec'), { replicas: 3 });
    const deployment = await store.get(DEPLOYMENTS, 'default', 'd');
    assert.equal(at(deployment, 'spec', 'replicas'), 3);
    assert.equal(deployment.metadata.generation, 2);

    await ensureNamespace(store, 'gone');
    const staged = await store.delete(NAMESPACES, { namespace: undefined, name: 'gone' });
    assert.equal(staged.deleted, false);
    const finalize = subresource(strategyFor(NAMESPACES), 'finalize').update;
    assert.ok(finalize !== undefined);
    await finalize(call(NAMESPACES, { namespace: undefined, name: 'gone', body: { spec: { finalizers: [] } } }));
    assert.equal(await store.find(NAMESPACES, undefined, 'gone'), undefined);
  } finally {
    await sqlite.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
