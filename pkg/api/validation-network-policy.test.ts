import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyDefaults } from './defaults.js';
import type { KubeObject } from './meta.js';
import { RESOURCES } from './registry.js';
import { validateObject } from './validation.js';

function policy(spec: unknown): KubeObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'p', namespace: 'default' },
    spec,
  };
}

function causes(spec: unknown): { field?: string; message?: string; reason?: string }[] {
  return validateObject(policy(spec), RESOURCES.networkpolicies);
}

test('a full valid policy has no causes', () => {
  assert.deepEqual(
    causes({
      podSelector: { matchLabels: { app: 'db' }, matchExpressions: [{ key: 'tier', operator: 'Exists' }] },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [
        {
          from: [
            { ipBlock: { cidr: '172.17.0.0/16', except: ['172.17.1.0/24'] } },
            { namespaceSelector: { matchLabels: { project: 'myproject' } }, podSelector: { matchLabels: { r: 'f' } } },
          ],
          ports: [{ protocol: 'TCP', port: 6379 }, { port: 'http' }, { protocol: 'UDP', port: 32000, endPort: 32768 }],
        },
      ],
      egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/24' } }], ports: [{ protocol: 'TCP', port: 5978 }] }],
    }),
    [],
  );
});

test('ports: protocol, range, endPort rules with Kubernetes field paths and messages', () => {
  const got = causes({
    podSelector: {},
    ingress: [
      {
        ports: [
          { protocol: 'ICMP', port: 80 },
          { port: 0 },
          { port: 100, endPort: 90 },
          { port: 'http', endPort: 90 },
          { endPort: 90 },
          { port: 'Not_A_Name' },
        ],
      },
    ],
  });
  const at = (i: number): string => `spec.ingress[0].ports[${i}]`;
  assert.deepEqual(
    got.map((c) => [c.field, c.message]),
    [
      [`${at(0)}.protocol`, 'Unsupported value: "ICMP": supported values: "TCP", "UDP", "SCTP"'],
      [`${at(1)}.port`, 'Invalid value: 0: must be between 1 and 65535, inclusive'],
      [`${at(2)}.endPort`, 'Invalid value: 90: must be greater than or equal to `port`'],
      [`${at(3)}.endPort`, 'Invalid value: 90: may not be specified when `port` is non-numeric'],
      [`${at(4)}.endPort`, 'Invalid value: 90: may not be specified when `port` is not specified'],
      [
        `${at(5)}.port`,
        'Invalid value: "Not_A_Name": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
      ],
    ],
  );
});

test('ipBlock: cidr required and valid, except a strict subset; ipBlock alone in its peer', () => {
  const got = causes({
    podSelector: {},
    egress: [
      {
        to: [
          { ipBlock: { cidr: '' } },
          { ipBlock: { cidr: '10.0.0.0/33' } },
          { ipBlock: { cidr: '10.0.0.0/16', except: ['10.1.0.0/24', '10.0.0.0/16', 'x'] } },
          { ipBlock: { cidr: '10.0.0.0/8' }, podSelector: {} },
          {},
        ],
      },
    ],
  });
  const at = (i: number): string => `spec.egress[0].to[${i}]`;
  assert.deepEqual(
    got.map((c) => [c.field, c.reason]),
    [
      [`${at(0)}.ipBlock.cidr`, 'FieldValueRequired'],
      [`${at(1)}.ipBlock.cidr`, 'FieldValueInvalid'],
      [`${at(2)}.ipBlock.except[0]`, 'FieldValueInvalid'],
      [`${at(2)}.ipBlock.except[1]`, 'FieldValueInvalid'],
      [`${at(2)}.ipBlock.except[2]`, 'FieldValueInvalid'],
      [at(3), 'FieldValueForbidden'],
      [at(4), 'FieldValueRequired'],
    ],
  );
  assert.equal(got[2]?.message, 'Invalid value: "10.1.0.0/24": must be a strict subset of `cidr`');
  // IPv6 blocks are valid (they never match this IPv4 cluster's traffic).
  assert.deepEqual(
    causes({ podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: '2001:db8::/64', except: ['2001:db8::/96'] } }] }] }),
    [],
  );
  assert.equal(
    causes({ podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: '2001:db8::/64', except: ['10.0.0.0/8'] } }] }] })
      .length,
    1,
  );
});

test('selectors and policyTypes', () => {
  const got = causes({
    podSelector: {
      matchExpressions: [
        { key: 'a', operator: 'In' },
        { key: 'b', operator: 'Maybe' },
      ],
    },
    ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'bad key!': 'x' } } }] }],
    policyTypes: ['Ingress', 'Sideways'],
  });
  assert.deepEqual(
    got.map((c) => c.field),
    [
      'spec.podSelector.matchExpressions[0].values',
      'spec.podSelector.matchExpressions[1].operator',
      'spec.ingress[0].from[0].namespaceSelector.matchLabels',
      'spec.policyTypes[1]',
    ],
  );
  assert.equal(
    causes({ podSelector: {}, policyTypes: ['Ingress', 'Egress', 'Ingress'] })[0]?.field,
    'spec.policyTypes',
  );
});

test('hostile shapes give causes, never throw', () => {
  for (const spec of [
    null,
    'x',
    { podSelector: 'x', ingress: 'y' },
    { ingress: [null, 5, { ports: [null], from: [7] }] },
  ])
    assert.ok(Array.isArray(causes(spec)));
});

test('defaults: TCP ports and policyTypes from the rules, as Kubernetes sets them', () => {
  const withEgress = policy({ podSelector: {}, egress: [{ ports: [{ port: 53 }] }] });
  applyDefaults(withEgress);
  assert.deepEqual(withEgress['spec'], {
    podSelector: {},
    egress: [{ ports: [{ port: 53, protocol: 'TCP' }] }],
    policyTypes: ['Ingress', 'Egress'],
  });
  const ingressOnly = policy({});
  applyDefaults(ingressOnly);
  assert.deepEqual(ingressOnly['spec'], { podSelector: {}, policyTypes: ['Ingress'] });
  const explicit = policy({ podSelector: {}, policyTypes: ['Egress'] });
  applyDefaults(explicit);
  assert.deepEqual(explicit['spec'], { podSelector: {}, policyTypes: ['Egress'] });
});
