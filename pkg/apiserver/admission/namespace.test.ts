import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '../../api/index.js';
import { podSecurityConfig } from './config.js';
import { container, namespaceOf, podOf, privilegedDefaults, requestOf, restrictedContainer } from './fixtures.js';
import { admitNamespace, existingPodWarnings } from './namespace.js';

const ENFORCE = 'pod-security.kubernetes.io/enforce';

function ownedBy(uid: string): Record<string, unknown> {
  return { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: uid, uid, controller: true }] };
}

const PODS: Pod[] = [
  podOf({ hostNetwork: true }, { name: 'net-b' }),
  podOf({ hostNetwork: true }, { name: 'net-a' }),
  podOf({ containers: [container('c', { privileged: true })] }, { name: 'priv' }),
  podOf({}, { name: 'plain' }),
  podOf({ containers: [restrictedContainer()] }, { name: 'tight' }),
];

function update(labels: Record<string, string>, oldLabels: Record<string, string>, pods: Pod[] = PODS) {
  let listed = 0;
  const decision = admitNamespace({
    config: privilegedDefaults,
    request: requestOf({ operation: 'UPDATE', namespace: 'ns', name: 'ns' }),
    namespace: namespaceOf('ns', labels),
    oldNamespace: namespaceOf('ns', oldLabels),
    listPods: () => {
      listed++;
      return pods;
    },
  });
  return { decision, listed };
}

describe('admitNamespace: label validation', () => {
  it('refuses a namespace created with invalid labels (422, Kubernetes’ message)', () => {
    const decision = admitNamespace({
      config: privilegedDefaults,
      request: requestOf({ namespace: 'ns', name: 'ns' }),
      namespace: namespaceOf('ns', { [ENFORCE]: 'bogus' }),
      listPods: () => [],
    });
    assert.equal(decision.allowed, false);
    assert.equal(decision.error?.code, 422);
    assert.equal(
      decision.error?.message,
      'Namespace "ns" is invalid: metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "bogus": must be one of privileged, baseline, restricted',
    );
    assert.deepEqual(decision.error?.details?.causes, [
      {
        reason: 'FieldValueInvalid',
        message: 'Invalid value: "bogus": must be one of privileged, baseline, restricted',
        field: 'metadata.labels[pod-security.kubernetes.io/enforce]',
      },
    ]);
  });

  it('lists several invalid labels in brackets', () => {
    const decision = admitNamespace({
      config: privilegedDefaults,
      request: requestOf({ namespace: 'ns', name: 'ns' }),
      namespace: namespaceOf('ns', { [ENFORCE]: 'x', 'pod-security.kubernetes.io/warn-version': 'v1' }),
      listPods: () => [],
    });
    assert.equal(
      decision.error?.message,
      'Namespace "ns" is invalid: [metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "x": must be one of privileged, baseline, restricted, metadata.labels[pod-security.kubernetes.io/warn-version]: Invalid value: "v1": must be "latest" or "v1.x"]',
    );
  });

  it('lets an update keep labels that were already invalid the same way', () => {
    assert.equal(update({ [ENFORCE]: 'x', other: '1' }, { [ENFORCE]: 'x' }).decision.allowed, true);
    assert.equal(update({ [ENFORCE]: 'y' }, { [ENFORCE]: 'x' }).decision.allowed, false);
    assert.equal(update({ [ENFORCE]: 'x' }, {}).decision.allowed, false);
  });

  it('ignores subresources', () => {
    const decision = admitNamespace({
      config: privilegedDefaults,
      request: requestOf({ subresource: 'status', name: 'ns' }),
      namespace: namespaceOf('ns', { [ENFORCE]: 'bogus' }),
      listPods: () => [],
    });
    assert.equal(decision.allowed, true);
  });
});

