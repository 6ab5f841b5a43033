import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AuditPolicyError, parsePolicy, validatePolicy } from './policy.js';

// The example policy of the Kubernetes auditing documentation, shortened.
const DOCS_POLICY = `
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages:
  - "RequestReceived"
rules:
  - level: RequestResponse
    resources:
    - group: ""
      resources: ["pods"]
  - level: Metadata
    resources:
    - group: ""
      resources: ["pods/log", "pods/status"]
  - level: None
    resources:
    - group: ""
      resources: ["configmaps"]
      resourceNames: ["controller-leader"]
  - level: None
    users: ["system:kube-proxy"]
    verbs: ["watch"]
    resources:
    - group: ""
      resources: ["endpoints", "services"]
  - level: None
    userGroups: ["system:authenticated"]
    nonResourceURLs:
    - "/api*"
    - "/version"
  - level: Request
    resources:
    - group: ""
      resources: ["configmaps"]
    namespaces: ["kube-system"]
  - level: Metadata
    resources:
    - group: ""
      resources: ["secrets", "configmaps"]
  - level: Request
    resources:
    - group: ""
    - group: "extensions"
  - level: Metadata
    omitStages:
      - "RequestReceived"
`;

/** The field errors a policy is refused with. */
function refusal(doc: unknown): readonly string[] {
  try {
    validatePolicy(doc);
  } catch (err) {
    assert.ok(err instanceof AuditPolicyError, `not an AuditPolicyError: ${String(err)}`);
    return err.errors.length > 0 ? err.errors : [err.message];
  }
  assert.fail('the policy was accepted');
}

function ruleDoc(rule: unknown, extra: Record<string, unknown> = {}): unknown {
  return { apiVersion: 'audit.k8s.io/v1', kind: 'Policy', rules: [rule], ...extra };
}

test('the documentation example parses, with empty selectors defaulted', () => {
  const { policy, warnings } = parsePolicy(DOCS_POLICY);
  assert.deepEqual(warnings, []);
  assert.equal(policy.rules.length, 9);
  assert.deepEqual(policy.omitStages, ['RequestReceived']);
  assert.equal(policy.omitManagedFields, false);
  assert.deepEqual(policy.rules[2], {
    level: 'None',
    users: [],
    userGroups: [],
    verbs: [],
    resources: [{ group: '', resources: ['configmaps'], resourceNames: ['controller-leader'] }],
    namespaces: [],
    nonResourceURLs: [],
    omitStages: [],
    omitManagedFields: undefined,
  });
  assert.deepEqual(policy.rules[7]?.resources, [
    { group: '', resources: [], resourceNames: [] },
    { group: 'extensions', resources: [], resourceNames: [] },
  ]);
});

test('JSON reads the same as YAML', () => {
  const json = JSON.stringify({
    apiVersion: 'audit.k8s.io/v1',
    kind: 'Policy',
    omitManagedFields: true,
    rules: [{ level: 'Metadata', verbs: ['get'], omitManagedFields: false }],
  });
  const { policy } = parsePolicy(json);
  assert.equal(policy.omitManagedFields, true);
  assert.equal(policy.rules[0]?.omitManagedFields, false);
  assert.deepEqual(policy.rules[0]?.verbs, ['get']);
});

test('unknown and duplicate fields are warnings, as Kubernetes falls back to lenient decoding', () => {
  const { policy, warnings } = parsePolicy(
    'apiVersion: audit.k8s.io/v1\nkind: Policy\nmetadata: {name: x}\nspec: 1\nrules:\n- level: None\n  level: Metadata\n  colour: red\n',
  );
  assert.equal(policy.rules[0]?.level, 'Metadata');
  assert.ok(warnings.includes('unknown field "spec"'), warnings.join('\n'));
  assert.ok(warnings.includes('unknown field "rules[0].colour"'), warnings.join('\n'));
  assert.ok(
    warnings.some((w) => w.startsWith('duplicate field')),
    warnings.join('\n'),
  );
});

