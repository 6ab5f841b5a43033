// Every patch function against hostile and random input: it returns plain data or throws a
// 4xx ApiError, never writes to Object.prototype, never changes its input.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ApiError } from '../../errors/index.js';
import { checkPlainData } from '../decode/index.js';
import { applyPatch } from './index.js';
import { applyJsonPatch } from './json-patch.js';
import { applyMergePatch } from './merge-patch.js';
import { applyStrategicMergePatch } from './strategic-merge-patch.js';

const POD = { group: '', kind: 'Pod' };
const PROTOTYPE_KEYS = Object.getOwnPropertyNames(Object.prototype).sort();

function assertPrototypeClean(): void {
  assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), PROTOTYPE_KEYS);
  assert.equal(({} as Record<string, unknown>)['x'], undefined);
}

function rejects(f: () => unknown, code: number, message?: RegExp): void {
  assert.throws(f, (err: unknown) => {
    assert.ok(err instanceof ApiError, `expected an ApiError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (message !== undefined) assert.match(err.message, message);
    return true;
  });
  assertPrototypeClean();
}

function pod(): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'default', labels: { a: '1' } },
    data: { k: 'v' },
    spec: { containers: [{ name: 'c', image: 'busybox', ports: [{ containerPort: 80 }] }] },
    status: { phase: 'Running' },
  };
}

test('JSON patch: a path or from through a prototype key is a 400 and pollutes nothing', () => {
  for (const ops of [
    [{ op: 'add', path: '/__proto__/x', value: 1 }],
    [{ op: 'add', path: '/data/__proto__/x', value: 1 }],
    [{ op: 'add', path: '/status/constructor/prototype/x', value: 1 }],
    [{ op: 'replace', path: '/metadata/__proto__', value: { x: 1 } }],
    [{ op: 'copy', from: '/data', path: '/__proto__/x' }],
    [{ op: 'copy', from: '/__proto__', path: '/data/x' }],
    [{ op: 'move', from: '/data/k', path: '/constructor/x' }],
    [{ op: 'test', path: '/__proto__', value: {} }],
    [{ op: 'add', path: '/spec/containers/0/__proto__', value: { x: 1 } }],
  ]) {
    rejects(() => applyJsonPatch(pod(), ops), 400, /not allowed/);
  }
  // A value with a prototype key (JSON.parse makes it an own property) is refused too.
  rejects(
    () => applyJsonPatch(pod(), JSON.parse('[{"op":"add","path":"/data/y","value":{"__proto__":{"x":1}}}]')),
    400,
    /not allowed/,
  );
});

test('JSON patch: inherited names are not there; the normal operations still work', () => {
  rejects(() => applyJsonPatch(pod(), [{ op: 'remove', path: '/data/toString' }]), 422, /does not exist/);
  rejects(
    () => applyJsonPatch(pod(), [{ op: 'add', path: '/data/hasOwnProperty/x', value: 1 }]),
    422,
    /does not exist/,
  );
  const out = applyJsonPatch(pod(), [
    { op: 'add', path: '/metadata/labels/b', value: '2' },
    { op: 'copy', from: '/metadata/labels', path: '/data/labels' },
    { op: 'move', from: '/data/k', path: '/data/k2' },
    { op: 'test', path: '/data/k2', value: 'v' },
  ]) as { metadata: { labels: Record<string, string> }; data: Record<string, unknown> };
  assert.deepEqual(out.metadata.labels, { a: '1', b: '2' });
  assert.deepEqual(out.data, { labels: { a: '1', b: '2' }, k2: 'v' });
});

test('JSON patch: copies that double the object are bounded (413), and so is the number of operations', () => {
  const doubling = Array.from({ length: 40 }, (_, i) => ({ op: 'copy', from: '/data', path: `/data/c${i}` }));
  const big = { ...pod(), data: { k: 'x'.repeat(1000) } };
  rejects(() => applyJsonPatch(big, doubling), 413);
  const many = Array.from({ length: 10_001 }, () => ({ op: 'test', path: '/kind', value: 'Pod' }));
  rejects(() => applyJsonPatch(pod(), many), 413, /maximum operations/);
  // Each copy puts the whole chain at its own bottom: depth doubles.
  const chain = JSON.parse('{"d":'.repeat(400) + '{}' + '}'.repeat(400)) as unknown;
  const deeper = Array.from({ length: 3 }, () => ({ op: 'copy', from: '/data', path: `/data${'/d'.repeat(400)}/x` }));
  rejects(() => applyJsonPatch({ data: chain }, deeper), 400, /nests deeper/);
});

test('merge patch and strategic merge patch refuse prototype keys, however they are reached', () => {
  rejects(() => applyMergePatch(pod(), JSON.parse('{"__proto__":{"x":1}}')), 400, /not allowed/);
  rejects(
    () => applyMergePatch(pod(), JSON.parse('{"data":{"constructor":{"prototype":{"x":1}}}}')),
    400,
    /not allowed/,
  );
  rejects(
    () => applyStrategicMergePatch(pod(), JSON.parse('{"metadata":{"__proto__":{"x":1}}}'), POD),
    400,
    /not allowed/,
  );
  rejects(
    () => applyStrategicMergePatch(pod(), { spec: { '$setElementOrder/__proto__': [{ name: 'c' }] } }, POD),
    400,
    /not allowed/,
  );
  rejects(
    () => applyStrategicMergePatch(pod(), { data: { '$deleteFromPrimitiveList/constructor': ['x'] } }, POD),
    400,
    /not allowed/,
  );
  assert.deepEqual((applyMergePatch(pod(), { data: { k: null, n: 1 } }) as { data: unknown }).data, { n: 1 });
});

test('strategic merge patch: unknown $patch directives and malformed directives are a 400', () => {
  rejects(() => applyStrategicMergePatch(pod(), { spec: { $patch: 'explode' } }, POD), 400, /unknown patch type/);
  rejects(
    () => applyStrategicMergePatch(pod(), { spec: { containers: [{ name: 'c', $patch: 'nope' }] } }, POD),
    400,
    /unknown patch type/,
  );
  rejects(() => applyStrategicMergePatch(pod(), { spec: { $patch: 5 } }, POD), 400, /unknown patch type/);
  rejects(() => applyStrategicMergePatch(pod(), { spec: { $retainKeys: 'containers' } }, POD), 400, /retainKeys/);
  rejects(
    () => applyStrategicMergePatch(pod(), { spec: { '$setElementOrder/containers': 'c' } }, POD),
    400,
    /setElementOrder/,
  );
  const merged = applyStrategicMergePatch(
    pod(),
    { spec: { $patch: 'merge', containers: [{ name: 'c', image: 'x', $patch: 'merge' }] } },
    POD,
  ) as {
    spec: { containers: { image: string; ports: unknown[] }[] };
  };
  assert.equal(merged.spec.containers[0]?.image, 'x');
  assert.deepEqual(merged.spec.containers[0]?.ports, [{ containerPort: 80 }]);
});

// ---- random patches -----------------------------------------------------------------------

const token = fc.constantFrom(
  '__proto__',
  'constructor',
  'prototype',
  'a',
  'b',
  'data',
  'metadata',
  'labels',
  'spec',
  'containers',
  '0',
  '1',
  '-',
  'toString',
  '',
);
const pointer = fc.array(token, { maxLength: 5 }).map((ts) => (ts.length === 0 ? '' : '/' + ts.join('/')));
const key = fc.oneof(
  token,
  fc.constantFrom(
    '$patch',
    '$retainKeys',
    '$setElementOrder/containers',
    '$setElementOrder/__proto__',
    '$deleteFromPrimitiveList/a',
    'name',
  ),
);
/** JSON values whose objects may carry hostile keys (as own properties, as JSON.parse makes them). */
const value: fc.Arbitrary<unknown> = fc
  .letrec<{ v: string }>((tie) => ({
    v: fc.oneof(
      { depthSize: 'small' },
      fc.constantFrom('null', 'true', '0', '1.5', '"replace"', '"delete"', '"merge"', '"x"', '"c"'),
      fc.array(tie('v'), { maxLength: 3 }).map((xs) => `[${xs.join(',')}]`),
      fc
        .array(fc.tuple(key, tie('v')), { maxLength: 3 })
        .map((ps) => `{${ps.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
    ),
  }))
  .v.map((text) => JSON.parse(text) as unknown);
const operation = fc.record(
  {
    op: fc.constantFrom('add', 'remove', 'replace', 'move', 'copy', 'test', 'bogus'),
    path: pointer,
    from: pointer,
    value,
  },
  { requiredKeys: ['op', 'path'] },
);
const original = fc.oneof(fc.constant(pod()), fc.jsonValue({ maxDepth: 4 }));

function onlyClientErrorsAndPlainData(f: () => unknown): void {
  try {
    checkPlainData(f());
  } catch (err) {
    assert.ok(err instanceof ApiError, `threw ${String(err)}`);
    assert.ok(err.code >= 400 && err.code < 500, `code ${err.code}: ${err.message}`);
  }
  assertPrototypeClean();
}

test('fuzz: every patch type, random originals and hostile patches', () => {
  fc.assert(
    fc.property(original, fc.array(operation, { maxLength: 6 }), (orig, ops) => {
      const before = structuredClone(orig);
      onlyClientErrorsAndPlainData(() => applyJsonPatch(orig, ops));
      assert.deepEqual(orig, before);
    }),
    { numRuns: 2000 },
  );
  for (const type of ['application/merge-patch+json', 'application/strategic-merge-patch+json']) {
    fc.assert(
      fc.property(original, value, (orig, patch) => {
        const before = structuredClone(orig);
        onlyClientErrorsAndPlainData(() => applyPatch(orig, { contentType: type, body: patch }, POD));
        assert.deepEqual(orig, before);
      }),
      { numRuns: 1500 },
    );
  }
});
