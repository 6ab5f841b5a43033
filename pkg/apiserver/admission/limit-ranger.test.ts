import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject, LimitRange, LimitRangeItem } from '../../api/index.js';
import { ApiError } from '../../errors/index.js';
import { defaultFromLimitRanges, enforceLimitRanges, LIMIT_RANGER_ANNOTATION } from './limit-ranger.js';

const PODS = { group: '', plural: 'pods' };
const CLAIMS = { group: '', plural: 'persistentvolumeclaims' };

function range(...limits: LimitRangeItem[]): LimitRange {
  return { apiVersion: 'v1', kind: 'LimitRange', metadata: { name: 'lr', namespace: 'ns' }, spec: { limits } };
}

function pod(containers: Record<string, unknown>[], initContainers?: Record<string, unknown>[]): KubeObject {
  const spec = initContainers === undefined ? { containers } : { containers, initContainers };
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'ns' }, spec };
}

function refusal(fn: () => void): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ApiError);
    assert.equal(err.code, 403);
    assert.equal(err.reason, 'Forbidden');
    return err.message;
  }
  assert.fail('not refused');
}

test('defaults fill what containers and init containers leave out, and the pod says so', () => {
  const lr = range({
    type: 'Container',
    default: { cpu: '500m', memory: '128Mi' },
    defaultRequest: { cpu: '100m', memory: '64Mi' },
  });
  const p = pod(
    [{ name: 'app', resources: { limits: { cpu: '200m' } } }],
    [{ name: 'init', resources: { requests: { cpu: '50m', memory: '32Mi' }, limits: { cpu: '50m', memory: '32Mi' } } }],
  );
  defaultFromLimitRanges(PODS, p, [lr]);
  assert.deepEqual(p['spec'], {
    containers: [
      {
        name: 'app',
        resources: { limits: { cpu: '200m', memory: '128Mi' }, requests: { cpu: '100m', memory: '64Mi' } },
      },
    ],
    initContainers: [
      { name: 'init', resources: { requests: { cpu: '50m', memory: '32Mi' }, limits: { cpu: '50m', memory: '32Mi' } } },
    ],
  });
  assert.equal(
    p.metadata.annotations?.[LIMIT_RANGER_ANNOTATION],
    'LimitRanger plugin set: cpu, memory request for container app; memory limit for container app',
  );
  const untouched = pod([{ name: 'a' }]);
  defaultFromLimitRanges({ group: '', plural: 'configmaps' }, untouched, [lr]);
  assert.deepEqual(untouched['spec'], { containers: [{ name: 'a' }] });
});

test("container bounds refuse with Kubernetes' messages, all at once", () => {
  const lr = range({ type: 'Container', max: { cpu: '500m' }, min: { memory: '64Mi' } });
  assert.equal(
    refusal(() =>
      enforceLimitRanges(
        PODS,
        pod([{ name: 'a', resources: { limits: { cpu: '1' }, requests: { memory: '64Mi' } } }]),
        [lr],
      ),
    ),
    'pods "web" is forbidden: maximum cpu usage per Container is 500m, but limit is 1',
  );
  assert.equal(
    refusal(() => enforceLimitRanges(PODS, pod([{ name: 'a' }]), [lr])),
    'pods "web" is forbidden: [minimum memory usage per Container is 64Mi.  No request is specified, maximum cpu usage per Container is 500m.  No limit is specified]',
  );
  enforceLimitRanges(PODS, pod([{ name: 'a', resources: { limits: { cpu: '0.5' }, requests: { memory: '1Gi' } } }]), [
    lr,
  ]);
});

test('the limit-to-request ratio, and the pod as a whole', () => {
  const ratio = range({ type: 'Container', maxLimitRequestRatio: { cpu: '2' } });
  assert.equal(
    refusal(() =>
      enforceLimitRanges(
        PODS,
        pod([{ name: 'a', resources: { requests: { cpu: '100m' }, limits: { cpu: '300m' } } }]),
        [ratio],
      ),
    ),
    'pods "web" is forbidden: cpu max limit to request ratio per Container is 2, but provided ratio is 3.000000',
  );
  assert.match(
    refusal(() => enforceLimitRanges(PODS, pod([{ name: 'a', resources: { limits: { cpu: '1' } } }]), [ratio])),
    /but no request is specified or request is 0$/,
  );
  const perPod = range({ type: 'Pod', max: { memory: '1Gi' } });
  const two = pod([
    { name: 'a', resources: { limits: { memory: '768Mi' } } },
    { name: 'b', resources: { limits: { memory: '512Mi' } } },
  ]);
  assert.equal(
    refusal(() => enforceLimitRanges(PODS, two, [perPod])),
    'pods "web" is forbidden: maximum memory usage per Pod is 1Gi, but limit is 1280Mi',
  );
});

test('a claim asks for storage within min and max', () => {
  const lr = range({ type: 'PersistentVolumeClaim', min: { storage: '1Gi' }, max: { storage: '2Gi' } });
  const claim = (storage: string): KubeObject => ({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: 'data', namespace: 'ns' },
    spec: { resources: { requests: { storage } } },
  });
  enforceLimitRanges(CLAIMS, claim('1536Mi'), [lr]);
  assert.equal(
    refusal(() => enforceLimitRanges(CLAIMS, claim('5Gi'), [lr])),
    'persistentvolumeclaims "data" is forbidden: maximum storage usage per PersistentVolumeClaim is 2Gi, but request is 5Gi',
  );
  assert.equal(
    refusal(() => enforceLimitRanges(CLAIMS, claim('500Mi'), [lr])),
    'persistentvolumeclaims "data" is forbidden: minimum storage usage per PersistentVolumeClaim is 1Gi, but request is 500Mi',
  );
});
