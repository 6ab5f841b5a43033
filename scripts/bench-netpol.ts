// NetworkPolicy benchmarks (issue 15), on the agent's own code and real iptables, in private
// network namespaces of this run (named npb<pid>-…, removed at the end); no cluster needed:
// 1. rule programming: 100 policies over 200 pods on 3 nodes, the busiest node's payload
//    rendered (pkg/kubelet/netpol/rules.ts) and applied with one real iptables-restore, the
//    first time and again after one pod's labels changed; also with all 200 pods on one node;
// 2. connection latency: new TCP connections with one HTTP request each, from a client
//    namespace through a router namespace (whose FORWARD chain jumps to the policy chains,
//    as a node's does) to a server, with no policy and with the 100-policy payload in which
//    the server is selected and the client allowed by the last rule only (ratio; aim ≤ 1.1×).

import { execFileSync, spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import type { NetworkPolicy } from '../pkg/api/types/index.js';
import { buildPolicyRules, policyChains, type PolicyPod } from '../pkg/kubelet/netpol/rules.js';
import { percentile } from './bench-store.js';

const POLICIES = 100;
const PODS = 200;
const NODES = 3;
const APPS = 20;
const CONNECTIONS = 1000;
const ROUNDS = 4;
const PREFIX = 'CXBENCH00-';

const tag = `npb${process.pid}`;
const ns = { client: `${tag}-c`, router: `${tag}-r`, server: `${tag}-s` };
const CLIENT_IP = '10.244.1.2';
const SERVER_IP = '10.244.2.10';

function sh(args: string[], input?: string): string {
  return execFileSync(args[0] ?? 'true', args.slice(1), { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
}

function inNs(name: string, args: string[], input?: string): string {
  return sh(['ip', 'netns', 'exec', name, ...args], input);
}

/** 200 pods: app-<i % 20>, tier front/back; pod 0 is the server, the client is one more pod. */
function pods(): PolicyPod[] {
  const out: PolicyPod[] = [];
  for (let i = 0; i < PODS; i++) {
    const ip = i === 0 ? SERVER_IP : `10.244.${10 + (i % NODES)}.${10 + Math.floor(i / NODES)}`;
    out.push({
      namespace: 'bench',
      name: `pod-${i}`,
      ip,
      labels: { app: `app-${i % APPS}`, tier: i % 2 === 0 ? 'front' : 'back' },
      ports: [{ name: 'http', containerPort: 8080 }],
    });
  }
  out.push({ namespace: 'bench', name: 'client', ip: CLIENT_IP, labels: { app: 'client' }, ports: [] });
  return out;
}

/**
 * 100 policies: each selects one app and allows a tier on a named and a numeric port; a quarter
 * also limit egress. The last one lets the client reach app-0 (the server's app).
 */
function policies(): NetworkPolicy[] {
  const out: NetworkPolicy[] = [];
  for (let i = 0; i < POLICIES; i++) {
    const last = i === POLICIES - 1;
    const egress = i % 4 === 0;
    out.push({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { namespace: 'bench', name: `policy-${String(i).padStart(3, '0')}`, uid: `uid-${i}` },
      spec: {
        podSelector: { matchLabels: { app: last ? 'app-0' : `app-${i % APPS}` } },
        policyTypes: egress ? ['Ingress', 'Egress'] : ['Ingress'],
        ingress: [
          {
            from: [
              { podSelector: { matchLabels: last ? { app: 'client' } : { tier: i % 2 === 0 ? 'back' : 'front' } } },
            ],
            ports: [
              { protocol: 'TCP', port: 'http' },
              { protocol: 'TCP', port: 9000 + i, endPort: 9100 + i },
            ],
          },
        ],
        ...(egress
          ? { egress: [{ to: [{ ipBlock: { cidr: '10.244.0.0/16', except: [`10.244.250.${i % 250}/32`] } }] }] }
          : {}),
      },
    });
  }
  return out;
}

function render(input: { local: (p: PolicyPod) => boolean; all: PolicyPod[]; existing: string[] }): string {
  return buildPolicyRules({
    prefix: PREFIX,
    localPods: input.all.filter(input.local),
    pods: input.all,
    namespaces: new Map([['bench', { 'kubernetes.io/metadata.name': 'bench' }]]),
    policies: policies(),
    existingChains: input.existing,
  });
}

function chainsOf(payload: string): string[] {
  return payload.split('\n').flatMap((l) => (l.startsWith(':') ? [l.slice(1).split(' ')[0] ?? ''] : []));
}

function timed<T>(fn: () => T): [T, number] {
  const t0 = performance.now();
  const out = fn();
  return [out, performance.now() - t0];
}

function setupNamespaces(): void {
  for (const name of Object.values(ns)) sh(['ip', 'netns', 'add', name]);
  sh([
    'ip',
    'link',
    'add',
    `${tag}a`,
    'netns',
    ns.client,
    'type',
    'veth',
    'peer',
    'name',
    `${tag}b`,
    'netns',
    ns.router,
  ]);
  sh([
    'ip',
    'link',
    'add',
    `${tag}c`,
    'netns',
    ns.server,
    'type',
    'veth',
    'peer',
    'name',
    `${tag}d`,
    'netns',
    ns.router,
  ]);
  const up = (name: string, dev: string, addr: string): void => {
    inNs(name, ['ip', 'addr', 'add', addr, 'dev', dev]);
    inNs(name, ['ip', 'link', 'set', dev, 'up']);
    inNs(name, ['ip', 'link', 'set', 'lo', 'up']);
  };
  up(ns.client, `${tag}a`, `${CLIENT_IP}/24`);
  up(ns.router, `${tag}b`, '10.244.1.1/24');
  up(ns.router, `${tag}d`, '10.244.2.1/24');
  up(ns.server, `${tag}c`, `${SERVER_IP}/24`);
  inNs(ns.client, ['ip', 'route', 'add', 'default', 'via', '10.244.1.1']);
  inNs(ns.server, ['ip', 'route', 'add', 'default', 'via', '10.244.2.1']);
  inNs(ns.router, ['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
}

function teardownNamespaces(): void {
  for (const name of Object.values(ns)) {
    try {
      sh(['ip', 'netns', 'del', name]);
    } catch {
      // not made (setup failed early)
    }
  }
}

const SERVER = `require('http').createServer((q, s) => s.end('ok')).listen(8080, '${SERVER_IP}', () => console.log('up'))`;

/** `CONNECTIONS` sequential new connections with one request each; per-request latency in ms. */
function clientScript(n: number): string {
  return `
const http = require('http');
const agent = new http.Agent({ keepAlive: false });
const out = [];
(async () => {
  for (let i = 0; i < ${n}; i++) {
    const t0 = process.hrtime.bigint();
    await new Promise((resolve, reject) => {
      const req = http.get({ host: '${SERVER_IP}', port: 8080, agent, timeout: 5000 }, (res) => { res.resume(); res.on('end', resolve); });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', reject);
    });
    out.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(String(e)); process.exit(1); });`;
}

function latencies(): number[] {
  const parsed: unknown = JSON.parse(inNs(ns.client, [process.execPath, '-e', clientScript(CONNECTIONS)]));
  return Array.isArray(parsed) ? parsed.filter((x): x is number => typeof x === 'number') : [];
}

function summary(values: number[]): { mean: number; p50: number; p99: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    mean: values.reduce((a, b) => a + b, 0) / Math.max(1, values.length),
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
  };
}

async function main(): Promise<void> {
  const all = pods();
  const busiest = (p: PolicyPod): boolean => p.ip === SERVER_IP || p.ip.startsWith('10.244.10.');
  render({ local: busiest, all, existing: [] }); // warm-up (JIT)
  const [payload, renderMs] = timed(() => render({ local: busiest, all, existing: [] }));
  const onOne = (p: PolicyPod): boolean => p.name !== 'client';
  const [payloadAll, renderAllMs] = timed(() => render({ local: onOne, all, existing: [] }));
  const rules = (p: string): number => p.split('\n').filter((l) => l.startsWith('-A ')).length;
  setupNamespaces();
  let server: ReturnType<typeof spawn> | undefined;
  try {
    const chains = policyChains(PREFIX);
    inNs(ns.router, ['iptables', '-w', '-N', chains.main]);
    inNs(ns.router, ['iptables', '-w', '-I', 'FORWARD', '1', '-j', chains.main]);
    const [, restoreMs] = timed(() => inNs(ns.router, ['iptables-restore', '-w', '--noflush'], payload));
    // One pod's labels change: re-render and re-apply (stale chains known from the first payload).
    const moved = all.map((p) => (p.name === 'pod-3' ? { ...p, labels: { app: 'app-7', tier: 'back' } } : p));
    const [again, rerenderMs] = timed(() => render({ local: busiest, all: moved, existing: chainsOf(payload) }));
    const [, reapplyMs] = timed(() => inNs(ns.router, ['iptables-restore', '-w', '--noflush'], again));
    const [, restoreAllMs] = timed(() => inNs(ns.router, ['iptables-restore', '-w', '--noflush'], payloadAll));
    console.log(`policies ${POLICIES}, pods ${PODS} on ${NODES} nodes`);
    console.log(
      `  busiest node (${all.filter(busiest).length} local pods): render ${renderMs.toFixed(1)} ms, iptables-restore ${restoreMs.toFixed(1)} ms, ${rules(payload)} rules in ${chainsOf(payload).length} chains`,
    );
    console.log(
      `  after one pod's labels changed: render ${rerenderMs.toFixed(1)} ms, iptables-restore ${reapplyMs.toFixed(1)} ms`,
    );
    console.log(
      `  all ${PODS} pods on one node: render ${renderAllMs.toFixed(1)} ms, iptables-restore ${restoreAllMs.toFixed(1)} ms, ${rules(payloadAll)} rules`,
    );

    // 2. Connection latency: first without any policy chain in the path, then with the payload.
    const child = spawn('ip', ['netns', 'exec', ns.server, process.execPath, '-e', SERVER], { stdio: 'pipe' });
    server = child;
    await new Promise<void>((resolve, reject) => {
      child.stdout.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`server exited ${String(code)}`)));
    });
    // Rounds alternate (without, with, …) so the machine's drift weighs on both alike.
    const hook = ['FORWARD', '-j', chains.main];
    inNs(ns.router, ['iptables', '-w', '-D', ...hook]);
    inNs(ns.router, ['iptables-restore', '-w', '--noflush'], payload);
    latencies(); // warm-up
    const withoutAll: number[] = [];
    const withAll: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      withoutAll.push(...latencies());
      inNs(ns.router, ['iptables', '-w', '-I', 'FORWARD', '1', '-j', chains.main]);
      withAll.push(...latencies());
      inNs(ns.router, ['iptables', '-w', '-D', ...hook]);
    }
    const without = summary(withoutAll);
    const withPolicies = summary(withAll);
    const fmt = (s: { mean: number; p50: number; p99: number }): string =>
      `mean ${s.mean.toFixed(3)} ms, p50 ${s.p50.toFixed(3)} ms, p99 ${s.p99.toFixed(3)} ms`;
    console.log(
      `new connection + request, ${ROUNDS} × ${CONNECTIONS} sequential per case, alternating, through a forwarding namespace:`,
    );
    console.log(`  without policies: ${fmt(without)}`);
    console.log(`  with ${POLICIES} policies (server selected, client allowed by the last one): ${fmt(withPolicies)}`);
    console.log(
      `  ratio: p50 ${(withPolicies.p50 / without.p50).toFixed(3)}×, mean ${(withPolicies.mean / without.mean).toFixed(3)}× (aim ≤ 1.1×)`,
    );
  } finally {
    server?.kill();
    teardownNamespaces();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
