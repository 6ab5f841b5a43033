import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from './meta.js';
import { RESOURCES } from './registry.js';
import { validateObject, validateUpdate } from './validation.js';

const PVC = RESOURCES.persistentvolumeclaims;
const PV = RESOURCES.persistentvolumes;
const SC = RESOURCES.storageclasses;

function claim(spec: Record<string, unknown>, status?: Record<string, unknown>): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: 'data', namespace: 'default' },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, ...spec },
    ...(status === undefined ? {} : { status }),
  };
}

function volume(spec: Record<string, unknown>): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name: 'pv1' },
    spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/srv/pv1' }, ...spec },
  };
}

const messages = (causes: { field?: string; message?: string }[]): string[] =>
  causes.map((c) => `${c.field ?? ''}: ${c.message ?? ''}`);

test('a claim needs access modes and a positive storage request, with Kubernetes messages', () => {
  assert.deepEqual(validateObject(claim({}), PVC), []);
  assert.deepEqual(messages(validateObject(claim({ accessModes: [], resources: {} }), PVC)), [
    'spec.accessModes: Required value: at least 1 access mode is required',
    'spec.resources[storage]: Required value',
  ]);
  assert.deepEqual(
    messages(validateObject(claim({ accessModes: ['Bogus'], resources: { requests: { storage: '0' } } }), PVC)),
    [
      'spec.accessModes: Unsupported value: "Bogus": supported values: "ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"',
      'spec.resources[storage]: Invalid value: "0": must be greater than zero',
    ],
  );
  // Hostile: a request that is no quantity, an absurd class name; never a throw.
  const odd = validateObject(claim({ storageClassName: 'Bad_Name', resources: { requests: { storage: {} } } }), PVC);
  assert.ok(odd.some((c) => c.field === 'spec.storageClassName'));
  assert.ok(odd.some((c) => c.field === 'spec.resources[storage]'));
  assert.ok(validateObject({ ...claim({}), spec: 'x' } as unknown as KubeObject, PVC).length > 0);
});

test('a claim spec is immutable but for the binding once and the requests of a bound claim, never below capacity', () => {
  const bound = claim({ volumeName: 'pv1' }, { phase: 'Bound', capacity: { storage: '1Gi' } });
  assert.deepEqual(validateUpdate(claim({ volumeName: 'pv1' }), claim({}), PVC), [], 'binding once');
  assert.deepEqual(messages(validateUpdate(claim({ volumeName: 'pv2' }), bound, PVC)), [
    'spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims',
  ]);
  const grown = claim({ volumeName: 'pv1', resources: { requests: { storage: '2Gi' } } });
  assert.deepEqual(validateUpdate(grown, bound, PVC), []);
  const shrunk = claim({ volumeName: 'pv1', resources: { requests: { storage: '500Mi' } } });
  assert.deepEqual(messages(validateUpdate(shrunk, bound, PVC)), [
    'spec.resources.requests.storage: Forbidden: field can not be less than status.capacity',
  ]);
  // An unbound claim cannot change its requests.
  assert.equal(validateUpdate(claim({ resources: { requests: { storage: '2Gi' } } }), claim({}), PVC).length, 1);
  assert.equal(validateUpdate(claim({ accessModes: ['ReadWriteMany'] }), claim({}), PVC).length, 1);
});

test('a volume needs capacity, access modes and exactly one source; local needs node affinity', () => {
  assert.deepEqual(validateObject(volume({}), PV), []);
  assert.deepEqual(
    messages(validateObject(volume({ capacity: undefined, accessModes: undefined, hostPath: undefined }), PV)),
    [
      'spec.accessModes: Required value',
      'spec.capacity: Required value',
      'spec: Required value: must specify a volume type',
    ],
  );
  assert.deepEqual(messages(validateObject(volume({ local: { path: '/mnt/disk' } }), PV)), [
    'spec.local: Forbidden: may not specify more than 1 volume type',
    'spec.nodeAffinity: Required value: Local volume requires node affinity',
  ]);
  assert.deepEqual(messages(validateObject(volume({ hostPath: { path: '/srv/../etc' } }), PV)), [
    `spec.hostPath.path: Invalid value: "/srv/../etc": must not contain '..'`,
  ]);
  assert.deepEqual(messages(validateObject(volume({ persistentVolumeReclaimPolicy: 'Shred' }), PV)), [
    'spec.persistentVolumeReclaimPolicy: Unsupported value: "Shred": supported values: "Delete", "Recycle", "Retain"',
  ]);
  assert.deepEqual(messages(validateUpdate(volume({ hostPath: { path: '/other' } }), volume({}), PV)), [
    'spec.persistentvolumesource: Forbidden: spec.persistentvolumesource is immutable after creation',
  ]);
  assert.deepEqual(validateUpdate(volume({ capacity: { storage: '2Gi' } }), volume({}), PV), []);
});

test('a StorageClass: provisioner required, known policies and modes, parameters and provisioner immutable', () => {
  const cls = (extra: Record<string, unknown>): KubeObject => ({
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: 'fast' },
    provisioner: 'example.com/fast',
    ...extra,
  });
  assert.deepEqual(validateObject(cls({}), SC), []);
  assert.deepEqual(
    messages(validateObject(cls({ provisioner: '', reclaimPolicy: 'Recycle', volumeBindingMode: 'Later' }), SC)),
    [
      'provisioner: Required value',
      'reclaimPolicy: Unsupported value: "Recycle": supported values: "Delete", "Retain"',
      'volumeBindingMode: Unsupported value: "Later": supported values: "Immediate", "WaitForFirstConsumer"',
    ],
  );
  assert.deepEqual(messages(validateUpdate(cls({ provisioner: 'other', parameters: { a: 'b' } }), cls({}), SC)), [
    'parameters: Forbidden: updates to parameters are forbidden.',
    'provisioner: Forbidden: updates to provisioner are forbidden.',
  ]);
});

test('a StatefulSet mounts its volumeClaimTemplates; templates are checked as claims', () => {
  const set = (templates: unknown[]): KubeObject => ({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      selector: { matchLabels: { app: 'web' } },
      serviceName: 'nginx',
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'c', image: 'nginx', volumeMounts: [{ name: 'www', mountPath: '/data' }] }] },
      },
      volumeClaimTemplates: templates,
    },
  });
  const www = {
    metadata: { name: 'www' },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
  };
  assert.deepEqual(validateObject(set([www]), RESOURCES.statefulsets), []);
  assert.deepEqual(messages(validateObject(set([]), RESOURCES.statefulsets)), [
    'spec.template.spec.containers[0].volumeMounts[0].name: Not found: "www"',
  ]);
  assert.deepEqual(
    messages(validateObject(set([{ ...www, spec: { accessModes: ['ReadWriteOnce'] } }]), RESOURCES.statefulsets)),
    ['spec.volumeClaimTemplates[0].spec.resources[storage]: Required value'],
  );
});
