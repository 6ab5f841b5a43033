import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ANNOTATION_AUDIT_VIOLATIONS,
  ANNOTATION_ENFORCE_POLICY,
  ANNOTATION_ERROR,
  ANNOTATION_EXEMPT,
  admitPod,
  isSignificantPodUpdate,
} from './admission.js';
import { podSecurityConfig } from './config.js';
import { container, namespaceOf, podOf, privilegedDefaults, requestOf, restrictedContainer } from './fixtures.js';

const BASELINE = { 'pod-security.kubernetes.io/enforce': 'baseline' };
const hostile = {
  hostNetwork: true,
  volumes: [{ name: 'root', hostPath: { path: '/' } }],
  containers: [container('c', { privileged: true })],
};
const BASELINE_MESSAGE =
  'pods "x" is forbidden: violates PodSecurity "baseline:latest": host namespaces (hostNetwork=true), hostPath volumes (volume "root"), privileged (container "c" must not set securityContext.privileged=true)';

describe('admitPod: enforce', () => {
  it('refuses a pod that violates the enforce level with Kubernetes’ message', () => {
    const decision = admitPod({
      config: privilegedDefaults,
      request: requestOf(),
      namespace: namespaceOf('ns', BASELINE),
      pod: podOf(hostile),
    });
    assert.equal(decision.allowed, false);
    assert.equal(decision.error?.message, BASELINE_MESSAGE);
    assert.equal(decision.error?.code, 403);
    assert.equal(decision.error?.reason, 'Forbidden');
    assert.deepEqual(decision.error?.details, { name: 'x', group: '', kind: 'pods' });
    assert.deepEqual(decision.warnings, [], 'no warnings on a refusal');
    assert.equal(decision.auditAnnotations[ANNOTATION_ENFORCE_POLICY], 'baseline:latest');
    assert.deepEqual(
      decision.violations?.map((v) => `${v.mode} ${v.policy} ${v.check}: ${v.fields.join(' ')}`),
      [
        'enforce baseline:latest hostNamespaces: spec.hostNetwork',
        'enforce baseline:latest hostPathVolumes: spec.volumes[0].hostPath',
        'enforce baseline:latest privileged: spec.containers[0].securityContext.privileged',
      ],
    );
  });

  it('admits the same pod in a privileged namespace', () => {
    const decision = admitPod({
      config: privilegedDefaults,
      request: requestOf(),
      namespace: namespaceOf('ns', { 'pod-security.kubernetes.io/enforce': 'privileged' }),
      pod: podOf(hostile),
    });
    assert.deepEqual(decision, {
      allowed: true,
      warnings: [],
      auditAnnotations: { [ANNOTATION_ENFORCE_POLICY]: 'privileged:latest' },
    });
  });
});

describe('admitPod: the namespace and its labels', () => {
  it('uses the default level for unlabelled namespaces', () => {
    const namespace = namespaceOf('ns');
    const pod = podOf(hostile);
    assert.equal(admitPod({ config: privilegedDefaults, request: requestOf(), namespace, pod }).allowed, true);
    const strict = admitPod({ config: podSecurityConfig('baseline'), request: requestOf(), namespace, pod });
    assert.equal(strict.error?.message, BASELINE_MESSAGE);
  });

  it('names the labelled version in the message', () => {
    const decision = admitPod({
      config: privilegedDefaults,
      request: requestOf(),
      namespace: namespaceOf('ns', { ...BASELINE, 'pod-security.kubernetes.io/enforce-version': 'v1.25' }),
      pod: podOf({ hostPID: true }),
    });
    assert.equal(
      decision.error?.message,
      'pods "x" is forbidden: violates PodSecurity "baseline:v1.25": host namespaces (hostPID=true)',
    );
  });

  it('leaves the name out when there is none', () => {
    const decision = admitPod({
      config: privilegedDefaults,
      request: requestOf({ name: '' }),
      namespace: namespaceOf('ns', BASELINE),
      pod: podOf({ hostIPC: true }),
    });
    assert.equal(
      decision.error?.message,
      'pods is forbidden: violates PodSecurity "baseline:latest": host namespaces (hostIPC=true)',
    );
  });

  it('an unparseable enforce label fails closed at restricted and says why in the audit log', () => {
    const decision = admitPod({
      config: privilegedDefaults,
      request: requestOf(),
      namespace: namespaceOf('ns', { 'pod-security.kubernetes.io/enforce': 'bogus' }),
      pod: podOf(),
    });
    assert.equal(decision.allowed, false);
    assert.match(
      decision.error?.message ?? '',
      /^pods "x" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false/,
    );
    assert.equal(
      decision.auditAnnotations[ANNOTATION_ERROR],
      'Failed to parse policy: metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "bogus": must be one of privileged, baseline, restricted',
    );
  });

  it('admits a pod meeting the level', () => {
    const decision = admitPod({
      config: privilegedDefaults,
      request: requestOf(),
      namespace: namespaceOf('ns', { 'pod-security.kubernetes.io/enforce': 'restricted' }),
      pod: podOf({ containers: [restrictedContainer()] }),
    });
    assert.deepEqual(decision, {
      allowed: true,
      warnings: [],
      auditAnnotations: { [ANNOTATION_ENFORCE_POLICY]: 'restricted:latest' },
    });
  });

  it('a missing namespace is an internal error, not an open door', () => {
    const decision = admitPod({ config: privilegedDefaults, request: requestOf(), namespace: undefined, pod: podOf() });
    assert.equal(decision.allowed, false);
    assert.equal(decision.error?.code, 500);
    assert.equal(decision.error?.message, 'Internal error occurred: failed to lookup namespace "ns"');
  });
});

