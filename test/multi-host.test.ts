// Several hosts, end to end: three simulated hosts (network namespaces with their own
// dockerd) join a control plane on 198.18.0.1 with a bootstrap token; pods spread over them
// and reach each other by IP across hosts (host-gw); Services answer by ClusterIP, by DNS
// name and on every host's NodePort, and follow scaling and readiness; a lost host's pods
// come back elsewhere, and the host cleans up when it returns.

import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { mustFind, RESOURCES } from '../pkg/api/registry.js';
import { clusterIdentity } from '../pkg/kubelet/cluster-identity.js';
import type { KubeObject } from '../pkg/api/meta.js';
import type { RestClient } from '../pkg/client/index.js';
import { eventually } from './harness/clients.js';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { coxctl, DIST, freePort, joinFlags, kubectl, REPO, run, type ControlPlane } from './harness/control-plane.js';
import {
  cutHost,
  hostDocker,
  inHost,
  removeSimHost,
  restoreHost,
  startHostAgent,
  startSimCluster,
  stopHostAgent,
  type JoinToken,
  type SimCluster,
  type SimHost,
} from './harness/sim-hosts.js';
import { runRoot } from './harness/run-root.js';

const NODES = mustFind('', 'v1', 'nodes');
const PODS = mustFind('', 'v1', 'pods');
const SERVICE_ACCOUNTS = mustFind('', 'v1', 'serviceaccounts');
const ROLE_BINDINGS = mustFind('rbac.authorization.k8s.io', 'v1', 'rolebindings');

let cluster: SimCluster | undefined;
let plane: ControlPlane;
let admin: RestClient;
let hosts: SimHost[] = [];
let joinArgs: JoinToken;

/** Short node-failure timings so a lost host is noticed within seconds. */
const GRACE_SECONDS = 8;

before(async () => {
  cluster = await startSimCluster({ hosts: 3, graceSeconds: GRACE_SECONDS });
  ({ plane, client: admin, hosts, join: joinArgs } = cluster);
});

after(async () => {
  await cluster?.stop();
});

/** The prefix of this cluster's iptables chains (cluster-identity.ts). */
function chainPrefix(): string {
  return clusterIdentity(readFileSync(plane.pki.caCert, 'utf8')).chainPrefix;
}

function podsOf(label: string): Promise<KubeObject[]> {
  return admin.list(PODS, { namespace: 'default', labelSelector: label }).then((l) => l.items);
}

function isReady(pod: KubeObject): boolean {
  const conditions = ((pod['status'] ?? {}) as { conditions?: { type: string; status: string }[] }).conditions ?? [];
  return (
    conditions.some((c) => c.type === 'Ready' && c.status === 'True') && pod.metadata.deletionTimestamp === undefined
  );
}

function nodeOf(pod: KubeObject): string {
  return String((pod['spec'] as { nodeName?: string }).nodeName ?? '');
}

function ipOf(pod: KubeObject): string {
  return String((pod['status'] as { podIP?: string } | undefined)?.podIP ?? '');
}

