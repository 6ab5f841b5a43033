import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../api/meta.js';
import type { StoreEvent, WatchIndex } from './store.js';
import { WatcherSet } from './watchers.js';

function pod(name: string, nodeName?: string): KubeObject & { spec: { nodeName?: string } } {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'ns' }, spec: nodeName ? { nodeName } : {} };
}

function onNode(value: string): WatchIndex {
  return {
    name: 'field:spec.nodeName',
    value,
    of: (o) => {
      const spec: unknown = o['spec'];
      const node = typeof spec === 'object' && spec !== null && 'nodeName' in spec ? spec.nodeName : undefined;
      return typeof node === 'string' ? node : '';
    },
  };
}

function event(revision: number, object: KubeObject, prevObject?: KubeObject): StoreEvent {
  const ev: StoreEvent = {
    type: prevObject ? 'MODIFIED' : 'ADDED',
    key: `/pods/ns/${object.metadata.name}`,
    revision,
    object,
  };
  if (prevObject) ev.prevObject = prevObject;
  return ev;
}

function recorder(set: WatcherSet, index?: WatchIndex): { seen: number[]; errors: string[]; stop: () => void } {
  const seen: number[] = [];
  const errors: string[] = [];
  const handle = set.add('/pods/', 0, {
    onEvent: (e) => seen.push(e.revision),
    onError: (e) => errors.push(e.message),
    ...(index ? { index } : {}),
  });
  return { seen, errors, stop: handle.stop };
}

test('an indexed watcher gets only the events of its value, by object or previous object; a plain one gets all', () => {
  const set = new WatcherSet();
  const a = recorder(set, onNode('node-a'));
  const b = recorder(set, onNode('node-b'));
  const unassigned = recorder(set, onNode(''));
  const all = recorder(set);
  set.emit(event(1, pod('p1')));
  set.emit(event(2, pod('p1', 'node-a'), pod('p1')));
  set.emit(event(3, pod('p2', 'node-b')));
  set.emit(event(4, pod('p3', 'node-c')));
  assert.deepEqual(a.seen, [2]);
  assert.deepEqual(b.seen, [3]);
  // Leaving the value (unassigned → node-a) reaches the watchers of the old value too.
  assert.deepEqual(unassigned.seen, [1, 2]);
  assert.deepEqual(all.seen, [1, 2, 3, 4]);
  assert.equal(set.size, 4);
});

test('stopping an indexed watcher removes it; a failure reaches indexed watchers', () => {
  const set = new WatcherSet();
  const a = recorder(set, onNode('node-a'));
  const a2 = recorder(set, onNode('node-a'));
  a.stop();
  set.emit(event(1, pod('p1', 'node-a')));
  assert.deepEqual(a.seen, []);
  assert.deepEqual(a2.seen, [1]);
  assert.equal(set.size, 1);
  set.fail(new Error('store closed'));
  assert.deepEqual(a2.errors, ['store closed']);
  assert.equal(set.size, 0);
});