describe('admitNamespace: existing pods under a new enforce level', () => {
  it('warns about the pods that would now be refused, grouped by reason', () => {
    const { decision, listed } = update({ [ENFORCE]: 'baseline' }, {});
    assert.equal(decision.allowed, true);
    assert.equal(listed, 1);
    assert.deepEqual(decision.warnings, [
      'existing pods in namespace "ns" violate the new PodSecurity enforce level "baseline:latest"',
      'net-a (and 1 other pod): host namespaces',
      'priv: privileged',
    ]);
  });

  it('counts pods beyond two as "other pods"', () => {
    const pods = ['d', 'b', 'c', 'a'].map((name) => podOf({ hostPID: true }, { name }));
    const { decision } = update({ [ENFORCE]: 'baseline' }, {}, pods);
    assert.deepEqual(decision.warnings.slice(1), ['a (and 3 other pods): host namespaces']);
  });

  it('reports nothing when every pod complies, and does not list pods when nothing tightens', () => {
    assert.deepEqual(
      update(
        { [ENFORCE]: 'baseline' },
        {},
        [PODS[4]].filter((p) => p !== undefined),
      ).decision.warnings,
      [],
    );
    assert.equal(update({ [ENFORCE]: 'baseline', other: 'x' }, { [ENFORCE]: 'baseline' }).listed, 0);
    assert.equal(update({ [ENFORCE]: 'baseline' }, { [ENFORCE]: 'restricted' }).listed, 0, 'loosening');
    assert.equal(
      update(
        { [ENFORCE]: 'privileged' },
        { [ENFORCE]: 'restricted', 'pod-security.kubernetes.io/enforce-version': 'v1.2' },
      ).listed,
      0,
    );
  });

  it('a version change at the same level re-checks the pods', () => {
    const { decision, listed } = update(
      { [ENFORCE]: 'baseline', 'pod-security.kubernetes.io/enforce-version': 'v1.30' },
      { [ENFORCE]: 'baseline' },
    );
    assert.equal(listed, 1);
    assert.equal(
      decision.warnings[0],
      'existing pods in namespace "ns" violate the new PodSecurity enforce level "baseline:v1.30"',
    );
  });

  it('checks one pod per controller first and says when it stopped early', () => {
    const pods = [
      podOf({ hostPID: true }, { name: 'rs-1', ...ownedBy('rs') }),
      podOf({ hostPID: true }, { name: 'rs-2', ...ownedBy('rs') }),
      podOf({ containers: [container('c', { privileged: true })] }, { name: 'solo' }),
    ];
    const warnings = existingPodWarnings({
      config: privilegedDefaults,
      namespace: 'ns',
      enforce: { level: 'baseline', version: 'latest' },
      pods,
      maxPods: 2,
    });
    assert.deepEqual(warnings, [
      'new PodSecurity enforce level only checked against the first 2 of 3 existing pods',
      'existing pods in namespace "ns" violate the new PodSecurity enforce level "baseline:latest"',
      'rs-1: host namespaces',
      'solo: privileged',
    ]);
  });

  it('skips pods of exempt runtime classes', () => {
    const config = podSecurityConfig('privileged', { runtimeClasses: ['kata'] });
    const pods = [podOf({ hostPID: true, runtimeClassName: 'kata' }, { name: 'vm' })];
    const warnings = existingPodWarnings({
      config,
      namespace: 'ns',
      enforce: { level: 'restricted', version: 'latest' },
      pods,
      maxPods: 10,
    });
    assert.deepEqual(warnings, []);
  });
});

describe('admitNamespace: exempt namespaces', () => {
  const config = podSecurityConfig('privileged', { namespaces: ['kube-system'] });

  it('warns that labels on an exempt namespace are ignored', () => {
    const decision = admitNamespace({
      config,
      request: requestOf({ namespace: 'kube-system', name: 'kube-system' }),
      namespace: namespaceOf('kube-system', {
        [ENFORCE]: 'baseline',
        'pod-security.kubernetes.io/audit': 'restricted',
      }),
      listPods: () => assert.fail('exempt namespaces are not checked'),
    });
    assert.deepEqual(decision.warnings, [
      'namespace "kube-system" is exempt from Pod Security, and the policy (enforce=baseline:latest, audit=restricted:latest) will be ignored',
    ]);
  });

  it('stays quiet when the labels ask for nothing beyond the defaults', () => {
    const decision = admitNamespace({
      config,
      request: requestOf({ namespace: 'kube-system', name: 'kube-system' }),
      namespace: namespaceOf('kube-system', { [ENFORCE]: 'privileged' }),
      listPods: () => [],
    });
    assert.deepEqual(decision.warnings, []);
  });
});
