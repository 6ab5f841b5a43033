// etcd benchmark (issue 13), in one run, over mTLS against real apiserver processes on loopback:
//  1. creates/s and p50/p99 with 50 clients (the API benchmark's create load, bench-load.ts)
//     on (a) SQLite, (b) one etcd member, (c) a 3-member etcd cluster (peer and client TLS);
//  2. beside (b) and (c), etcd's own write rate: plain puts through a direct etcd3 client,
//     50 callers, values as large as the ConfigMaps the apiserver stored; the ratio API / etcd;
//  3. failover on (c) with 2 apiservers: a client creating in a loop; kill -9 of the apiserver
//     it talks to, then of the etcd leader, several times each (restarted in between); p50/p99
//     of kill → the client's next acknowledged create. The client is pkg/client's, given both
//     apiservers: it fails over as the components do (pkg/client/apiservers.ts).
// Prints figures; asserts nothing.

import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { mustFind, storageKey } from '../pkg/api/registry.js';
import { loadKubeconfig, RestClient, withApiservers } from '../pkg/client/index.js';
import { ApiError } from '../pkg/errors/index.js';
import { startControlPlane, type ControlPlane, type ExtraApiserver } from '../test/harness/control-plane.js';
import type { EtcdCluster, EtcdTls } from '../test/harness/etcd.js';
import { createLoad } from './bench-load.js';
import { benchEtcdPuts, percentile, type StoreBenchResult } from './bench-store.js';
import { Etcd3 } from 'etcd3';
import { noop } from 'cockatiel';

const configmaps = mustFind('', 'v1', 'configmaps');
const namespaces = mustFind('', 'v1', 'namespaces');
const NAMESPACE = 'bench';
const CONCURRENCY = 50;
const WARM_SECONDS = 2;
const LOAD_SECONDS = 8;
const KILLS = 5;

interface Rate {
  perSec: number;
  p50: number;
  p99: number;
}