/** The container id of a pod's first app container on its host's dockerd. */
async function containerOf(pod: KubeObject, host: SimHost): Promise<string> {
  const res = await hostDocker(host, [
    'ps',
    '-q',
    '--filter',
    `label=io.coxswain.pod.uid=${pod.metadata.uid ?? ''}`,
    '--filter',
    'label=io.coxswain.container.type=app',
  ]);
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
async function execIn(
  pod: KubeObject,
  cmd: string[],
  timeoutMs = 30_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const host = hostOf(pod);
  return hostDocker(host, ['exec', await containerOf(pod, host), ...cmd], timeoutMs);
}

/** One HTTP GET from this machine (the test runs outside every simulated host). */
function fetchText(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}

/** busybox wget, bounded by busybox timeout (its own -T crashes this static build). */
function fetchCommand(url: string, seconds = 5): string[] {
  return ['timeout', String(seconds), 'wget', '-qO-', url];
}

const WEB = `
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
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: default, labels: {app: client}}
spec:
  nodeName: coxh2
  terminationGracePeriodSeconds: 1
  containers:
  - {name: c, image: busybox:latest, imagePullPolicy: Never, command: ["sleep", "86400"]}
---
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
      # Short test timings: leave a lost host 2 s after it is noticed (the default is 300 s).
      tolerations:
      - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 2}
      - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 2}
`;

test('three hosts join with one token; each gets a podCIDR and routes to the others', async () => {
  const nodes = (await admin.list(NODES)).items;
  assert.deepEqual(nodes.map((n) => n.metadata.name).sort(), ['coxh1', 'coxh2', 'coxh3']);
  const cidrs = nodes.map((n) => String((n['spec'] as { podCIDR?: string }).podCIDR));
  assert.equal(new Set(cidrs).size, 3, `distinct pod CIDRs: ${cidrs.join(' ')}`);
  for (const c of cidrs) assert.match(c, /^10\.244\.\d+\.0\/24$/);
  for (const h of hosts) {
    await eventually(
      async () => {
        const routes = (await inHost(h, ['ip', 'route', 'show', 'proto', '77'])).stdout;
        return nodes
          .filter((n) => n.metadata.name !== h.ns)
          .every((n) => routes.includes(String((n['spec'] as { podCIDR?: string }).podCIDR)));
      },
      { timeoutMs: 20_000, what: `routes on ${h.ns}` },
    );
  }
});

test('from a host, a join with a bad token or a wrong CA hash is refused with a clear error and creates no Node', async () => {
  const h1 = hosts[0];
  assert.ok(h1 !== undefined);
  const attempt = async (token: string, caHash: string): Promise<{ code: number; stderr: string }> =>
    inHost(
      h1,
      [
        process.execPath,
        join(DIST, 'cmd', 'kubelet.js'),
        ...joinFlags(plane.server, { token, caHash }),
        '--node-name',
        'intruder',
        '--node-ip',
        h1.ip,
        '--port',
        '10251',
        '--root-dir',
        mkdtempSync(join(runRoot(), 'intruder-')),
      ],
      60_000,
    );
  const badToken = await attempt(`${joinArgs.token.slice(0, 7)}0000000000000000`, joinArgs.caHash);
  assert.notEqual(badToken.code, 0);
  assert.match(badToken.stderr, /cannot join the cluster: .*token secret is wrong/);
  const badHash = await attempt(joinArgs.token, `sha256:${'1'.repeat(64)}`);
  assert.notEqual(badHash.code, 0);
  assert.match(badHash.stderr, /cannot join the cluster: .*refusing to trust this cluster/);
  const names = (await admin.list(NODES)).items.map((n) => n.metadata.name);
  assert.ok(!names.includes('intruder'), 'no Node registered');
});

test('a 6-replica Deployment spreads over the 3 hosts; a pod on host 1 reaches a pod on host 3 by IP', async () => {
  const res = await coxctl(plane.pki.adminKubeconfig, ['apply', '-f', '-'], { input: WEB });
  assert.equal(res.code, 0, res.stderr);
  await eventually(async () => (await podsOf('app=web')).filter(isReady).length === 6, {
    timeoutMs: 120_000,
    intervalMs: 500,
    what: '6 ready web pods',
  });
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

const ENDPOINTS = mustFind('', 'v1', 'endpoints');
const SERVICES = mustFind('', 'v1', 'services');

/** Ready endpoint IPs of a Service, from its Endpoints object. */
async function readyEndpointIPs(name: string): Promise<string[]> {
  const ep = await admin.get(ENDPOINTS, name, { namespace: 'default' });
  const subsets = (ep['subsets'] ?? []) as { addresses?: { ip: string }[] }[];
  return subsets.flatMap((s) => (s.addresses ?? []).map((a) => a.ip)).sort();
}

/** The endpoints the host's NAT rules spread `default/<svc>` over (DNAT targets). */
async function ruleEndpoints(host: SimHost, svc: string): Promise<string[]> {
  const save = (await inHost(host, ['iptables-save', '-t', 'nat'])).stdout.split('\n');
  const p = chainPrefix();
  const svcChains = new Set<string>();
  for (const line of save) {
    const m = new RegExp(`^-A ${p}SERVICES .*default/(\\S+?)[:" ].* -j (${p}SVC-\\S+)`).exec(line);
    if (m !== null && m[1] === svc && m[2] !== undefined) svcChains.add(m[2]);
  }
  const seps = new Set<string>();
  for (const line of save) {
    const m = new RegExp(`^-A (${p}SVC-\\S+) .*-j (${p}SEP-\\S+)`).exec(line);
    if (m !== null && m[1] !== undefined && m[2] !== undefined && svcChains.has(m[1])) seps.add(m[2]);
  }
  const targets = new Set<string>();
  for (const line of save) {
    const m = new RegExp(`^-A (${p}SEP-\\S+) .*--to-destination (\\d+\\.\\d+\\.\\d+\\.\\d+):\\d+`).exec(line);
    if (m !== null && m[1] !== undefined && m[2] !== undefined && seps.has(m[1])) targets.add(m[2]);
  }
  return [...targets].sort();
}

/** `count` requests from inside a pod; returns the answering pod names, one per request. */
async function requestsFrom(pod: KubeObject, url: string, count: number): Promise<string[]> {
  const script = `i=0; while [ $i -lt ${count} ]; do timeout 5 wget -qO- ${url} || echo FAILED; i=$((i+1)); done`;
  const res = await execIn(pod, ['sh', '-c', script], 30_000 + count * 6000);
  assert.equal(res.code, 0, res.stderr);
  return res.stdout
    .trim()
    .split('\n')
    .map((l) => l.trim());
}

/** A web pod on host 2 (itself one of the endpoints, so hairpin traffic is covered too). */
async function webPodOnHost2(): Promise<KubeObject> {
  const pods = (await podsOf('app=web')).filter((p) => isReady(p) && nodeOf(p) === 'coxh2');
  assert.ok(pods[0] !== undefined, 'a web pod on host 2 to send requests from');
  return pods[0];
}

/** The client pod pinned to host 2, which scaling and host loss leave alone. */
async function clientPod(): Promise<KubeObject> {
  let pod: KubeObject | undefined;
  await eventually(
    async () => {
      pod = (await podsOf('app=client')).find((p) => isReady(p));
      return pod !== undefined;
    },
    { timeoutMs: 60_000, what: 'the client pod on host 2 is ready' },
  );
  assert.ok(pod !== undefined);
  return pod;
}

/** Waits until every host's rules for `svc` spread over exactly the Service's ready endpoints. */
async function rulesFollowEndpoints(svc: string, on: SimHost[] = hosts): Promise<string[]> {
  let ips: string[] = [];
  await eventually(
    async () => {
      ips = await readyEndpointIPs(svc);
      for (const h of on) if ((await ruleEndpoints(h, svc)).join(',') !== ips.join(',')) return false;
      return true;
    },
    { timeoutMs: 60_000, intervalMs: 300, what: `rules for ${svc} on every host follow its Endpoints` },
  );
  return ips;
}

/**
 * Which pod holds each IP. A pod still listed while it terminates may hold an IP its host has
 * already given to a new pod (Docker reuses freed addresses at once): live pods win.
 */
function namesByIP(pods: KubeObject[]): Map<string, string> {
  const live = pods.filter((p) => p.metadata.deletionTimestamp === undefined);
  const terminating = pods.filter((p) => p.metadata.deletionTimestamp !== undefined);
  return new Map([...terminating, ...live].map((p) => [ipOf(p), p.metadata.name ?? '']));
}

test('from a pod on host 2, 60 requests by DNS name and 60 by ClusterIP reach every endpoint; a NodePort answers on every host', async () => {
  const ips = await rulesFollowEndpoints('web');
  assert.equal(ips.length, 6);
  const expected = [...namesByIP(await podsOf('app=web')).entries()]
    .filter(([ip]) => ips.includes(ip))
    .map(([, n]) => n)
    .sort();
  const client = await webPodOnHost2();
  const byName = await requestsFrom(client, 'http://web.default.svc.cluster.local/', 60);
  assert.ok(!byName.includes('FAILED'), `all requests by name answered: ${byName.join(' ')}`);
  assert.deepEqual([...new Set(byName)].sort(), expected, 'every endpoint answered by name');
  const svc = await admin.get(SERVICES, 'web', { namespace: 'default' });
  const clusterIP = String((svc['spec'] as { clusterIP?: string }).clusterIP);
  const byIP = await requestsFrom(client, `http://${clusterIP}/`, 60);
  assert.ok(!byIP.includes('FAILED'), `all requests by ClusterIP answered: ${byIP.join(' ')}`);
  assert.deepEqual([...new Set(byIP)].sort(), expected, 'every endpoint answered by ClusterIP');
  // Service environment variables, as the kubelet injects them.
  const env = (await execIn(client, ['env'])).stdout;
  assert.match(env, new RegExp(`^WEB_SERVICE_HOST=${clusterIP.replace(/\./g, '\\.')}$`, 'm'));
  assert.match(env, /^WEB_SERVICE_PORT=80$/m);
  assert.match(env, /^KUBERNETES_SERVICE_HOST=10\.96\.0\.1$/m);
  // The short name resolves through the pod's search path too.
  const short = await requestsFrom(client, 'http://web/', 1);
  assert.ok(expected.includes(short[0] ?? ''), `short name answered: ${short.join(' ')}`);
  for (const h of hosts) {
    const res = await fetchText(`http://${h.ip}:30080/`);
    assert.ok(expected.includes(res.trim()), `NodePort on ${h.ns} (${h.ip}) answered: ${res}`);
  }
});

test('a StatefulSet pod behind a headless Service has its own DNS name: web-0.nginx from another pod (EndpointSlice hostname)', async () => {
  await admin.create(
    RESOURCES.services,
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'nginx' },
      spec: { clusterIP: 'None', selector: { app: 'sts-web' }, ports: [{ name: 'web', port: 8080 }] },
    },
    { namespace: 'default' },
  );
  await admin.create(
    RESOURCES.statefulsets,
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'web' },
      spec: {
        replicas: 1,
        serviceName: 'nginx',
        selector: { matchLabels: { app: 'sts-web' } },
        template: {
          metadata: { labels: { app: 'sts-web' } },
          spec: {
            terminationGracePeriodSeconds: 1,
            containers: [
              {
                name: 'web',
                image: 'busybox:latest',
                imagePullPolicy: 'Never',
                command: ['sh', '-c', 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www'],
              },
            ],
          },
        },
      },
    },
    { namespace: 'default' },
  );
  await eventually(async () => (await podsOf('app=sts-web')).some(isReady), {
    timeoutMs: 90_000,
    what: 'web-0 ready',
  });
  const web0 = (await podsOf('app=sts-web'))[0];
  assert.ok(web0 !== undefined);
  const client = await clientPod();
  // busybox nslookup takes the name as given (it ignores the search path): the full name.
  let answer = '';
  await eventually(
    async () => {
      answer = (await execIn(client, ['nslookup', 'web-0.nginx.default.svc.cluster.local'])).stdout;
      return answer.includes(ipOf(web0));
    },
    { timeoutMs: 30_000, intervalMs: 500, what: 'web-0.nginx.default.svc.cluster.local' },
  ).catch((err: unknown) => {
    throw new Error(`${String(err)}: ${answer}`);
  });
  // The short name, through the pod's search path (the C library's resolver, as apps use it).
  const short = await execIn(client, fetchCommand('http://web-0.nginx:8080/'));
  assert.equal(short.stdout.trim(), 'web-0', `web-0.nginx answered: ${short.stderr}`);
  const missing = await execIn(client, ['nslookup', 'web-9.nginx.default.svc.cluster.local']);
  assert.notEqual(missing.code, 0, 'no such member: NXDOMAIN');
});

