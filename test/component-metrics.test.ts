// The scheduler's and controller-manager's secure ports: /metrics under Kubernetes' names
// for a caller the apiserver vouches for (the admin's client certificate), 403 for a
// ServiceAccount token without rights, 401 with no credentials, /healthz for anyone.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { adminClient, eventually, R } from './harness/clients.js';
import { kubectl, startControlPlane, type ControlPlane } from './harness/control-plane.js';
import { createReadyNode } from './harness/fake-nodes.js';
import { getComponent as get, type Credentials } from './harness/https.js';

let plane: ControlPlane;
let home: string;

before(async () => {
  plane = await startControlPlane({ withControllers: true, withScheduler: true });
  home = mkdtempSync(join(tmpdir(), 'cmetrics-home-'));
});
after(async () => {
  await plane.stop();
  rmSync(home, { recursive: true, force: true });
});

function admin(): Credentials {
  return { cert: readFileSync(plane.pki.adminCert, 'utf8'), key: readFileSync(plane.pki.adminKey, 'utf8') };
}

test('the scheduler counts a scheduled pod on its /metrics; the admin certificate reads it', async () => {
  const client = adminClient(plane);
  await createReadyNode(client, 'metrics-node');
  await client.create(R.pods, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'metrics-pod', namespace: 'default' },
    spec: { containers: [{ name: 'c', image: 'busybox' }] },
  });
  let text = '';
  await eventually(
    async () => {
      const res = await get(plane.schedulerPort, '/metrics', admin());
      assert.equal(res.status, 200, res.body);
      text = res.body;
      return /scheduler_schedule_attempts_total\{result="scheduled",profile="default-scheduler"\} 1/.test(text);
    },
    { timeoutMs: 30_000, intervalMs: 250, what: 'a scheduled attempt on /metrics' },
  );
  assert.match(text, /scheduler_pending_pods\{queue="active"\} 0/);
  assert.match(text, /scheduler_scheduling_attempt_duration_seconds_bucket/);
  assert.match(text, /leader_election_master_status\{name="kube-scheduler"\} 1/);
  assert.match(text, /process_cpu_seconds_total/);
});

test("the controller-manager's /metrics shows its controllers' work queues", async () => {
  const res = await get(plane.controllerManagerPort, '/metrics', admin());
  assert.equal(res.status, 200, res.body);
  assert.match(res.body, /workqueue_depth\{name="deployment"\} \d+/);
  assert.match(res.body, /workqueue_adds_total\{name="[a-z-]+"\} [1-9]/);
  assert.match(res.body, /workqueue_work_duration_seconds_count\{name="[a-z-]+"\} [1-9]/);
  assert.match(res.body, /leader_election_master_status\{name="kube-controller-manager"\} 1/);
});

test('no credentials: 401; a ServiceAccount token without rights: 403; /healthz for anyone', async () => {
  const kubeconfig = plane.pki.adminKubeconfig;
  const made = await kubectl(kubeconfig, ['create', 'serviceaccount', 'nobody', '-n', 'default'], { home });
  assert.equal(made.code, 0, made.stderr);
  const issued = await kubectl(kubeconfig, ['create', 'token', 'nobody', '-n', 'default'], { home });
  assert.equal(issued.code, 0, issued.stderr);
  const token = issued.stdout.trim();
  for (const port of [plane.schedulerPort, plane.controllerManagerPort]) {
    const anonymous = await get(port, '/metrics');
    assert.equal(anonymous.status, 401, anonymous.body);
    assert.equal(JSON.parse(anonymous.body).reason, 'Unauthorized');
    const forged = await get(port, '/metrics', { token: 'not-a-token' });
    assert.equal(forged.status, 401, forged.body);
    const weak = await get(port, '/metrics', { token });
    assert.equal(weak.status, 403, weak.body);
    const status = JSON.parse(weak.body);
    assert.equal(status.kind, 'Status');
    assert.match(status.message, /system:serviceaccount:default:nobody/);
    assert.doesNotMatch(weak.body, /scheduler_|workqueue_/);
    const health = await get(port, '/healthz');
    assert.equal(health.status, 200);
    assert.equal(health.body, 'ok');
    assert.equal((await get(port, '/nothing', admin())).status, 404);
  }
});
