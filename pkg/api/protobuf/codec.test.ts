import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { onlyClientErrors, rejectsWith } from '../../errors/testing.js';
import { apiVersionOf, RESOURCE_LIST } from '../registry.js';
import { decodeProtobuf, encodeProtobuf, encodeProtobufWatchEvent, hasProtobufMagic, messageTypeOf } from './index.js';

type Json = Record<string, unknown>;

const MAGIC = Buffer.from('k8s\0', 'latin1');

const METADATA = {
  name: 'web',
  labels: { app: 'web', tier: 'front' },
  annotations: { note: 'x' },
  creationTimestamp: '2026-11-29T22:56:23Z',
  resourceVersion: '42',
  uid: '0b6f5d8e-1f7e-4c53-9b8e-6f1f00000001',
  generation: 3,
  finalizers: ['example.com/keep'],
  ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-1', uid: 'u-1', controller: true }],
  managedFields: [
    {
      manager: 'kubectl',
      operation: 'Update',
      apiVersion: 'v1',
      time: '2026-11-29T22:56:23Z',
      fieldsType: 'FieldsV1',
      fieldsV1: { 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } } },
    },
  ],
};

const POD_TEMPLATE = {
  metadata: { labels: { app: 'web' } },
  spec: {
    containers: [
      {
        name: 'web',
        image: 'nginx:1.27',
        command: ['nginx', '-g', 'daemon off;'],
        ports: [{ containerPort: 80, protocol: 'TCP' }],
        env: [{ name: 'A', value: '1' }],
        resources: { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '100m' } },
        readinessProbe: { httpGet: { path: '/', port: 'http' }, periodSeconds: 5 },
        livenessProbe: { tcpSocket: { port: 80 } },
      },
    ],
    volumes: [{ name: 'scratch', emptyDir: {} }],
    restartPolicy: 'Always',
    terminationGracePeriodSeconds: 0,
  },
};

/** Fields beyond metadata that exercise each kind's well-known types. */
const BODIES: Record<string, Json> = {
  Pod: { spec: POD_TEMPLATE.spec, status: { phase: 'Running', podIP: '10.0.0.5', startTime: '2026-11-29T22:56:24Z' } },
  Deployment: {
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: 'web' } },
      template: POD_TEMPLATE,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 1 } },
    },
    status: { replicas: 2, readyReplicas: 1 },
  },
  Service: {
    spec: { type: 'ClusterIP', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
  },
  ConfigMap: { data: { 'a.txt': 'hello', empty: '' }, binaryData: { bin: Buffer.from([0, 1, 2]).toString('base64') } },
  Secret: { type: 'Opaque', data: { password: Buffer.from('s3cr3t').toString('base64') } },
  Lease: {
    spec: {
      holderIdentity: 'node-1',
      leaseDurationSeconds: 40,
      renewTime: '2026-11-29T22:56:23.123456Z',
      acquireTime: '2026-11-29T22:00:00.000001Z',
    },
  },
  Job: {
    spec: {
      backoffLimit: 0,
      completions: 1,
      template: { ...POD_TEMPLATE, spec: { ...POD_TEMPLATE.spec, restartPolicy: 'Never' } },
    },
  },
  CronJob: { spec: { schedule: '*/5 * * * *', suspend: false, jobTemplate: { spec: { template: POD_TEMPLATE } } } },
  Role: { rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }] },
  RoleBinding: {
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r' },
    subjects: [{ kind: 'User', name: 'alice', apiGroup: 'rbac.authorization.k8s.io' }],
  },
  CertificateSigningRequest: {
    spec: {
      request: Buffer.from('-----BEGIN CERTIFICATE REQUEST-----\n').toString('base64'),
      signerName: 'kubernetes.io/kube-apiserver-client',
      usages: ['client auth'],
      expirationSeconds: 3600,
    },
    status: {
      conditions: [
        { type: 'Approved', status: 'True', reason: 'KubectlApprove', lastUpdateTime: '2026-11-29T22:56:23Z' },
      ],
    },
  },
  SelfSubjectAccessReview: {
    spec: { resourceAttributes: { namespace: 'default', verb: 'get', group: 'apps', resource: 'deployments' } },
  },
  SelfSubjectRulesReview: { spec: { namespace: 'default' } },
  Event: {
    reason: 'Started',
    message: 'ok',
    count: 2,
    eventTime: '2026-11-29T22:56:23.000100Z',
    involvedObject: { kind: 'Pod', name: 'p' },
  },
};

function fixture(apiVersion: string, kind: string, namespaced: boolean): Json {
  const metadata: Json = namespaced ? { ...METADATA, namespace: 'default' } : { ...METADATA };
  return { apiVersion, kind, metadata, ...(BODIES[kind] ?? {}) };
}