test('a pod reaches the API at kubernetes.default.svc with its mounted token and CA: 403 listing pods, 200 after a RoleBinding to view', async () => {
  const endpoints = await admin.get(ENDPOINTS, 'kubernetes', { namespace: 'default' });
  assert.match(JSON.stringify(endpoints['subsets']), /"ip":"198\.18\.0\.1"/, 'the endpoint is the advertised address');
  await admin.create(SERVICE_ACCOUNTS, {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: 'api-reader', namespace: 'default' },
  });
  await admin.create(PODS, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'api-client', namespace: 'default', labels: { app: 'api-client' } },
    spec: {
      serviceAccountName: 'api-reader',
      containers: [
        { name: 'curl', image: 'coxswain/curl:latest', imagePullPolicy: 'Never', command: ['sleep', '3600'] },
      ],
    },
  });
  let pod: KubeObject | undefined;
  await eventually(
    async () => {
      pod = (await podsOf('app=api-client'))[0];
      return pod !== undefined && isReady(pod);
    },
    { timeoutMs: 60_000, what: 'the api-client pod runs' },
  ).catch((err: unknown) => assert.fail(`${String(err)}: ${JSON.stringify(pod?.['status'])}`));
  assert.ok(pod !== undefined);
  const sa = '/var/run/secrets/kubernetes.io/serviceaccount';
  // The server's certificate is checked against the mounted CA, for the Service's DNS name.
  const listPods = [
    'sh',
    '-c',
    `curl -sS --max-time 10 -o /dev/null -w '%{http_code}' --cacert ${sa}/ca.crt -H "Authorization: Bearer $(cat ${sa}/token)" https://kubernetes.default.svc/api/v1/namespaces/default/pods`,
  ];
  const before = await execIn(pod, listPods);
  assert.equal(before.stdout, '403', `api-reader may not list pods yet: ${before.stdout} ${before.stderr}`);
  await admin.create(ROLE_BINDINGS, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: 'api-reader-view', namespace: 'default' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
    subjects: [{ kind: 'ServiceAccount', name: 'api-reader', namespace: 'default' }],
  });
  let last = '';
  const target = pod;
  await eventually(
    async () => {
      last = (await execIn(target, listPods)).stdout;
      return last === '200';
    },
    { timeoutMs: 20_000, what: 'the pod lists pods once bound to view' },
  );
  await admin.delete(PODS, 'api-client', { namespace: 'default' });
});

