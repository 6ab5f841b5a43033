// API benchmark (issues 2 and 11): over mTLS against a real apiserver process on loopback.
//  1. creates/s and p50/p99 latency with 50 concurrent clients, as a `system:masters` user
//     and as a user whom only RBAC allows (one RoleBinding among 1,000, with 100 Roles and the
//     default policy in the store), in alternating rounds so drift hits both alike; the RBAC
//     cost is the throughput lost, in %;
//  2. watch delivery latency p50/p99 with 500 watchers;
//  3. in the same run, the store alone (direct inserts) as the baseline, and the ratio;
//  4. creates/s with 50 clients by wire format, in alternating rounds: JSON, protobuf bodies
//     answered in JSON (what kubectl's typed clients get), protobuf both ways; the ratio to JSON.
// With each create figure: the apiserver's CPU µs per create (process.cpuUsage in the server,
// read through scripts/bench-cpu-preload) and this process's own CPU, as a share of the wall time.
// Prints figures; asserts nothing.
//
// `--profile-dir DIR`: only warm up and run creates as system:masters for 10 s, with the
// apiserver under `node --cpu-prof` writing its .cpuprofile into DIR (see scripts/profile-summary).
// `--watch-only`: only the watch measurement, three times (with `--profile-dir`, profiled).

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  RESOURCES,
  storageKey,
  type KubeObject,
  type PolicyRule,
  type Role,
  type RoleBinding,
  type RoleRef,
  type Subject,
} from '../pkg/api/index.js';
import type { UserInfo } from '../pkg/apiserver/authn.js';
import { decide, SUPERUSER_GROUP } from '../pkg/apiserver/authorizer.js';
import { NodeGraph } from '../pkg/apiserver/nodeauth/graph.js';
import { defaultClusterRoleBindings, defaultClusterRoles } from '../pkg/apiserver/rbac/bootstrap-policy.js';
import { RbacPolicyCache } from '../pkg/apiserver/rbac/policy-cache.js';
import type { ResourceAttributes } from '../pkg/apiserver/rbac/rules.js';
import { mustFind } from '../pkg/api/registry.js';
import { loadKubeconfig, RestClient, watchStream, type ClientConfig } from '../pkg/client/index.js';
import { ApiError } from '../pkg/errors/index.js';
import { encodeProtobuf, PROTOBUF_MEDIA_TYPE } from '../pkg/api/protobuf/index.js';
import { issueCertificate } from '../pkg/pki/index.js';
import { startControlPlane, type ControlPlane } from '../test/harness/control-plane.js';
import type { ResourceInfo } from '../pkg/api/registry.js';
import { SqliteStore, WatchCache } from '../pkg/storage/index.js';
import { benchStore, percentile } from './bench-store.js';
import { createLoad, type LoadSamples } from './bench-load.js';
import { ownCpuMicros, SERVER_CPU_NODE_ARGS, ServerCpuProbe } from './bench-cpu.js';
import { startHttpsFloor } from './https-floor.js';

const resource = (plural: string): ResourceInfo => mustFind('', 'v1', plural);

const configmaps = resource('configmaps');
const namespaces = resource('namespaces');

interface LoadSummary {
  perSec: number;
  p50: number;
  p99: number;
  done: number;
  /** The apiserver's CPU µs per create. */
  serverMicrosPerCreate: number;
  /** This process's CPU over the rounds' wall time, in % of one core. */
  clientCorePercent: number;
}

/** Runs a round of load between two CPU samples of the apiserver and of this process. */
async function withCpu(probe: ServerCpuProbe, round: () => Promise<LoadSamples>): Promise<LoadSamples> {
  const [server0, client0] = [await probe.sample(), ownCpuMicros()];
  const samples = await round();
  const [server1, client1] = [await probe.sample(), ownCpuMicros()];
  return { ...samples, cpu: { server: server1 - server0, client: client1 - client0 } };
}