function roundTrip(original: Json): void {
  const first = encodeProtobuf(original);
  assert.ok(hasProtobufMagic(first));
  const json1 = decodeProtobuf(first);
  const second = encodeProtobuf(json1);
  const json2 = decodeProtobuf(second);
  assert.deepEqual(json2, json1);
  assert.ok(second.equals(first), `${String(original['kind'])}: the second encoding differs`);
  assert.deepEqual(json1, original);
}

/**
 * Kinds served as JSON only: CustomResourceDefinitions' messages live in apiextensions-apiserver,
 * which the generated schema does not read (a client asking for protobuf gets JSON for them).
 */
const JSON_ONLY = new Set([
  'apiextensions.k8s.io/v1 CustomResourceDefinition',
  // k8s.io/metrics' messages, like apiextensions', are outside the generated schema.
  'metrics.k8s.io/v1beta1 NodeMetrics',
  'metrics.k8s.io/v1beta1 PodMetrics',
]);

test('every served kind (and its list) round-trips protobuf → JSON → protobuf → JSON', () => {
  for (const r of RESOURCE_LIST) {
    const apiVersion = apiVersionOf(r);
    if (JSON_ONLY.has(`${apiVersion} ${r.kind}`)) continue;
    assert.ok(messageTypeOf(apiVersion, r.kind), `the schema lacks ${apiVersion} ${r.kind}`);
    const object = fixture(apiVersion, r.kind, r.namespaced);
    roundTrip(object);
    if (r.verbs.includes('list')) {
      const item: Json = { ...object };
      delete item['apiVersion'];
      delete item['kind'];
      roundTrip({ apiVersion, kind: r.listKind, metadata: { resourceVersion: '7', continue: 'abc' }, items: [item] });
    }
  }
});

test('meta kinds round-trip: Status, DeleteOptions; subresource kinds: Scale, Eviction, TokenRequest', () => {
  roundTrip({
    apiVersion: 'v1',
    kind: 'Status',
    status: 'Failure',
    message: 'pods "x" not found',
    reason: 'NotFound',
    details: { name: 'x', kind: 'pods', causes: [{ field: 'spec', message: 'm' }] },
    code: 404,
  });
  roundTrip({
    apiVersion: 'v1',
    kind: 'DeleteOptions',
    gracePeriodSeconds: 0,
    propagationPolicy: 'Foreground',
    dryRun: ['All'],
  });
  roundTrip({ apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'web' }, spec: { replicas: 3 } });
  roundTrip({
    apiVersion: 'policy/v1',
    kind: 'Eviction',
    metadata: { name: 'p' },
    deleteOptions: { gracePeriodSeconds: 5 },
  });
  roundTrip({
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    metadata: { name: 'sa' },
    spec: { audiences: ['x'], expirationSeconds: 600 },
    status: { token: 'a.b.c', expirationTimestamp: '2026-11-29T23:06:23Z' },
  });
});

/** A minimal protobuf writer, independent of protobufjs, to check field numbers against what Go's encoder writes. */
function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}
function bytesField(field: number, value: Buffer | string): Buffer {
  const data = typeof value === 'string' ? Buffer.from(value) : value;
  return Buffer.concat([varint((field << 3) | 2), varint(data.length), data]);
}
function envelope(apiVersion: string, kind: string, raw: Buffer): Buffer {
  const typeMeta = Buffer.concat([bytesField(1, apiVersion), bytesField(2, kind)]);
  return Buffer.concat([MAGIC, bytesField(1, typeMeta), bytesField(2, raw)]);
}

test('a SelfSubjectAccessReview as Go encodes it decodes to its JSON form (field numbers from upstream)', () => {
  const attributes = Buffer.concat([
    bytesField(1, 'default'),
    bytesField(2, 'get'),
    bytesField(3, 'apps'),
    bytesField(5, 'deployments'),
  ]);
  // gogo writes a zero ObjectMeta and an empty status: both must vanish.
  const raw = Buffer.concat([
    bytesField(1, Buffer.concat([bytesField(1, ''), bytesField(8, Buffer.alloc(0))])),
    bytesField(2, bytesField(1, attributes)),
    bytesField(3, Buffer.concat([varint(1 << 3), varint(0)])),
  ]);
  const decoded = decodeProtobuf(envelope('authorization.k8s.io/v1', 'SelfSubjectAccessReview', raw));
  assert.deepEqual(decoded, {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SelfSubjectAccessReview',
    metadata: {},
    spec: { resourceAttributes: { namespace: 'default', verb: 'get', group: 'apps', resource: 'deployments' } },
    status: { allowed: false },
  });
});

