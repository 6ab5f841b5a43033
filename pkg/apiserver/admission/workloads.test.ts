import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ANNOTATION_AUDIT_VIOLATIONS,
  ANNOTATION_ERROR,
  ANNOTATION_EXEMPT,
  admitWorkload,
  hasPodTemplate,
  podTemplateOf,
} from './admission.js';
import { podSecurityConfig } from './config.js';
import { container, namespaceOf, privilegedDefaults, requestOf, restrictedContainer } from './fixtures.js';

const RESTRICTED = { 'pod-security.kubernetes.io/enforce': 'restricted' };
const privilegedTemplate = {
  metadata: { labels: { app: 'x' } },
  spec: { hostPID: true, containers: [container('c', { privileged: true })] },
};

function deployment(template: unknown = privilegedTemplate): Record<string, unknown> {
  return { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 1, template } };
}

const WORKLOADS: { group: string; resource: string; object: Record<string, unknown> }[] = [
  { group: 'apps', resource: 'deployments', object: deployment() },
  { group: 'apps', resource: 'replicasets', object: { spec: { template: privilegedTemplate } } },
  { group: 'apps', resource: 'statefulsets', object: { spec: { template: privilegedTemplate } } },
  { group: 'apps', resource: 'daemonsets', object: { spec: { template: privilegedTemplate } } },
  { group: 'batch', resource: 'jobs', object: { spec: { template: privilegedTemplate } } },
  {
    group: 'batch',
    resource: 'cronjobs',
    object: { spec: { jobTemplate: { spec: { template: privilegedTemplate } } } },
  },
  { group: '', resource: 'replicationcontrollers', object: { spec: { template: privilegedTemplate } } },
  { group: '', resource: 'podtemplates', object: { template: privilegedTemplate } },
];

describe('admitWorkload', () => {
  for (const { group, resource, object } of WORKLOADS) {
    it(`${resource}: warns about the template but never refuses`, () => {
      const decision = admitWorkload({
        config: privilegedDefaults,
        request: requestOf({ name: 'web' }),
        resource: { group, resource },
        namespace: namespaceOf('ns', RESTRICTED),
        object,
      });
      assert.equal(decision.allowed, true);
      assert.equal(decision.error, undefined);
      assert.equal(decision.warnings.length, 1);
      assert.match(
        decision.warnings[0] ?? '',
        /^would violate PodSecurity "restricted:latest": host namespaces \(hostPID=true\), privileged \(container "c" must not set securityContext\.privileged=true\), allowPrivilegeEscalation != false/,
      );
    });
  }

  it('points at the template fields in the workload', () => {
    const input = {
      config: privilegedDefaults,
      request: requestOf(),
      namespace: namespaceOf('ns', { 'pod-security.kubernetes.io/warn': 'baseline' }),
    };
    const fromDeployment = admitWorkload({
      ...input,
      resource: { group: 'apps', resource: 'deployments' },
      object: deployment(),
    });
    assert.deepEqual(
      fromDeployment.violations?.map((v) => `${v.mode} ${v.check}: ${v.fields.join(' ')}`),
      [
        'warn hostNamespaces: spec.template.spec.hostPID',
        'warn privileged: spec.template.spec.containers[0].securityContext.privileged',
      ],
    );
    const cronjob = { spec: { jobTemplate: { spec: { template: privilegedTemplate } } } };
    const fromCronJob = admitWorkload({
      ...input,
      resource: { group: 'batch', resource: 'cronjobs' },
      object: cronjob,
    });
    assert.deepEqual(fromCronJob.violations?.[0]?.fields, ['spec.jobTemplate.spec.template.spec.hostPID']);
  });

  it('a template meeting the level draws no warning', () => {
    const template = { spec: { containers: [restrictedContainer()] } };
    const decision = admitWorkload({
      config: privilegedDefaults,
      request: requestOf(),
      resource: { group: 'apps', resource: 'deployments' },
      namespace: namespaceOf('ns', RESTRICTED),
      object: deployment(template),
    });
    assert.deepEqual(decision, { allowed: true, warnings: [], auditAnnotations: {} });
  });

  it('audits templates at the audit level', () => {
    const decision = admitWorkload({
      config: privilegedDefaults,
      request: requestOf(),
      resource: { group: 'apps', resource: 'deployments' },
      namespace: namespaceOf('ns', { 'pod-security.kubernetes.io/audit': 'baseline' }),
      object: deployment(),
    });
    assert.deepEqual(decision.warnings, []);
    assert.equal(
      decision.auditAnnotations[ANNOTATION_AUDIT_VIOLATIONS],
      'would violate PodSecurity "baseline:latest": host namespaces (hostPID=true), privileged (container "c" must not set securityContext.privileged=true)',
    );
  });
});