test('scaling down and a readiness failure update the rules; no request reaches a removed or unready endpoint afterwards', async () => {
  const scaled = await coxctl(plane.pki.adminKubeconfig, ['scale', 'deployment/web', '--replicas', '4']);
  assert.equal(scaled.code, 0, scaled.stderr);
  await eventually(async () => (await readyEndpointIPs('web')).length === 4, {
    timeoutMs: 60_000,
    what: '4 endpoints after scaling',
  });
  let ips = await rulesFollowEndpoints('web');
  assert.equal(ips.length, 4);
  const client = await clientPod();
  let names = namesByIP(await podsOf('app=web'));
  let allowed = new Set(ips.map((ip) => names.get(ip)));
  for (const answer of await requestsFrom(client, 'http://web.default.svc.cluster.local/', 40)) {
    assert.ok(allowed.has(answer), `answer from ${answer}, not one of the 4 remaining endpoints`);
  }
  // One endpoint (not the client) turns unready.
  const victim = (await podsOf('app=web')).find(
    (p) => isReady(p) && p.metadata.name !== client.metadata.name && ips.includes(ipOf(p)),
  );
  assert.ok(victim !== undefined);
  const broke = await execIn(victim, ['rm', '-f', '/tmp/ready']);
  assert.equal(broke.code, 0, broke.stderr);
  await eventually(async () => !(await readyEndpointIPs('web')).includes(ipOf(victim)), {
    timeoutMs: 30_000,
    what: 'the unready pod leaves the endpoints',
  });
  ips = await rulesFollowEndpoints('web');
  assert.ok(!ips.includes(ipOf(victim)));
  names = namesByIP(await podsOf('app=web'));
  allowed = new Set(ips.map((ip) => names.get(ip)));
  for (const answer of await requestsFrom(client, 'http://web.default.svc.cluster.local/', 40)) {
    assert.notEqual(answer, victim.metadata.name, 'no request reaches the unready endpoint');
    assert.ok(allowed.has(answer), `answer from ${answer}`);
  }
  // Ready again: back in the rules.
  await execIn(victim, ['touch', '/tmp/ready']);
  await eventually(async () => (await readyEndpointIPs('web')).includes(ipOf(victim)), {
    timeoutMs: 30_000,
    what: 'the pod is ready again',
  });
  await rulesFollowEndpoints('web');
});

