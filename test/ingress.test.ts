// Ingress end to end across three simulated hosts (13, 14, 15) with the real kubectl: the
// built-in class `coxswain` is the default; every node agent's ingress proxy routes by host
// and path to busybox httpd pods of two Services, terminates TLS choosing the certificate by
// SNI, follows an Ingress change without a restart, and one agent writes the Ingress status
// with the nodes' addresses. A LoadBalancer Service gets the nodes' addresses and answers on
// them. An invalid Ingress is refused with 422 and Kubernetes' field paths.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import tls from 'node:tls';
import { after, before, test } from 'node:test';
import { RESOURCES } from '../pkg/api/registry.js';
import type { RestClient } from '../pkg/client/index.js';
import { createCA } from '../pkg/pki/index.js';
import { eventually } from './harness/clients.js';
import { kubectl, run, type ControlPlane } from './harness/control-plane.js';
import { runRoot } from './harness/run-root.js';
import { startSimCluster, type SimCluster, type SimHost } from './harness/sim-hosts.js';

let cluster: SimCluster | undefined;
let plane: ControlPlane;
let admin: RestClient;
let hosts: SimHost[] = [];
let home = '';

function web(name: string): string {
  return `
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: default}
spec:
  selector: {app: ${name}}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: default}
spec:
  replicas: 2
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: web
        image: busybox:latest
        imagePullPolicy: Never
        command: ["sh", "-c", "mkdir -p /www && echo ${name} > /www/index.html && echo ${name} > /www/path && exec httpd -f -p 8080 -h /www"]
        ports: [{containerPort: 8080}]
        readinessProbe:
          tcpSocket: {port: 8080}
          periodSeconds: 1
`;
}

const INGRESS = `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: default}
spec:
  tls:
  - {hosts: [a.example], secretName: a-tls}
  - {hosts: ["*.b.example", b.example], secretName: b-tls}
  rules:
  - host: a.example
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: svc-a, port: {number: 80}}}}
  - host: b.example
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: svc-b, port: {name: http}}}}
`;

async function k(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return kubectl(plane.pki.adminKubeconfig, args, { home, input, timeoutMs: 30_000 });
}

async function mustK(args: string[], input?: string): Promise<string> {
  const res = await k(args, input);
  assert.equal(res.code, 0, `kubectl ${args.join(' ')}: ${res.stderr}`);
  return res.stdout;
}

/** curl with a Host header; the body, or `HTTP <code>` when it is not 200. */
async function curl(url: string, host: string): Promise<string> {
  const res = await run('curl', ['-s', '-m', '5', '-k', '-w', '\n%{http_code}', '-H', `Host: ${host}`, url], {
    timeoutMs: 10_000,
  });
  const lines = res.stdout.trimEnd().split('\n');
  const code = lines.pop() ?? '';
  return code === '200' ? lines.join('\n').trim() : `HTTP ${code}`;
}

/** The subject CN of the certificate the node serves for an SNI name. */
function servedSubject(ip: string, servername: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: ip, port: 443, servername, rejectUnauthorized: false }, () => {
      const cert = socket.getPeerCertificate();
      socket.destroy();
      resolve(String(cert.subject.CN));
    });
    socket.setTimeout(5000, () => socket.destroy(new Error('TLS handshake timed out')));
    socket.on('error', reject);
  });
}

