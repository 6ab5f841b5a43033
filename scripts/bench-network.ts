// Networking benchmarks (issue 5), on 3 simulated hosts joined to a control plane:
// 1. rule programming latency: with 100 Services, an Endpoints change → the new endpoint in
//    the NAT rules of every host (p50/p99; iptables-save polled every ~25 ms per host);
// 2. HTTP through a ClusterIP vs straight to the pod IP, from a pod on another host, in the
//    same run (requests per second, mean latency, ratio);
// 3. host loss → all its pods Running elsewhere, with the timings used.

import { performance } from 'node:perf_hooks';
import type { Pod } from '../pkg/api/index.js';
import { eventually, R } from '../test/harness/clients.js';
import { isLive } from '../test/harness/pods.js';
import { coxctl } from '../test/harness/control-plane.js';
import { cutHost, hostDocker, inHost, restoreHost, startSimCluster, type SimHost } from '../test/harness/sim-hosts.js';
import { percentile } from './bench-store.js';

const SERVICES = 100;
const CHANGES = 40;
const REQUESTS = 300;
const GRACE_SECONDS = 8;
const TOLERATION_SECONDS = 2;

function ms(n: number): string {
  return `${n.toFixed(1)} ms`;
}

async function main(): Promise<void> {
  const { plane, client, hosts, stop } = await startSimCluster({ hosts: 3, graceSeconds: GRACE_SECONDS });
  let lost: SimHost | undefined;
  try {
    // 1. Rule programming latency. Selector-less Services with hand-written Endpoints: the
    //    change is the Endpoints write, nothing else moves.
    const ns = 'default';
    for (let i = 0; i < SERVICES; i++) {
      await client.create(
        R.services,
        {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name: `bench-${i}`, namespace: ns },
          spec: { ports: [{ port: 80, targetPort: 8080 }] },
        },
        { namespace: ns },
      );
      await client.create(
        R.endpoints,
        {
          apiVersion: 'v1',
          kind: 'Endpoints',
          metadata: { name: `bench-${i}`, namespace: ns },
          subsets: [{ addresses: [{ ip: `10.250.${i}.1` }], ports: [{ port: 8080 }] }],
        },
        { namespace: ns },
      );
    }
    const present = async (h: SimHost, ip: string): Promise<boolean> =>
      (await inHost(h, ['iptables-save', '-t', 'nat'])).stdout.includes(`--to-destination ${ip}:8080`);
    await eventually(
      async () => (await Promise.all(hosts.map((h) => present(h, `10.250.${SERVICES - 1}.1`)))).every(Boolean),
      { timeoutMs: 60_000, what: 'the 100 services programmed' },
    );
    const latencies: number[] = [];
    for (let c = 0; c < CHANGES; c++) {
      const i = c % SERVICES;
      const ip = `10.251.${c}.${(i % 250) + 1}`;
      const ep = await client.get(R.endpoints, `bench-${i}`, { namespace: ns });
      ep.subsets?.[0]?.addresses?.push({ ip });
      const t0 = performance.now();
      await client.update(R.endpoints, ep, { namespace: ns });
      const done = await Promise.all(
        hosts.map(async (h) => {
          for (let k = 0; k < 400; k++) {
            if (await present(h, ip)) return performance.now() - t0;
          }
          throw new Error(`endpoint ${ip} never programmed on ${h.ns}`);
        }),
      );
      latencies.push(Math.max(...done));
    }
    latencies.sort((a, b) => a - b);
    console.log(
      `rule programming (${SERVICES} services, ${CHANGES} Endpoints changes, all 3 hosts): p50 ${ms(percentile(latencies, 50))}  p99 ${ms(percentile(latencies, 99))}  (poll resolution ~one iptables-save, ${ms(latencies[0] ?? 0)} best)`,
    );
    for (let i = 0; i < SERVICES; i++) await client.delete(R.services, `bench-${i}`, { namespace: ns });

    // 2. ClusterIP vs pod IP, one server pod on host 1, the client pod on host 2.
    const manifest = `
apiVersion: v1
kind: Pod
metadata: {name: server, namespace: default, labels: {app: server}}
spec:
  nodeName: coxh1
  containers:
  - {name: web, image: busybox:latest, imagePullPolicy: Never, command: ["sh", "-c", "mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www"]}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: default}
spec:
  nodeName: coxh2
  containers:
  - {name: c, image: busybox:latest, imagePullPolicy: Never, command: ["sleep", "3600"]}
---
apiVersion: v1
kind: Service
metadata: {name: server, namespace: default}
spec: {selector: {app: server}, ports: [{port: 80, targetPort: 8080}]}
`;
    const applied = await coxctl(plane.pki.adminKubeconfig, ['apply', '-f', '-'], { input: manifest });
    if (applied.code !== 0) throw new Error(applied.stderr);
    let serverIP = '';
    await eventually(
      async () => {
        const pods = (await client.list(R.pods, { namespace: ns })).items;
        serverIP = pods.find((p) => p.metadata.name === 'server')?.status?.podIP ?? '';
        const ep = await client.get(R.endpoints, 'server', { namespace: ns }).catch(() => undefined);
        return (
          pods.filter((p) => p.status?.phase === 'Running').length === 2 &&
          JSON.stringify(ep?.subsets ?? []).includes(serverIP) &&
          serverIP !== ''
        );
      },
      { timeoutMs: 120_000, what: 'server and client running' },
    );
    const clusterIP = String((await client.get(R.services, 'server', { namespace: ns })).spec?.clusterIP);
    const [, h2, cut] = hosts;
    if (h2 === undefined || cut === undefined) throw new Error('three hosts expected');
    await eventually(async () => present(h2, serverIP), { timeoutMs: 30_000, what: 'server rules on host 2' });
    const cid = (
      await hostDocker(h2, [
        'ps',
        '-q',
        '--filter',
        'label=io.coxswain.pod.name=client',
        '--filter',
        'label=io.coxswain.container.type=app',
      ])
    ).stdout.trim();
    // Timed from outside (busybox date has no sub-second format); the cost of an empty
    // `docker exec` is measured and taken off.
    const execMs = async (script: string): Promise<number> => {
      const t = performance.now();
      const res = await hostDocker(h2, ['exec', cid, 'sh', '-c', script], 300_000);
      if (res.code !== 0) throw new Error(`${script.slice(0, 80)} failed: ${res.stderr}`);
      return performance.now() - t;
    };
    const overhead = Math.min(await execMs('true'), await execMs('true'), await execMs('true'));
    const loop = async (url: string): Promise<number> =>
      (await execMs(`i=0; while [ $i -lt ${REQUESTS} ]; do wget -qO- ${url} >/dev/null || exit 1; i=$((i+1)); done`)) -
      overhead;
    await loop(`http://${serverIP}:8080/`); // warm-up
    const direct = await loop(`http://${serverIP}:8080/`);
    const viaService = await loop(`http://${clusterIP}/`);
    const rps = (t: number): number => (REQUESTS / t) * 1000;
    console.log(`HTTP from host 2 to a pod on host 1 (${REQUESTS} sequential busybox wget each):`);
    console.log(`  pod IP     ${rps(direct).toFixed(0)} req/s, mean ${ms(direct / REQUESTS)}   (baseline)`);
    console.log(
      `  ClusterIP  ${rps(viaService).toFixed(0)} req/s, mean ${ms(viaService / REQUESTS)}   ratio ${(viaService / direct).toFixed(2)}x the latency`,
    );

    // 3. Host loss: 6 replicas over the 3 hosts; cut host 3 and time until its pods run elsewhere.
    const deployment = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: spread, namespace: default}
