import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatCidr, parseCidr, subnet } from './cidr.js';
import { parseDurationSeconds } from './duration.js';

test('CIDR blocks and Go durations', () => {
  const c = parseCidr('10.244.7.9/16');
  assert.ok(c);
  assert.equal(formatCidr(c), '10.244.0.0/16');
  const third = subnet(c, 24, 3);
  assert.ok(third);
  assert.equal(formatCidr(third), '10.244.3.0/24');
  assert.equal(subnet(c, 24, 256), undefined);
  assert.equal(parseCidr('10.244.0.0/33'), undefined);
  assert.equal(parseDurationSeconds('1h30m'), 5400);
  assert.equal(parseDurationSeconds('8760h0m0s'), 8760 * 3600);
  assert.equal(parseDurationSeconds('90'), 90);
  assert.equal(parseDurationSeconds('soon'), undefined);
  assert.equal(parseDurationSeconds('5x'), undefined);
});
