import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatIndexes, indexOf, missingIndexes, parseIndexes } from './indexes.js';

describe('completed indexes', () => {
  test('are written as Kubernetes writes them: ranges of three or more, pairs with a comma', () => {
    assert.equal(formatIndexes([]), '');
    assert.equal(formatIndexes([0]), '0');
    assert.equal(formatIndexes([1, 0]), '0,1');
    assert.equal(formatIndexes([0, 1, 2, 4, 6, 7]), '0-2,4,6,7');
    assert.equal(formatIndexes([5, 3, 4, 4]), '3-5');
  });

  test('read back what they wrote, within completions', () => {
    assert.deepEqual([...parseIndexes('0-2,4,6,7', 10)].sort(), [0, 1, 2, 4, 6, 7]);
    assert.deepEqual([...parseIndexes('0-999999999', 3)].sort(), [0, 1, 2]);
  });

  test('skip what is malformed (a status is hostile input too)', () => {
    assert.deepEqual([...parseIndexes('x,-1,3-,,2', 5)], [2]);
    assert.equal(parseIndexes(undefined, 5).size, 0);
  });

  test('a pod index must be a plain number below completions', () => {
    const at = (v: string): { annotations: Record<string, string> } => ({
      annotations: { 'batch.kubernetes.io/job-completion-index': v },
    });
    assert.equal(indexOf(at('2'), 3), 2);
    assert.equal(indexOf(at('3'), 3), undefined);
    assert.equal(indexOf(at('01'), 3), undefined);
    assert.equal(indexOf(at('-1'), 3), undefined);
    assert.equal(indexOf({}, 3), undefined);
  });

  test('missing indexes are the lowest free ones', () => {
    assert.deepEqual(missingIndexes(5, new Set([0, 2]), 2), [1, 3]);
    assert.deepEqual(missingIndexes(2, new Set([0, 1]), 3), []);
  });
});