test('a restarted agent rebuilds its rules cleanly: rules of a Service deleted meanwhile go, nothing is duplicated', async () => {
  const h1 = hosts[0];
  assert.ok(h1 !== undefined);
  await stopHostAgent(h1);
  const del = await coxctl(plane.pki.adminKubeconfig, ['delete', 'service', 'web-np']);
  assert.equal(del.code, 0, del.stderr);
  await startHostAgent(plane, h1, { join: joinArgs });
  await rulesFollowEndpoints('web', [h1]);
  await eventually(async () => !(await inHost(h1, ['iptables-save', '-t', 'nat'])).stdout.includes('default/web-np'), {
    timeoutMs: 30_000,
    what: 'the rules of the deleted Service are gone',
  });
  const nat = (await inHost(h1, ['iptables-save', '-t', 'nat'])).stdout.split('\n');
  const p = chainPrefix();
  assert.equal(
    nat.filter((l) => l.startsWith('-A PREROUTING ') && l.endsWith(`-j ${p}SERVICES`)).length,
    1,
    'one jump from PREROUTING',
  );
  assert.equal(
    nat.filter((l) => l.startsWith('-A POSTROUTING ') && l.endsWith(`-j ${p}NET-POSTROUTING`)).length,
    1,
    'one jump to the pod masquerade chain',
  );
  const filter = (await inHost(h1, ['iptables-save', '-t', 'filter'])).stdout.split('\n');
  assert.equal(
    filter.filter((l) => l.startsWith('-A DOCKER-USER ') && l.endsWith(`-j ${p}NET-FORWARD`)).length,
    1,
    'one jump from DOCKER-USER',
  );
});

