import { test } from 'node:test';
import assert from 'node:assert/strict';
import { policyEvaluator } from './checker.js';
import { AuditRecorder, microTime, type AuditRequestInput, type AuditSink } from './event.js';
import { encodeEvent } from './log-backend.js';
import { validatePolicy } from './policy.js';
import type { AuditEvent, Level } from './types.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const MICRO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

class Collect implements AuditSink {
  readonly events: AuditEvent[] = [];
  process(event: AuditEvent): boolean {
    this.events.push(event);
    return true;
  }
}

function setup(
  rules: unknown[],
  options: { omitStages?: string[]; omitManagedFields?: boolean; maxObjectBytes?: number } = {},
): { recorder: AuditRecorder; sink: Collect } {
  const { policy } = validatePolicy({
    apiVersion: 'audit.k8s.io/v1',
    kind: 'Policy',
    rules,
    omitStages: options.omitStages,
    omitManagedFields: options.omitManagedFields,
  });
  const sink = new Collect();
  let now = Date.UTC(2026, 10, 29, 20, 30, 0) * 1000 + 123456;
  const recorder = new AuditRecorder({
    evaluate: policyEvaluator(policy),
    sink,
    clock: () => (now += 1500),
    maxObjectBytes: options.maxObjectBytes,
  });
  return { recorder, sink };
}

function atLevel(level: Level): ReturnType<typeof setup> {
  return setup([{ level }]);
}

const createPod: AuditRequestInput = {
  requestURI: '/api/v1/namespaces/default/pods?fieldManager=kubectl-run',
  path: '/api/v1/namespaces/default/pods',
  verb: 'create',
  user: { username: 'alice', groups: ['dev', 'system:authenticated'] },
  sourceIPs: ['10.0.0.7'],
  userAgent: 'kubectl/v1.31.0 (linux/amd64) kubernetes/abcdef',
  objectRef: { resource: 'pods', namespace: 'default', apiVersion: 'v1' },
};

const pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web', namespace: 'default', managedFields: [{ manager: 'kubectl' }] },
  spec: { containers: [{ name: 'web', image: 'nginx' }] },
};

test('microTime is RFC 3339 in UTC with microseconds', () => {
  assert.equal(microTime(Date.UTC(2026, 0, 2, 3, 4, 5) * 1000 + 6007), '2026-01-02T03:04:05.006007Z');
  assert.equal(microTime(0), '1970-01-01T00:00:00.000000Z');
  assert.match(microTime(Date.now() * 1000), MICRO_TIME);
});

test('a Metadata event has Kubernetes’ shape and no bodies', () => {
  const { recorder, sink } = atLevel('Metadata');
  const audit = recorder.begin(createPod);
  assert.ok(audit);
  audit.recordAuthorization({
    allowed: true,
    reason: 'RBAC: allowed by ClusterRoleBinding "edit" of ClusterRole "edit" to User "alice"',
  });
  audit.logRequestObject(pod);
  audit.logResponseObject({ ...pod, metadata: { ...pod.metadata, uid: 'u-1' } });
  audit.complete(201);
  assert.equal(sink.events.length, 2);
  const [received, complete] = sink.events;
  assert.equal(received?.stage, 'RequestReceived');
  assert.equal(received?.responseStatus, undefined);
  assert.equal(received?.auditID, complete?.auditID);
  assert.match(complete?.auditID ?? '', UUID);
  const line = encodeEvent(complete ?? assert.fail());
  assert.ok(line !== undefined && line.endsWith('\n') && !line.slice(0, -1).includes('\n'));
  const parsed: unknown = JSON.parse(line);
  assert.deepEqual(parsed, {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'Metadata',
    auditID: complete?.auditID,
    stage: 'ResponseComplete',
    requestURI: '/api/v1/namespaces/default/pods?fieldManager=kubectl-run',
    verb: 'create',
    user: { username: 'alice', groups: ['dev', 'system:authenticated'] },
    sourceIPs: ['10.0.0.7'],
    userAgent: 'kubectl/v1.31.0 (linux/amd64) kubernetes/abcdef',
    objectRef: { resource: 'pods', namespace: 'default', name: 'web', apiVersion: 'v1' },
    responseStatus: { metadata: {}, code: 201 },
    requestReceivedTimestamp: '2026-11-29T20:30:00.124956Z',
    stageTimestamp: '2026-11-29T20:30:00.127956Z',
    annotations: {
      'authorization.k8s.io/decision': 'allow',
      'authorization.k8s.io/reason': 'RBAC: allowed by ClusterRoleBinding "edit" of ClusterRole "edit" to User "alice"',
    },
  });
  // Keys in Kubernetes' order.
  assert.deepEqual(Object.keys(complete ?? {}).slice(0, 8), [
    'kind',
    'apiVersion',
    'level',
    'auditID',
    'stage',
    'requestURI',
    'verb',
    'user',
  ]);
});

