import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultLimitRange, limitRangeCauses, resourceQuotaCauses } from './validation-quota.js';

const fields = (causes: { field?: string | undefined; message?: string | undefined }[]): string[] =>
  causes.map((c) => `${c.field ?? ''}: ${c.message ?? ''}`);

test('a quota refuses negative and fractional counts, bad names and bad scopes, with their fields', () => {
  assert.deepEqual(resourceQuotaCauses({ spec: { hard: { pods: '2', 'requests.cpu': '500m' } } }), []);
  assert.deepEqual(
    fields(resourceQuotaCauses({ spec: { hard: { pods: '-1', services: '1.5', 'bad name!': '1', cpu: 'x' } } })),
    [
      'spec.hard[pods]: Invalid value: "-1": must be greater than or equal to 0',
      'spec.hard[services]: Invalid value: "1.5": must be an integer',
      'spec.hard[bad name!]: Invalid value: "bad name!": must be a standard resource for quota',
      'spec.hard[cpu]: Invalid value: "x": must be a valid quantity',
    ],
  );
  assert.deepEqual(fields(resourceQuotaCauses({ spec: { hard: { pods: '1' }, scopes: ['Sometimes'] } })), [
    'spec.scopes: Invalid value: ["Sometimes"]: unsupported scope',
  ]);
  assert.deepEqual(fields(resourceQuotaCauses({ spec: { hard: { 'requests.cpu': '1' }, scopes: ['BestEffort'] } })), [
    'spec.scopes: Invalid value: ["BestEffort"]: unsupported scope applied to resource',
  ]);
  assert.deepEqual(fields(resourceQuotaCauses({ spec: { scopes: ['Terminating', 'NotTerminating'] } })), [
    'spec.scopes: Invalid value: ["Terminating","NotTerminating"]: conflicting scopes',
  ]);
  const selector = (expr: Record<string, unknown>) => ({ spec: { scopeSelector: { matchExpressions: [expr] } } });
  assert.deepEqual(fields(resourceQuotaCauses(selector({ scopeName: 'PriorityClass', operator: 'In' }))), [
    "spec.scopeSelector.matchExpressions[0].values: Required value: must be at least one value when `operator` is 'In' or 'NotIn' for scope selector",
  ]);
  assert.equal(resourceQuotaCauses(selector({ scopeName: 'Nope', operator: 'Sometimes' })).length, 2);
});

test('a LimitRange keeps min ≤ default request ≤ default ≤ max and ratios ≥ 1', () => {
  assert.deepEqual(
    limitRangeCauses({ spec: { limits: [{ type: 'Container', min: { cpu: '100m' }, max: { cpu: '1' } }] } }),
    [],
  );
  assert.deepEqual(
    fields(
      limitRangeCauses({
        spec: {
          limits: [
            { type: 'Container', min: { cpu: '2' }, max: { cpu: '1' }, maxLimitRequestRatio: { memory: '0.5' } },
            { type: 'Pod', default: { cpu: '1' } },
            { type: 'Node' },
            { type: 'Container', max: { memory: '-1Gi' } },
          ],
        },
      }),
    ),
    [
      'spec.limits[0].min[cpu]: Invalid value: "2": min value 2 is greater than max value 1',
      'spec.limits[0].maxLimitRequestRatio[memory]: Invalid value: "500m": ratio 500m is less than 1',
      "spec.limits[1].default: Forbidden: may not be specified when `type` is 'Pod'",
      'spec.limits[2].type: Unsupported value: "Node": supported values: "Container", "PersistentVolumeClaim", "Pod"',
      'spec.limits[3].max[memory]: Invalid value: "-1Gi": must be greater than or equal to 0',
    ],
  );
});

test('a Container item defaults its limit from max and its request from the limit, then min', () => {
  const lr = {
    spec: {
      limits: [
        { type: 'Container', max: { cpu: '1' }, min: { memory: '32Mi' } },
        { type: 'Pod', max: { cpu: '2' } },
      ],
    },
  };
  defaultLimitRange(lr);
  assert.deepEqual(lr.spec.limits[0], {
    type: 'Container',
    max: { cpu: '1' },
    min: { memory: '32Mi' },
    default: { cpu: '1' },
    defaultRequest: { cpu: '1', memory: '32Mi' },
  });
  assert.deepEqual(lr.spec.limits[1], { type: 'Pod', max: { cpu: '2' } });
});