test('a host whose link is cut goes NotReady, its pods come back on the other hosts, the Service keeps answering; when it returns it removes their containers and is Ready', async () => {
  const lost = hosts[2];
  assert.ok(lost !== undefined);
  const before = (await podsOf('app=web')).filter(
    (p) => nodeOf(p) === lost.ns && p.metadata.deletionTimestamp === undefined,
  );
  await cutHost(lost);
  const cutAt = Date.now();
  await eventually(
    async () => {
      const node = await admin.get(NODES, lost.ns);
      const ready = ((node['status'] as { conditions?: { type: string; status: string }[] }).conditions ?? []).find(
        (c) => c.type === 'Ready',
      );
      return ready?.status === 'Unknown';
    },
    { timeoutMs: 60_000, what: `${lost.ns} goes NotReady (Unknown)` },
  );
  await eventually(
    async () => {
      const pods = (await podsOf('app=web')).filter((p) => p.metadata.deletionTimestamp === undefined);
      return pods.length === 4 && pods.every((p) => nodeOf(p) !== lost.ns && isReady(p));
    },
    { timeoutMs: 120_000, intervalMs: 500, what: 'all web pods Running and Ready on the other hosts' },
  );
  const recoveredMs = Date.now() - cutAt;
  const alive = hosts.filter((h) => h !== lost);
  const ips = await rulesFollowEndpoints('web', alive);
  const names = namesByIP(await podsOf('app=web'));
  const client = await clientPod();
  const answers = await requestsFrom(client, 'http://web.default.svc.cluster.local/', 30);
  for (const a of answers) assert.ok(ips.map((ip) => names.get(ip)).includes(a), `answer ${a} from a live endpoint`);
  process.stdout.write(
    `# host loss: ${before.length} pods back on other hosts ${recoveredMs} ms after the cut (grace ${GRACE_SECONDS} s, tolerationSeconds 2)\n`,
  );

  await restoreHost(lost);
  await eventually(
    async () => {
      const node = await admin.get(NODES, lost.ns);
      const ready = ((node['status'] as { conditions?: { type: string; status: string }[] }).conditions ?? []).find(
        (c) => c.type === 'Ready',
      );
      return ready?.status === 'True';
    },
    { timeoutMs: 90_000, what: `${lost.ns} Ready again` },
  );
  // Only the evicted pods' containers go: a pod there without the short toleration (web-0 of the
  // StatefulSet keeps the default 300 s) was never evicted, and rightly keeps running.
  const evicted = before.map((p) => `label=io.coxswain.pod.uid=${p.metadata.uid ?? ''}`);
  const leftOf = async (): Promise<string[]> => {
    const names: string[] = [];
    for (const filter of evicted) {
      const ps = await hostDocker(lost, ['ps', '-a', '--filter', filter, '--format', '{{.Names}} {{.Status}}']);
      names.push(...ps.stdout.split('\n').filter((l) => l.trim() !== ''));
    }
    return names;
  };
  let left: string[] = [];
  await eventually(
    async () => {
      left = await leftOf();
      return left.length === 0;
    },
    { timeoutMs: 90_000, intervalMs: 500, what: `${lost.ns} removed the containers of its deleted pods` },
  ).catch((err: unknown) => {
    assert.fail(`${String(err)}\ncontainers: ${left.join(', ')}\nagent: ${lost.output().slice(-6000)}`);
  });
  for (const p of before) {
    await eventually(
      async () => {
        try {
          await admin.get(PODS, p.metadata.name ?? '', { namespace: 'default' });
          return false;
        } catch {
          return true;
        }
      },
      { timeoutMs: 60_000, what: `pod ${p.metadata.name} is gone from the API` },
    );
  }
});

