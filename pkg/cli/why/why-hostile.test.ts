// `coxctl why` on odd and hostile input, the references it looks up, the scheduler summary.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { diagnosePod, podReferences, renderDiagnosis, summariseScheduling } from './index.js';
import { container, event, NOW, pod } from './why-fixtures.js';

describe('diagnosePod on odd input', () => {
  test('a huge log tail and a huge message are cut, and control characters never reach the terminal', () => {
    const line = 'x'.repeat(10_000);
    const d = diagnosePod(
      {
        pod: pod({
          status: {
            phase: 'Running',
            containerStatuses: [
              container({
                restartCount: 9,
                state: { waiting: { reason: 'CrashLoopBackOff' } },
                lastState: { terminated: { exitCode: 1, message: 'm'.repeat(1_000_000) } },
              }),
            ],
          },
        }),
        events: [],
        previousLogs: { app: `${'noise\n'.repeat(200_000)}\u001b]0;pwned\u0007last line\n` },
      },
      NOW,
    );
    const text = renderDiagnosis(d);
    assert.ok(text.length < 3000, `answer is bounded (${text.length} chars)`);
    assert.ok(![...text].some((ch) => ch !== '\n' && (ch < ' ' || ch === '\u007f')), 'no control characters');
    assert.match(text, /\| {1}\]0;pwned last line$/m);
    assert.ok(!text.includes(line));
  });

  test('supporting facts: warnings, owners, unreadable reads, a NotReady node behind a container problem', () => {
    const d = diagnosePod(
      {
        pod: pod({
          status: {
            phase: 'Pending',
            containerStatuses: [
              container({ state: { waiting: { reason: 'RunContainerError', message: 'exec: "nope"' } } }),
            ],
          },
        }),
        events: [event('Failed', 'Error: RunContainerError')],
        owners: [
          { kind: 'ReplicaSet', name: 'web-abc' },
          { kind: 'Deployment', name: 'web' },
        ],
        unreadable: ['nodes: Forbidden'],
      },
      NOW,
    );
    assert.equal(d.findings[0].reason, 'RunContainerError');
    const text = renderDiagnosis(d);
    assert.match(text, /controlled by ReplicaSet\/web-abc ← Deployment\/web/);
    assert.match(text, /next: coxctl why deployment\/web/);
    assert.match(text, /not allowed or failed to read: nodes: Forbidden/);
    assert.match(text, /warning events: Failed/);
  });
});

describe('podReferences', () => {
  test('every non-optional ConfigMap, Secret and claim, once, bounded', () => {
    const refs = podReferences(
      pod({
        spec: {
          volumes: [
            { name: 'a', configMap: { name: 'cm1' } },
            { name: 'b', configMap: { name: 'cm-opt', optional: true } },
            { name: 'c', secret: { secretName: 's1' } },
            { name: 'd', persistentVolumeClaim: { claimName: 'data' } },
            { name: 'e', projected: { sources: [{ configMap: { name: 'cm2' } }, { secret: { name: 's1' } }] } },
          ],
          containers: [
            {
              name: 'app',
              envFrom: [{ configMapRef: { name: 'cm1' } }, { secretRef: { name: 's2' } }],
              env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 's3', key: 'k' } } }],
            },
          ],
        },
      }),
    );
    assert.deepEqual(refs, { configMaps: ['cm1', 'cm2'], secrets: ['s1', 's2', 's3'], claims: ['data'] });
    const many = podReferences(
      pod({
        spec: { volumes: Array.from({ length: 500 }, (_, i) => ({ name: `v${i}`, configMap: { name: `c${i}` } })) },
      }),
    );
    assert.equal(many.configMaps.length, 32);
  });
});

test('summariseScheduling keeps the per-node reasons and drops the preemption tail', () => {
  assert.equal(
    summariseScheduling(
      '0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.',
    ),
    '0/2 nodes are available: 2 Insufficient cpu',
  );
});
