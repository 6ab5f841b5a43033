import assert from 'node:assert/strict';
import { test } from 'node:test';
import { History, normalize, scaleDownLimit, scaleUpLimit, withDefaults, type NormalizeInput } from './behavior.js';

const T0 = 1_000_000_000;

function input(over: Partial<NormalizeInput>): NormalizeInput {
  return {
    currentReplicas: 2,
    desiredReplicas: 2,
    minReplicas: 1,
    maxReplicas: 10,
    behavior: withDefaults(undefined, 300),
    nowMs: T0,
    ...over,
  };
}

test('defaults: scale up by the larger of 100 % and 4 pods per 15 s; scale down 100 % per 15 s', () => {
  const b = withDefaults(undefined, 300);
  const at = { history: new History(), nowMs: T0 };
  assert.equal(scaleUpLimit(1, b.scaleUp, at), 5);
  assert.equal(scaleUpLimit(10, b.scaleUp, at), 20);
  assert.equal(scaleDownLimit(10, b.scaleDown, at), 0);
  assert.equal(b.scaleDown.stabilizationWindowSeconds, 300);
});

test('a scale-down waits for the stabilization window: the highest recent recommendation wins', () => {
  const history = new History();
  assert.equal(normalize(input({ currentReplicas: 4, desiredReplicas: 4 }), history).replicas, 4);
  // 60 s later the metric asks for 1: the recommendation of 4 is still in the window.
  const early = normalize(input({ currentReplicas: 4, desiredReplicas: 1, nowMs: T0 + 60_000 }), history);
  assert.equal(early.replicas, 4);
  // After the window (300 s) only the low recommendations remain.
  const late = normalize(input({ currentReplicas: 4, desiredReplicas: 1, nowMs: T0 + 301_000 }), history);
  assert.equal(late.replicas, 1);
});

test('a shortened window (the controller flag) lets the scale-down through sooner', () => {
  const history = new History();
  const behavior = withDefaults(undefined, 10);
  normalize(input({ currentReplicas: 4, desiredReplicas: 4, behavior }), history);
  assert.equal(
    normalize(input({ currentReplicas: 4, desiredReplicas: 1, behavior, nowMs: T0 + 5_000 }), history).replicas,
    4,
  );
  assert.equal(
    normalize(input({ currentReplicas: 4, desiredReplicas: 1, behavior, nowMs: T0 + 11_000 }), history).replicas,
    1,
  );
});

test('policies limit the rate, counting scale events of their period', () => {
  const behavior = withDefaults(
    { scaleUp: { policies: [{ type: 'Pods', value: 2, periodSeconds: 60 }], selectPolicy: 'Max' } },
    300,
  );
  const history = new History();
  const first = normalize(input({ currentReplicas: 2, desiredReplicas: 9, behavior }), history);
  assert.deepEqual({ replicas: first.replicas, reason: first.reason }, { replicas: 4, reason: 'ScaleUpLimit' });
  history.recordScale(2, 4, T0);
  // 30 s later the period still holds the +2: no more room.
  const second = normalize(input({ currentReplicas: 4, desiredReplicas: 9, behavior, nowMs: T0 + 30_000 }), history);
  assert.equal(second.replicas, 4);
  // After the period, 2 more.
  const third = normalize(input({ currentReplicas: 4, desiredReplicas: 9, behavior, nowMs: T0 + 61_000 }), history);
  assert.equal(third.replicas, 6);
});

test('selectPolicy Min picks the smaller change, Disabled none', () => {
  const rules = {
    stabilizationWindowSeconds: 0,
    selectPolicy: 'Min' as const,
    policies: [
      { type: 'Percent' as const, value: 50, periodSeconds: 60 },
      { type: 'Pods' as const, value: 1, periodSeconds: 60 },
    ],
  };
  const at = { history: new History(), nowMs: T0 };
  assert.equal(scaleDownLimit(10, rules, at), 9);
  assert.equal(scaleUpLimit(10, rules, at), 11);
  assert.equal(scaleDownLimit(10, { ...rules, selectPolicy: 'Max' }, at), 5);
  assert.equal(scaleUpLimit(10, { ...rules, selectPolicy: 'Disabled' }, at), 10);
});

test('min and max bound the result with the ScalingLimited reasons', () => {
  const high = normalize(input({ currentReplicas: 8, desiredReplicas: 30 }), new History());
  assert.deepEqual({ r: high.replicas, reason: high.reason }, { r: 10, reason: 'TooManyReplicas' });
  const behavior = withDefaults(undefined, 0);
  const low = normalize(input({ currentReplicas: 3, desiredReplicas: 0, minReplicas: 2, behavior }), new History());
  assert.deepEqual({ r: low.replicas, reason: low.reason }, { r: 2, reason: 'TooFewReplicas' });
  const within = normalize(input({ currentReplicas: 3, desiredReplicas: 5 }), new History());
  assert.deepEqual({ r: within.replicas, reason: within.reason }, { r: 5, reason: 'DesiredWithinRange' });
});
