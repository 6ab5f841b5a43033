// Simulated hosts for multi-host tests (DESIGN.md §8), through scripts/sim-hosts.sh: each
// host is a network namespace with its own dockerd, and its agent joins the test's control
// plane with a bootstrap token, as on a real second machine. The hosts' docker data and agent
// roots live under this run's root (run-root.ts), never reused by another run.

import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RestClient } from '../../pkg/client/index.js';
import { adminClient } from './clients.js';
import {
  coxctl,
  DIST,
  exited,
  joinFlags,
  REPO,
  run,
  startControlPlane,
  waitForLine,
  type ControlPlane,
} from './control-plane.js';
import { simRoot, sweepStaleRuns } from './run-root.js';

export const SIM_GATEWAY = '198.18.0.1';
const SCRIPT = join(REPO, 'scripts', 'sim-hosts.sh');

/** Where a simulated host lives: as `sim-hosts.sh env N` prints it. */
export interface SimHostPlace {
  n: number;
  ns: string;
  ip: string;
  socket: string;
  root: string;
  agentPidFile: string;
}

export class SimHost implements SimHostPlace {
  agent: ChildProcess | undefined;
  readonly n: number;
  readonly ns: string;
  readonly ip: string;
  readonly socket: string;
  readonly root: string;
  readonly agentPidFile: string;
  private out = '';
  constructor(place: SimHostPlace) {
    this.n = place.n;
    this.ns = place.ns;
    this.ip = place.ip;
    this.socket = place.socket;
    this.root = place.root;
    this.agentPidFile = place.agentPidFile;
  }

  /** The agent's recent output (for failure messages). */
  output(): string {
    return this.out;
  }

  record(text: string): void {
    this.out = (this.out + text).slice(-30000);
  }
}

async function script(args: string[], opts: { root?: string; timeoutMs?: number } = {}): Promise<string> {
  const env = { ...process.env, COXSWAIN_SIM_ROOT: opts.root ?? simRoot() };
  const res = await run('bash', [SCRIPT, ...args], { env, timeoutMs: opts.timeoutMs ?? 180_000 });
  if (res.code !== 0) throw new Error(`sim-hosts.sh ${args.join(' ')} failed: ${res.stderr || res.stdout}`);
  return res.stdout;
}

/** Makes (or reclaims) host n under `root` (default: this run's) and starts its dockerd. */
export async function addSimHost(n: number, root = simRoot()): Promise<SimHost> {
  await script(['add', String(n)], { root });
  const vars = new Map<string, string>();
  for (const line of (await script(['env', String(n)], { root })).trim().split('\n')) {
    const at = line.indexOf('=');
    if (at > 0) vars.set(line.slice(0, at), line.slice(at + 1));
  }
  return new SimHost({
    n,
    ns: vars.get('NS') ?? '',
    ip: vars.get('IP') ?? '',
    socket: vars.get('SOCKET') ?? '',
    root: vars.get('HOST_ROOT') ?? '',
    agentPidFile: vars.get('AGENT_PIDFILE') ?? '',
  });
}

export interface JoinToken {
  token: string;
  caHash: string;
}

/** A bootstrap token and CA hash from `coxctl token create`, as an operator gets them. */
export async function joinToken(plane: ControlPlane): Promise<JoinToken> {
  const res = await coxctl(plane.pki.adminKubeconfig, ['token', 'create', '--ttl', '2h']);
  if (res.code !== 0) throw new Error(`token create failed: ${res.stderr}`);
  return {
    token: /--token (\S+)/.exec(res.stdout)?.[1] ?? '',
    caHash: /--discovery-token-ca-cert-hash (\S+)/.exec(res.stdout)?.[1] ?? '',
  };
}

