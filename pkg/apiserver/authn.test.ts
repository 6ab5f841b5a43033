// The client-certificate identity is read once per TLS connection: requests on one kept-alive
// connection keep its identity, other connections get their own, one without a certificate is
// anonymous, and a certificate the CA did not sign is refused on every request of its connection.

import assert from 'node:assert/strict';
import { Agent, createServer, request, type Server } from 'node:https';
import { after, before, test } from 'node:test';
import { ApiError } from '../errors/index.js';
import { createCA, issueCertificate, type KeyPairPem } from '../pki/index.js';
import { Authenticator } from './authn.js';

let ca: KeyPairPem;
let server: Server;
let port = 0;
const authenticator = new Authenticator({ secrets: () => Promise.resolve(undefined) });

before(async () => {
  ca = await createCA('authn-test-ca');
  const serving = await issueCertificate(ca, {
    commonName: '127.0.0.1',
    ipAddresses: ['127.0.0.1'],
    usages: ['server'],
  });
  // As the apiserver: a client certificate is asked for and checked, and the handler decides.
  server = createServer({
    cert: serving.certPem,
    key: serving.keyPem,
    ca: ca.certPem,
    requestCert: true,
    rejectUnauthorized: false,
  });
  server.on('request', (req, res) => {
    authenticator.authenticate(req).then(
      (user) => res.end(`${user.name} ${user.groups.join(',')}`),
      (err: unknown) => res.writeHead(err instanceof ApiError ? err.code : 500).end('refused'),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  port = address.port;
});

after(() => server.close());

/** A kept-alive connection of its own, with `client`'s certificate if given. */
function connection(client?: KeyPairPem): Agent {
  return new Agent({ keepAlive: true, maxSockets: 1, ca: ca.certPem, cert: client?.certPem, key: client?.keyPem });
}

function get(agent: Agent): Promise<{ status: number; body: string; socket: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, socket: req.socket }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('each connection keeps the identity its certificate gave; a foreign certificate stays refused', async () => {
  const alice = await issueCertificate(ca, { commonName: 'alice', organizations: ['team-a'], usages: ['client'] });
  const bob = await issueCertificate(ca, { commonName: 'bob', usages: ['client'] });
  const otherCa = await createCA('someone-else');
  const mallory = await issueCertificate(otherCa, {
    commonName: 'alice',
    organizations: ['system:masters'],
    usages: ['client'],
  });
  const agents = { alice: connection(alice), bob: connection(bob), none: connection(), mallory: connection(mallory) };
  try {
    for (let round = 0; round < 3; round++) {
      const [a, b, n, m] = await Promise.all([
        get(agents.alice),
        get(agents.bob),
        get(agents.none),
        get(agents.mallory),
      ]);
      assert.equal(a.body, 'alice team-a,system:authenticated');
      assert.equal(b.body, 'bob system:authenticated');
      assert.equal(n.body, 'system:anonymous system:unauthenticated');
      assert.deepEqual([m.status, m.body], [401, 'refused']);
    }
    // The rounds went over one connection per agent: what was cached was per connection.
    const first = await get(agents.alice);
    const second = await get(agents.alice);
    assert.equal(first.socket, second.socket);
    assert.equal(second.body, 'alice team-a,system:authenticated');
  } finally {
    for (const agent of Object.values(agents)) agent.destroy();
  }
});