/** Throughput and percentiles over one or more rounds of the same client. */
function summarize(rounds: LoadSamples[]): LoadSummary {
  const latencies = rounds.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const seconds = rounds.reduce((sum, r) => sum + r.seconds, 0);
  const server = rounds.reduce((sum, r) => sum + (r.cpu?.server ?? Number.NaN), 0);
  const client = rounds.reduce((sum, r) => sum + (r.cpu?.client ?? Number.NaN), 0);
  return {
    perSec: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    done: latencies.length,
    serverMicrosPerCreate: server / latencies.length,
    clientCorePercent: client / 1e4 / seconds,
  };
}

/** Events sent before the measured ones, to every watcher alike. */
const WATCH_WARMUP_EVENTS = 5;

async function watchLatency(
  client: RestClient,
  opts: { watchers: number; events: number; namespace: string },
): Promise<{ p50: number; p99: number; delivered: number }> {
  const latencies: number[] = [];
  let ready = 0;
  const streams: { stop(): void }[] = [];
  const list = await client.list(configmaps, { namespace: opts.namespace });
  const rv = list.metadata.resourceVersion ?? '0';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('watchers did not connect in time')), 60_000);
    for (let i = 0; i < opts.watchers; i++) {
      streams.push(
        watchStream(
          client,
          { resource: configmaps, namespace: opts.namespace, resourceVersion: rv },
          {
            onOpen: () => {
              if (++ready === opts.watchers) {
                clearTimeout(timer);
                resolve();
              }
            },
            onEvent: (ev) => {
              const sent = Number(ev.object.metadata.annotations?.['bench/sent'] ?? 'NaN');
              if (!Number.isNaN(sent)) latencies.push(performance.timeOrigin + performance.now() - sent);
            },
            onClose: () => undefined,
          },
        ),
      );
    }
  });
  // The first events after 500 handshakes meet cold code and the handshakes' garbage on both
  // sides; they go unmeasured (no bench/sent), as the create load has its warm-up.
  for (let i = -WATCH_WARMUP_EVENTS; i < opts.events; i++) {
    const sent = i < 0 ? {} : { 'bench/sent': String(performance.timeOrigin + performance.now()) };
    await client.create(
      configmaps,
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: `watched-${i + WATCH_WARMUP_EVENTS}`, annotations: sent },
      },
      { namespace: opts.namespace },
    );
    await new Promise((r) => setTimeout(r, 20));
  }
  const deadline = Date.now() + 30_000;
  while (latencies.length < opts.watchers * opts.events && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 100));
  for (const s of streams) s.stop();
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), delivered: latencies.length };
}

const RBAC_GROUP = 'rbac.authorization.k8s.io';
const BENCH_USER = 'bench-user';
/** The namespace both users create in; one of those holding the bindings. */
const LOAD_NAMESPACE = 'bench';
const POLICY_NAMESPACES = [LOAD_NAMESPACE, ...Array.from({ length: 9 }, (_, i) => `bench-rbac-${i + 1}`)];
const ROLES_PER_NAMESPACE = 10;
const BINDINGS_PER_NAMESPACE = 100;
/** Every n-th decoy binding also names the benchmark user, to a role that does not allow the create. */
const USER_IN_EVERY = 10;
const WRITER_ROLE = 'configmap-writer';
const GRANTING_BINDING = 'bench-user-writes-configmaps';

interface BindingSpec {
  namespace: string;
  name: string;
  roleRef: RoleRef;
  subjects: Subject[];
}

/** Read-only rules, some on configmaps, so a matching binding is evaluated rule by rule and denies. */
function decoyRules(j: number): PolicyRule[] {
  return [
    { apiGroups: [''], resources: ['pods', 'pods/log', 'services'], verbs: ['get', 'list', 'watch'] },
    { apiGroups: ['apps'], resources: ['deployments', 'replicasets'], verbs: ['get', 'list'] },
    { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] },
    { apiGroups: [''], resources: ['configmaps'], verbs: ['update', 'patch'], resourceNames: [`settings-${j}`] },
  ];
}