test('Request adds the request object after receipt; RequestResponse adds the response', () => {
  for (const level of ['Request', 'RequestResponse'] as const) {
    const { recorder, sink } = atLevel(level);
    const audit = recorder.begin(createPod);
    audit?.logRequestObject(pod);
    audit?.logResponseObject({ ...pod, status: { phase: 'Pending' } });
    audit?.complete(201);
    const [received, complete] = sink.events;
    assert.equal(received?.requestObject, undefined, 'RequestReceived is emitted before the body is read');
    assert.deepEqual(complete?.requestObject, pod);
    if (level === 'Request') assert.equal(complete?.responseObject, undefined);
    else assert.deepEqual(complete?.responseObject, { ...pod, status: { phase: 'Pending' } });
  }
});

test('a Secret audited at Metadata never shows its data', () => {
  const { recorder, sink } = setup([
    { level: 'Metadata', resources: [{ group: '', resources: ['secrets'] }] },
    { level: 'RequestResponse' },
  ]);
  const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db' }, data: { password: 'aHVudGVyMg==' } };
  const audit = recorder.begin({
    ...createPod,
    objectRef: { resource: 'secrets', namespace: 'default', apiVersion: 'v1' },
  });
  audit?.logRequestObject(secret);
  audit?.logResponseObject(secret);
  audit?.complete(201);
  assert.equal(audit?.level, 'Metadata');
  for (const event of sink.events) assert.ok(!(encodeEvent(event) ?? '').includes('aHVudGVyMg=='));
  assert.equal(sink.events[1]?.objectRef?.name, 'db');
});

test('level None emits nothing', () => {
  const { recorder, sink } = setup([{ level: 'None', users: ['alice'] }, { level: 'Metadata' }]);
  assert.equal(recorder.begin(createPod), undefined);
  assert.equal(sink.events.length, 0);
  assert.ok(recorder.begin({ ...createPod, user: { username: 'bob' } }));
});

test('omitted stages are not emitted', () => {
  const { recorder, sink } = setup([{ level: 'Metadata', omitStages: ['ResponseStarted'] }], {
    omitStages: ['RequestReceived'],
  });
  const audit = recorder.begin({ ...createPod, verb: 'watch' });
  audit?.responseStarted(200);
  audit?.complete(200);
  assert.deepEqual(
    sink.events.map((e) => e.stage),
    ['ResponseComplete'],
  );
});

test('long-running requests: ResponseStarted once, then ResponseComplete', () => {
  const { recorder, sink } = atLevel('RequestResponse');
  const audit = recorder.begin({ ...createPod, verb: 'watch', requestURI: '/api/v1/pods?watch=true' });
  audit?.responseStarted(200);
  audit?.responseStarted(200);
  audit?.logResponseObject({ kind: 'PodList' });
  audit?.complete(200);
  audit?.complete(500);
  assert.deepEqual(
    sink.events.map((e) => [e.stage, e.responseStatus?.code]),
    [
      ['RequestReceived', undefined],
      ['ResponseStarted', 200],
      ['ResponseComplete', 200],
    ],
  );
  assert.equal(sink.events[1]?.responseObject, undefined);
});

test('a Status response is recorded in responseStatus at every level', () => {
  const { recorder, sink } = atLevel('Metadata');
  const audit = recorder.begin(createPod);
  audit?.recordAuthorization({ allowed: false, reason: '' });
  audit?.logResponseObject({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'pods is forbidden: User "alice" cannot create resource "pods" in API group "" in the namespace "default"',
    reason: 'Forbidden',
    details: { kind: 'pods', causes: [{ reason: 'x', message: 'y', extra: 'dropped' }], bogus: { deep: 1 } },
    code: 403,
  });
  audit?.complete(403);
  assert.deepEqual(sink.events[1]?.responseStatus, {
    metadata: {},
    status: 'Failure',
    message: 'pods is forbidden: User "alice" cannot create resource "pods" in API group "" in the namespace "default"',
    reason: 'Forbidden',
    details: { kind: 'pods', causes: [{ reason: 'x', message: 'y' }] },
    code: 403,
  });
  assert.deepEqual(sink.events[1]?.annotations, { 'authorization.k8s.io/decision': 'forbid' });
});

test('a panic is a 500 Panic event and ends the request', () => {
  const { recorder, sink } = atLevel('Metadata');
  const audit = recorder.begin(createPod);
  audit?.panic(new Error('boom'));
  audit?.complete(200);
  assert.equal(sink.events.length, 2);
  assert.equal(sink.events[1]?.stage, 'Panic');
  assert.deepEqual(sink.events[1]?.responseStatus, {
    metadata: {},
    status: 'Failure',
    message: "APIServer panic'd: boom",
    reason: 'InternalError',
    code: 500,
  });
});

test('annotations: the first value of a key is kept', () => {
  const { recorder, sink } = atLevel('Metadata');
  const audit = recorder.begin(createPod);
  assert.equal(audit?.addAnnotation('pod-security.kubernetes.io/enforce-policy', 'baseline:latest'), true);
  assert.equal(audit?.addAnnotation('pod-security.kubernetes.io/enforce-policy', 'privileged:latest'), false);
  audit?.complete(201);
  assert.equal(sink.events[1]?.annotations?.['pod-security.kubernetes.io/enforce-policy'], 'baseline:latest');
});

