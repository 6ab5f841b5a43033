// Disruption, end to end on three simulated hosts (numbers 16–18) with the real kubectl:
// `kubectl drain` of a host holding a 3-replica Deployment guarded by a PodDisruptionBudget of
// minAvailable 2 waits on 429 and retries, and the ready count never drops below 2 (watched
// throughout); the eviction subresource refuses with Kubernetes' message and cause, and two
// budgets over one pod are a 500; invalid budgets are 422; PriorityClasses resolve into pods,
// an unknown class is refused, and a high-priority pod preempts a low-priority one on a full
// node (preemptionPolicy Never does not).

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parseQuantity } from '../pkg/api/quantity.js';
import { RESOURCES } from '../pkg/api/registry.js';
import type { Pod } from '../pkg/api/types/index.js';
import type { RestClient } from '../pkg/client/index.js';
import { ApiError } from '../pkg/errors/index.js';
import { eventually } from './harness/clients.js';
import { coxctl, kubectl, type ControlPlane } from './harness/control-plane.js';
import { runRoot } from './harness/run-root.js';
import { startSimCluster, type SimCluster, type SimHost } from './harness/sim-hosts.js';

const PODS = RESOURCES.pods;
const PDBS = RESOURCES.poddisruptionbudgets;

let cluster: SimCluster | undefined;
let plane: ControlPlane;
let admin: RestClient;
let hosts: SimHost[] = [];
let home: string;

before(async () => {
  cluster = await startSimCluster({ first: 16, hosts: 3, graceSeconds: 30 });
  ({ plane, client: admin, hosts } = cluster);
  home = mkdtempSync(join(runRoot(), 'disruption-home-'));
});

after(async () => {
  await cluster?.stop();
  rmSync(home, { recursive: true, force: true });
});

function k(args: string[], input?: string, timeoutMs = 60_000) {
  return kubectl(plane.pki.adminKubeconfig, args, { home, input, timeoutMs });
}

function succeeded(res: { code: number; stdout: string; stderr: string }): void {
  assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
}