test('a watch event frame is a length, then a WatchEvent whose object is a full protobuf body', () => {
  const object = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'd' }, data: { a: 'b' } };
  const frame = encodeProtobufWatchEvent('ADDED', object);
  assert.equal(frame.readUInt32BE(0), frame.length - 4);
  const watchEvent = messageTypeOf('v1', 'WatchEvent');
  assert.ok(watchEvent instanceof protobuf.Type);
  const event = watchEvent.toObject(watchEvent.decode(frame.subarray(4)));
  assert.equal(event['type'], 'ADDED');
  const raw: unknown = event['object']?.raw;
  assert.ok(Buffer.isBuffer(raw));
  assert.deepEqual(decodeProtobuf(raw), object);
});

test('hostile bodies: wrong magic, truncation, unknown kinds, huge lengths, nesting: all 400, nothing else', () => {
  const good = encodeProtobuf(fixture('apps/v1', 'Deployment', true));
  rejectsWith(() => decodeProtobuf(Buffer.from('{"kind":"Pod"}')), 400, /prefix/);
  rejectsWith(() => decodeProtobuf(MAGIC), 400, /Kind/);
  for (let cut = 1; cut < good.length; cut += 7) onlyClientErrors(() => decodeProtobuf(good.subarray(0, cut)));
  rejectsWith(() => decodeProtobuf(good.subarray(0, good.length - 3)));
  rejectsWith(() => decodeProtobuf(envelope('apps/v1', 'Gadget', Buffer.alloc(0))), 400, /no kind "Gadget"/);
  rejectsWith(() => decodeProtobuf(envelope('../../x', 'Pod', Buffer.alloc(0))), 400);
  rejectsWith(() => decodeProtobuf(envelope('v1', 'constructor', Buffer.alloc(0))), 400);
  // A length prefix far beyond the body.
  const huge = Buffer.concat([MAGIC, varint((2 << 3) | 2), varint(2 ** 31), Buffer.from('x')]);
  rejectsWith(() => decodeProtobuf(huge));
  // A varint that never ends.
  rejectsWith(() => decodeProtobuf(Buffer.concat([MAGIC, Buffer.alloc(64, 0xff)])));
  // Unknown fields nested as groups, 100,000 deep.
  const groups = Buffer.concat([MAGIC, Buffer.alloc(100_000, (9 << 3) | 3)]);
  onlyClientErrors(() => decodeProtobuf(groups));
  // A RawExtension carrying envelopes inside envelopes.
  let nested = envelope('v1', 'ConfigMap', Buffer.alloc(0));
  for (let i = 0; i < 10; i++)
    nested = envelope(
      'v1',
      'WatchEvent',
      Buffer.concat([bytesField(1, 'ADDED'), bytesField(2, bytesField(1, nested))]),
    );
  rejectsWith(() => decodeProtobuf(nested), 400, /nests envelopes/);
  // A RawExtension of JSON with a prototype key.
  const proto = envelope(
    'v1',
    'WatchEvent',
    Buffer.concat([bytesField(1, 'ADDED'), bytesField(2, bytesField(1, '{"__proto__":{"x":1}}'))]),
  );
  rejectsWith(() => decodeProtobuf(proto), 400, /__proto__/);
  // A map with a prototype key (ConfigMap data).
  const entry = Buffer.concat([bytesField(1, '__proto__'), bytesField(2, 'x')]);
  rejectsWith(() => decodeProtobuf(envelope('v1', 'ConfigMap', bytesField(2, entry))), 400, /__proto__/);
  rejectsWith(
    () => decodeProtobuf(Buffer.concat([MAGIC, bytesField(1, bytesField(2, 'Pod')), bytesField(3, 'gzip')])),
    400,
    /encoding/,
  );
});

test('random bytes after the magic, and random mutations of a real body, give a value or a 400', () => {
  const good = encodeProtobuf(fixture('apps/v1', 'Deployment', true));
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      onlyClientErrors(() => decodeProtobuf(Buffer.concat([MAGIC, bytes])));
    }),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
      (edits) => {
        const copy = Buffer.from(good);
        for (const [at, byte] of edits) copy[at] = byte;
        onlyClientErrors(() => decodeProtobuf(copy));
      },
    ),
    { numRuns: 500 },
  );
});

test('an object whose kind has no message cannot be encoded: 406', () => {
  rejectsWith(() => encodeProtobuf({ apiVersion: 'v1', kind: 'APIResourceList' }), 406);
});

test("gogo's zero noise goes where Go's JSON omits it (omitempty values); a pointer's explicit zero stays", () => {
  const wire = encodeProtobuf({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'd', generation: 0, namespace: '' },
    spec: {
      replicas: 0,
      paused: false,
      minReadySeconds: 0,
      template: { spec: { hostNetwork: false, containers: [{ name: 'c', image: 'i', tty: false, ports: [] }] } },
    },
  });
  assert.deepEqual(decodeProtobuf(wire), {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'd' },
    spec: { replicas: 0, template: { spec: { containers: [{ name: 'c', image: 'i' }] } } },
  });
});
