// ControllerRevisions end to end with the real kubectl: a StatefulSet and a DaemonSet keep one
// revision per template, `kubectl rollout history` lists them (and shows one with
// --revision), `kubectl rollout undo` restores the previous template, and a partitioned
// rolling update moves only the ordinals at or above the partition. The test plays scheduler
// and kubelet (it binds pods, marks them Ready and confirms their deletion).

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { RESOURCES, type KubeObject } from '../pkg/api/index.js';
import type { ControllerRevision } from '../pkg/api/types/index.js';
import { ApiError } from '../pkg/errors/index.js';
import { eventually } from './harness/clients.js';
import { kubectl } from './harness/control-plane.js';
import {
  createNamespace,
  CR,
  field,
  isPodReady,
  items,
  livePods,
  runPod,
  statusOf,
  useControllerPlane,
} from './harness/controller-plane.js';
import { createReadyNode } from './harness/fake-nodes.js';

const NS = 'revisions';
const cp = useControllerPlane(['statefulset', 'daemonset', 'garbagecollector']);
let home = '';

before(() => {
  home = mkdtempSync(join(tmpdir(), 'revisions-home-'));
});
after(() => {
  if (home !== '') rmSync(home, { recursive: true, force: true });
});

async function ctl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return kubectl(cp.plane.pki.adminKubeconfig, ['-n', NS, ...args], { home });
}

async function ok(args: string[]): Promise<string> {
  const res = await ctl(args);
  assert.equal(res.code, 0, `kubectl ${args.join(' ')}: ${res.stderr}`);
  return res.stdout;
}

function template(image: string): Record<string, unknown> {
  return {
    metadata: { labels: { app: 'web' } },
    spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image, command: ['sleep', '3600'] }] },
  };
}

/** Scheduler and kubelet for `app`: binds and readies new pods, confirms deletions; true once `check` holds. */
async function settle(app: string, check: (pods: KubeObject[]) => boolean, what: string): Promise<void> {
  await eventually(
    async () => {
      const all = (await cp.client.list(CR.pods, { namespace: NS, labelSelector: `app=${app}` })).items;
      for (const p of all) {
        const name = p.metadata.name ?? '';
        if (p.metadata.deletionTimestamp !== undefined)
          await cp.client.delete(CR.pods, name, { namespace: NS, gracePeriodSeconds: 0 }).catch(() => undefined);
        else if (!isPodReady(p)) await runPod(cp.client, p, 'n1').catch(() => undefined);
      }
      return check(await livePods(cp.client, NS, app));
    },
    { timeoutMs: 60_000, intervalMs: 200, what },
  );
}

const imageOf = (p: KubeObject): unknown => field(items(field(p, 'spec', 'containers'))[0], 'image');
const images = (pods: KubeObject[]): string => pods.map((p) => String(imageOf(p))).join(',');
const revisionLabel = (p: KubeObject): string | undefined => p.metadata.labels?.['controller-revision-hash'];

async function revisions(owner: string): Promise<ControllerRevision[]> {
  const list = await cp.client.list(RESOURCES.controllerrevisions, { namespace: NS });
  return list.items
    .filter((r) => r.metadata.ownerReferences?.some((o) => o.name === owner))
    .sort((a, b) => a.revision - b.revision);
}

async function setStatus(name: string): Promise<Record<string, unknown>> {
  return statusOf(await cp.client.get(CR.statefulsets, name, { namespace: NS }));
}

test('a StatefulSet keeps ControllerRevisions; kubectl rollout history and undo use them', async () => {
  const { client } = cp;
  await createNamespace(client, NS);
  await createReadyNode(client, 'n1');
  await client.create(
    CR.statefulsets,
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'web' },
      spec: {
        replicas: 3,
        serviceName: 'web',
        podManagementPolicy: 'Parallel',
        selector: { matchLabels: { app: 'web' } },
        template: template('busybox:1.36'),
      },
    },
    { namespace: NS },
  );
  await settle('web', (pods) => images(pods) === 'busybox:1.36,busybox:1.36,busybox:1.36', '3 pods at 1.36');
  const [first] = await revisions('web');
  assert.ok(first !== undefined, 'a first revision');
  assert.equal(first.revision, 1);
  assert.equal(first.metadata.labels?.['app'], 'web', 'the template labels, for the selector');
  assert.equal(field(first.data, 'spec', 'template', '$patch'), 'replace');
  assert.equal(first.metadata.ownerReferences?.[0]?.controller, true);
  for (const p of await livePods(client, NS, 'web')) assert.equal(revisionLabel(p), first.metadata.name);
  await eventually(async () => (await setStatus('web'))['updateRevision'] === first.metadata.name, {
    what: 'status.updateRevision',
  });
  assert.match(
    await ok(['get', 'controllerrevisions']),
    new RegExp(`${first.metadata.name ?? ''}\\s+statefulset.apps/web\\s+1`),
  );

  // A new template: a second revision, rolled from the highest ordinal down.
  await ok(['set', 'image', 'statefulset/web', 'c=busybox:1.37']);
  await settle('web', (pods) => images(pods) === 'busybox:1.37,busybox:1.37,busybox:1.37', '3 pods at 1.37');
  const second = (await revisions('web'))[1];
  assert.equal(second?.revision, 2);
  await eventually(
    async () => {
      const status = await setStatus('web');
      return status['currentRevision'] === second?.metadata.name && status['updateRevision'] === second?.metadata.name;
    },
    { what: 'current = update revision after the rollout' },
  );
  const history = await ok(['rollout', 'history', 'statefulset/web']);
  assert.match(history, /REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>/);
  assert.match(await ok(['rollout', 'history', 'statefulset/web', '--revision=1']), /Image:\s+busybox:1\.36/);

  // Undo: the previous template comes back, its revision renumbered as the newest.
  assert.match(await ok(['rollout', 'undo', 'statefulset/web']), /statefulset.apps\/web rolled back/);
  const restored = await client.get(CR.statefulsets, 'web', { namespace: NS });
  assert.equal(field(items(field(restored, 'spec', 'template', 'spec', 'containers'))[0], 'image'), 'busybox:1.36');
  await settle('web', (pods) => images(pods) === 'busybox:1.36,busybox:1.36,busybox:1.36', 'rolled back to 1.36');
  const after = await revisions('web');
  assert.deepEqual(
    after.map((r) => [r.metadata.name, r.revision]),
    [
      [second?.metadata.name, 2],
      [first.metadata.name, 3],
    ],
  );

  // Hostile: a revision that is not there, and a ControllerRevision with a negative number.
  const missing = await ctl(['rollout', 'undo', 'statefulset/web', '--to-revision=99']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /unable to find specified revision 99 in history/);
  const bad = await client
    .create(
      RESOURCES.controllerrevisions,
      { apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: { name: 'bad' }, data: {}, revision: -1 },
      { namespace: NS },
    )
    .then(
      () => undefined,
      (err: unknown) => err,
    );
  assert.ok(bad instanceof ApiError && bad.code === 422, `422, got ${String(bad)}`);
  assert.match(bad.message, /revision: Invalid value: -1: must be greater than or equal to 0/);
});

