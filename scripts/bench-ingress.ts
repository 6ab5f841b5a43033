// Ingress benchmark (issue 15), on 3 simulated hosts (13-15) with the agents' ingress proxy:
// requests per second and latency percentiles through the ingress (Host header, node address,
// port 80) against straight to the Service's ClusterIP, from the same client in the same run.
// The client runs inside host 13's network namespace (where the ClusterIP is programmed),
// `CONCURRENCY` requests in flight for `SECONDS` each, keep-alive on both paths; the backend
// is two busybox httpd pods.
//
//   node dist/scripts/bench-ingress.js                 the benchmark
//   node dist/scripts/bench-ingress.js --load URL HOST CONCURRENCY MS   (internal: the client)

import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { eventually, R } from '../test/harness/clients.js';
import { kubectl, DIST } from '../test/harness/control-plane.js';
import { inHost, startSimCluster } from '../test/harness/sim-hosts.js';
import { percentile } from './bench-store.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runRoot } from '../test/harness/run-root.js';

const CONCURRENCY = 16;
const SECONDS = 8;

interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  latenciesMs: number[];
}

/** The client: keeps `concurrency` requests in flight for `ms`; prints a LoadResult as JSON. */
async function load(target: { url: string; host: string }, concurrency: number, ms: number): Promise<void> {
  const { url, host } = target;
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  let errors = 0;
  const t0 = performance.now();
  const deadline = t0 + ms;
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const start = performance.now();
      const req = http.get(url, { agent, headers: { host } }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) latencies.push(performance.now() - start);
          else errors += 1;
          resolve();
        });
      });
      req.setTimeout(5000, () => req.destroy(new Error('timeout')));
      req.on('error', () => {
        errors += 1;
        resolve();
      });
    });
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) await one();
    }),
  );
  agent.destroy();
  const result: LoadResult = {
    requests: latencies.length,
    errors,
    seconds: (performance.now() - t0) / 1000,
    latenciesMs: latencies,
  };
  process.stdout.write(JSON.stringify(result));
}

function isLoadResult(v: unknown): v is LoadResult {
  if (typeof v !== 'object' || v === null) return false;
  const numbers = ['requests', 'errors', 'seconds'].every((k) => k in v && typeof Reflect.get(v, k) === 'number');
  return numbers && 'latenciesMs' in v && Array.isArray(v.latenciesMs);
}

function summary(r: LoadResult): { rps: number; p50: number; p99: number } {
  const sorted = [...r.latenciesMs].sort((a, b) => a - b);
  return { rps: r.requests / r.seconds, p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

const BACKEND = `
apiVersion: v1
kind: Service
metadata: {name: bench, namespace: default}
spec:
  selector: {app: bench}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: bench, namespace: default}
spec:
  replicas: 2
  selector: {matchLabels: {app: bench}}
  template:
    metadata: {labels: {app: bench}}
    spec:
      containers:
      - name: web
        image: busybox:latest
        imagePullPolicy: Never
        command: ["sh", "-c", "mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www"]
        readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: bench, namespace: default}
spec:
  rules:
  - host: bench.example
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: bench, port: {number: 80}}}}
`;

async function main(): Promise<void> {
  const { plane, client, hosts, stop } = await startSimCluster({
    hosts: 3,
    graceSeconds: 20,
    first: 13,
    agentArgs: ['--ingress'],
  });
  const home = mkdtempSync(join(runRoot(), 'bench-ingress-home-'));
  try {
    const applied = await kubectl(plane.pki.adminKubeconfig, ['apply', '-f', '-'], { home, input: BACKEND });
    if (applied.code !== 0) throw new Error(applied.stderr);
    const [clientHost, ingressHost] = hosts;
    if (clientHost === undefined || ingressHost === undefined) throw new Error('three hosts expected');
    const clusterIP = String((await client.get(R.services, 'bench', { namespace: 'default' })).spec?.clusterIP);
    const run = async (url: string, host: string, ms: number): Promise<LoadResult> => {
      const res = await inHost(
        clientHost,
        [process.execPath, `${DIST}/scripts/bench-ingress.js`, '--load', url, host, String(CONCURRENCY), String(ms)],
        ms + 60_000,
      );
      if (res.code !== 0) throw new Error(`load client failed: ${res.stderr}`);
      const parsed: unknown = JSON.parse(res.stdout);
      if (!isLoadResult(parsed)) throw new Error(`load client said ${res.stdout.slice(0, 200)}`);
      return parsed;
    };
    const viaIngress = `http://${ingressHost.ip}/`;
    const viaClusterIP = `http://${clusterIP}/`;
    await eventually(
      async () => {
        const [a, b] = await Promise.all([run(viaIngress, 'bench.example', 300), run(viaClusterIP, 'bench', 300)]);
        return a.requests > 0 && a.errors === 0 && b.requests > 0 && b.errors === 0;
      },
      { timeoutMs: 120_000, intervalMs: 1000, what: 'the backend answering through both paths' },
    );
    // Warm both, then measure one after the other.
    await run(viaClusterIP, 'bench', 1000);
    await run(viaIngress, 'bench.example', 1000);
    const direct = await run(viaClusterIP, 'bench', SECONDS * 1000);
    const ingress = await run(viaIngress, 'bench.example', SECONDS * 1000);
    const d = summary(direct);
    const i = summary(ingress);
    const f = (n: number): string => n.toFixed(2);
    console.log(
      `HTTP GET from a client on ${clientHost.ns}, ${CONCURRENCY} in flight for ${SECONDS} s each, keep-alive; backend 2 busybox httpd pods:`,
    );
    console.log(
      `  ClusterIP          ${d.rps.toFixed(0)} req/s  p50 ${f(d.p50)} ms  p99 ${f(d.p99)} ms  errors ${direct.errors}   (baseline)`,
    );
    console.log(
      `  ingress (${ingressHost.ns}:80) ${i.rps.toFixed(0)} req/s  p50 ${f(i.p50)} ms  p99 ${f(i.p99)} ms  errors ${ingress.errors}   ratio ${(i.rps / d.rps).toFixed(2)}x the req/s, ${(i.p99 / d.p99).toFixed(2)}x the p99`,
    );
  } finally {
    rmSync(home, { recursive: true, force: true });
    await stop();
  }
}

const args = process.argv.slice(2);
if (args[0] === '--load') await load({ url: args[1] ?? '', host: args[2] ?? '' }, Number(args[3]), Number(args[4]));
else await main();