function decoySubjects(namespace: string, i: number): Subject[] {
  const subjects: Subject[] = [
    { kind: 'User', apiGroup: RBAC_GROUP, name: `user-${namespace}-${i}` },
    { kind: 'Group', apiGroup: RBAC_GROUP, name: `team-${i % 7}` },
    { kind: 'ServiceAccount', name: `robot-${i}`, namespace },
  ];
  if (i % USER_IN_EVERY === 0) subjects.push({ kind: 'User', apiGroup: RBAC_GROUP, name: BENCH_USER });
  return subjects;
}

/** Runs `task` over `items`, `concurrency` at a time. */
async function forEachLimited<T>(
  items: readonly T[],
  task: (item: T) => Promise<unknown>,
  concurrency = 50,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++];
      if (item !== undefined) await task(item);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

interface RoleSpec {
  namespace: string;
  name: string;
  rules: PolicyRule[];
}

/**
 * 100 Roles and 1,000 RoleBindings over 10 namespaces. The benchmark user's only grant to
 * create configmaps is `granting`, made after every decoy, so in its namespace it is the last
 * binding the authorizer reaches.
 */
function policySpecs(): { roles: RoleSpec[]; decoys: BindingSpec[]; granting: BindingSpec } {
  const roles = POLICY_NAMESPACES.flatMap((namespace) =>
    Array.from({ length: ROLES_PER_NAMESPACE }, (_, j): RoleSpec => {
      const writer = namespace === LOAD_NAMESPACE && j === ROLES_PER_NAMESPACE - 1;
      return {
        namespace,
        name: writer ? WRITER_ROLE : `role-${j}`,
        rules: writer ? [{ apiGroups: [''], resources: ['configmaps'], verbs: ['create'] }] : decoyRules(j),
      };
    }),
  );
  const decoys = POLICY_NAMESPACES.flatMap((namespace) =>
    Array.from({ length: BINDINGS_PER_NAMESPACE - (namespace === LOAD_NAMESPACE ? 1 : 0) }, (_, i): BindingSpec => ({
      namespace,
      name: `binding-${i}`,
      roleRef: { apiGroup: RBAC_GROUP, kind: 'Role', name: `role-${i % (ROLES_PER_NAMESPACE - 1)}` },
      subjects: decoySubjects(namespace, i),
    })),
  );
  const granting: BindingSpec = {
    namespace: LOAD_NAMESPACE,
    name: GRANTING_BINDING,
    roleRef: { apiGroup: RBAC_GROUP, kind: 'Role', name: WRITER_ROLE },
    subjects: [{ kind: 'User', apiGroup: RBAC_GROUP, name: BENCH_USER }],
  };
  return { roles, decoys, granting };
}

const roleObject = ({ namespace, name, rules }: RoleSpec): Role => ({
  apiVersion: `${RBAC_GROUP}/v1`,
  kind: 'Role',
  metadata: { name, namespace },
  rules,
});

const bindingObject = ({ namespace, name, roleRef, subjects }: BindingSpec): RoleBinding => ({
  apiVersion: `${RBAC_GROUP}/v1`,
  kind: 'RoleBinding',
  metadata: { name, namespace },
  roleRef,
  subjects,
});

async function writePolicy(admin: RestClient): Promise<void> {
  const { roles, decoys, granting } = policySpecs();
  const scoped = (spec: { namespace: string }): { namespace: string } => ({ namespace: spec.namespace });
  await forEachLimited(roles, (r) => admin.create(RESOURCES.roles, roleObject(r), scoped(r)));
  await forEachLimited(decoys, (b) => admin.create(RESOURCES.rolebindings, bindingObject(b), scoped(b)));
  await admin.create(RESOURCES.rolebindings, bindingObject(granting), scoped(granting));
}