test('apiVersion and kind must be audit.k8s.io/v1 Policy', () => {
  assert.deepEqual(refusal({ kind: 'Policy', rules: [{ level: 'None' }] }), ['apiVersion: Required value']);
  assert.deepEqual(refusal({ apiVersion: 'audit.k8s.io/v1beta1', kind: 'Policy', rules: [{ level: 'None' }] }), [
    'apiVersion: Unsupported value: "audit.k8s.io/v1beta1": supported values: "audit.k8s.io/v1"',
  ]);
  assert.deepEqual(refusal({ apiVersion: 'audit.k8s.io/v1', kind: 'Pod', rules: [{ level: 'None' }] }), [
    'kind: Unsupported value: "Pod": supported values: "Policy"',
  ]);
});

test('a policy without rules is refused', () => {
  assert.deepEqual(refusal({ apiVersion: 'audit.k8s.io/v1', kind: 'Policy' }), ['loaded illegal policy with 0 rules']);
  assert.deepEqual(refusal({ apiVersion: 'audit.k8s.io/v1', kind: 'Policy', rules: [] }), [
    'loaded illegal policy with 0 rules',
  ]);
});

test('levels: required and one of the four', () => {
  assert.deepEqual(refusal(ruleDoc({ verbs: ['get'] })), ['rules[0].level: Required value']);
  assert.deepEqual(refusal(ruleDoc({ level: 'Everything' })), [
    'rules[0].level: Unsupported value: "Everything": supported values: "None", "Metadata", "Request", "RequestResponse"',
  ]);
  assert.deepEqual(refusal(ruleDoc({ level: 3 })), [
    'rules[0].level: Unsupported value: 3: supported values: "None", "Metadata", "Request", "RequestResponse"',
  ]);
});

test('non-resource URLs begin with / and may only end in *', () => {
  assert.deepEqual(refusal(ruleDoc({ level: 'None', nonResourceURLs: ['healthz', '/a*b', '*', '/ok*'] })), [
    `rules[0].nonResourceURLs[0]: Invalid value: "healthz": non-resource URL rules must begin with a '/' character`,
    `rules[0].nonResourceURLs[1]: Invalid value: "/a*b": non-resource URL wildcards '*' must be the final character of the rule`,
  ]);
});

test('a rule cannot select both resources (or namespaces) and non-resource URLs', () => {
  for (const selector of [{ resources: [{ group: '' }] }, { namespaces: ['default'] }]) {
    const errors = refusal(ruleDoc({ level: 'None', nonResourceURLs: ['/healthz'], ...selector }));
    assert.match(errors[0] ?? '', /rules cannot apply to both regular resources and non-resource URLs/);
  }
});

test('resources: the group is a DNS subdomain without version, resourceNames need resources', () => {
  const errors = refusal(
    ruleDoc({
      level: 'None',
      resources: [{ group: 'rbac.authorization.k8s.io/v1' }, { group: '', resourceNames: ['x'] }, 'pods'],
    }),
  );
  assert.equal(errors.length, 3);
  assert.match(
    errors[0] ?? '',
    /^rules\[0\]\.resources\[0\]\.group: Invalid value: "rbac.authorization.k8s.io\/v1": a lowercase RFC 1123 subdomain/,
  );
  assert.equal(
    errors[1],
    'rules[0].resources[1].resourceNames: Invalid value: ["x"]: using resourceNames requires at least one resource',
  );
  assert.match(errors[2] ?? '', /^rules\[0\]\.resources\[2\]: Invalid value: "pods": must be an object/);
});

