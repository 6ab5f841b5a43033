// Which port-forward protocol an upgrade asks for, and Kubernetes' refusals of bad ports.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from '../errors/index.js';
import { parsePortsQuery, portForwardMode, portPreamble } from './port-forward-protocol.js';

const q = (s: string): URLSearchParams => new URLSearchParams(s);

function refusal(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ApiError);
    return err;
  }
  assert.fail('expected a refusal');
}

test('kubectl SPDY, SPDY tunnelled in a websocket, and the channel protocol are told apart', () => {
  assert.deepEqual(portForwardMode({ upgrade: 'SPDY/3.1', 'x-stream-protocol-version': 'portforward.k8s.io' }, q('')), {
    kind: 'spdy',
  });
  assert.deepEqual(portForwardMode({ upgrade: 'SPDY/3.1' }, q('')), { kind: 'spdy' });
  assert.deepEqual(
    portForwardMode({ upgrade: 'websocket', 'sec-websocket-protocol': 'SPDY/3.1+portforward.k8s.io' }, q('')),
    { kind: 'spdy-websocket' },
  );
  assert.deepEqual(
    portForwardMode(
      { upgrade: 'websocket', 'sec-websocket-protocol': 'v5.channel.k8s.io, v4.channel.k8s.io' },
      q('ports=80,8080&ports=9000'),
    ),
    { kind: 'channel-websocket', protocol: 'v4.channel.k8s.io', ports: [80, 8080, 9000] },
  );
  assert.deepEqual(portForwardMode({ upgrade: 'websocket' }, q('ports=1')), {
    kind: 'channel-websocket',
    protocol: undefined,
    ports: [1],
  });
});

test('bad ports, no ports, unknown protocols are refused with 400 (403 for a SPDY protocol mismatch)', () => {
  for (const bad of ['0', '70000', 'abc', '', '80,', '-1', '1e3', '99999999999']) {
    assert.equal(refusal(() => parsePortsQuery(q(`ports=${bad}`))).code, 400, bad);
  }
  assert.match(refusal(() => parsePortsQuery(q(''))).message, /"ports" is required/);
  assert.equal(
    refusal(() => parsePortsQuery(q(Array.from({ length: 65 }, (_, i) => `ports=${i + 1}`).join('&')))).code,
    400,
  );
  assert.equal(
    refusal(() => portForwardMode({ upgrade: 'SPDY/3.1', 'x-stream-protocol-version': 'v4.channel.k8s.io' }, q('')))
      .code,
    403,
  );
  assert.equal(refusal(() => portForwardMode({ upgrade: 'h2c' }, q('ports=80'))).code, 400);
  assert.equal(
    refusal(() =>
      portForwardMode({ upgrade: 'websocket', 'sec-websocket-protocol': 'v5.channel.k8s.io' }, q('ports=80')),
    ).code,
    400,
  );
});

test('each channel starts with its port, little-endian', () => {
  assert.deepEqual([...portPreamble(3, 8080)], [3, 0x90, 0x1f]);
});
