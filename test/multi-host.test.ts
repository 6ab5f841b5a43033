// Several hosts, end to end: three simulated hosts (network namespaces with their own
// dockerd) join a control plane on 198.18.0.1 with a bootstrap token; pods spread over them
// and reach each other by IP across hosts (host-gw); Services answer by ClusterIP, by DNS
// name and on every host's NodePort, and follow scaling and readiness; a lost host's pods
// come back elsewhere, and the host cleans up when it returns.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { mustFind } from '../pkg/api/registry.js';
import type { KubeObject } from '../pkg/api/meta.js';
import type { RestClient } from '../pkg/client/index.js';
import { adminClient, eventually } from './harness/clients.js';
import { coxctl, startControlPlane, type ControlPlane } from './harness/control-plane.js';
import {
  addSimHost, cutHost, hostDocker, inHost, joinToken, removeSimHost, restoreHost, SIM_GATEWAY, startHostAgent, stopHostAgent, teardownSimHosts, type SimHost,
} from './harness/sim-hosts.js';

const NODES = mustFind('', 'v1', 'nodes');
const PODS = mustFind('', 'v1', 'pods');

let plane: ControlPlane;
let admin: RestClient;
const hosts: SimHost[] = [];
let join: { token: string; caHash: string };

/** Short node-failure timings so a lost host is noticed within seconds. */
const GRACE_SECONDS = 8;

before(async () => {
  await teardownSimHosts(); // whatever an earlier, killed run left
  for (const n of [1, 2, 3]) hosts.push(await addSimHost(n));
  plane = await startControlPlane({
    host: SIM_GATEWAY,
    withControllers: true,
    withScheduler: true,
    controllerManagerArgs: ['--node-monitor-grace-period', String(GRACE_SECONDS), '--leader-elect', 'false'],
  });
  admin = adminClient(plane);
  join = await joinToken(plane);
  await Promise.all(hosts.map((h) => startHostAgent(plane, h, join, ['--lease-renew-interval', '2'])));
});

after(async () => {
  admin?.close();
  for (const h of hosts) await stopHostAgent(h).catch(() => undefined);
  await plane?.stop();
  for (const h of hosts) await removeSimHost(h).catch(() => undefined);
  await teardownSimHosts();
});

function podsOf(label: string): Promise<KubeObject[]> {
  return admin.list(PODS, { namespace: 'default', labelSelector: label }).then((l) => l.items);
}

function isReady(pod: KubeObject): boolean {
  const conditions = ((pod['status'] ?? {}) as { conditions?: { type: string; status: string }[] }).conditions ?? [];
  return conditions.some((c) => c.type === 'Ready' && c.status === 'True') && pod.metadata.deletionTimestamp === undefined;
}

function nodeOf(pod: KubeObject): string {
  return String((pod['spec'] as { nodeName?: string }).nodeName ?? '');
}

function ipOf(pod: KubeObject): string {
  return String((pod['status'] as { podIP?: string } | undefined)?.podIP ?? '');
}

/** The container id of a pod's first app container on its host's dockerd. */
async function containerOf(pod: KubeObject, host: SimHost): Promise<string> {
  const res = await hostDocker(host, ['ps', '-q', '--filter', `label=io.coxswain.pod.uid=${pod.metadata.uid ?? ''}`, '--filter', 'label=io.coxswain.container.type=app']);
  const id = res.stdout.trim().split('\n')[0] ?? '';
  assert.ok(id !== '', `pod ${pod.metadata.name} has a running app container on ${host.ns}: ${res.stderr}`);
  return id;
}

function hostOf(pod: KubeObject): SimHost {
  const host = hosts.find((h) => h.ns === nodeOf(pod));
  assert.ok(host !== undefined, `pod ${pod.metadata.name} runs on a simulated host, not ${nodeOf(pod)}`);
  return host;
}

/** Runs a command in a pod's container, on its host's dockerd. */
async function execIn(pod: KubeObject, cmd: string[], timeoutMs = 30_000): Promise<{ code: number; stdout: string; stderr: string }> {
  const host = hostOf(pod);
  return hostDocker(host, ['exec', await containerOf(pod, host), ...cmd], timeoutMs);
}

/** busybox wget, bounded by busybox timeout (its own -T crashes this static build). */
function fetchCommand(url: string, seconds = 5): string[] {
  return ['timeout', String(seconds), 'wget', '-qO-', url];
}

const WEB = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: 6
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: busybox:latest
        imagePullPolicy: Never
        command: ["sh", "-c", "mkdir -p /www && hostname > /www/index.html && touch /tmp/ready && exec httpd -f -p 8080 -h /www"]
        ports: [{containerPort: 8080}]
        readinessProbe:
          exec: {command: ["test", "-f", "/tmp/ready"]}
          periodSeconds: 1
          failureThreshold: 1
      terminationGracePeriodSeconds: 1
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: web-np, namespace: default}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080, nodePort: 30080}]
`;

test('three hosts join with one token; each gets a podCIDR and routes to the others', async () => {
  const nodes = (await admin.list(NODES)).items;
  assert.deepEqual(nodes.map((n) => n.metadata.name).sort(), ['coxh1', 'coxh2', 'coxh3']);
  const cidrs = nodes.map((n) => String((n['spec'] as { podCIDR?: string }).podCIDR));
  assert.equal(new Set(cidrs).size, 3, `distinct pod CIDRs: ${cidrs.join(' ')}`);
  for (const c of cidrs) assert.match(c, /^10\.244\.\d+\.0\/24$/);
  for (const h of hosts) {
    await eventually(async () => {
      const routes = (await inHost(h, 'ip', ['route', 'show', 'proto', '77'])).stdout;
      return nodes.filter((n) => n.metadata.name !== h.ns).every((n) => routes.includes(String((n['spec'] as { podCIDR?: string }).podCIDR)));
    }, { timeoutMs: 20_000, what: `routes on ${h.ns}` });
  }
});

test('a 6-replica Deployment spreads over the 3 hosts; a pod on host 1 reaches a pod on host 3 by IP', async () => {
  const res = await coxctl(plane.pki.adminKubeconfig, ['apply', '-f', '-'], { input: WEB });
  assert.equal(res.code, 0, res.stderr);
  await eventually(async () => (await podsOf('app=web')).filter(isReady).length === 6, { timeoutMs: 120_000, intervalMs: 500, what: '6 ready web pods' });
  const pods = (await podsOf('app=web')).filter(isReady);
  const perNode = new Map<string, number>();
  for (const p of pods) perNode.set(nodeOf(p), (perNode.get(nodeOf(p)) ?? 0) + 1);
  assert.deepEqual([...perNode.keys()].sort(), ['coxh1', 'coxh2', 'coxh3'], `spread: ${JSON.stringify([...perNode])}`);
  const onH1 = pods.find((p) => nodeOf(p) === 'coxh1');
  const onH3 = pods.find((p) => nodeOf(p) === 'coxh3');
  assert.ok(onH1 && onH3);
  const got = await execIn(onH1, fetchCommand(`http://${ipOf(onH3)}:8080/`));
  assert.equal(got.code, 0, got.stderr);
  assert.equal(got.stdout.trim(), onH3.metadata.name, 'the answer comes from the pod on host 3');
});
