// Persistent storage end to end with the real kubectl, the scheduler, the controller-manager
// and two real node agents on the local dockerd: the docs' StatefulSet example
// (application/web/web.yaml, its image swapped for a local stand-in that serves the same
// folder) gets one local-path claim per pod; data written by web-0 survives the pod; static
// volumes bind smallest-fit and a claim larger than any stays Pending with an event; a bound
// claim being deleted waits for its pod; a claim grows; Delete reclaim removes the folder.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { RESOURCES } from '../pkg/api/index.js';
import type { PersistentVolume, PersistentVolumeClaim } from '../pkg/api/types/index.js';
import type { RestClient } from '../pkg/client/index.js';
import { isNotFound } from '../pkg/errors/index.js';
import { startAgentCluster, type AgentCluster } from './harness/agent-cluster.js';
import { eventually, R } from './harness/clients.js';
import { kubectl, type ControlPlane } from './harness/control-plane.js';

const NS = 'default';
/** A local image standing in for nginx: busybox's httpd serving nginx's folder on port 80. */
const STANDIN = 'coxswain/nginx-standin:storage-test';
const PVCS = RESOURCES.persistentvolumeclaims;
const PVS = RESOURCES.persistentvolumes;

let cluster: AgentCluster | undefined;
let plane: ControlPlane;
let client: RestClient;
let home = '';
let staticDir = '';

/** The docs' web.yaml, word for word but for the image. */
const WEB_YAML = `apiVersion: v1
kind: Service
metadata:
  name: nginx
  labels:
    app: nginx
spec:
  ports:
  - port: 80
    name: web
  clusterIP: None
  selector:
    app: nginx
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  serviceName: "nginx"
  replicas: 2
  selector:
    matchLabels:
      app: nginx
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: ${STANDIN}
        ports:
        - containerPort: 80
          name: web
        volumeMounts:
        - name: www
          mountPath: /usr/share/nginx/html
  volumeClaimTemplates:
  - metadata:
      name: www
    spec:
      accessModes: [ "ReadWriteOnce" ]
      resources:
        requests:
          storage: 1Gi
`;

before(async () => {
  execFileSync('docker', ['build', '-q', '-t', STANDIN, '-'], {
    input:
      'FROM busybox:latest\nCMD ["sh", "-c", "mkdir -p /usr/share/nginx/html && exec httpd -f -p 80 -h /usr/share/nginx/html"]\n',
    stdio: ['pipe', 'ignore', 'inherit'],
  });
  // Two agents: the volume's node affinity, not luck, brings web-0 back to its node.
  cluster = await startAgentCluster({ plane: { withControllers: true, withScheduler: true }, agents: [{}, {}] });
  ({ plane, client } = cluster);
  home = mkdtempSync(join(tmpdir(), 'storage-home-'));
  staticDir = mkdtempSync(join(tmpdir(), 'storage-static-'));
});
after(async () => {
  await cluster?.stop();
  if (home !== '') rmSync(home, { recursive: true, force: true });
  if (staticDir !== '') rmSync(staticDir, { recursive: true, force: true });
  try {
    execFileSync('docker', ['rmi', '-f', STANDIN], { stdio: 'ignore' });
  } catch {
    // Already gone.
  }
});

async function ctl(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return kubectl(plane.pki.adminKubeconfig, ['-n', NS, ...args], {
    home,
    timeoutMs: 60_000,
    ...(input === undefined ? {} : { input }),
  });
}

async function ok(args: string[], input?: string): Promise<string> {
  const res = await ctl(args, input);
  assert.equal(res.code, 0, `kubectl ${args.join(' ')}: ${res.stderr}`);
  return res.stdout;
}

async function claim(name: string): Promise<PersistentVolumeClaim | undefined> {
  try {
    return await client.get(PVCS, name, { namespace: NS });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

async function runningPod(name: string): Promise<{ uid: string; node: string }> {
  let found = { uid: '', node: '' };
  try {
    await eventually(
      async () => {
        const pod = await client.get(R.pods, name, { namespace: NS }).catch(() => undefined);
        if (pod?.status?.phase !== 'Running' || pod.metadata.deletionTimestamp !== undefined) return false;
        if (!(pod.status.containerStatuses ?? []).every((c) => c.ready)) return false;
        found = { uid: pod.metadata.uid ?? '', node: pod.spec?.nodeName ?? '' };
        return true;
      },
      { timeoutMs: 90_000, intervalMs: 300, what: `${name} Running and ready` },
    );
  } catch (err) {
    const pod = await client.get(R.pods, name, { namespace: NS }).catch(() => undefined);
    throw new Error(
      `${String(err)}\nstatus: ${JSON.stringify(pod?.status)}\nevents: ${(await eventsOf('Pod', name)).join('\n')}`,
    );
  }
  return found;
}

async function eventsOf(kind: string, name: string): Promise<string[]> {
  const list = await client.list(RESOURCES.events, {
    namespace: NS,
    fieldSelector: `involvedObject.kind=${kind},involvedObject.name=${name}`,
  });
  return list.items.map((e) => `${String(e['reason'])}: ${String(e['message'])}`);
}

function staticVolume(name: string, size: string): PersistentVolume {
  const path = join(staticDir, name);
  mkdirSync(path, { recursive: true });
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name, labels: { tier: 'static' } },
    spec: {
      capacity: { storage: size },
      accessModes: ['ReadWriteOnce'],
      storageClassName: '',
      hostPath: { path },
    },
  };
}