test('npm run up -- --hosts 2 over hosts another run left (agents killed, roots holding its credentials) reclaims them, joins, and npm run down leaves nothing behind', async () => {
  // Hosts 1 and 2 stay as a killed run leaves them: dockerd running, agent roots holding
  // this suite's cluster credentials. up's hosts have the same names, so it must reclaim them.
  admin.close();
  const left = hosts.slice(0, 2);
  for (const h of left) await stopHostAgent(h, true);
  for (const h of hosts.slice(2)) await removeSimHost(h);
  await plane.stop();
  hosts.length = 0;
  for (const h of left)
    assert.ok(existsSync(join(h.root, 'kubelet', 'pki')), `${h.ns} left its agent's credentials in ${h.root}`);

  const state = mkdtempSync(join(runRoot(), 'up-'));
  const env = {
    ...process.env,
    COXSWAIN_STATE: state,
    COXSWAIN_CERTS: join(state, 'certs'),
    COXSWAIN_PORT: String(await freePort()),
    COXSWAIN_SKIP_SETUP: '1',
  };
  try {
    const up = await run('bash', [join(REPO, 'scripts', 'up.sh'), '--hosts', '2'], { env, timeoutMs: 300_000 });
    assert.equal(up.code, 0, `up failed: ${up.stdout.slice(-2000)} ${up.stderr.slice(-2000)}`);
    assert.match(up.stdout, /reclaiming coxh1 from /);
    assert.match(up.stdout, /node coxh1 is Ready/);
    assert.match(up.stdout, /node coxh2 is Ready/);
    const nodes = await coxctl(join(state, 'certs', 'admin.kubeconfig'), ['get', 'nodes', '-o', 'name']);
    assert.deepEqual(nodes.stdout.trim().split('\n').sort(), ['node/coxh1', 'node/coxh2']);
    const pids = [
      ...readdirSync(join(state, 'pids')).map((f) => join(state, 'pids', f)),
      join(state, 'supervisor.pid'),
    ].map((f) => Number(readFileSync(f, 'utf8')));
    const agentPids = ['coxh1', 'coxh2'].map((ns) =>
      Number(readFileSync(`/run/coxswain/sim/${ns}/kubelet.pid`, 'utf8')),
    );
    const dockerdPids = ['coxh1', 'coxh2'].map((ns) =>
      Number(readFileSync(`/run/coxswain/sim/${ns}/docker.pid`, 'utf8')),
    );

    const upPrefix = clusterIdentity(readFileSync(join(state, 'certs', 'ca.crt'), 'utf8')).chainPrefix;
    const down = await run('bash', [join(REPO, 'scripts', 'down.sh')], { env, timeoutMs: 120_000 });
    assert.equal(down.code, 0, down.stderr);
    const alive = (pid: number): boolean => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    for (const pid of [...pids, ...agentPids, ...dockerdPids])
      assert.equal(alive(pid), false, `process ${pid} is gone`);
    const namespaces = (await run('ip', ['netns', 'list'])).stdout;
    assert.doesNotMatch(namespaces, /\bcoxh[12]\b/, 'no namespace left');
    assert.doesNotMatch((await run('ip', ['-o', 'link', 'show'])).stdout, /coxh[12]-r/, 'no link left');
    assert.equal((await run('ip', ['route', 'show', 'proto', '77'])).stdout.trim(), '', 'no route left');
    const rules = (await run('iptables-save', [])).stdout;
    assert.ok(!rules.includes(upPrefix), 'no chain of the cluster left');
    // The bridge and its rule are shared with other runs' hosts (another test file's): they go with the last host.
    if (!/\bcoxh\d+\b/.test(namespaces)) {
      assert.doesNotMatch((await run('ip', ['-o', 'link', 'show'])).stdout, /coxbr0/, 'no bridge left');
      assert.doesNotMatch(rules, /coxswain-sim/, 'no bridge rule left');
    }
    assert.equal(existsSync(join(state, 'sim', 'coxh1')), false, 'no host state left');
    for (const h of left) assert.equal(existsSync(h.root), false, `the reclaimed ${h.ns}'s old root is gone`);
  } finally {
    await run('bash', [join(REPO, 'scripts', 'down.sh')], { env, timeoutMs: 120_000 }).catch(() => undefined);
    rmSync(state, { recursive: true, force: true });
  }
});