test('omitStages are stages, in rules and at the top', () => {
  assert.deepEqual(
    refusal(ruleDoc({ level: 'None', omitStages: ['ResponseComplete', 'Done'] }, { omitStages: ['Start'] })),
    [
      'rules[0].omitStages[1]: Invalid value: "Done": allowed stages are RequestReceived,ResponseStarted,ResponseComplete,Panic',
      'omitStages[0]: Invalid value: "Start": allowed stages are RequestReceived,ResponseStarted,ResponseComplete,Panic',
    ],
  );
});

test('wrong types are field errors, not crashes', () => {
  const errors = refusal(
    ruleDoc(
      { level: 'None', users: 'alice', verbs: ['get', 7], resources: { group: '' }, omitManagedFields: 'yes' },
      { omitManagedFields: 1 },
    ),
  );
  assert.deepEqual(errors, [
    'rules[0].resources: Invalid value: {"group":""}: must be a list of {group, resources, resourceNames}',
    'rules[0].users: Invalid value: "alice": must be a list of strings',
    'rules[0].verbs[1]: Invalid value: 7: must be a string',
    'rules[0].omitManagedFields: Invalid value: "yes": must be a boolean',
    'omitManagedFields: Invalid value: 1: must be a boolean',
  ]);
  assert.deepEqual(refusal({ apiVersion: 'audit.k8s.io/v1', kind: 'Policy', rules: { level: 'None' } }), [
    'rules: Invalid value: {"level":"None"}: must be a list of rules',
  ]);
  assert.deepEqual(refusal(ruleDoc(null)), ['rules[0]: Invalid value: null: must be an object']);
  for (const doc of [null, 'Policy', [1, 2], 42]) assert.match(refusal(doc)[0] ?? '', /must be an object/);
});

test('undecodable text is refused with the decoder error', () => {
  for (const text of ['rules: [', '{"apiVersion": ', 'a: 1\n---\nb: 2\n', '\t- x: :']) {
    assert.throws(
      () => parsePolicy(text),
      (err: unknown) => err instanceof AuditPolicyError && /^failed decoding: /.test(err.message),
    );
  }
});

test('hostile files: alias bombs, deep nesting, prototype keys, oversized, error floods', () => {
  const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
  for (let i = 1; i < 9; i++)
    bomb.push(
      `${'b'.repeat(i)}: &${'b'.repeat(i)} [${Array(9)
        .fill(i === 1 ? '*a' : `*${'b'.repeat(i - 1)}`)
        .join(',')}]`,
    );
  assert.throws(() => parsePolicy(bomb.join('\n')), AuditPolicyError);
  assert.throws(() => parsePolicy(`${'['.repeat(5000)}${']'.repeat(5000)}`), AuditPolicyError);
  assert.throws(
    () => parsePolicy('{"__proto__": {"polluted": true}, "apiVersion": "audit.k8s.io/v1"}'),
    AuditPolicyError,
  );
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  assert.throws(() => parsePolicy(`# ${'x'.repeat(4 * 1024 * 1024)}`), /larger than/);
  const flood = {
    apiVersion: 'audit.k8s.io/v1',
    kind: 'Policy',
    rules: Array.from({ length: 20000 }, () => ({ level: 'All' })),
  };
  assert.throws(
    () => validatePolicy(flood),
    (err: unknown) =>
      err instanceof AuditPolicyError && err.errors.length === 50 && /and 19950 more errors/.test(err.message),
  );
  const long = refusal(ruleDoc({ level: 'x'.repeat(10000) }));
  assert.ok((long[0]?.length ?? 0) < 300, 'a huge value is not quoted in full');
});

test('any input either yields a policy or an AuditPolicyError', () => {
  fc.assert(
    fc.property(fc.anything(), fc.anything(), (rules, extra) => {
      for (const doc of [ruleDoc(rules), { apiVersion: 'audit.k8s.io/v1', kind: 'Policy', rules, omitStages: extra }]) {
        try {
          validatePolicy(doc);
        } catch (err) {
          if (!(err instanceof AuditPolicyError)) throw err;
        }
      }
    }),
    { numRuns: 500 },
  );
});