const DECISIONS = 200_000;

/**
 * The same decision in process, without HTTP, TLS or storage around it: the apiserver's
 * policy cache over a SQLite store holding the default policy and the benchmark's, asked
 * whether each user may create a configmap in the load namespace, µs per decision.
 */
async function decisionMicros(): Promise<{ masters: number; rbac: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-rbac-'));
  const sqlite = SqliteStore.open(dir);
  const cache = await WatchCache.start(sqlite);
  const policy = new RbacPolicyCache(cache);
  try {
    await policy.start();
    const { roles, decoys, granting } = policySpecs();
    const write = (o: KubeObject, r: ResourceInfo): Promise<unknown> =>
      cache.create(storageKey(r, o.metadata.namespace, o.metadata.name ?? ''), o);
    for (const o of defaultClusterRoles()) await write(o, RESOURCES.clusterroles);
    for (const o of defaultClusterRoleBindings()) await write(o, RESOURCES.clusterrolebindings);
    for (const r of roles) await write(roleObject(r), RESOURCES.roles);
    for (const b of [...decoys, granting]) await write(bindingObject(b), RESOURCES.rolebindings);
    const sources = { rbac: policy, nodes: new NodeGraph() };
    const create: ResourceAttributes = {
      kind: 'resource',
      verb: 'create',
      apiGroup: '',
      resource: 'configmaps',
      namespace: LOAD_NAMESPACE,
    };
    const time = (user: UserInfo): number => {
      if (!decide(sources, user, create).allowed) throw new Error(`${user.name} may not create: nothing to time`);
      const t0 = performance.now();
      for (let i = 0; i < DECISIONS; i++) decide(sources, user, create);
      return ((performance.now() - t0) * 1000) / DECISIONS;
    };
    const masters = { name: 'kubernetes-admin', groups: [SUPERUSER_GROUP, 'system:authenticated'] };
    const rbac = { name: BENCH_USER, groups: ['system:authenticated'] };
    time(rbac); // warm-up
    return { masters: time(masters), rbac: time(rbac) };
  } finally {
    policy.stop();
    await cache.close();
    await sqlite.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A client for the benchmark user: a certificate from the plane's CA, in no group but system:authenticated. */
async function benchUserClient(plane: ControlPlane): Promise<RestClient> {
  const ca = { certPem: readFileSync(plane.pki.caCert, 'utf8'), keyPem: readFileSync(plane.pki.caKey, 'utf8') };
  const pair = await issueCertificate(ca, { commonName: BENCH_USER, usages: ['client'] });
  const config: ClientConfig = {
    server: plane.server,
    caPem: ca.certPem,
    certPem: pair.certPem,
    keyPem: pair.keyPem,
    token: undefined,
    namespace: LOAD_NAMESPACE,
    userName: BENCH_USER,
  };
  return new RestClient(config);
}

const isForbidden = (err: unknown): boolean => err instanceof ApiError && err.reason === 'Forbidden';

/**
 * Waits until the policy cache (fed by a watch) has the granting binding, then checks that
 * the grant is that binding's only: the same create in another namespace is refused.
 */
async function awaitGrant(user: RestClient): Promise<void> {
  const probe = (namespace: string, name: string): Promise<unknown> =>
    user.create(configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name } }, { namespace });
  const deadline = Date.now() + 30_000;
  for (let attempt = 0; ; attempt++) {
    try {
      await probe(LOAD_NAMESPACE, `grant-probe-${attempt}`);
      break;
    } catch (err) {
      if (!isForbidden(err) || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  try {
    await probe(POLICY_NAMESPACES[1] ?? '', 'must-be-refused');
  } catch (err) {
    if (isForbidden(err)) return;
    throw err;
  }
  throw new Error(
    `${BENCH_USER} may create configmaps outside ${LOAD_NAMESPACE}: the benchmark would not measure RBAC`,
  );
}

/** Masters (M) and RBAC (R) rounds, ABBA-ordered so a drift in the apiserver's speed weighs on both alike. */
const ROUND_ORDER = ['M', 'R', 'R', 'M', 'R', 'M', 'M', 'R'] as const;
const ROUND_SECONDS = 4;

/**
 * Runs the rounds in `order` one after another and sums each side's: with an ABBA order a drift
 * in the machine's speed weighs on every side alike. Returns each side's summary.
 */
async function alternatingRounds<K extends string>(
  order: readonly K[],
  round: (side: K, n: number) => Promise<LoadSamples>,
): Promise<(side: K) => LoadSummary> {
  const rounds = new Map<K, LoadSamples[]>();
  for (const [n, side] of order.entries()) {
    const samples = await round(side, n);
    rounds.set(side, [...(rounds.get(side) ?? []), samples]);
  }
  return (side) => {
    const samples = rounds.get(side);
    if (samples === undefined) throw new Error(`no round of ${side} in ${order.join(' ')}`);
    return summarize(samples);
  };
}

async function mastersVersusRbac(
  clients: { masters: RestClient; rbac: RestClient },
  probe: ServerCpuProbe,
): Promise<{ masters: LoadSummary; rbac: LoadSummary }> {
  const load = { concurrency: 50, total: 1_000_000, seconds: ROUND_SECONDS, namespace: LOAD_NAMESPACE };
  const summary = await alternatingRounds(ROUND_ORDER, (who, n) => {
    const client = who === 'M' ? clients.masters : clients.rbac;
    return withCpu(probe, () => createLoad(client, { ...load, prefix: `load-${who.toLowerCase()}${n}` }));
  });
  return { masters: summary('M'), rbac: summary('R') };
}

/** Floor (F) and apiserver (A) rounds, ABBA-ordered like the others. */
const FLOOR_ORDER = ['F', 'A', 'A', 'F', 'A', 'F', 'F', 'A'] as const;

/**
 * The same creates (50 clients, the same client code and certificate) against the HTTPS floor
 * (scripts/https-floor.ts) and against the apiserver, in alternating rounds.
 */
async function floorVersusApi(
  plane: ControlPlane,
  clients: { api: RestClient; probe: ServerCpuProbe },
): Promise<{ floor: LoadSummary; api: LoadSummary }> {
  const floor = await startHttpsFloor(
    { ca: plane.pki.caCert, cert: plane.pki.apiserverCert, key: plane.pki.apiserverKey },
    SERVER_CPU_NODE_ARGS,
  );
  const floorProbe = new ServerCpuProbe(floor.child);
  const config = loadKubeconfig({ path: plane.pki.adminKubeconfig });
  const floorClient = new RestClient({ ...config, server: floor.server, servers: undefined });
  try {
    const load = { concurrency: 50, total: 1_000_000, namespace: LOAD_NAMESPACE };
    await createLoad(floorClient, { ...load, seconds: 3, prefix: 'warm-floor' });
    const summary = await alternatingRounds(FLOOR_ORDER, (side, n) => {
      const [client, probe] = side === 'F' ? [floorClient, floorProbe] : [clients.api, clients.probe];
      const prefix = `floor-${side.toLowerCase()}${n}`;
      return withCpu(probe, () => createLoad(client, { ...load, seconds: ROUND_SECONDS, prefix }));
    });
    return { floor: summary('F'), api: summary('A') };
  } finally {
    floorClient.close();
    await floor.stop();
  }
}

/** How a create travels: its body's media type and the Accept header. */
type Wire = 'json' | 'protobuf-in' | 'protobuf';
const WIRE_LABELS: Record<Wire, string> = {
  json: 'JSON in, JSON out',
  'protobuf-in': 'protobuf in, JSON out (kubectl)',
  protobuf: 'protobuf in, protobuf out',
};
const WIRES: Record<Wire, { contentType: string; accept: string }> = {
  json: { contentType: 'application/json', accept: 'application/json' },
  'protobuf-in': { contentType: PROTOBUF_MEDIA_TYPE, accept: `${PROTOBUF_MEDIA_TYPE},application/json` },
  protobuf: { contentType: PROTOBUF_MEDIA_TYPE, accept: PROTOBUF_MEDIA_TYPE },
};
const WIRE_NAMESPACE = 'bench-wire';
const WIRE_ORDER: readonly Wire[] = ['json', 'protobuf-in', 'protobuf', 'protobuf', 'protobuf-in', 'json'];

/** Like createLoad, with the body encoded (in the loop, as a client does) for `wire`. */
async function createLoadOnWire(
  client: RestClient,
  opts: { wire: Wire; seconds: number; prefix: string },
): Promise<LoadSamples> {
  const latencies: number[] = [];
  let next = 0;
  const { contentType, accept } = WIRES[opts.wire];
  const deadline = performance.now() + opts.seconds * 1000;
  const started = performance.now();
  const worker = async (w: number): Promise<void> => {
    while (performance.now() < deadline) {
      const i = next++;
      const t0 = performance.now();
      const object = {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: `${opts.prefix}-${w}-${i}`, labels: { bench: 'wire' } },
        data: { i: String(i), note: 'a value of a few dozen bytes, as configuration is' },
      };
      const res = await client.request({
        method: 'POST',
        path: `/api/v1/namespaces/${WIRE_NAMESPACE}/configmaps`,
        body: opts.wire === 'json' ? JSON.stringify(object) : encodeProtobuf(object),
        contentType,
        accept,
      });
      if (res.status !== 201) throw new Error(`${opts.wire} create answered ${res.status}: ${res.body.toString()}`);
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: 50 }, (_, w) => worker(w)));
  return { latencies, seconds: (performance.now() - started) / 1000 };
}

async function wireFormats(client: RestClient, probe: ServerCpuProbe): Promise<Record<Wire, LoadSummary>> {
  for (const wire of ['json', 'protobuf'] as const)
    await createLoadOnWire(client, { wire, seconds: 2, prefix: `warm-${wire}` });
  const summary = await alternatingRounds(WIRE_ORDER, (wire, n) =>
    withCpu(probe, () => createLoadOnWire(client, { wire, seconds: ROUND_SECONDS, prefix: `wire-${n}` })),
  );
  return { json: summary('json'), 'protobuf-in': summary('protobuf-in'), protobuf: summary('protobuf') };
}

const PROFILE_SECONDS = 10;

/**
 * The watch measurement alone, `runs` times on one control plane (under --cpu-prof into
 * `profileDir` when given): for working on the fan-out without the whole benchmark.
 */
async function watchOnly(runs: number, profileDir: string | undefined): Promise<void> {
  const plane = await startControlPlane({
    apiserverNodeArgs:
      profileDir === undefined
        ? SERVER_CPU_NODE_ARGS
        : [...SERVER_CPU_NODE_ARGS, '--cpu-prof', '--cpu-prof-dir', profileDir],
  });
  try {
    const client = new RestClient(loadKubeconfig({ path: plane.pki.adminKubeconfig }));
    for (let run = 1; run <= runs; run++) {
      const namespace = `bench-watch-${run}`;
      await client.create(namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
      const w = await watchLatency(client, { watchers: 500, events: 50, namespace });
      process.stdout.write(
        `watch run ${run}: p50/p99 ms ${w.p50.toFixed(2)}/${w.p99.toFixed(2)}, delivered ${w.delivered}/${500 * 50}\n`,
      );
    }
    client.close();
  } finally {
    await plane.stop();
  }
}

/** The create load alone, with the apiserver under --cpu-prof: the .cpuprofile lands in `dir` when it exits. */
async function profileCreates(dir: string): Promise<void> {
  const plane = await startControlPlane({
    apiserverNodeArgs: [...SERVER_CPU_NODE_ARGS, '--cpu-prof', '--cpu-prof-dir', dir],
  });
  try {
    const probe = new ServerCpuProbe(plane.apiserver);
    const client = new RestClient(loadKubeconfig({ path: plane.pki.adminKubeconfig }));
    await client.create(namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: LOAD_NAMESPACE } });
    const load = { concurrency: 50, total: 1_000_000, namespace: LOAD_NAMESPACE };
    await createLoad(client, { ...load, seconds: 3, prefix: 'warm' });
    const round = await withCpu(probe, () => createLoad(client, { ...load, seconds: PROFILE_SECONDS, prefix: 'prof' }));
    client.close();
    const s = summarize([round]);
    process.stdout.write(
      `creates/s ${s.perSec.toFixed(0)}, p50/p99 ms ${s.p50.toFixed(2)}/${s.p99.toFixed(2)}, ` +
        `apiserver CPU µs/create ${s.serverMicrosPerCreate.toFixed(0)}, client CPU ${s.clientCorePercent.toFixed(0)} % of a core\n`,
    );
  } finally {
    await plane.stop();
  }
}

