// A browser's websocket carries its bearer token in the
// `base64url.bearer.authorization.k8s.io.<token>` subprotocol: a good token authenticates, a
// bad or malformed one is a 401, and the token never stays among the offered protocols.

import assert from 'node:assert/strict';
import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { test } from 'node:test';
import { ApiError } from '../errors/index.js';
import type { KubeObject } from '../api/meta.js';
import { Authenticator } from './authn.js';
import { BEARER_PROTOCOL_PREFIX } from './websocket-bearer.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

/** A bootstrap token Secret (the token kind that needs no signing key in a unit test). */
const tokenSecret: KubeObject = {
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'bootstrap-token-abcdef', namespace: 'kube-system' },
  type: 'bootstrap.kubernetes.io/token',
  data: {
    'token-id': b64('abcdef'),
    'token-secret': b64('0123456789abcdef'),
    'usage-bootstrap-authentication': b64('true'),
  },
};
const authenticator = new Authenticator({
  secrets: (name) => Promise.resolve(name === 'bootstrap-token-abcdef' ? tokenSecret : undefined),
});

function upgrade(protocols: string): IncomingMessage {
  const req = new IncomingMessage(new Socket());
  req.headers = { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-protocol': protocols };
  return req;
}

const offer = (token: string): string => `${BEARER_PROTOCOL_PREFIX}${Buffer.from(token).toString('base64url')}`;

async function refusal(req: IncomingMessage): Promise<number> {
  try {
    await authenticator.authenticate(req);
    return 0;
  } catch (err) {
    return err instanceof ApiError ? err.code : -1;
  }
}

test('a good token in the subprotocol authenticates, and only the channel protocol is left', async () => {
  const req = upgrade(`v5.channel.k8s.io, ${offer('abcdef.0123456789abcdef')}, v4.channel.k8s.io`);
  const user = await authenticator.authenticate(req);
  assert.equal(user.name, 'system:bootstrap:abcdef');
  assert.equal(req.headers['sec-websocket-protocol'], 'v5.channel.k8s.io, v4.channel.k8s.io');
});

test('a bad token is 401 and is still taken out of the offered protocols', async () => {
  const req = upgrade(`${offer('abcdef.ffffffffffffffff')},v5.channel.k8s.io`);
  assert.equal(await refusal(req), 401);
  assert.equal(req.headers['sec-websocket-protocol'], 'v5.channel.k8s.io');
});

test('malformed subprotocol tokens are 401: bad base64url, empty, two of them', async () => {
  for (const protocols of [
    `${BEARER_PROTOCOL_PREFIX}not*base64`,
    `${BEARER_PROTOCOL_PREFIX}`,
    `${BEARER_PROTOCOL_PREFIX}YQ==`,
    offer('has space'),
    `${offer('abcdef.0123456789abcdef')}, ${offer('abcdef.0123456789abcdef')}`,
  ]) {
    assert.equal(await refusal(upgrade(protocols)), 401, protocols);
  }
});

test('the subprotocol is read on websocket upgrades only; other requests stay anonymous', async () => {
  const req = upgrade(offer('abcdef.0123456789abcdef'));
  delete req.headers.upgrade;
  assert.equal((await authenticator.authenticate(req)).name, 'system:anonymous');
  const alone = upgrade(offer('abcdef.0123456789abcdef'));
  await authenticator.authenticate(alone);
  assert.equal(alone.headers['sec-websocket-protocol'], undefined);
});
