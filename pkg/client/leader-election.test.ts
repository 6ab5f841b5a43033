// The leader's renewals against a fake apiserver: a conflict (a renewal replayed on another
// apiserver after its connection broke, or a lost race) is retried until the renew deadline;
// only a lease held by another candidate ends the term at once.

import assert from 'node:assert/strict';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { createCA, issueCertificate } from '../pki/index.js';
import { LeaderElector } from './leader-election.js';
import { RestClient } from './rest-client.js';

interface FakeLeases {
  client: RestClient;
  puts: number;
  close(): void;
}

/** An apiserver holding one Lease of `holder`; PUTs answer 409 `conflicts` times, then 200. */
async function fakeLeases(holder: string, conflicts: number): Promise<FakeLeases> {
  const ca = await createCA('leases-ca');
  const serving = await issueCertificate(ca, {
    commonName: 'apiserver',
    ipAddresses: ['127.0.0.1'],
    usages: ['server'],
  });
  const lease = {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: 'lock', namespace: 'kube-system', resourceVersion: '5' },
    spec: { holderIdentity: holder, leaseDurationSeconds: 15, renewTime: new Date().toISOString() },
  };
  const state = { puts: 0 };
  const server = https.createServer({ cert: serving.certPem, key: serving.keyPem }, (req, res) => {
    req.resume();
    req.on('end', () => {
      res.setHeader('Content-Type', 'application/json');
      if (req.method === 'PUT') {
        state.puts++;
        if (state.puts <= conflicts) {
          res.statusCode = 409;
          return res.end(JSON.stringify({ kind: 'Status', status: 'Failure', reason: 'Conflict', code: 409 }));
        }
      }
      res.end(JSON.stringify(lease));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address: AddressInfo | string | null = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  const client = new RestClient({
    server: `https://127.0.0.1:${address.port}`,
    caPem: ca.certPem,
    certPem: undefined,
    keyPem: undefined,
    token: 'test',
    namespace: 'default',
    userName: 'test',
  });
  return {
    client,
    get puts() {
      return state.puts;
    },
    close: () => {
      client.close();
      server.closeAllConnections();
      server.close();
    },
  };
}

const CONFIG = {
  namespace: 'kube-system',
  name: 'lock',
  identity: 'me',
  leaseDurationSeconds: 15,
  renewDeadlineMs: 2_000,
  retryPeriodMs: 50,
};

test('a renewal that conflicts is tried again next period: the leader keeps the lease', async () => {
  const fake = await fakeLeases('me', 2);
  try {
    const ac = new AbortController();
    let lost = false;
    const renewing = new LeaderElector(fake.client, CONFIG)
      .renewUntilLost(ac.signal)
      .then(() => (lost = !ac.signal.aborted));
    for (let i = 0; i < 100 && fake.puts < 4; i++) await new Promise((r) => setTimeout(r, 20));
    ac.abort();
    await renewing;
    assert.equal(lost, false, 'two conflicts within the deadline do not end the term');
    assert.ok(fake.puts >= 4, `renewed after the conflicts (${fake.puts} PUTs)`);
  } finally {
    fake.close();
  }
});

test('a lease held by another candidate ends the term at once', async () => {
  const fake = await fakeLeases('someone-else', 0);
  try {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), 1_500);
    await new LeaderElector(fake.client, CONFIG).renewUntilLost(ac.signal);
    clearTimeout(timer);
    assert.equal(ac.signal.aborted, false, 'returned before the abort');
    assert.equal(fake.puts, 0);
  } finally {
    fake.close();
  }
});