test('a partitioned rolling update moves only ordinals at or above the partition; lower ones are recreated at the current revision', async () => {
  const { client } = cp;
  const current = (await setStatus('web'))['currentRevision'];
  await client.patch(CR.statefulsets, 'web', {
    type: 'strategic',
    namespace: NS,
    body: {
      spec: {
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } },
        template: { spec: { containers: [{ name: 'c', image: 'busybox:1.38' }] } },
      },
    },
  });
  await settle('web', (pods) => images(pods) === 'busybox:1.36,busybox:1.36,busybox:1.38', 'only web-2 at 1.38');
  const status = await setStatus('web');
  assert.equal(status['currentRevision'], current, 'the rollout is not complete: current stays');
  assert.notEqual(status['updateRevision'], current);
  await eventually(async () => (await setStatus('web'))['updatedReplicas'] === 1, { what: 'updatedReplicas 1' });
  // web-0 deleted: it comes back from the current revision, not the update one.
  await client.delete(CR.pods, 'web-0', { namespace: NS, gracePeriodSeconds: 0 });
  await settle(
    'web',
    (pods) => pods.length === 3 && images(pods) === 'busybox:1.36,busybox:1.36,busybox:1.38' && pods.every(isPodReady),
    'web-0 recreated at 1.36',
  );
  const web0 = await client.get(CR.pods, 'web-0', { namespace: NS });
  assert.equal(revisionLabel(web0), current);
  // Partition 0 completes the rollout.
  await client.patch(CR.statefulsets, 'web', {
    type: 'merge',
    namespace: NS,
    body: { spec: { updateStrategy: { rollingUpdate: { partition: 0 } } } },
  });
  await settle('web', (pods) => images(pods) === 'busybox:1.38,busybox:1.38,busybox:1.38', 'all at 1.38');
  await eventually(
    async () => {
      const s = await setStatus('web');
      return s['currentRevision'] === s['updateRevision'];
    },
    { what: 'current = update after partition 0' },
  );
});

test('a DaemonSet keeps ControllerRevisions; kubectl rollout undo restores its previous template', async () => {
  const { client } = cp;
  await client.create(
    CR.daemonsets,
    {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'agent' },
      spec: {
        selector: { matchLabels: { app: 'agent' } },
        template: { ...template('busybox:1.36'), metadata: { labels: { app: 'agent' } } },
      },
    },
    { namespace: NS },
  );
  await settle('agent', (pods) => images(pods) === 'busybox:1.36', 'daemon pod at 1.36');
  await ok(['set', 'image', 'daemonset/agent', 'c=busybox:1.37']);
  await settle('agent', (pods) => images(pods) === 'busybox:1.37', 'daemon pod at 1.37');
  const list = await revisions('agent');
  assert.deepEqual(
    list.map((r) => r.revision),
    [1, 2],
  );
  const pod = (await livePods(client, NS, 'agent'))[0];
  assert.equal(
    revisionLabel(pod ?? { apiVersion: 'v1', kind: 'Pod', metadata: {} }),
    list[1]?.metadata.labels?.['controller-revision-hash'],
  );
  assert.match(await ok(['rollout', 'history', 'daemonset/agent']), /REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>/);
  assert.match(await ok(['rollout', 'history', 'daemonset/agent', '--revision=2']), /Image:\s+busybox:1\.37/);
  assert.match(await ok(['rollout', 'undo', 'daemonset/agent']), /daemonset.apps\/agent rolled back/);
  await settle('agent', (pods) => images(pods) === 'busybox:1.36', 'daemon pod back at 1.36');
  assert.deepEqual(
    (await revisions('agent')).map((r) => r.revision),
    [2, 3],
  );
  // Hostile: undo with no revision of that number changes nothing.
  const missing = await ctl(['rollout', 'undo', 'daemonset/agent', '--to-revision=7']);
  assert.match(missing.stderr, /unable to find specified revision 7 in history/);
  assert.equal((await revisions('agent')).length, 2);
  // Deleting the DaemonSet takes its revisions (garbage collection by ownerReference).
  await client.delete(CR.daemonsets, 'agent', { namespace: NS });
  await eventually(async () => (await revisions('agent')).length === 0, { what: 'revisions collected' });
});