spec:
  replicas: 6
  selector: {matchLabels: {app: spread}}
  template:
    metadata: {labels: {app: spread}}
    spec:
      terminationGracePeriodSeconds: 1
      tolerations:
      - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: ${TOLERATION_SECONDS}}
      - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: ${TOLERATION_SECONDS}}
      containers:
      - {name: c, image: busybox:latest, imagePullPolicy: Never, command: ["sleep", "3600"]}
`;
    const ok = await coxctl(plane.pki.adminKubeconfig, ['apply', '-f', '-'], { input: deployment });
    if (ok.code !== 0) throw new Error(ok.stderr);
    const spread = async (): Promise<Pod[]> =>
      (await client.list(R.pods, { namespace: ns, labelSelector: 'app=spread' })).items.filter(isLive);
    await eventually(async () => (await spread()).filter((p) => p.status?.phase === 'Running').length === 6, {
      timeoutMs: 120_000,
      what: '6 spread pods running',
    });
    const onLost = (await spread()).filter((p) => p.spec?.nodeName === cut.ns).length;
    const t0 = performance.now();
    lost = cut;
    await cutHost(cut);
    await eventually(
      async () => {
        const pods = await spread();
        return pods.length === 6 && pods.every((p) => p.spec?.nodeName !== cut.ns && p.status?.phase === 'Running');
      },
      { timeoutMs: 180_000, intervalMs: 200, what: 'pods back elsewhere' },
    );
    const recovered = performance.now() - t0;
    console.log(
      `host loss: ${onLost} pods of ${cut.ns} Running on other hosts ${(recovered / 1000).toFixed(1)} s after its link was cut`,
    );
    console.log(
      `  timings: lease renew 2 s, node-monitor-grace-period ${GRACE_SECONDS} s, NoExecute tolerationSeconds ${TOLERATION_SECONDS} s (the grace period counts from the last renewal, up to 2 s before the cut)`,
    );
  } finally {
    // Reconnected first: the apiserver's connections to the cut host must be able to close.
    if (lost !== undefined) await restoreHost(lost).catch(() => undefined);
    await stop();
  }
}

await main();
