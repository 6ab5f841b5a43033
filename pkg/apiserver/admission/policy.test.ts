import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  type Policy,
  compareLevels,
  labelErrorMessage,
  levelVersionString,
  parseVersion,
  policyFromLabels,
  uniformPolicy,
} from './policy.js';
import { parseDefaultLevel, parsePodSecurityConfiguration, podSecurityConfig } from './config.js';

const privileged = uniformPolicy('privileged');

function summary(policy: Policy): string {
  return `enforce=${levelVersionString(policy.enforce)} audit=${levelVersionString(policy.audit)} warn=${levelVersionString(policy.warn)}`;
}

const LABEL_CASES: {
  name: string;
  labels?: Record<string, string>;
  defaults?: Policy;
  want: string;
  errors?: string[];
}[] = [
  {
    name: 'no labels: the defaults',
    labels: {},
    want: 'enforce=privileged:latest audit=privileged:latest warn=privileged:latest',
  },
  {
    name: 'unlabelled namespace under a restricted default',
    labels: { team: 'a' },
    defaults: uniformPolicy('restricted'),
    want: 'enforce=restricted:latest audit=restricted:latest warn=restricted:latest',
  },
  {
    name: 'enforce also warns at its level',
    labels: { 'pod-security.kubernetes.io/enforce': 'baseline' },
    want: 'enforce=baseline:latest audit=privileged:latest warn=baseline:latest',
  },
  {
    name: 'enforce version carries to the defaulted warn',
    labels: {
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/enforce-version': 'v1.25',
    },
    want: 'enforce=restricted:v1.25 audit=privileged:latest warn=restricted:v1.25',
  },
  {
    name: 'a warn version label is kept when warn is defaulted',
    labels: {
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/warn-version': 'v1.20',
    },
    want: 'enforce=restricted:latest audit=privileged:latest warn=restricted:v1.20',
  },
  {
    name: 'an explicit warn label wins',
    labels: { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/warn': 'privileged' },
    want: 'enforce=restricted:latest audit=privileged:latest warn=privileged:latest',
  },
  {
    name: 'warn is not lowered to a laxer enforce',
    labels: { 'pod-security.kubernetes.io/enforce': 'privileged' },
    defaults: uniformPolicy('baseline'),
    want: 'enforce=privileged:latest audit=baseline:latest warn=baseline:latest',
  },
  {
    name: 'all three modes',
    labels: {
      'pod-security.kubernetes.io/enforce': 'baseline',
      'pod-security.kubernetes.io/audit': 'restricted',
      'pod-security.kubernetes.io/audit-version': 'v1.30',
      'pod-security.kubernetes.io/warn': 'restricted',
    },
    want: 'enforce=baseline:latest audit=restricted:v1.30 warn=restricted:latest',
  },
  {
    name: 'an invalid enforce level fails closed and does not default warn',
    labels: { 'pod-security.kubernetes.io/enforce': 'Baseline' },
    want: 'enforce=restricted:latest audit=privileged:latest warn=privileged:latest',
    errors: [
      'metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "Baseline": must be one of privileged, baseline, restricted',
    ],
  },
  {
    name: 'invalid audit and warn levels fail open',
    labels: { 'pod-security.kubernetes.io/audit': 'strict', 'pod-security.kubernetes.io/warn': '' },
    defaults: uniformPolicy('baseline'),
    want: 'enforce=baseline:latest audit=privileged:latest warn=privileged:latest',
    errors: [
      'metadata.labels[pod-security.kubernetes.io/audit]: Invalid value: "strict": must be one of privileged, baseline, restricted',
      'metadata.labels[pod-security.kubernetes.io/warn]: Invalid value: "": must be one of privileged, baseline, restricted',
    ],
  },
  {
    name: 'an invalid version becomes latest',
    labels: {
      'pod-security.kubernetes.io/enforce': 'baseline',
      'pod-security.kubernetes.io/enforce-version': '1.25',
    },
    want: 'enforce=baseline:latest audit=privileged:latest warn=baseline:latest',
    errors: [
      'metadata.labels[pod-security.kubernetes.io/enforce-version]: Invalid value: "1.25": must be "latest" or "v1.x"',
    ],
  },
];
describe('policyFromLabels', () => {
  for (const c of LABEL_CASES) {
    it(c.name, () => {
      const { policy, errors } = policyFromLabels(c.labels, c.defaults ?? privileged);
      assert.equal(summary(policy), c.want);
      assert.deepEqual(errors.map(labelErrorMessage), c.errors ?? []);
    });
  }

  it('does not change the defaults it starts from', () => {
    const defaults = uniformPolicy('privileged');
    policyFromLabels({ 'pod-security.kubernetes.io/enforce': 'restricted' }, defaults);
    assert.equal(summary(defaults), 'enforce=privileged:latest audit=privileged:latest warn=privileged:latest');
  });

  it('reads only own label keys (a __proto__ key hides nothing)', () => {
    const labels: Record<string, string> = JSON.parse('{"__proto__": {"pod-security.kubernetes.io/enforce": "bogus"}}');
    const { policy, errors } = policyFromLabels(labels, privileged);
    assert.equal(policy.enforce.level, 'privileged');
    assert.deepEqual(errors, []);
  });
});

describe('parseVersion', () => {
  for (const good of ['latest', 'v1.0', 'v1.9', 'v1.25', 'v1.100']) {
    it(`accepts ${good}`, () => assert.equal(parseVersion(good), good));
  }
  for (const bad of [
    '',
    'Latest',
    'v1',
    'v1.',
    'v1.01',
    'v2.0',
    '1.25',
    'v1.25.0',
    'v1.-1',
    ' v1.2',
    'v1.99999999999999999999',
  ]) {
    it(`refuses ${JSON.stringify(bad)}`, () => assert.equal(parseVersion(bad), undefined));
  }
});

describe('compareLevels', () => {
  it('orders privileged < baseline < restricted', () => {
    assert.equal(compareLevels('privileged', 'baseline'), -1);
    assert.equal(compareLevels('restricted', 'baseline'), 1);
    assert.equal(compareLevels('baseline', 'baseline'), 0);
    assert.equal(compareLevels('restricted', 'privileged'), 1);
  });
});

describe('configuration', () => {
  it('--pod-security-default takes a level', () => {
    assert.equal(parseDefaultLevel('baseline'), 'baseline');
    assert.throws(() => parseDefaultLevel('strict'), /must be one of privileged, baseline, restricted/);
    assert.equal(summary(podSecurityConfig('restricted').defaults), summary(uniformPolicy('restricted')));
    assert.equal(summary(podSecurityConfig().defaults), summary(privileged));
  });

  it('reads a PodSecurityConfiguration as Kubernetes writes it', () => {
    const { config, errors } = parsePodSecurityConfiguration({
      apiVersion: 'pod-security.admission.config.k8s.io/v1',
      kind: 'PodSecurityConfiguration',
      defaults: { enforce: 'baseline', 'enforce-version': 'v1.29', audit: 'restricted', warn: 'restricted' },
      exemptions: {
        usernames: ['system:serviceaccount:kube-system:replicaset-controller'],
        runtimeClasses: ['kata.io'],
        namespaces: ['kube-system'],
      },
    });
    assert.deepEqual(errors, []);
    assert.equal(summary(config.defaults), 'enforce=baseline:v1.29 audit=restricted:latest warn=restricted:latest');
    assert.deepEqual(config.exemptions, {
      usernames: ['system:serviceaccount:kube-system:replicaset-controller'],
      namespaces: ['kube-system'],
      runtimeClasses: ['kata.io'],
    });
  });

  it('defaults every unset value to privileged:latest with no exemptions', () => {
    const { config, errors } = parsePodSecurityConfiguration({ kind: 'PodSecurityConfiguration' });
    assert.deepEqual(errors, []);
    assert.equal(summary(config.defaults), summary(privileged));
    assert.deepEqual(config.exemptions, { usernames: [], namespaces: [], runtimeClasses: [] });
  });

  it('reports every invalid value and keeps the valid ones', () => {
    const { config, errors } = parsePodSecurityConfiguration({
      kind: 'PodSecurityConfiguration',
      defaults: { enforce: 'Restricted', 'warn-version': 'v2.0', audit: 'baseline' },
      exemptions: { usernames: ['', 'bob', 'bob'], namespaces: ['Kube_System', 'ok'], runtimeClasses: 'kata' },
    });
    assert.deepEqual(
      errors.map((e) => `${e.field}=${e.value}: ${e.message}`),
      [
        'defaults.enforce=Restricted: must be one of privileged, baseline, restricted',
        'defaults.warn-version=v2.0: must be "latest" or "v1.x"',
        'exemptions.usernames[0]=: username must not be empty',
        'exemptions.usernames[2]=bob: Duplicate value',
        'exemptions.namespaces[0]=Kube_System: must be a lowercase RFC 1123 label',
        'exemptions.runtimeClasses=kata: must be a list of strings',
      ],
    );
    assert.equal(config.defaults.audit.level, 'baseline');
    assert.equal(config.defaults.enforce.level, 'privileged');
    assert.deepEqual(config.exemptions.usernames, ['bob']);
    assert.deepEqual(config.exemptions.namespaces, ['ok']);
  });

  it('refuses something that is not a configuration', () => {
    assert.equal(parsePodSecurityConfiguration('enforce: restricted').errors.length, 1);
    assert.equal(parsePodSecurityConfiguration({ kind: 'AdmissionConfiguration' }).errors[0]?.field, 'kind');
  });
});