function staticClaim(name: string, size: string): PersistentVolumeClaim {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name },
    spec: { accessModes: ['ReadWriteOnce'], storageClassName: '', resources: { requests: { storage: size } } },
  };
}

test('the default local-path class exists and kubectl lists the storage kinds', async () => {
  const classes = await ok(['get', 'storageclass']);
  assert.match(classes, /local-path \(default\)\s+coxswain\.io\/local-path\s+Delete\s+WaitForFirstConsumer\s+true/);
  // apply --prune with kubectl's default allow-list walks PVCs (among others) without error.
  const cm = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: pruned\n  labels:\n    prune: storage\n`;
  const pruned = await ctl(['apply', '--prune', '-l', 'prune=storage', '-f', '-'], cm);
  assert.equal(pruned.code, 0, pruned.stderr);
  assert.doesNotMatch(pruned.stderr, /error|unable to recognize/i);
  // Hostile: a claim without a size is refused with Kubernetes' message.
  const bad = await ctl(
    ['apply', '-f', '-'],
    'apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: bad\nspec:\n  accessModes: [Bogus]\n',
  );
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /spec\.resources\[storage\]: Required value/);
  assert.match(bad.stderr, /spec\.accessModes: Unsupported value: "Bogus"/);
  assert.equal(await claim('bad'), undefined);
});

test("web.yaml: two pods Running with bound local-path claims; web-0's data survives the pod", async () => {
  await ok(['apply', '-f', '-'], WEB_YAML);
  const web0 = await runningPod('web-0');
  const web1 = await runningPod('web-1');
  for (const [ordinal, running] of [web0, web1].entries()) {
    const agent = cluster?.agents.find((a) => a.name === running.node);
    assert.ok(agent !== undefined, `web-${ordinal} on one of the agents`);
    const name = `www-web-${ordinal}`;
    const c = await claim(name);
    assert.equal(c?.status?.phase, 'Bound', `${name} bound`);
    assert.equal(c?.spec?.storageClassName, 'local-path');
    assert.equal(c?.metadata.annotations?.['volume.kubernetes.io/selected-node'], agent.name);
    assert.deepEqual(c?.metadata.finalizers, ['kubernetes.io/pvc-protection']);
    const pv = await client.get(PVS, c?.spec?.volumeName ?? '');
    assert.equal(pv.status?.phase, 'Bound');
    assert.equal(pv.spec?.persistentVolumeReclaimPolicy, 'Delete');
    assert.ok(pv.spec?.hostPath?.path.startsWith(join(agent.rootDir, 'storage')), pv.spec?.hostPath?.path);
    const term = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms[0]?.matchExpressions?.[0];
    assert.deepEqual(term?.values, [agent.name]);
  }
  const table = await ok(['get', 'pvc']);
  assert.match(table, /www-web-0\s+Bound\s+pvc-\S+\s+1Gi\s+RWO\s+local-path/);

  await ok(['exec', 'web-0', '--', 'sh', '-c', 'echo hello from web-0 > /usr/share/nginx/html/index.html']);
  // Deleted a few times: each time it comes back to the node that holds its data.
  for (let round = 0; round < 3; round++) {
    await ok(['delete', 'pod', 'web-0', '--grace-period=1', '--wait=true']);
    assert.equal((await runningPod('web-0')).node, web0.node);
  }
  const again = await runningPod('web-0');
  assert.notEqual(again.uid, web0.uid);
  assert.equal(again.node, web0.node);
  assert.equal(
    (await ok(['exec', 'web-0', '--', 'cat', '/usr/share/nginx/html/index.html'])).trim(),
    'hello from web-0',
  );
});

test('a bound local-path claim grows: the volume and the claim report the new size', async () => {
  await ok([
    'patch',
    'pvc',
    'www-web-0',
    '--type=merge',
    '-p',
    '{"spec":{"resources":{"requests":{"storage":"2Gi"}}}}',
  ]);
  await eventually(async () => (await claim('www-web-0'))?.status?.capacity?.['storage'] === '2Gi', {
    timeoutMs: 30_000,
    intervalMs: 200,
    what: 'www-web-0 capacity 2Gi',
  });
  // Shrinking below the capacity is refused.
  const shrink = await ctl([
    'patch',
    'pvc',
    'www-web-0',
    '--type=merge',
    '-p',
    '{"spec":{"resources":{"requests":{"storage":"1Gi"}}}}',
  ]);
  assert.notEqual(shrink.code, 0);
  assert.match(shrink.stderr, /field can not be less than status\.capacity/);
});

test('scale down keeps the claim; deleting it removes the local-path folder (Delete reclaim)', async () => {
  await ok(['scale', 'statefulset', 'web', '--replicas=1']);
  await eventually(
    async () => (await client.get(R.pods, 'web-1', { namespace: NS }).catch(() => undefined)) === undefined,
    {
      timeoutMs: 90_000,
      intervalMs: 300,
      what: 'web-1 gone',
    },
  );
  const kept = await claim('www-web-1');
  assert.equal(kept?.status?.phase, 'Bound', 'the claim outlives its pod');
  const pv = await client.get(PVS, kept?.spec?.volumeName ?? '');
  const folder = pv.spec?.hostPath?.path ?? '';
  assert.ok(existsSync(folder), `${folder} exists`);
  await ok(['delete', 'pvc', 'www-web-1']);
  await eventually(() => !existsSync(folder), { timeoutMs: 30_000, intervalMs: 200, what: `${folder} removed` });
  await eventually(async () => !(await client.list(PVS)).items.some((v) => v.metadata.name === pv.metadata.name), {
    timeoutMs: 30_000,
    intervalMs: 200,
    what: 'the volume deleted',
  });
});

test('static volumes: smallest fit wins, a claim larger than any stays Pending with an event', async () => {
  await client.create(PVS, staticVolume('small', '1Gi'));
  await client.create(PVS, staticVolume('large', '3Gi'));
  await client.create(PVCS, staticClaim('mid', '2Gi'), { namespace: NS });
  await client.create(PVCS, staticClaim('tiny', '100Mi'), { namespace: NS });
  await client.create(PVCS, staticClaim('huge', '10Gi'), { namespace: NS });
  await eventually(
    async () => (await claim('mid'))?.status?.phase === 'Bound' && (await claim('tiny'))?.status?.phase === 'Bound',
    { timeoutMs: 30_000, intervalMs: 200, what: 'mid and tiny bound' },
  );
  assert.equal((await claim('mid'))?.spec?.volumeName, 'large');
  assert.equal((await claim('tiny'))?.spec?.volumeName, 'small');
  assert.equal((await client.get(PVS, 'small')).spec?.claimRef?.name, 'tiny');
  await eventually(
    async () =>
      (await eventsOf('PersistentVolumeClaim', 'huge')).some((e) =>
        e.includes('FailedBinding: no persistent volumes available for this claim'),
      ),
    { timeoutMs: 30_000, intervalMs: 300, what: 'a FailedBinding event on huge' },
  );
  assert.equal((await claim('huge'))?.status?.phase, 'Pending');
  assert.match(await ok(['describe', 'pvc', 'huge']), /FailedBinding/);
});

test('a bound claim being deleted stays Terminating until its pod is gone; Retain keeps the volume', async () => {
  await client.create(
    R.pods,
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'user' },
      spec: {
        terminationGracePeriodSeconds: 0,
        containers: [
          {
            name: 'c',
            image: 'busybox:latest',
            imagePullPolicy: 'IfNotPresent',
            command: ['sh', '-c', 'echo kept > /data/file; sleep 3600'],
            volumeMounts: [{ name: 'd', mountPath: '/data' }],
          },
        ],
        volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'tiny' } }],
      },
    },
    { namespace: NS },
  );
  await runningPod('user');
  await ok(['delete', 'pvc', 'tiny', '--wait=false']);
  // Given time to go, it stays: the pod uses it.
  await new Promise((r) => setTimeout(r, 2000));
  const terminating = await claim('tiny');
  assert.ok(terminating?.metadata.deletionTimestamp !== undefined, 'deletion recorded');
  assert.match(await ok(['get', 'pvc', 'tiny']), /tiny\s+Terminating/);
  await ok(['delete', 'pod', 'user', '--wait=true']);
  await eventually(async () => (await claim('tiny')) === undefined, {
    timeoutMs: 30_000,
    intervalMs: 200,
    what: 'tiny gone',
  });
  await eventually(async () => (await client.get(PVS, 'small')).status?.phase === 'Released', {
    timeoutMs: 30_000,
    intervalMs: 200,
    what: 'small Released',
  });
  assert.ok(existsSync(join(staticDir, 'small', 'file')), 'Retain keeps the data');
});

test('a pod whose claim is not bound is not started and says why', async () => {
  await client.create(
    R.pods,
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'waiter' },
      spec: {
        terminationGracePeriodSeconds: 0,
        containers: [
          { name: 'c', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] },
        ],
        volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'huge' } }],
      },
    },
    { namespace: NS },
  );
  await eventually(
    async () =>
      (await eventsOf('Pod', 'waiter')).some((e) => e.includes('pod has unbound immediate PersistentVolumeClaims')),
    { timeoutMs: 30_000, intervalMs: 300, what: 'FailedScheduling for the unbound claim' },
  );
  const pod = await client.get(R.pods, 'waiter', { namespace: NS });
  assert.equal(pod.spec?.nodeName, undefined);
  await client.delete(R.pods, 'waiter', { namespace: NS, gracePeriodSeconds: 0 });
});