function rateOf(latencies: number[], seconds: number): Rate {
  const sorted = [...latencies].sort((a, b) => a - b);
  return { perSec: sorted.length / seconds, p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

const fromStore = (r: StoreBenchResult): Rate => ({ perSec: r.createsPerSec, p50: r.p50Ms, p99: r.p99Ms });

function adminClient(plane: ControlPlane, server = plane.server): RestClient {
  return new RestClient({ ...loadKubeconfig({ path: plane.pki.adminKubeconfig }), server });
}

/** 50 clients creating ConfigMaps for LOAD_SECONDS, after a warm-up. */
async function apiCreates(plane: ControlPlane): Promise<Rate> {
  const client = adminClient(plane);
  try {
    await client.create(namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
    const load = { concurrency: CONCURRENCY, total: 1_000_000, namespace: NAMESPACE };
    await createLoad(client, { ...load, seconds: WARM_SECONDS, prefix: 'warm' });
    const round = await createLoad(client, { ...load, seconds: LOAD_SECONDS, prefix: 'load' });
    return rateOf(round.latencies, round.seconds);
  } finally {
    client.close();
  }
}

function etcdClientOf(urls: string[], tls: EtcdTls): Etcd3 {
  return new Etcd3({
    hosts: urls,
    credentials: { rootCertificate: tls.ca, certChain: tls.cert, privateKey: tls.key },
    faultHandling: { host: () => noop, global: noop },
  });
}

/** The size of a ConfigMap of the load as the apiserver stored it in etcd. */
async function storedValueBytes(urls: string[], tls: EtcdTls): Promise<number> {
  const client = etcdClientOf(urls, tls);
  try {
    const res = await client.kv.range({
      // The apiserver's --etcd-prefix is /registry, as the store keys' own root.
      key: Buffer.from(storageKey(configmaps, NAMESPACE, 'load-')),
      range_end: Buffer.from(storageKey(configmaps, NAMESPACE, 'load.')),
      limit: 1,
    });
    const value = res.kvs[0]?.value;
    if (value === undefined) throw new Error('no ConfigMap of the load found in etcd');
    return value.length;
  } finally {
    client.close();
  }
}

/** The API on etcd and etcd alone, on the same members, in the same run. */
async function onEtcd(
  plane: ControlPlane,
  where: { urls: string[]; tls: EtcdTls },
): Promise<{ api: Rate; etcd: Rate; valueBytes: number }> {
  const api = await apiCreates(plane);
  const valueBytes = await storedValueBytes(where.urls, where.tls);
  const etcd = await benchEtcdPuts(
    { endpoints: where.urls, tls: where.tls, prefix: '/bench-direct' },
    { valueBytes, seconds: LOAD_SECONDS, concurrency: CONCURRENCY },
  );
  return { api, etcd: fromStore(etcd), valueBytes };
}

function readTls(pki: { caCert: string; apiserverClientCert: string; apiserverClientKey: string }): EtcdTls {
  return {
    ca: readFileSync(pki.caCert),
    cert: readFileSync(pki.apiserverClientCert),
    key: readFileSync(pki.apiserverClientKey),
  };
}

/** A client writing in a loop through pkg/client's failover between two apiservers. */
class FailoverWriter {
  private stopped = false;
  private n = 0;
  /** performance.now() when each acknowledged create was sent and when it was answered. */
  readonly acks: { sent: number; answered: number }[] = [];
  readonly errors = new Map<string, number>();
  private loop: Promise<void> = Promise.resolve();

  constructor(
    private readonly client: RestClient,
    private readonly servers: readonly string[],
  ) {}

  /** The index of the apiserver the client talks to now. */
  current(): number {
    return this.servers.indexOf(this.client.apiservers.current);
  }

  start(): void {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const sent = performance.now();
      try {
        await this.client.create(
          configmaps,
          { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `failover-${this.n++}` } },
          { namespace: NAMESPACE },
        );
        this.acks.push({ sent, answered: performance.now() });
      } catch (err) {
        const kind = err instanceof ApiError ? `HTTP ${err.code}` : 'other error';
        this.errors.set(kind, (this.errors.get(kind) ?? 0) + 1);
        await sleep(10);
      }
    }
  }

  /** ms from `since` to the answer of the first create sent after it and acknowledged (bounded wait). */
  async nextAckAfter(since: number): Promise<number> {
    for (let i = 0; i < 500; i++) {
      const ack = this.acks.find((a) => a.sent > since);
      if (ack !== undefined) return ack.answered - since;
      await sleep(20);
    }
    return Number.NaN;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}

/** kill -9 of the writer's apiserver, then of the etcd leader, KILLS times each. */
async function failover(
  plane: ControlPlane,
  cluster: EtcdCluster,
): Promise<{ apiserver: number[]; etcdLeader: number[]; writer: FailoverWriter }> {
  const second = await plane.addApiserver();
  const apiservers: { server: string; crash(): Promise<void>; restart(): Promise<void> }[] = [
    { server: plane.server, crash: () => plane.crash(), restart: () => plane.restart() },
    second satisfies ExtraApiserver,
  ];
  const servers = apiservers.map((a) => a.server);
  const client = new RestClient(withApiservers(loadKubeconfig({ path: plane.pki.adminKubeconfig }), servers));
  const writer = new FailoverWriter(client, servers);
  writer.start();
  const apiserver: number[] = [];
  const etcdLeader: number[] = [];
  try {
    await sleep(1000);
    for (let k = 0; k < KILLS; k++) {
      const victim = apiservers[writer.current()];
      if (victim === undefined) break;
      const t0 = performance.now();
      await victim.crash();
      apiserver.push(await writer.nextAckAfter(t0));
      await victim.restart();
      await sleep(500);
    }
    for (let k = 0; k < KILLS; k++) {
      const leader = await cluster.leader();
      const t0 = performance.now();
      await cluster.crash(leader);
      etcdLeader.push(await writer.nextAckAfter(t0));
      await cluster.restart(leader);
      await sleep(500);
    }
  } finally {
    await writer.stop();
    client.close();
  }
  return { apiserver, etcdLeader, writer };
}

function row(cells: string[], widths: number[]): string {
  return cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ');
}

const ms = (r: Rate): string => `${r.p50.toFixed(1)} / ${r.p99.toFixed(1)}`;

async function main(): Promise<void> {
  const started = performance.now();
  let sqlite: Rate;
  {
    const plane = await startControlPlane();
    try {
      sqlite = await apiCreates(plane);
    } finally {
      await plane.stop();
    }
  }
  let single: { api: Rate; etcd: Rate; valueBytes: number };
  {
    const plane = await startControlPlane({ etcd: true });
    try {
      const etcd = plane.etcd;
      if (etcd === undefined) throw new Error('no etcd');
      single = await onEtcd(plane, { urls: [etcd.clientUrl], tls: readTls(etcd.pki) });
    } finally {
      await plane.stop();
    }
  }
  let three: { api: Rate; etcd: Rate; valueBytes: number };
  let failed: Awaited<ReturnType<typeof failover>>;
  {
    const plane = await startControlPlane({ etcdMembers: 3 });
    try {
      const cluster = plane.etcdCluster;
      if (cluster === undefined) throw new Error('no etcd cluster');
      three = await onEtcd(plane, { urls: cluster.clientUrls, tls: cluster.tls });
      failed = await failover(plane, cluster);
    } finally {
      await plane.stop();
    }
  }
  const sorted = (xs: number[]): number[] => xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  const p = (xs: number[], q: number): string => percentile(sorted(xs), q).toFixed(0);
  const rows: string[][] = [
    ['measure', 'creates/s', 'p50 / p99 ms', 'API / etcd'],
    ['(a) API on SQLite, 50 mTLS clients', sqlite.perSec.toFixed(0), ms(sqlite), ''],
    [
      '(b) API on 1 etcd member',
      single.api.perSec.toFixed(0),
      ms(single.api),
      (single.api.perSec / single.etcd.perSec).toFixed(2),
    ],
    [`    etcd alone, 1 member (puts of ${single.valueBytes} B)`, single.etcd.perSec.toFixed(0), ms(single.etcd), ''],
    [
      '(c) API on 3 etcd members',
      three.api.perSec.toFixed(0),
      ms(three.api),
      (three.api.perSec / three.etcd.perSec).toFixed(2),
    ],
    [`    etcd alone, 3 members (puts of ${three.valueBytes} B)`, three.etcd.perSec.toFixed(0), ms(three.etcd), ''],
  ];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  for (const r of rows) process.stdout.write(row(r, widths) + '\n');
  const errors = [...failed.writer.errors.entries()].map(([k, v]) => `${v}× ${k}`).join('; ');
  process.stdout.write(
    `failover (2 apiservers on 3 etcd members, a failover client creating in a loop):\n` +
      `  kill -9 of its apiserver → next acknowledged create, ms: p50 ${p(failed.apiserver, 50)}, p99 ${p(failed.apiserver, 99)} ` +
      `(${failed.apiserver.map((x) => x.toFixed(0)).join(', ')})\n` +
      `  kill -9 of the etcd leader → next acknowledged create, ms: p50 ${p(failed.etcdLeader, 50)}, p99 ${p(failed.etcdLeader, 99)} ` +
      `(${failed.etcdLeader.map((x) => x.toFixed(0)).join(', ')})\n` +
      `  creates acknowledged during the kills: ${failed.writer.acks.length}; failed attempts: ${errors || 'none'}\n` +
      `load average (1 min) at the end ${loadavg()[0]?.toFixed(2) ?? ''}; whole benchmark ${((performance.now() - started) / 1000).toFixed(0)} s\n`,
  );
}

await main();