describe('admitPod: warn and audit', () => {
  it('warns at the warn level with the HTTP Warning text', () => {
    const decision = admitPod({
      config: privilegedDefaults,
      request: requestOf(),
      namespace: namespaceOf('ns', { 'pod-security.kubernetes.io/warn': 'baseline' }),
      pod: podOf(hostile),
    });
    assert.equal(decision.allowed, true);
    assert.deepEqual(decision.warnings, [
      'would violate PodSecurity "baseline:latest": host namespaces (hostNetwork=true), hostPath volumes (volume "root"), privileged (container "c" must not set securityContext.privileged=true)',
    ]);
    assert.equal(decision.auditAnnotations[ANNOTATION_AUDIT_VIOLATIONS], undefined);
  });

  it('records audit violations as an audit annotation', () => {
    const decision = admitPod({
      config: privilegedDefaults,
      request: requestOf(),
      namespace: namespaceOf('ns', {
        'pod-security.kubernetes.io/enforce': 'baseline',
        'pod-security.kubernetes.io/audit': 'restricted',
        'pod-security.kubernetes.io/audit-version': 'v1.30',
      }),
      pod: podOf({ containers: [restrictedContainer('c', { securityContext: { allowPrivilegeEscalation: true } })] }),
    });
    assert.equal(decision.allowed, true);
    assert.match(
      decision.auditAnnotations[ANNOTATION_AUDIT_VIOLATIONS] ?? '',
      /^would violate PodSecurity "restricted:v1\.30": allowPrivilegeEscalation != false \(container "c" must set securityContext\.allowPrivilegeEscalation=false\)/,
    );
    assert.deepEqual(decision.warnings, []);
  });

  it('audits even a refused pod', () => {
    const decision = admitPod({
      config: podSecurityConfig('restricted'),
      request: requestOf(),
      namespace: namespaceOf('ns', BASELINE),
      pod: podOf(hostile),
    });
    assert.equal(decision.allowed, false);
    assert.match(
      decision.auditAnnotations[ANNOTATION_AUDIT_VIOLATIONS] ?? '',
      /^would violate PodSecurity "restricted:latest": /,
    );
  });
});