describe('admitWorkload: what is not looked at', () => {
  it('says nothing when warn and audit are privileged, whatever enforce is', () => {
    const decision = admitWorkload({
      config: privilegedDefaults,
      request: requestOf(),
      resource: { group: 'apps', resource: 'deployments' },
      namespace: namespaceOf('ns', { ...RESTRICTED, 'pod-security.kubernetes.io/warn': 'privileged' }),
      object: deployment(),
    });
    assert.deepEqual(decision, { allowed: true, warnings: [], auditAnnotations: {} });
  });

  it('skips subresources, other resources, other operations and objects without a template', () => {
    const base = { config: privilegedDefaults, namespace: namespaceOf('ns', RESTRICTED), object: deployment() };
    const cases = [
      { ...base, request: requestOf({ subresource: 'scale' }), resource: { group: 'apps', resource: 'deployments' } },
      { ...base, request: requestOf(), resource: { group: '', resource: 'configmaps' } },
      { ...base, request: requestOf(), resource: { group: 'extensions', resource: 'deployments' } },
      { ...base, request: requestOf({ operation: 'DELETE' }), resource: { group: 'apps', resource: 'deployments' } },
      { ...base, request: requestOf(), resource: { group: 'apps', resource: 'deployments' }, object: deployment(null) },
      { ...base, request: requestOf(), resource: { group: 'apps', resource: 'deployments' }, object: 'garbage' },
    ];
    for (const input of cases) assert.deepEqual(admitWorkload(input).warnings, []);
  });

  it('honours user, namespace and runtime class exemptions', () => {
    const config = podSecurityConfig('privileged', {
      usernames: ['ci'],
      namespaces: ['tools'],
      runtimeClasses: ['kata'],
    });
    const base = {
      config,
      resource: { group: 'apps', resource: 'deployments' },
      namespace: namespaceOf('ns', RESTRICTED),
    };
    const byUser = admitWorkload({ ...base, request: requestOf({ userName: 'ci' }), object: deployment() });
    assert.equal(byUser.auditAnnotations[ANNOTATION_EXEMPT], 'user');
    const byNamespace = admitWorkload({ ...base, request: requestOf({ namespace: 'tools' }), object: deployment() });
    assert.equal(byNamespace.auditAnnotations[ANNOTATION_EXEMPT], 'namespace');
    const kata = { ...privilegedTemplate, spec: { ...privilegedTemplate.spec, runtimeClassName: 'kata' } };
    const byRuntime = admitWorkload({ ...base, request: requestOf(), object: deployment(kata) });
    assert.equal(byRuntime.auditAnnotations[ANNOTATION_EXEMPT], 'runtimeClass');
    assert.deepEqual(byRuntime.warnings, []);
  });

  it('a missing namespace lets the workload through with an audit note', () => {
    const decision = admitWorkload({
      config: privilegedDefaults,
      request: requestOf(),
      resource: { group: 'apps', resource: 'deployments' },
      namespace: undefined,
      object: deployment(),
    });
    assert.equal(decision.allowed, true);
    assert.equal(decision.auditAnnotations[ANNOTATION_ERROR], 'failed to lookup namespace "ns"');
  });
});

describe('pod templates', () => {
  it('knows which resources carry one', () => {
    for (const { group, resource } of WORKLOADS) assert.equal(hasPodTemplate({ group, resource }), true, resource);
    assert.equal(hasPodTemplate({ group: '', resource: 'pods' }), false);
    assert.equal(hasPodTemplate({ group: '', resource: 'constructor' }), false);
  });

  it('finds the template or nothing', () => {
    const cronjob = WORKLOADS.find((w) => w.resource === 'cronjobs');
    assert.ok(cronjob);
    assert.equal(podTemplateOf(cronjob, cronjob.object)?.spec.hostPID, true);
    assert.equal(
      podTemplateOf({ group: 'apps', resource: 'deployments' }, { spec: { template: { spec: {} } } }),
      undefined,
    );
    assert.equal(podTemplateOf({ group: 'apps', resource: 'deployments' }, { spec: 'x' }), undefined);
  });
});
