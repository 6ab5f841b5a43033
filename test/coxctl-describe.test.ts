// coxctl speaks kubectl, checked against the real kubectl 1.32 on one live cluster (a control
// plane with controllers and scheduler, one node agent on the local dockerd):
// - `describe pod|deployment|replicaset|node|service|configmap|secret|namespace` print the same
//   sections in the same order with the same key lines and alignment as `kubectl describe`
//   (ages and clock times normalised, events compared as rows);
// - progress on long operations: `apply -f <folder>` one line per object, `rollout status`
//   kubectl's waiting lines then success, `drain` cordoned / evicting / evicted / drained;
// - `get -w` and `logs -f` carry on across an apiserver restart, without losing or repeating.

import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startAgentCluster, type AgentCluster } from './harness/agent-cluster.js';
import { RESOURCES } from '../pkg/api/registry.js';
import { eventually, R } from './harness/clients.js';
import { coxctl, DIST, kubectl, startControlPlane } from './harness/control-plane.js';

const NS = 'desc';
let cluster: AgentCluster;
let home: string;
let work: string;
const children: ChildProcessWithoutNullStreams[] = [];

before(async () => {
  cluster = await startAgentCluster({ plane: { withControllers: true, withScheduler: true } });
  home = mkdtempSync(join(tmpdir(), 'describe-home-'));
  work = mkdtempSync(join(tmpdir(), 'describe-work-'));
});
after(async () => {
  for (const c of children) c.kill('SIGKILL');
  await cluster?.stop();
  rmSync(home, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

function kubeconfig(): string {
  return cluster.plane.pki.adminKubeconfig;
}

async function c(...args: string[]): Promise<string> {
  const res = await coxctl(kubeconfig(), args, { timeoutMs: 120_000 });
  assert.equal(res.code, 0, `coxctl ${args.join(' ')} failed: ${res.stderr}`);
  return res.stdout;
}

async function k(...args: string[]): Promise<string> {
  const res = await kubectl(kubeconfig(), args, { home, timeoutMs: 120_000 });
  assert.equal(res.code, 0, `kubectl ${args.join(' ')} failed: ${res.stderr}`);
  return res.stdout;
}

/** coxctl as a long-running process whose output is collected as it comes. */
function stream(args: string[]): { out: () => string; err: () => string; child: ChildProcessWithoutNullStreams } {
  const child = spawn(process.execPath, [join(DIST, 'cmd', 'coxctl.js'), '--kubeconfig', kubeconfig(), ...args]);
  children.push(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  return { out: () => out, err: () => err, child };
}

const MANIFESTS = {
  '00-namespace.yaml': `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${NS}\n  labels: {team: a}\n`,
  '10-config.yaml': `apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: ${NS}}
data:
  mode: fast
  script: |
    echo one
    echo two
---
apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: ${NS}}
data: {password: czNjcmV0, user: YWRtaW4=}
`,
  '20-web.yaml': `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: ${NS}
  labels: {app: web, tier: front}
  annotations: {note: "a short note", long: "${'x'.repeat(150)}"}
spec:
  replicas: 2
  minReadySeconds: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: busybox:latest
        imagePullPolicy: IfNotPresent
        command: [sh, -c, 'sleep 3600']
        ports: [{containerPort: 8080, name: http}]
        env:
        - {name: MODE, valueFrom: {configMapKeyRef: {name: settings, key: mode}}}
        - {name: POD, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
        - {name: PLAIN, value: "1"}
        resources: {limits: {cpu: 100m, memory: 64Mi}, requests: {cpu: 50m, memory: 32Mi}}
        readinessProbe: {exec: {command: ['true']}, periodSeconds: 2}
        volumeMounts: [{name: cache, mountPath: /cache}, {name: cfg, mountPath: /etc/cfg, readOnly: true}]
      volumes:
      - {name: cache, emptyDir: {}}
      - {name: cfg, configMap: {name: settings}}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ${NS}}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
`,
};

/** An RFC 1123 clock time or an age, the only things allowed to differ between two runs. */
const CLOCK = /[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}/g;
const AGE = /^(?:\d+[smhdy])+$|^<unknown>$/;

interface Described {
  headers: string[];
  lines: string[];
  events: string[];
}

/**
 * Splits describe output into its top-level section headers, its other lines (clock times
 * replaced, the age column of a node's pods table replaced) and its event rows (Type,
 * Reason, From and Message: the Age column moves with the clock).
 */
function parse(text: string): Described {
  const headers: string[] = [];
  const lines: string[] = [];
  const events: string[] = [];
  let inEvents = false;
  let inPodsTable = false;
  for (const raw of text.split('\n')) {
    const line = raw.replace(CLOCK, '<time>');
    const header = /^([A-Za-z][A-Za-z -]*):/.exec(line);
    if (header !== null) headers.push(header[1] ?? '');
    if (line.startsWith('Events:')) inEvents = line.trim() === 'Events:';
    if (line.startsWith('Non-terminated Pods:')) inPodsTable = true;
    if (line.startsWith('Allocated resources:')) inPodsTable = false;
    if (inEvents && /^ {2}(Normal|Warning) /.test(line)) {
      const cells = line.trim().split(/\s{2,}/);
      events.push([cells[0], cells[1], cells[3], cells.slice(4).join('  ')].join(' | '));
      continue;
    }
    if (inEvents && /^ {2}Type\s+Reason\s+Age\s+From\s+Message$/.test(line)) {
      lines.push('  Type Reason Age From Message');
      continue;
    }
    if (inEvents && /^ {2}----/.test(line)) continue;
    if (inPodsTable && /^ {2}\S/.test(line) && !line.startsWith('  Namespace') && !line.startsWith('  ---')) {
      const cells = line.split(/\s{2,}/);
      const age = cells.at(-1) ?? '';
      lines.push(AGE.test(age) ? line.slice(0, line.length - age.length) + '<age>' : line);
      continue;
    }
    lines.push(line);
  }
  return { headers, lines, events };
}

/** Describes `target` with both tools (a few times if an event lands between the two runs). */
async function compareDescribe(target: string[]): Promise<Described> {
  let last: { kube: Described; cox: Described } | undefined;
  for (let attempt = 0; attempt < 5; attempt++) {
    const kube = parse(await k('describe', '-n', NS, ...target));
    const cox = parse(await c('describe', '-n', NS, ...target));
    last = { kube, cox };
    if (JSON.stringify(kube) === JSON.stringify(cox)) return cox;
    await new Promise((r) => setTimeout(r, 1000));
  }
  assert.ok(last !== undefined);
  assert.deepEqual(last.cox.headers, last.kube.headers, `section headers of ${target.join(' ')}`);
  assert.deepEqual(last.cox.lines, last.kube.lines, `lines of ${target.join(' ')}`);
  assert.deepEqual([...last.cox.events].sort(), [...last.kube.events].sort(), `events of ${target.join(' ')}`);
  return last.cox;
}

test('apply -f <folder> prints one line per object, in order, as kubectl', async () => {
  const dir = join(work, 'manifests');
  mkdirSync(dir);
  for (const [file, text] of Object.entries(MANIFESTS)) writeFileSync(join(dir, file), text);
  const first = await c('apply', '-f', dir);
  assert.deepEqual(first.trim().split('\n'), [
    `namespace/${NS} created`,
    'configmap/settings created',
    'secret/creds created',
    'deployment.apps/web created',
    'service/web created',
  ]);
  // kubectl sees what coxctl applied as its own: nothing to change.
  assert.deepEqual(
    (await k('apply', '-f', dir)).trim().split('\n'),
    [`namespace/${NS}`, 'configmap/settings', 'secret/creds', 'deployment.apps/web', 'service/web'].map(
      (n) => `${n} unchanged`,
    ),
  );
  writeFileSync(join(dir, '10-config.yaml'), MANIFESTS['10-config.yaml'].replace('mode: fast', 'mode: slow'));
  const third = (await c('apply', '-f', dir)).trim().split('\n');
  assert.ok(third.includes('configmap/settings configured'), third.join('\n'));
  assert.equal(third.filter((l) => l.endsWith(' unchanged')).length, 4, third.join('\n'));
});

test('rollout status prints kubectl’s waiting lines, then success', async () => {
  const res = await coxctl(kubeconfig(), ['rollout', 'status', 'deployment/web', '-n', NS, '--timeout', '120s'], {
    timeoutMs: 150_000,
  });
  assert.equal(res.code, 0, res.stderr);
  const lines = res.stdout.trim().split('\n');
  assert.equal(lines.at(-1), 'deployment "web" successfully rolled out');
  for (const l of lines.slice(0, -1))
    assert.match(
      l,
      /^Waiting for deployment "web" rollout to finish: (\d+ out of \d+ new replicas have been updated|\d+ old replicas are pending termination|\d+ of \d+ updated replicas are available)\.\.\.$|^Waiting for deployment spec update to be observed\.\.\.$/,
    );
  assert.equal((await k('rollout', 'status', 'deployment/web', '-n', NS)).trim(), lines.at(-1));
  // A new template: the rollout goes through kubectl's waiting states again.
  const web = join(work, 'manifests', '20-web.yaml');
  writeFileSync(web, MANIFESTS['20-web.yaml'].replace('{name: PLAIN, value: "1"}', '{name: PLAIN, value: "2"}'));
  assert.match(await c('apply', '-f', web), /^deployment\.apps\/web configured$/m);
  const again = await coxctl(kubeconfig(), ['rollout', 'status', 'deployment/web', '-n', NS, '--timeout', '120s'], {
    timeoutMs: 150_000,
  });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /^Waiting for deployment "web" rollout to finish: /m);
  assert.match(again.stdout, /deployment "web" successfully rolled out\n$/);
});

test('describe pod, deployment, replicaset, node, service: kubectl’s sections, order and alignment', async () => {
  await eventually(
    async () => {
      const eps = await cluster.client.list(RESOURCES.endpointslices, { namespace: NS });
      return eps.items.some((s) => s.endpoints.filter((e) => e.conditions?.ready === true).length === 2);
    },
    { timeoutMs: 60_000, what: 'two ready endpoints' },
  );
  const pods = (await cluster.client.list(R.pods, { namespace: NS, labelSelector: 'app=web' })).items;
  const running = pods.find((p) => p.status?.phase === 'Running' && p.metadata.deletionTimestamp === undefined);
  assert.ok(running?.metadata.name !== undefined, 'a running web pod');
  const pod = await compareDescribe(['pod', running.metadata.name]);
  assert.deepEqual(pod.headers.filter((h) => !['Priority', 'Start Time'].includes(h)).slice(0, 12), [
    'Name',
    'Namespace',
    'Service Account',
    'Node',
    'Labels',
    'Annotations',
    'Status',
    'IP',
    'IPs',
    'Controlled By',
    'Containers',
    'Conditions',
  ]);
  assert.ok(
    pod.lines.some((l) => /^ {4}Container ID: {2}docker:\/\/[0-9a-f]+$/.test(l)),
    'Container ID aligned',
  );

  const deployment = await compareDescribe(['deployment', 'web']);
  assert.ok(deployment.headers.includes('RollingUpdateStrategy'));
  assert.ok(deployment.lines.some((l) => /^NewReplicaSet:\s+web-\S+ \(2\/2 replicas created\)$/.test(l)));

  const rs = running.metadata.ownerReferences?.[0]?.name;
  assert.ok(rs !== undefined);
  await compareDescribe(['replicaset', rs]);

  const node = await compareDescribe(['node', cluster.agent.name]);
  assert.ok(node.headers.includes('Non-terminated Pods'));
  assert.ok(node.headers.includes('Allocated resources'));

  const svc = await compareDescribe(['service', 'web']);
  assert.ok(
    svc.lines.some((l) => /^Endpoints:\s+[\d.]+:8080,[\d.]+:8080$/.test(l)),
    svc.lines.join('\n'),
  );

  await compareDescribe(['configmap', 'settings']);
  await compareDescribe(['secret', 'creds']);
  await compareDescribe(['namespace', NS]);
});

test('hostile: describe of a missing object is kubectl’s one-line NotFound', async () => {
  const res = await coxctl(kubeconfig(), ['describe', 'pod', 'nope', '-n', NS]);
  assert.notEqual(res.code, 0);
  assert.equal(res.stderr.trim(), 'Error from server (NotFound): pods "nope" not found');
});

test('get -w carries on across an apiserver restart, printing each change once', async () => {
  const watch = stream(['get', 'configmaps', '-n', NS, '-w']);
  await eventually(() => /settings/.test(watch.out()), { timeoutMs: 30_000, what: 'the initial list' });
  const before = join(work, 'before.yaml');
  writeFileSync(before, `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: before-restart, namespace: ${NS}}\n`);
  await c('apply', '-f', before);
  await eventually(() => /before-restart/.test(watch.out()), { timeoutMs: 30_000, what: 'a row before the restart' });
  await cluster.plane.crash();
  await cluster.plane.restart();
  const file = join(work, 'after.yaml');
  writeFileSync(file, `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: after-restart, namespace: ${NS}}\n`);
  await c('apply', '-f', file);
  await eventually(() => /after-restart/.test(watch.out()), { timeoutMs: 60_000, what: 'a row after the restart' });
  assert.match(watch.err(), /watch of configmaps interrupted \(.*\); reconnecting in [\d.]+s \(attempt \d+\/10\)/);
  const rows = watch.out().split('\n');
  assert.equal(rows.filter((r) => r.startsWith('before-restart ')).length, 1, watch.out());
  assert.equal(rows.filter((r) => r.startsWith('after-restart ')).length, 1, watch.out());
  assert.equal(watch.child.exitCode, null, 'still watching');
  watch.child.kill('SIGTERM');
});

test('logs -f carries on across an apiserver restart, with no line lost or repeated', async () => {
  const file = join(work, 'counter.yaml');
  writeFileSync(
    file,
    `apiVersion: v1
kind: Pod
metadata: {name: counter, namespace: ${NS}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox:latest
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'i=0; while true; do echo line-$i; i=$((i+1)); sleep 0.2; done']
`,
  );
  await c('apply', '-f', file);
  await eventually(
    async () => (await cluster.client.get(R.pods, 'counter', { namespace: NS })).status?.phase === 'Running',
    { timeoutMs: 60_000, what: 'counter running' },
  );
  const logs = stream(['logs', '-f', 'counter', '-n', NS]);
  const numbers = (): number[] =>
    logs
      .out()
      .split('\n')
      .filter((l) => l.startsWith('line-'))
      .map((l) => Number(l.slice(5)));
  await eventually(() => numbers().length >= 5, { timeoutMs: 30_000, what: 'the first lines' });
  const beforeCrash = Math.max(...numbers());
  await cluster.plane.crash();
  await new Promise((r) => setTimeout(r, 1000));
  await cluster.plane.restart();
  await eventually(() => Math.max(...numbers()) >= beforeCrash + 20, {
    timeoutMs: 60_000,
    what: 'lines from after the restart',
  });
  assert.match(logs.err(), /logs of pod\/counter interrupted/);
  const seen = numbers();
  assert.ok(!/^\d{4}-\d{2}-\d{2}T/m.test(logs.out()), 'no timestamps unless asked');
  seen.forEach((n, i) => assert.equal(n, (seen[0] ?? 0) + i, `consecutive, none lost or repeated: ${seen.join(',')}`));
  logs.child.kill('SIGTERM');
  await c('delete', 'pod', 'counter', '-n', NS, '--wait=false');
});

test('drain prints cordoned, evicting, evicted, drained as kubectl', async () => {
  const node = cluster.agent.name;
  const res = await coxctl(kubeconfig(), ['drain', node, '--ignore-daemonsets', '--force', '--timeout', '120'], {
    timeoutMs: 150_000,
  });
  assert.equal(res.code, 0, res.stderr);
  const lines = res.stdout.trim().split('\n');
  assert.equal(lines[0], `node/${node} cordoned`);
  assert.equal(lines.at(-1), `node/${node} drained`);
  const evicting = lines.filter((l) => l.startsWith('evicting pod '));
  const evicted = lines.filter((l) => /^pod\/\S+ evicted$/.test(l));
  assert.equal(evicting.filter((l) => l.startsWith(`evicting pod ${NS}/web-`)).length, 2, res.stdout);
  assert.equal(evicted.length, evicting.length, res.stdout);
  for (const l of evicting) {
    const name = l.slice(l.lastIndexOf('/') + 1);
    assert.ok(lines.indexOf(`pod/${name} evicted`) > lines.indexOf(l), `pod/${name} evicted after evicting it`);
  }
  await c('uncordon', node);
});

test('get -w whose resourceVersion was compacted while the apiserver was away re-lists and prints only changes', async () => {
  const plane = await startControlPlane({ extraArgs: ['--watch-history', '5', '--compaction-interval', '1'] });
  const config = plane.pki.adminKubeconfig;
  const apply = async (name: string, data: string): Promise<void> => {
    const file = join(work, `${name}.yaml`);
    writeFileSync(file, `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}}\ndata: {v: "${data}"}\n`);
    const res = await coxctl(config, ['apply', '-f', file]);
    assert.equal(res.code, 0, res.stderr);
  };
  try {
    await apply('keep', '1');
    await apply('change', '1');
    const child = spawn(process.execPath, [join(DIST, 'cmd', 'coxctl.js'), '--kubeconfig', config, 'get', 'cm', '-w']);
    children.push(child);
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    await eventually(() => /^change /m.test(out), { timeoutMs: 30_000, what: 'the initial list' });
    // coxctl is held (SIGSTOP) while the apiserver is away and the history it would resume
    // from is compacted; it asks again only once continued, whatever the machine's speed.
    child.kill('SIGSTOP');
    await plane.crash();
    await plane.restart();
    await apply('change', '2');
    // Far more writes than the 5 revisions of history kept.
    const many = join(work, 'many.yaml');
    writeFileSync(
      many,
      Array.from({ length: 30 }, (_, i) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: new-${i}}\n`).join(
        '---\n',
      ),
    );
    assert.equal((await coxctl(config, ['apply', '-f', many])).code, 0);
    // Compaction runs every second (--compaction-interval 1) and keeps 5 revisions.
    await new Promise((r) => setTimeout(r, 3000));
    child.kill('SIGCONT');
    await eventually(() => /^new-29 /m.test(out), { timeoutMs: 60_000, what: 'rows after the re-list' });
    assert.match(err, /the resourceVersion is too old; listing again/);
    const rows = out.split('\n');
    assert.equal(
      rows.filter((r) => r.startsWith('keep ')).length,
      1,
      `an unchanged object is not printed again:\n${out}`,
    );
    assert.equal(rows.filter((r) => r.startsWith('change ')).length, 2, out);
    child.kill('SIGTERM');
  } finally {
    await plane.stop();
  }
});