export async function benchApi(): Promise<void> {
  const plane = await startControlPlane({ apiserverNodeArgs: SERVER_CPU_NODE_ARGS });
  const probe = new ServerCpuProbe(plane.apiserver);
  try {
    const client = new RestClient(loadKubeconfig({ path: plane.pki.adminKubeconfig }));
    for (const name of [...POLICY_NAMESPACES, 'bench-watch', WIRE_NAMESPACE]) {
      await client.create(namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    }
    await writePolicy(client);
    const user = await benchUserClient(plane);
    await awaitGrant(user);
    const [clusterRoles, clusterBindings] = await Promise.all([
      client.list(RESOURCES.clusterroles),
      client.list(RESOURCES.clusterrolebindings),
    ]);
    // Warm up connections and JIT, on both paths.
    const warm = { concurrency: 50, total: 500, seconds: 10, namespace: LOAD_NAMESPACE };
    await createLoad(client, { ...warm, prefix: 'warm-masters' });
    await createLoad(user, { ...warm, prefix: 'warm-rbac' });
    const api = await mastersVersusRbac({ masters: client, rbac: user }, probe);
    user.close();
    const wires = await wireFormats(client, probe);
    const floor = await floorVersusApi(plane, { api: client, probe });
    const watch = await watchLatency(client, { watchers: 500, events: 50, namespace: 'bench-watch' });
    client.close();
    const store = await benchStore({ concurrency: 50, total: 20_000, seconds: 10 });
    const micros = await decisionMicros();
    const latency = (s: LoadSummary): string => `${s.p50.toFixed(2)} / ${s.p99.toFixed(2)}`;
    const cost = (1 - api.rbac.perSec / api.masters.perSec) * 100;
    const policy =
      `${clusterRoles.items.length} ClusterRoles, ${clusterBindings.items.length} ClusterRoleBindings, ` +
      `${POLICY_NAMESPACES.length * ROLES_PER_NAMESPACE} Roles, ` +
      `${POLICY_NAMESPACES.length * BINDINGS_PER_NAMESPACE} RoleBindings`;
    const rows = [
      ['measure', 'value', 'target'],
      ['policy in the store', policy, ''],
      ['API creates/s (50 clients, mTLS), system:masters', api.masters.perSec.toFixed(0), '>= 2000'],
      ['API creates/s (50 clients, mTLS), RBAC user', api.rbac.perSec.toFixed(0), ''],
      ['RBAC cost, % of throughput', `${cost.toFixed(1)} %`, '< 10 %'],
      ['API create p50 / p99 ms, system:masters', latency(api.masters), 'p99 < 50'],
      ['API create p50 / p99 ms, RBAC user', latency(api.rbac), 'p99 < 50'],
      [
        'apiserver CPU µs per create (process.cpuUsage), system:masters / RBAC user',
        `${api.masters.serverMicrosPerCreate.toFixed(0)} / ${api.rbac.serverMicrosPerCreate.toFixed(0)}`,
        '',
      ],
      [
        'benchmark client CPU, % of one core (of 2), system:masters / RBAC user rounds',
        `${api.masters.clientCorePercent.toFixed(0)} % / ${api.rbac.clientCorePercent.toFixed(0)} %`,
        '',
      ],
      ['load average (1 min) at the end', loadavg()[0]?.toFixed(2) ?? '', ''],
      [
        'in process: authorization µs per create, system:masters / RBAC user',
        `${micros.masters.toFixed(2)} / ${micros.rbac.toFixed(2)}`,
        '',
      ],
      [
        'in process: RBAC decisions at the masters rate, % of one core',
        `${((micros.rbac * api.masters.perSec) / 1e4).toFixed(1)} %`,
        '',
      ],
      ['creates measured, system:masters / RBAC user', `${api.masters.done} / ${api.rbac.done}`, ''],
      ['watch delivery p50 ms (500 watchers)', watch.p50.toFixed(2), ''],
      ['watch delivery p99 ms (500 watchers)', watch.p99.toFixed(2), '< 20'],
      [`watch events delivered`, `${watch.delivered}/${500 * 50}`, ''],
      ['baseline: store creates/s (direct)', store.createsPerSec.toFixed(0), ''],
      ['baseline: store create p50 / p99 ms', `${store.p50Ms.toFixed(2)} / ${store.p99Ms.toFixed(2)}`, ''],
      [
        'ratio API (system:masters) / store throughput',
        (api.masters.perSec / store.createsPerSec).toFixed(2),
        '>= 0.15',
      ],
      [
        'baseline: HTTPS floor creates/s (same client; mTLS + JSON only, scripts/https-floor.ts)',
        `${floor.floor.perSec.toFixed(0)}  (p50 / p99 ms ${latency(floor.floor)}; server ${floor.floor.serverMicrosPerCreate.toFixed(0)} µs/create; client ${floor.floor.clientCorePercent.toFixed(0)} % of a core)`,
        '',
      ],
      [
        'API creates/s in the rounds alternating with the floor',
        `${floor.api.perSec.toFixed(0)}  (p50 / p99 ms ${latency(floor.api)}; apiserver ${floor.api.serverMicrosPerCreate.toFixed(0)} µs/create; client ${floor.api.clientCorePercent.toFixed(0)} % of a core)`,
        '',
      ],
      ['ratio API / HTTPS floor throughput', (floor.api.perSec / floor.floor.perSec).toFixed(2), ''],
      ...(['json', 'protobuf-in', 'protobuf'] as const).map((wire) => [
        `API creates/s by wire (50 clients), ${WIRE_LABELS[wire]}`,
        `${wires[wire].perSec.toFixed(0)}  (p50 / p99 ms ${latency(wires[wire])}; x${(wires[wire].perSec / wires.json.perSec).toFixed(2)} of JSON; ` +
          `apiserver ${wires[wire].serverMicrosPerCreate.toFixed(0)} µs/create; client ${wires[wire].clientCorePercent.toFixed(0)} % of a core)`,
        '',
      ]),
    ];
    const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
    for (const r of rows) process.stdout.write(r.map((c, i) => c.padEnd((widths[i] ?? 0) + 2)).join('') + '\n');
  } finally {
    await plane.stop();
  }
}

const profileAt = process.argv.indexOf('--profile-dir');
const profileDir = profileAt === -1 ? undefined : process.argv[profileAt + 1];
if (profileAt !== -1 && profileDir === undefined) throw new Error('--profile-dir needs a folder');
if (process.argv.includes('--watch-only')) await watchOnly(3, profileDir);
else await (profileDir === undefined ? benchApi() : profileCreates(profileDir));