/** Starts (or restarts) the host's agent inside its namespace; resolves when it is ready. */
export async function startHostAgent(
  plane: ControlPlane,
  host: SimHost,
  opts: { join: JoinToken; extraArgs?: string[] },
): Promise<void> {
  const { join, extraArgs = [] } = opts;
  const args = [
    `--net=/run/netns/${host.ns}`,
    process.execPath,
    `${DIST}/cmd/kubelet.js`,
    ...joinFlags(plane.server, join),
    '--node-name',
    host.ns,
    '--node-ip',
    host.ip,
    '--docker-socket',
    host.socket,
    '--root-dir',
    `${host.root}/kubelet`,
    ...extraArgs,
  ];
  const child = spawn('nsenter', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  // nsenter execs the agent: this PID is the agent's, and whoever reclaims the host stops it.
  if (child.pid !== undefined) writeFileSync(host.agentPidFile, `${child.pid}\n`);
  child.stdout?.on('data', (c: Buffer) => host.record(c.toString()));
  child.stderr?.on('data', (c: Buffer) => host.record(c.toString()));
  host.agent = child;
  await waitForLine(child, /kubelet ready/, 120_000);
}

export async function stopHostAgent(host: SimHost, hard = false): Promise<void> {
  const child = host.agent;
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  child.kill(hard ? 'SIGKILL' : 'SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited(child);
  clearTimeout(timer);
}

export async function removeSimHost(host: SimHost): Promise<void> {
  await stopHostAgent(host);
  await script(['del', String(host.n)]);
}

export async function cutHost(host: SimHost): Promise<void> {
  await script(['cut', String(host.n)]);
}

export async function restoreHost(host: SimHost): Promise<void> {
  await script(['restore', String(host.n)]);
}

/** Removes this run's hosts, and whatever runs that ended without cleaning up left. */
export async function teardownSimHosts(): Promise<void> {
  await sweepStaleRuns((msg) => process.stdout.write(`# ${msg}\n`));
  await script(['teardown']);
}

/** A command line (program and arguments) inside the host's network namespace. */
export function inHost(
  host: SimHost,
  command: string[],
  timeoutMs = 30_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return run('nsenter', [`--net=/run/netns/${host.ns}`, ...command], { timeoutMs });
}

/** The host's own dockerd. */
export function hostDocker(
  host: SimHost,
  args: string[],
  timeoutMs = 60_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return run('docker', ['-H', `unix://${host.socket}`, ...args], { timeoutMs });
}

/** Simulated hosts joined with one token to a control plane on SIM_GATEWAY. */
export interface SimCluster {
  plane: ControlPlane;
  client: RestClient;
  /** The hosts, in order (a test may remove some: stop() takes what is left). */
  hosts: SimHost[];
  join: JoinToken;
  /** Stops the agents, the control plane and the hosts, and sweeps what other runs left. */
  stop(): Promise<void>;
}

/**
 * A fresh cluster of `hosts` simulated hosts (whatever an earlier, killed run left is swept
 * first), with controllers and scheduler, and short node-failure timings so that a lost host is
 * noticed within seconds: lease renewal every 2 s, node-monitor-grace-period `graceSeconds`.
 * Hosts are numbered from `first` (default 1): test files that run at once use different numbers.
 */
export async function startSimCluster(opts: {
  hosts: number;
  graceSeconds: number;
  first?: number;
  /** More flags for every host's agent (e.g. `--ingress`). */
  agentArgs?: string[];
}): Promise<SimCluster> {
  await teardownSimHosts();
  const hosts: SimHost[] = [];
  let plane: ControlPlane | undefined;
  let client: RestClient | undefined;
  const stop = async (): Promise<void> => {
    client?.close();
    for (const h of hosts) await stopHostAgent(h).catch(() => undefined);
    await plane?.stop();
    for (const h of hosts) await removeSimHost(h).catch(() => undefined);
    await teardownSimHosts();
  };
  try {
    const first = opts.first ?? 1;
    for (let n = first; n < first + opts.hosts; n++) hosts.push(await addSimHost(n));
    const started = await startControlPlane({
      host: SIM_GATEWAY,
      serviceAccountTokens: true,
      withControllers: true,
      withScheduler: true,
      controllerManagerArgs: ['--node-monitor-grace-period', String(opts.graceSeconds), '--leader-elect', 'false'],
    });
    plane = started;
    const admin = adminClient(started);
    client = admin;
    const join = await joinToken(started);
    await Promise.all(
      hosts.map((h) =>
        startHostAgent(started, h, {
          join,
          extraArgs: ['--lease-renew-interval', '2', ...(opts.agentArgs ?? [])],
        }),
      ),
    );
    return { plane: started, client: admin, hosts, join, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
