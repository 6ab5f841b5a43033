// A watch from a resourceVersion older than the retained history gets 410 Expired (as an
// ERROR event in the stream, as kubectl expects), and a reflector then re-lists.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { after, before, test } from 'node:test';
import type { RestClient } from '../pkg/client/index.js';
import { adminClient, eventually, R } from './harness/clients.js';
import { startControlPlane, type ControlPlane } from './harness/control-plane.js';

let plane: ControlPlane;
let client: RestClient;

before(async () => {
  plane = await startControlPlane({ extraArgs: ['--watch-history', '5', '--compaction-interval', '1'] });
  client = adminClient(plane);
});
after(async () => {
  client.close();
  await plane.stop();
});

function watchLines(path: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port: plane.port,
        method: 'GET',
        path,
        agent: false,
        ca: readFileSync(plane.pki.caCert),
        cert: readFileSync(plane.pki.adminCert),
        key: readFileSync(plane.pki.adminKey),
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve(body.split('\n').filter((l) => l !== '')));
      },
    );
    req.on('error', reject);
    req.setTimeout(20_000, () => req.destroy(new Error('watch did not end')));
    req.end();
  });
}

test('watching from a compacted resourceVersion yields an ERROR event with 410 Expired', async () => {
  const first = await client.create(
    R.configmaps,
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'old' } },
    { namespace: 'default' },
  );
  for (let i = 0; i < 30; i++)
    await client.patch(R.configmaps, 'old', { type: 'merge', body: { data: { i: String(i) } }, namespace: 'default' });
  const oldRv = first.metadata.resourceVersion ?? '1';
  let lines: string[] = [];
  await eventually(
    async () => {
      lines = await watchLines(
        `/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${oldRv}&timeoutSeconds=1`,
      );
      return lines.some((l) => l.includes('"ERROR"'));
    },
    { timeoutMs: 30_000, intervalMs: 500, what: 'history compacted' },
  );
  const ev = JSON.parse(lines[0] ?? '{}') as {
    type: string;
    object: { kind: string; code: number; reason: string; message: string };
  };
  assert.equal(ev.type, 'ERROR');
  assert.equal(ev.object.kind, 'Status');
  assert.equal(ev.object.code, 410);
  assert.equal(ev.object.reason, 'Expired');
  assert.match(ev.object.message, new RegExp(`too old resource version: ${oldRv}`));
});