function ready(pod: Pod): boolean {
  return (
    pod.metadata.deletionTimestamp === undefined &&
    (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')
  );
}

async function podsOf(app: string): Promise<Pod[]> {
  return (await admin.list(PODS, { namespace: 'default', labelSelector: `app=${app}` })).items;
}

function deployment(name: string, replicas: number): string {
  return `
apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: default}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: c
        image: busybox:latest
        imagePullPolicy: Never
        command: ["sleep", "86400"]
        # Ready a few seconds after start: a replacement is not healthy at once, so the budget holds.
        readinessProbe:
          exec: {command: ["true"]}
          initialDelaySeconds: 4
          periodSeconds: 1
`;
}

test('kubectl drain waits on the budget and never leaves fewer than 2 ready pods', async () => {
  const [a, b, c] = hosts;
  assert.ok(a !== undefined && b !== undefined && c !== undefined);
  // Every replica on host a: cordon the others while the Deployment starts.
  for (const h of [b, c]) succeeded(await k(['cordon', h.ns]));
  const created = await k(
    ['apply', '-f', '-'],
    deployment('web', 3) +
      `---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web, namespace: default}
spec:
  minAvailable: 2
  selector: {matchLabels: {app: web}}
`,
  );
  assert.equal(created.code, 0, created.stderr);
  await eventually(async () => (await podsOf('web')).filter(ready).length === 3, {
    timeoutMs: 90_000,
    what: '3 ready web pods',
  });
  assert.ok((await podsOf('web')).every((p) => p.spec?.nodeName === a.ns));
  await eventually(
    async () => {
      const pdb = await admin.get(PDBS, 'web', { namespace: 'default' });
      return pdb.status?.disruptionsAllowed === 1 && pdb.status.currentHealthy === 3;
    },
    { timeoutMs: 30_000, what: 'the budget allows one disruption' },
  );
  const table = await k(['get', 'pdb', 'web']);
  assert.match(table.stdout, /^NAME\s+MIN AVAILABLE\s+MAX UNAVAILABLE\s+ALLOWED DISRUPTIONS\s+AGE\n/);
  assert.match(table.stdout, /\nweb\s+2\s+N\/A\s+1\s+\S+\n/);
  for (const h of [b, c]) succeeded(await k(['uncordon', h.ns]));

  // Watch the ready count for the whole drain.
  let lowest = Number.POSITIVE_INFINITY;
  let watching = true;
  const watcher = (async () => {
    for (let i = 0; watching && i < 3000; i++) {
      lowest = Math.min(lowest, (await podsOf('web')).filter(ready).length);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const drained = await k(['drain', a.ns, '--ignore-daemonsets', '--timeout=150s'], undefined, 180_000);
  watching = false;
  await watcher;
  assert.equal(drained.code, 0, `${drained.stdout}\n${drained.stderr}`);
  assert.match(drained.stdout, new RegExp(`node/${a.ns} drained`));
  // Three pods on one host, one disruption allowed at a time: kubectl had to wait and retry.
  assert.match(
    drained.stderr,
    /error when evicting pods\/"web-[^"]+" -n "default" \(will retry after 5s\): Cannot evict pod as it would violate the pod's disruption budget\./,
  );
  assert.ok(lowest >= 2, `the ready count dropped to ${lowest}`);
  await eventually(async () => (await podsOf('web')).filter(ready).length === 3, {
    timeoutMs: 60_000,
    what: '3 ready web pods again, elsewhere',
  });
  assert.ok((await podsOf('web')).filter(ready).every((p) => p.spec?.nodeName !== a.ns));
});

test('the eviction subresource refuses with 429 and the budget cause; two budgets are a 500; bad budgets 422', async () => {
  const created = await k(
    ['apply', '-f', '-'],
    deployment('api', 2) +
      `---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: api, namespace: default}
spec:
  maxUnavailable: 0
  selector: {matchLabels: {app: api}}
`,
  );
  assert.equal(created.code, 0, created.stderr);
  await eventually(async () => (await podsOf('api')).filter(ready).length === 2, {
    timeoutMs: 90_000,
    what: '2 ready api pods',
  });
  await eventually(async () => (await admin.get(PDBS, 'api', { namespace: 'default' })).status?.currentHealthy === 2, {
    timeoutMs: 30_000,
    what: 'the api budget sees its pods',
  });
  const victim = (await podsOf('api'))[0]?.metadata.name ?? '';
  const eviction = JSON.stringify({
    apiVersion: 'policy/v1',
    kind: 'Eviction',
    metadata: { name: victim, namespace: 'default' },
  });
  const path = `/api/v1/namespaces/default/pods/${victim}/eviction`;
  const refused = await k(['create', '--raw', path, '-f', '-'], eviction);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /Cannot evict pod as it would violate the pod's disruption budget\./);
  const err = await admin
    .createSubresource(PODS, victim, { subresource: 'eviction', namespace: 'default', body: JSON.parse(eviction) })
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  assert.ok(err instanceof ApiError);
  assert.equal(err.code, 429);
  assert.deepEqual(err.details?.causes, [
    { reason: 'DisruptionBudget', message: 'The disruption budget api needs 2 healthy pods and has 2 currently' },
  ]);
  assert.ok(
    (await podsOf('api')).some((p) => p.metadata.name === victim),
    'the refused pod stays',
  );

  // coxctl's drain waits on the budget as kubectl's does, and gives up at its timeout saying why.
  const apiNode = (await podsOf('api')).find((p) => p.metadata.name === victim)?.spec?.nodeName ?? '';
  const cox = await coxctl(plane.pki.adminKubeconfig, ['drain', apiNode, '--ignore-daemonsets', '--timeout', '7'], {
    timeoutMs: 60_000,
  });
  assert.notEqual(cox.code, 0, cox.stdout);
  assert.match(
    cox.stderr,
    /error when evicting pods\/"(api|web)-[^"]+" -n "default" \(will retry after 5s\): Cannot evict pod as it would violate the pod's disruption budget\./,
  );
  succeeded(await k(['uncordon', apiNode]));
  assert.ok(
    (await podsOf('api')).some((p) => p.metadata.name === victim),
    'the drain left the guarded pod',
  );

  // A second budget over the same pods: the eviction API does not guess which one counts.
  const second = await k(
    ['apply', '-f', '-'],
    `apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: api-too, namespace: default}
spec: {minAvailable: 0, selector: {matchLabels: {app: api}}}
`,
  );
  assert.equal(second.code, 0, second.stderr);
  const twice = await k(['create', '--raw', path, '-f', '-'], eviction);
  assert.notEqual(twice.code, 0);
  assert.match(
    twice.stderr,
    /This pod has more than one PodDisruptionBudget, which the eviction subresource does not support\./,
  );

  const bad = await k(
    ['apply', '-f', '-'],
    `apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: bad, namespace: default}
spec: {minAvailable: 1, maxUnavailable: "150%", selector: {matchLabels: {app: api}}}
`,
  );
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /The PodDisruptionBudget "bad" is invalid/);
  assert.match(bad.stderr, /minAvailable and maxUnavailable cannot be both set/);
  assert.match(bad.stderr, /spec\.maxUnavailable: Invalid value: "150%": must not be greater than 100%/);
  succeeded(await k(['delete', 'pdb', 'api-too']));
});

test('PriorityClasses resolve into pods, and a high-priority pod preempts a low-priority one', async () => {
  const target = hosts[2];
  assert.ok(target !== undefined);
  const node = await admin.get(RESOURCES.nodes, target.ns);
  const cpu = parseQuantity(node.status?.allocatable?.['cpu'] ?? '1');
  // Each pod asks for 60 % of the host: two cannot share it.
  const request = `${Math.floor(cpu * 600)}m`;
  const classes = await k(['get', 'priorityclasses']);
  assert.match(classes.stdout, /^NAME\s+VALUE\s+GLOBAL-DEFAULT\s+AGE\s+PREEMPTIONPOLICY\n/);
  assert.match(classes.stdout, /\nsystem-cluster-critical\s+2000000000\s+false\s+\S+\s+PreemptLowerPriority\n/);
  assert.match(classes.stdout, /\nsystem-node-critical\s+2000001000\s+false/);
  const applied = await k(
    ['apply', '-f', '-'],
    `apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: low}
value: 100
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: high}
value: 1000
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: high-polite}
value: 1000
preemptionPolicy: Never
`,
  );
  assert.equal(applied.code, 0, applied.stderr);
  const podYaml = (name: string, priorityClass: string): string => `
apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: default}
spec:
  priorityClassName: ${priorityClass}
  nodeSelector: {kubernetes.io/hostname: ${target.ns}}
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox:latest
    imagePullPolicy: Never
    command: ["sleep", "86400"]
    resources: {requests: {cpu: ${request}}}
`;
  const unknown = await k(['apply', '-f', '-'], podYaml('lost', 'nope'));
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.stderr, /pods "lost" is forbidden: no PriorityClass with name nope was found/);

  succeeded(await k(['apply', '-f', '-'], podYaml('low', 'low')));
  await eventually(async () => ready(await admin.get(PODS, 'low', { namespace: 'default' })), {
    timeoutMs: 60_000,
    what: 'the low-priority pod runs',
  });
  const low = await admin.get(PODS, 'low', { namespace: 'default' });
  assert.equal(low.spec?.priority, 100);
  assert.equal(low.spec?.preemptionPolicy, 'PreemptLowerPriority');

  // preemptionPolicy Never: it waits rather than evicting.
  succeeded(await k(['apply', '-f', '-'], podYaml('polite', 'high-polite')));
  await eventually(
    async () =>
      ((await admin.get(PODS, 'polite', { namespace: 'default' })).status?.conditions ?? []).some(
        (c) => c.type === 'PodScheduled' && c.status === 'False',
      ),
    { timeoutMs: 30_000, what: 'the polite pod is found unschedulable' },
  );
  await new Promise((r) => setTimeout(r, 3000));
  const stillLow = await admin.get(PODS, 'low', { namespace: 'default' });
  assert.equal(stillLow.metadata.deletionTimestamp, undefined, 'a Never pod preempted nobody');
  succeeded(await k(['delete', 'pod', 'polite', '--wait=false']));

  succeeded(await k(['apply', '-f', '-'], podYaml('urgent', 'high')));
  const urgentUid = (await admin.get(PODS, 'urgent', { namespace: 'default' })).metadata.uid ?? '';
  await eventually(
    async () => (await admin.get(PODS, 'urgent', { namespace: 'default' })).status?.nominatedNodeName === target.ns,
    { timeoutMs: 30_000, what: 'the urgent pod is nominated to the full host' },
  );
  await eventually(async () => ready(await admin.get(PODS, 'urgent', { namespace: 'default' })), {
    timeoutMs: 90_000,
    what: 'the urgent pod runs where the low one was',
  });
  const gone = await admin.get(PODS, 'low', { namespace: 'default' }).then(
    () => false,
    () => true,
  );
  assert.ok(gone, 'the low-priority pod was preempted');
  await eventually(
    async () =>
      (await admin.list(RESOURCES.events, { namespace: 'default' })).items.some(
        (e) =>
          e.involvedObject.name === 'low' &&
          e.reason === 'Preempted' &&
          e.message === `Preempted by pod ${urgentUid} on node ${target.ns}`,
      ),
    { timeoutMs: 10_000, what: 'a Preempted event on the victim' },
  );
});