test('npm run up -- --ha --hosts 3: a control-plane host cut off the network leaves the other two serving writes, and it catches up when it returns', async () => {
  const state = mkdtempSync(join(runRoot(), 'up-ha-hosts-'));
  const home = mkdtempSync(join(runRoot(), 'up-ha-hosts-home-'));
  const port = await freePort();
  const env = {
    ...process.env,
    COXSWAIN_STATE: state,
    COXSWAIN_CERTS: join(state, 'certs'),
    COXSWAIN_PORT: String(port),
    COXSWAIN_SKIP_SETUP: '1',
  };
  const apiserver = (i: number): string => `https://198.18.0.${10 + i}:${port}`;
  const kubectlAt = (i: number, args: string[]): ReturnType<typeof kubectl> =>
    kubectl(join(state, 'certs', 'admin.kubeconfig'), ['--server', apiserver(i), '--request-timeout=10s', ...args], {
      home,
      timeoutMs: 30_000,
    });
  const hosts = (verb: 'cut' | 'restore'): ReturnType<typeof run> =>
    run('bash', [join(REPO, 'scripts', 'sim-hosts.sh'), verb, '1'], {
      env: { ...env, COXSWAIN_SIM_ROOT: join(state, 'sim') },
      timeoutMs: 30_000,
    });
  try {
    const up = await run('bash', [join(REPO, 'scripts', 'up.sh'), '--ha', '--hosts', '3'], { env, timeoutMs: 600_000 });
    assert.equal(up.code, 0, `up --ha --hosts 3 failed: ${up.stdout.slice(-3000)} ${up.stderr.slice(-3000)}`);
    assert.match(up.stdout, /up: 3 apiservers ready/);
    const cut = await hosts('cut');
    assert.equal(cut.code, 0, cut.stderr);
    // Host 1's etcd may have been the leader: the other two elect one; kubectl retries meanwhile (bounded).
    let first: Awaited<ReturnType<typeof kubectl>> | undefined;
    for (let attempt = 0; attempt < 20; attempt++) {
      first = await kubectlAt(2, ['create', 'configmap', 'while-cut', '--from-literal=k=v']);
      if (first.code === 0 || /AlreadyExists/.test(first.stderr)) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.ok(first !== undefined && (first.code === 0 || /AlreadyExists/.test(first.stderr)), first?.stderr);
    for (let n = 0; n < 5; n++) {
      const at = n % 2 === 0 ? 3 : 2;
      const more = await kubectlAt(at, ['create', 'configmap', `while-cut-${n}`]);
      if (more.code !== 0) {
        const log = join(state, 'logs', `apiserver-${at}.log`);
        const tail = existsSync(log) ? readFileSync(log, 'utf8').slice(-4000) : '(no log)';
        assert.fail(`write ${n} while host 1 is cut: ${more.stderr}\napiserver-${at}'s log:\n${tail}`);
      }
    }
    const restored = await hosts('restore');
    assert.equal(restored.code, 0, restored.stderr);
    await eventually(
      async () => {
        const got = await kubectlAt(1, ['get', 'configmap', 'while-cut-4', '-o', 'name']);
        return got.stdout.trim() === 'configmap/while-cut-4';
      },
      { timeoutMs: 60_000, intervalMs: 1000, what: "host 1's apiserver serves what was written while it was cut" },
    );
    const listed = await kubectlAt(1, ['get', 'configmaps', '-o', 'name']);
    for (const name of ['while-cut', ...[0, 1, 2, 3, 4].map((n) => `while-cut-${n}`)])
      assert.ok(listed.stdout.includes(`configmap/${name}\n`), `${name} on host 1 after it returned`);
    const written = await kubectlAt(1, ['create', 'configmap', 'after-return']);
    assert.equal(written.code, 0, `host 1 takes writes again: ${written.stderr}`);
  } finally {
    await run('bash', [join(REPO, 'scripts', 'down.sh'), '--purge'], { env, timeoutMs: 180_000 }).catch(
      () => undefined,
    );
    rmSync(state, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  }
});