describe('admitPod: exemptions', () => {
  const namespace = namespaceOf('ns', BASELINE);
  const config = podSecurityConfig('privileged', {
    namespaces: ['kube-system'],
    usernames: ['system:serviceaccount:kube-system:daemon-set-controller'],
    runtimeClasses: ['kata'],
  });

  it('exempts listed namespaces', () => {
    const decision = admitPod({
      config,
      request: requestOf({ namespace: 'kube-system' }),
      namespace,
      pod: podOf(hostile),
    });
    assert.deepEqual(decision, { allowed: true, warnings: [], auditAnnotations: { [ANNOTATION_EXEMPT]: 'namespace' } });
  });

  it('exempts listed users', () => {
    const request = requestOf({ userName: 'system:serviceaccount:kube-system:daemon-set-controller' });
    const decision = admitPod({ config, request, namespace, pod: podOf(hostile) });
    assert.equal(decision.auditAnnotations[ANNOTATION_EXEMPT], 'user');
  });

  it('exempts listed runtime classes', () => {
    const decision = admitPod({
      config,
      request: requestOf(),
      namespace,
      pod: podOf({ ...hostile, runtimeClassName: 'kata' }),
    });
    assert.equal(decision.allowed, true);
    assert.equal(decision.auditAnnotations[ANNOTATION_EXEMPT], 'runtimeClass');
  });

  it('exempts nothing else: other namespaces, users, runtime classes, empty names', () => {
    for (const request of [
      requestOf({ namespace: 'kube-system-2' }),
      requestOf({ userName: 'admin' }),
      requestOf({ userName: '' }),
    ]) {
      assert.equal(admitPod({ config, request, namespace, pod: podOf(hostile) }).allowed, false);
    }
    const otherRuntime = podOf({ ...hostile, runtimeClassName: 'runc' });
    assert.equal(admitPod({ config, request: requestOf(), namespace, pod: otherRuntime }).allowed, false);
    const emptyExemptions = podSecurityConfig('privileged', {
      namespaces: [''],
      usernames: [''],
      runtimeClasses: [''],
    });
    const request = requestOf({ namespace: '', userName: '' });
    assert.equal(admitPod({ config: emptyExemptions, request, namespace, pod: podOf(hostile) }).allowed, false);
  });
});

describe('admitPod: requests that are not checked', () => {
  const namespace = namespaceOf('ns', BASELINE);
  for (const subresource of ['status', 'exec', 'attach', 'binding', 'eviction', 'log', 'portforward', 'proxy']) {
    it(`pods/${subresource}`, () => {
      const decision = admitPod({
        config: privilegedDefaults,
        request: requestOf({ subresource }),
        namespace,
        pod: podOf(hostile),
      });
      assert.equal(decision.allowed, true);
    });
  }

  it('DELETE', () => {
    const decision = admitPod({
      config: privilegedDefaults,
      request: requestOf({ operation: 'DELETE' }),
      namespace,
      pod: podOf(hostile),
    });
    assert.equal(decision.allowed, true);
  });

  it('pods/ephemeralcontainers is checked', () => {
    const oldPod = podOf();
    const pod = podOf({ ephemeralContainers: [container('debug', { privileged: true })] });
    const request = requestOf({ operation: 'UPDATE', subresource: 'ephemeralcontainers' });
    const decision = admitPod({ config: privilegedDefaults, request, namespace, pod, oldPod });
    assert.equal(
      decision.error?.message,
      'pods "x" is forbidden: violates PodSecurity "baseline:latest": privileged (container "debug" must not set securityContext.privileged=true)',
    );
  });
});

describe('admitPod: updates', () => {
  const namespace = namespaceOf('ns', BASELINE);
  const request = requestOf({ operation: 'UPDATE' });

  it('skips updates that change no image and no container list (labels, annotations, status)', () => {
    const oldPod = podOf(hostile);
    const pod = podOf(hostile, { labels: { touched: 'yes' }, annotations: { note: 'x' } });
    assert.equal(isSignificantPodUpdate(pod, oldPod), false);
    assert.equal(admitPod({ config: privilegedDefaults, request, namespace, pod, oldPod }).allowed, true);
  });

  it('checks an update that changes an image', () => {
    const oldPod = podOf(hostile);
    const pod = podOf({ ...hostile, containers: [{ ...container('c', { privileged: true }), image: 'busybox:2' }] });
    assert.equal(isSignificantPodUpdate(pod, oldPod), true);
    assert.equal(admitPod({ config: privilegedDefaults, request, namespace, pod, oldPod }).allowed, false);
  });

  it('counts container list changes and ephemeral containers as significant', () => {
    const base = podOf({ initContainers: [{ name: 'i', image: 'a' }] });
    assert.equal(isSignificantPodUpdate(podOf({ initContainers: [{ name: 'i', image: 'b' }] }), base), true);
    assert.equal(isSignificantPodUpdate(podOf({ initContainers: [] }), base), true);
    const withDebug = podOf({
      initContainers: [{ name: 'i', image: 'a' }],
      ephemeralContainers: [{ name: 'd', image: 'x' }],
    });
    assert.equal(isSignificantPodUpdate(withDebug, base), true);
    assert.equal(isSignificantPodUpdate(withDebug, withDebug), false);
    const newDebugImage = podOf({
      initContainers: [{ name: 'i', image: 'a' }],
      ephemeralContainers: [{ name: 'd', image: 'y' }],
    });
    assert.equal(isSignificantPodUpdate(newDebugImage, withDebug), true);
  });
});