async function readyPods(app: string): Promise<number> {
  const pods = (await admin.list(RESOURCES.pods, { namespace: 'default', labelSelector: `app=${app}` })).items;
  return pods.filter((p) => (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')).length;
}

before(async () => {
  cluster = await startSimCluster({ hosts: 3, graceSeconds: 20, first: 13, agentArgs: ['--ingress'] });
  ({ plane, client: admin, hosts } = cluster);
  home = mkdtempSync(join(runRoot(), 'ingress-home-'));
  for (const name of ['a.example', 'b.example']) {
    const pair = await createCA(name);
    const certFile = join(home, `${name}.crt`);
    const keyFile = join(home, `${name}.key`);
    writeFileSync(certFile, pair.certPem);
    writeFileSync(keyFile, pair.keyPem);
    const secret = `${name.charAt(0)}-tls`;
    await mustK(['create', 'secret', 'tls', secret, `--cert=${certFile}`, `--key=${keyFile}`]);
  }
  await mustK(['apply', '-f', '-'], web('svc-a') + '---' + web('svc-b'));
  for (const app of ['svc-a', 'svc-b'])
    await eventually(async () => (await readyPods(app)) === 2, { timeoutMs: 90_000, what: `${app} ready` });
});

after(async () => {
  await cluster?.stop();
  if (home !== '') rmSync(home, { recursive: true, force: true });
});

test('the built-in IngressClass coxswain is the default, and an Ingress that names no class gets it', async () => {
  const classes = await mustK(['get', 'ingressclass']);
  assert.match(classes, /coxswain\s+coxswain\.dev\/ingress/);
  const annotation = await mustK([
    'get',
    'ingressclass',
    'coxswain',
    '-o',
    'jsonpath={.metadata.annotations.ingressclass\\.kubernetes\\.io/is-default-class}',
  ]);
  assert.equal(annotation, 'true');
  await mustK(['apply', '-f', '-'], INGRESS);
  const className = await mustK(['get', 'ingress', 'web', '-o', 'jsonpath={.spec.ingressClassName}']);
  assert.equal(className, 'coxswain');
});

test('on every node, Host a.example reaches service A and b.example service B; an unknown host is 404', async () => {
  for (const h of hosts) {
    await eventually(async () => (await curl(`http://${h.ip}/path`, 'a.example')) === 'svc-a', {
      timeoutMs: 30_000,
      what: `a.example through ${h.ns}`,
    });
    assert.equal(await curl(`http://${h.ip}/path`, 'b.example'), 'svc-b');
    assert.equal(await curl(`http://${h.ip}/`, 'B.Example:80'), 'svc-b');
    assert.equal(await curl(`http://${h.ip}/path`, 'nobody.example'), 'HTTP 404');
  }
});

test('TLS: SNI chooses the Ingress certificate for each host; other names get the fallback', async () => {
  const ip = hosts[1]?.ip ?? '';
  await eventually(async () => (await servedSubject(ip, 'a.example')) === 'a.example', {
    timeoutMs: 20_000,
    what: 'a.example certificate',
  });
  assert.equal(await servedSubject(ip, 'b.example'), 'b.example');
  assert.equal(await servedSubject(ip, 'x.b.example'), 'b.example');
  assert.equal(await servedSubject(ip, 'other.example'), 'Coxswain Ingress Fake Certificate');
  const res = await run('curl', ['-s', '-m', '5', '-k', '--resolve', `a.example:443:${ip}`, 'https://a.example/path'], {
    timeoutMs: 10_000,
  });
  assert.equal(res.stdout.trim(), 'svc-a');
});

test('status.loadBalancer of the Ingress has the addresses of the Ready nodes', async () => {
  const want = hosts.map((h) => h.ip).sort();
  await eventually(
    async () => {
      const out = await mustK(['get', 'ingress', 'web', '-o', 'jsonpath={.status.loadBalancer.ingress[*].ip}']);
      return out.split(' ').sort().join(' ') === want.join(' ');
    },
    { timeoutMs: 30_000, what: 'ingress status' },
  );
  const wide = await mustK(['get', 'ingress', 'web']);
  assert.match(wide, /coxswain\s+a\.example,b\.example\s+\S*198\.18\.0\.\d+/);
});

test('an Ingress change takes effect without a restart', async () => {
  const ip = hosts[2]?.ip ?? '';
  await mustK([
    'patch',
    'ingress',
    'web',
    '--type=json',
    '-p',
    JSON.stringify([
      {
        op: 'add',
        path: '/spec/rules/0/http/paths/-',
        value: { path: '/path', pathType: 'Exact', backend: { service: { name: 'svc-b', port: { number: 80 } } } },
      },
    ]),
  ]);
  await eventually(async () => (await curl(`http://${ip}/path`, 'a.example')) === 'svc-b', {
    timeoutMs: 20_000,
    what: 'Exact /path on a.example goes to svc-b',
  });
  // Exact only: the prefix rule still sends the rest of a.example to A.
  assert.equal(await curl(`http://${ip}/`, 'a.example'), 'svc-a');
  assert.equal(await curl(`http://${ip}/path/`, 'a.example'), 'HTTP 404');
});

test('a LoadBalancer Service gets the nodes addresses and answers on them at its port', async () => {
  await mustK(
    ['apply', '-f', '-'],
    `
apiVersion: v1
kind: Service
metadata: {name: lb-a, namespace: default}
spec:
  type: LoadBalancer
  selector: {app: svc-a}
  ports: [{port: 8081, targetPort: 8080}]
`,
  );
  const want = hosts.map((h) => h.ip).sort();
  await eventually(
    async () => {
      const out = await mustK(['get', 'svc', 'lb-a', '-o', 'jsonpath={.status.loadBalancer.ingress[*].ip}']);
      return out.split(' ').sort().join(' ') === want.join(' ');
    },
    { timeoutMs: 30_000, what: 'LoadBalancer status' },
  );
  const row = await mustK(['get', 'svc', 'lb-a']);
  assert.match(row, /LoadBalancer\s+\S+\s+198\.18\.0\.\d+/);
  for (const h of hosts)
    await eventually(async () => (await curl(`http://${h.ip}:8081/path`, 'anything')) === 'svc-a', {
      timeoutMs: 20_000,
      what: `lb-a on ${h.ip}:8081`,
    });
});

test('an invalid Ingress is refused with 422 and the field that is wrong, and nothing is stored', async () => {
  const bad = `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: bad, namespace: default}
spec:
  rules:
  - host: "*.*.example"
    http:
      paths:
      - {path: nope, pathType: Prefix, backend: {service: {name: svc-a, port: {number: 80}}}}
`;
  const res = await k(['apply', '-f', '-'], bad);
  assert.notEqual(res.code, 0);
  assert.match(res.stderr, /is invalid/);
  assert.match(res.stderr, /spec\.rules\[0\]\.host: Invalid value: "\*\.\*\.example"/);
  assert.match(res.stderr, /spec\.rules\[0\]\.http\.paths\[0\]\.path: Invalid value: "nope": must be an absolute path/);
  const raw = await k(['get', '--raw', '/apis/networking.k8s.io/v1/namespaces/default/ingresses/bad']);
  assert.notEqual(raw.code, 0);
  assert.match(raw.stderr, /NotFound|not found/);
});
