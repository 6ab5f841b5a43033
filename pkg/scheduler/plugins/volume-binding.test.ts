import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Node, PersistentVolume, PersistentVolumeClaim, Pod, StorageClass } from '../../api/types/index.js';
import { LOCAL_PATH_ROOT_ANNOTATION } from '../../api/volume-binding.js';
import { SchedulerCache } from '../cache.js';
import { filterVolumes, podVolumes, type VolumeLister } from './volume-binding.js';

function node(name: string, localPath = true): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: { 'kubernetes.io/hostname': name },
      ...(localPath ? { annotations: { [LOCAL_PATH_ROOT_ANNOTATION]: `/var/lib/${name}/storage` } } : {}),
    },
    status: { allocatable: { cpu: '2', memory: '4Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

function pod(name: string, claims: string[], nodeName?: string): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', uid: name },
    spec: {
      ...(nodeName === undefined ? {} : { nodeName }),
      containers: [{ name: 'c', image: 'i' }],
      volumes: claims.map((c) => ({ name: c, persistentVolumeClaim: { claimName: c } })),
    },
  };
}

function claim(name: string, spec: Partial<NonNullable<PersistentVolumeClaim['spec']>>): PersistentVolumeClaim {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name, namespace: 'default', uid: name },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, ...spec },
  };
}

const pinnedTo = (nodeName: string): PersistentVolume => ({
  apiVersion: 'v1',
  kind: 'PersistentVolume',
  metadata: { name: `pv-${nodeName}` },
  spec: {
    capacity: { storage: '1Gi' },
    accessModes: ['ReadWriteOnce'],
    hostPath: { path: '/x' },
    nodeAffinity: {
      required: {
        nodeSelectorTerms: [
          { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [nodeName] }] },
        ],
      },
    },
  },
});

const localPath: StorageClass = {
  apiVersion: 'storage.k8s.io/v1',
  kind: 'StorageClass',
  metadata: { name: 'local-path' },
  provisioner: 'coxswain.io/local-path',
  volumeBindingMode: 'WaitForFirstConsumer',
};

function lister(claims: PersistentVolumeClaim[], volumes: PersistentVolume[]): VolumeLister {
  return {
    claim: (ns, name) => claims.find((c) => c.metadata.namespace === ns && c.metadata.name === name),
    volume: (name) => volumes.find((v) => v.metadata.name === name),
    storageClass: (name) =>
      name === 'local-path'
        ? localPath
        : name === 'local-storage'
          ? { ...localPath, metadata: { name }, provisioner: 'kubernetes.io/no-provisioner' }
          : undefined,
    volumes: () => volumes,
  };
}

function infos(nodes: Node[], pods: Pod[] = []) {
  const cache = new SchedulerCache();
  for (const n of nodes) cache.upsertNode(n);
  for (const p of pods) cache.upsertPod(p);
  return cache.snapshot();
}

const fits = (p: Pod, l: VolumeLister, all: ReturnType<typeof infos>): string[] =>
  all.filter((n) => filterVolumes(podVolumes(p, l), n, { all, lister: l }).code === 'Success').map((n) => n.name);

test('a pod whose claim is bound to a volume on node X only fits X', () => {
  const all = infos([node('n1'), node('n2'), node('n3')]);
  const l = lister([claim('data', { volumeName: 'pv-n2' })], [pinnedTo('n2')]);
  assert.deepEqual(fits(pod('p', ['data']), l, all), ['n2']);
  const status = filterVolumes(podVolumes(pod('p', ['data']), l), all[0] ?? assert.fail(), { all, lister: l });
  assert.equal(status.reason, 'node(s) had volume node affinity conflict');
});

test('a waiting local-path claim fits nodes whose agent published a root; missing and Immediate claims fit none', () => {
  const all = infos([node('n1'), node('n2', false)]);
  const waiting = lister([claim('data', { storageClassName: 'local-path' })], []);
  assert.deepEqual(fits(pod('p', ['data']), waiting, all), ['n1']);
  const volumes = podVolumes(pod('p', ['data']), waiting);
  assert.equal(volumes.waiting.length, 1);

  const missing = podVolumes(pod('p', ['nope']), waiting);
  assert.equal(missing.failure?.reason, 'persistentvolumeclaim "nope" not found');
  const immediate = podVolumes(pod('p', ['data']), lister([claim('data', { storageClassName: '' })], []));
  assert.equal(immediate.failure?.reason, 'pod has unbound immediate PersistentVolumeClaims');
  const deleting = claim('data', { volumeName: 'pv-n1' });
  deleting.metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
  assert.equal(
    podVolumes(pod('p', ['data']), lister([deleting], [pinnedTo('n1')])).failure?.reason,
    'persistentvolumeclaim "data" is being deleted',
  );
});

test('a ReadWriteOnce claim in use on one node keeps its other pods there', () => {
  // A volume pinned to no node: the template's node affinity is dropped.
  const template = pinnedTo('n1');
  const free: PersistentVolume = {
    ...template,
    metadata: { name: 'shared' },
    spec: { ...template.spec, nodeAffinity: undefined },
  };
  const l = lister([claim('data', { volumeName: 'shared' })], [free]);
  const all = infos([node('n1'), node('n2')], [pod('first', ['data'], 'n2')]);
  assert.deepEqual(fits(pod('second', ['data']), l, all), ['n2']);
});

test('a WaitForFirstConsumer class nothing provisions fits only the nodes of a free static volume', () => {
  const all = infos([node('n1'), node('n2')]);
  const local = { ...pinnedTo('n2'), spec: { ...pinnedTo('n2').spec, storageClassName: 'local-storage' } };
  const waiting = claim('data', { storageClassName: 'local-storage' });
  assert.deepEqual(fits(pod('p', ['data']), lister([waiting], [local]), all), ['n2']);
  assert.deepEqual(fits(pod('p', ['data']), lister([waiting], []), all), []);
});