test('impersonation is recorded next to the real user', () => {
  const { recorder, sink } = atLevel('Metadata');
  const audit = recorder.begin(createPod);
  audit?.setImpersonatedUser({ username: 'system:serviceaccount:default:builder', groups: ['system:serviceaccounts'] });
  audit?.complete(201);
  assert.equal(sink.events[1]?.user.username, 'alice');
  assert.equal(sink.events[1]?.impersonatedUser?.username, 'system:serviceaccount:default:builder');
  assert.equal(sink.events[0]?.impersonatedUser, undefined);
});

test('omitManagedFields strips managedFields from objects and list items', () => {
  const { recorder, sink } = setup([{ level: 'RequestResponse' }], { omitManagedFields: true });
  const audit = recorder.begin(createPod);
  audit?.logRequestObject(pod);
  audit?.logResponseObject({ kind: 'PodList', items: [pod, pod] });
  audit?.complete(200);
  const line = encodeEvent(sink.events[1] ?? assert.fail()) ?? '';
  assert.ok(!line.includes('managedFields'), line);
  assert.ok(line.includes('"image":"nginx"'));
  assert.ok(pod.metadata.managedFields.length === 1, 'the caller’s object is untouched');
});

test('logged bodies are copies: later changes do not leak into the event', () => {
  const { recorder, sink } = atLevel('Request');
  const body = { kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: '1' } };
  const audit = recorder.begin(createPod);
  audit?.logRequestObject(body);
  body.data.a = 'changed';
  audit?.complete(201);
  assert.deepEqual(sink.events[1]?.requestObject, { kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: '1' } });
});

test('bodies over the cap are left out and the event is marked truncated', () => {
  const { recorder, sink } = setup([{ level: 'RequestResponse' }], { maxObjectBytes: 1024 });
  const audit = recorder.begin(createPod);
  audit?.logRequestObject({ kind: 'ConfigMap', data: { big: 'x'.repeat(5000) } });
  audit?.logResponseObject({ kind: 'ConfigMap', data: { small: 'y' } });
  audit?.complete(201);
  assert.equal(sink.events[1]?.requestObject, undefined);
  assert.deepEqual(sink.events[1]?.responseObject, { kind: 'ConfigMap', data: { small: 'y' } });
  assert.equal(sink.events[1]?.annotations?.['audit.k8s.io/truncated'], 'true');

  const patched = recorder.begin({ ...createPod, verb: 'patch' });
  patched?.logRequestPatch(Buffer.alloc(10 * 1024 * 1024, 0x20));
  patched?.complete(200);
  assert.equal(sink.events[3]?.requestObject, undefined);
  assert.equal(sink.events[3]?.annotations?.['audit.k8s.io/truncated'], 'true');

  const small = recorder.begin({ ...createPod, verb: 'patch' });
  small?.logRequestPatch('{"metadata":{"labels":{"a":"b"}}}');
  small?.complete(200);
  assert.deepEqual(sink.events[5]?.requestObject, { metadata: { labels: { a: 'b' } } });

  const cyclic: Record<string, unknown> = {};
  cyclic['self'] = cyclic;
  const odd = recorder.begin(createPod);
  odd?.logRequestObject(cyclic);
  odd?.complete(201);
  assert.equal(sink.events[7]?.requestObject, undefined);
});

test('a client’s Audit-ID is kept when sane, replaced when hostile', () => {
  const { recorder } = atLevel('Metadata');
  assert.equal(recorder.begin({ ...createPod, auditID: 'trace-42' })?.auditID, 'trace-42');
  for (const hostile of ['a\nb', 'x'.repeat(500), '', 'spaces here']) {
    assert.match(recorder.begin({ ...createPod, auditID: hostile })?.auditID ?? '', UUID);
  }
});

test('a huge User-Agent is cut as Kubernetes cuts it; the caller’s input is copied', () => {
  const { recorder, sink } = atLevel('Metadata');
  const input = { ...createPod, userAgent: 'evil/'.repeat(1000), user: { username: 'alice', groups: ['dev'] } };
  const audit = recorder.begin(input);
  input.user.groups.push('system:masters');
  audit?.complete(201);
  const userAgent = sink.events[1]?.userAgent ?? '';
  assert.equal(userAgent.length, 1024 + '...TRUNCATED'.length);
  assert.ok(userAgent.endsWith('...TRUNCATED'));
  assert.deepEqual(sink.events[1]?.user.groups, ['dev']);
});

test('non-resource requests carry no objectRef', () => {
  const { recorder, sink } = setup([{ level: 'Metadata', nonResourceURLs: ['/healthz*'] }]);
  const audit = recorder.begin({
    requestURI: '/healthz/etcd?verbose',
    path: '/healthz/etcd',
    verb: 'get',
    user: { username: 'system:anonymous', groups: ['system:unauthenticated'] },
    sourceIPs: ['127.0.0.1'],
  });
  audit?.complete(200);
  assert.equal(sink.events[1]?.objectRef, undefined);
  assert.equal(sink.events[1]?.userAgent, undefined);
  assert.match(sink.events[1]?.stageTimestamp ?? '', MICRO_TIME);
});
