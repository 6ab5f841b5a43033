// Hollow nodes (cmd/hollow-nodes.ts): 50 real node agents on the in-memory runtime in one
// process, against a real apiserver, controller-manager and scheduler. They register with
// their own node certificates, keep their Leases fresh for a minute (the node lifecycle
// controller never marks one NotReady), run a Deployment's pods to Running and remove them
// when it is deleted. The hostile case: bad flags are refused with one line and exit 2.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { RESOURCES } from '../pkg/api/registry.js';
import type { Lease, Node, Pod } from '../pkg/api/types/index.js';
import type { RestClient } from '../pkg/client/index.js';
import { adminClient, eventually, R } from './harness/clients.js';
import { DIST, run, startControlPlane, stopBounded, waitForLine, type ControlPlane } from './harness/control-plane.js';

const COUNT = 50;
const REPLICAS = 100;
let plane: ControlPlane;
let client: RestClient;
let fleet: ChildProcess;
let fleetLog = '';
const root = mkdtempSync(join(tmpdir(), 'hollow-'));

function hollowArgs(extra: string[]): string[] {
  return [
    join(DIST, 'cmd', 'hollow-nodes.js'),
    '--server',
    plane.server,
    '--ca-cert',
    plane.pki.caCert,
    '--ca-key',
    plane.pki.caKey,
    '--root-dir',
    root,
    ...extra,
  ];
}

before(async () => {
  plane = await startControlPlane({ withControllers: true, withScheduler: true });
  client = adminClient(plane);
  fleet = spawn(process.execPath, hollowArgs(['--count', String(COUNT), '--lease-renew-interval', '2']), {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  fleet.stderr?.on('data', (d: Buffer) => {
    if (fleetLog.length < 20_000) fleetLog += d.toString();
  });
  await waitForLine(fleet, new RegExp(`${COUNT} hollow nodes ready`), 120_000);
});

after(async () => {
  await stopBounded(fleet);
  client.close();
  await plane.stop();
  rmSync(root, { recursive: true, force: true });
});

function ready(n: Node): boolean {
  return n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
}

async function hollowNodes(): Promise<Node[]> {
  const nodes = await client.list(R.nodes);
  return nodes.items.filter((n) => n.metadata.labels?.['coxswain.dev/hollow'] === 'true');
}

async function renewTimes(): Promise<Map<string, string>> {
  const leases = await client.list(RESOURCES.leases, { namespace: 'kube-node-lease' });
  return new Map(leases.items.map((l: Lease) => [l.metadata.name ?? '', l.spec?.renewTime ?? '']));
}

test('50 hollow nodes register Ready, keep their Leases fresh for a minute, and run pods to Running and away', async () => {
  await eventually(async () => (await hollowNodes()).filter(ready).length === COUNT, {
    timeoutMs: 60_000,
    what: `${COUNT} Ready hollow nodes`,
  });
  const first = await renewTimes();
  const started = Date.now();

  await client.create(
    R.deployments,
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'load' },
      spec: {
        replicas: REPLICAS,
        selector: { matchLabels: { app: 'load' } },
        template: {
          metadata: { labels: { app: 'load' } },
          spec: { containers: [{ name: 'c', image: 'busybox:latest', command: ['sleep', '3600'] }] },
        },
      },
    },
    { namespace: 'default' },
  );
  let pods: Pod[] = [];
  await eventually(
    async () => {
      pods = (await client.list(R.pods, { namespace: 'default', labelSelector: 'app=load' })).items;
      return pods.length === REPLICAS && pods.every((p) => p.status?.phase === 'Running');
    },
    { timeoutMs: 120_000, intervalMs: 500, what: `${REPLICAS} pods Running on hollow nodes\n${fleetLog}` },
  );
  const used = new Set(pods.map((p) => p.spec?.nodeName));
  assert.ok(used.size >= COUNT / 2, `pods spread over ${used.size} nodes`);
  assert.ok(
    pods.every((p) => p.status?.containerStatuses?.[0]?.ready === true),
    'each container is reported ready by its agent',
  );

  await client.delete(R.deployments, 'load', { namespace: 'default' });
  await eventually(
    async () => (await client.list(R.pods, { namespace: 'default', labelSelector: 'app=load' })).items.length === 0,
    { timeoutMs: 120_000, intervalMs: 500, what: 'the pods removed by their agents' },
  );

  // A minute after the first look, every Lease was renewed and every node is still Ready.
  const left = 60_000 - (Date.now() - started);
  if (left > 0) await new Promise((r) => setTimeout(r, left));
  const later = await renewTimes();
  for (const n of await hollowNodes()) {
    const name = n.metadata.name ?? '';
    assert.ok(ready(n), `${name} is still Ready`);
    assert.notEqual(later.get(name), first.get(name), `${name}'s Lease was renewed`);
  }
});

test('bad flags are refused with one line and exit 2', async () => {
  const refused = await run(process.execPath, hollowArgs(['--count', '0']));
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /^hollow-nodes: --count must be 1 to 5000\n$/);
  const noCa = await run(process.execPath, [
    join(DIST, 'cmd', 'hollow-nodes.js'),
    '--server',
    plane.server,
    '--ca-cert',
    join(root, 'missing.crt'),
    '--ca-key',
    join(root, 'missing.key'),
  ]);
  assert.equal(noCa.code, 2);
  assert.match(noCa.stderr, /^hollow-nodes: cannot read .*missing\.crt/);
});
